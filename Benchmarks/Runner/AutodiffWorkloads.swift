import CBaselines
import CBLAS
import DeepSwift
import Foundation

/// One model's training step, run on a thread of its own (each model stays on one thread).
final class StepRunner: @unchecked Sendable {
    let step: (Tensor, Tensor) -> Tensor
    let x: Tensor, labels: Tensor

    init(_ parts: (step: (Tensor, Tensor) -> Tensor, x: Tensor, labels: Tensor)) {
        (step, x, labels) = parts
    }

    func run(steps: Int) { for _ in 0..<steps { consume(step(x, labels)) } }

    func start(steps: Int, done: DispatchSemaphore) {
        Thread { [self] in run(steps: steps); done.signal() }.start()
    }
}

/// The autodiff workloads: tape overhead on a tiny op, and the benchmark MLP's
/// step against the same step written directly on OpenBLAS in C: `mlp_step`
/// (layers, loss, Adam) against `mlp_step_eager_floor` (Adam), and the step
/// written by hand through the tape with SGD against `mlp_step_eager_floor_sgd`.
func autodiffWorkloads() -> [Workload] {
    [
        Workload("op_add_2x2_tape") {
            let a = Random.normal([2, 2]), b = Random.normal([2, 2])
            let tape = GradientTape(persistent: true)
            tape.watch(a)
            // The tape is kept open for the whole measurement; its records are
            // dropped every 4,096 ops so memory stays flat.
            var count = 0
            return {
                tape.record { consume(a + b) }
                count += 1
                if count & 4095 == 0 { tape.reset(); tape.watch(a) }
            }
        },
        // 64 adds inside one open tape scope (the scope's own cost shared by 64
        // ops): the extra figure is µs per recorded op, forward only.
        Workload("op_add_2x2_tape_64", extra: { $0 / 64 }) {
            let a = Random.normal([2, 2]), b = Random.normal([2, 2])
            let tape = GradientTape(persistent: true)
            tape.watch(a)
            var count = 0
            return {
                tape.record { for _ in 0..<64 { consume(a + b) } }
                count += 1
                if count & 63 == 0 { tape.reset(); tape.watch(a) }
            }
        },
        // 64 chained small ops (multiply and add on 2×2) under one tape, then the
        // gradient: the extra figure is µs per recorded op, forward and backward.
        Workload("tape_chain_64", extra: { $0 / 64 }) {
            let a = Random.normal([2, 2]), b = Random.normal([2, 2]) * 0.1 + 1
            return {
                let tape = GradientTape()
                tape.watch(a)
                let y = tape.record { () -> Tensor in
                    var y = a
                    for i in 0..<64 { y = i % 2 == 0 ? y * b : y + b }
                    return y
                }
                consume(tape.gradient(of: y, wrt: a))
            }
        },
        Workload("mlp_step_eager_floor") { floorStep(adam: true) },
        Workload("mlp_step") {
            let (step, x, labels) = mlpTrainingStep()
            return { consume(step(x, labels)) }
        },
        Workload.compiled("mlp_step_compiled") {
            let (step, x, labels) = mlpTrainingStep()
            let compiledStep = compiled(step)
            return (compiledStep, { consume(compiledStep(x, labels)) })
        },
        // Two models trained 50 steps each: one after the other, then on two
        // threads at once (the same work; a concurrent caller must not make both slower).
        Workload("mlp_steps_2x50_sequential") {
            let models = (0..<2).map { _ in mlpTrainingStep() }
            return { for (step, x, labels) in models { for _ in 0..<50 { consume(step(x, labels)) } } }
        },
        Workload("mlp_steps_2x50_two_threads") {
            let runners = (0..<2).map { _ in StepRunner(mlpTrainingStep()) }
            return {
                let done = DispatchSemaphore(value: 0)
                for runner in runners { runner.start(steps: 50, done: done) }
                done.wait()
                done.wait()
            }
        },
        Workload("mlp_step_eager_floor_sgd") { floorStep(adam: false) },
        Workload("mlp_step_tape_sgd") {
            let mlp = TapeMLP(sizes: [784, 32, 32, 10])
            let x = Random.uniform([64, 784])
            let labels = Random.uniform([64], min: 0, max: 10, dtype: .int32)
            return { consume(mlp.step(x, labels, learningRate: 1e-3)) }
        },
    ]
}

/// BENCHMARKS.md's MLP step: a built Sequential MLP, SparseCategoricalCrossentropy
/// from logits, Adam(1e-3), and its batch of 64.
func mlpTrainingStep() -> (step: (Tensor, Tensor) -> Tensor, x: Tensor, labels: Tensor) {
    let model = Sequential {
        Dense(32, activation: .relu)
        Dense(32, activation: .relu)
        Dense(10)
    }
    let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
    let optimizer = Adam(learningRate: 1e-3)
    let x = Random.uniform([64, 784])
    let labels = Random.uniform([64], min: 0, max: 10, dtype: .int32)
    _ = model(x)
    let weights = model.trainableWeights
    let step = { (x: Tensor, y: Tensor) -> Tensor in
        let tape = GradientTape()
        let loss = tape.record { lossFn(y, model(x)) }
        optimizer.apply(tape.gradient(of: loss, wrt: weights), to: weights)
        return loss
    }
    return (step, x, labels)
}

/// One step of the C floor MLP (784→32→32→10, batch 64) on one BLAS thread.
func floorStep(adam: Bool) -> () -> Void {
    let model = baseline_mlp_create(64, 784, 32, 32, 10, 1)!
    let x = Random.uniform([64, 784]).scalars(as: Float.self)
    let labels = Random.uniform([64], min: 0, max: 10, dtype: .int32).scalars(as: Int32.self)
    openblas_set_num_threads(1)
    return { consume(baseline_mlp_step(model, x, labels, 1e-3, adam ? 1 : 0)) }
}

/// The benchmark MLP written with variables and a tape, no layers.
final class TapeMLP {
    let weights: [Variable]
    let biases: [Variable]

    init(sizes: [Int]) {
        weights = zip(sizes, sizes.dropFirst()).map { Variable(Random.normal([$0, $1], stddev: 0.05)) }
        biases = sizes.dropFirst().map { Variable(Tensor.zeros([$0])) }
    }

    func step(_ x: Tensor, _ labels: Tensor, learningRate: Double) -> Tensor {
        let tape = GradientTape()
        let loss = tape.record { () -> Tensor in
            var h = x
            for (i, (w, b)) in zip(weights, biases).enumerated() {
                h = linear(h, w.value, b.value)
                if i < weights.count - 1 { h = relu(h) }
            }
            return sparseSoftmaxCrossEntropy(logits: h, labels: labels).mean()
        }
        let params = weights + biases
        let grads = tape.gradient(of: loss, wrt: params)
        for (p, g) in zip(params, grads) { p.assignSub(g! * learningRate) }
        return loss
    }
}
