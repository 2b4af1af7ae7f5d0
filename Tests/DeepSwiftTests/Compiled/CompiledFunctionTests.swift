import XCTest
import DeepSwift
import TestSupport

final class CompiledFunctionTests: XCTestCase {
    private func mlp() -> Sequential {
        Sequential {
            Dense(32, activation: .relu)
            Dense(32, activation: .relu)
            Dense(10)
        }
    }

    /// Trains one MLP eagerly and an identical one with a compiled step.
    func testCompiledMLPMatchesEagerOver100Steps() {
        setRandomSeed(7)
        let x = Random.uniform([64, 784]), y = Random.uniform([64], min: 0, max: 10, dtype: .int32)
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        setRandomSeed(1)
        let eager = mlp()
        _ = eager(x)
        setRandomSeed(1)
        let model = mlp()
        _ = model(x)
        let eagerOptimizer = Adam(learningRate: 1e-3), optimizer = Adam(learningRate: 1e-3)

        var eagerLosses: [Float] = []
        for _ in 0..<100 {
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, eager(x)) }
            eagerOptimizer.apply(tape.gradient(of: loss, wrt: eager.trainableWeights), to: eager.trainableWeights)
            eagerLosses.append(loss.scalar(as: Float.self))
        }
        let trainOnBatch = compiled { (x: Tensor, y: Tensor) -> Tensor in
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, model(x)) }
            optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
            return loss
        }
        var losses: [Float] = []
        for _ in 0..<100 { losses.append(trainOnBatch(x, y).scalar(as: Float.self)) }

        XCTAssertEqual(trainOnBatch.traceCount, 1)
        XCTAssertEqual(optimizer.iterations, 100)
        XCTAssertLessThan(losses[99], losses[0] * 0.5, "the compiled step learns")
        for (a, b) in zip(losses, eagerLosses) { XCTAssertEqual(a, b, accuracy: 1e-5 * Swift.max(1, abs(b))) }
        for (w, e) in zip(model.trainableWeights, eager.trainableWeights) {
            assertClose(w.value, e.value, tolerance: 1e-5)
        }
        XCTAssertEqual(trainOnBatch.replayAllocations, 0, "a replay allocates nothing for intermediates")
    }

    /// With a batch of one, a kernel's gradient is an outer product; a compiled step
    /// hands it to the optimizer as factors, and every optimizer computes it tile by
    /// tile with the results of eager mode (wide rows and narrow ones).
    func testOuterProductGradientsReachEveryOptimizerUnmaterialized() {
        let optimizers: [() -> Optimizer] = [
            { SGD(learningRate: 0.1, momentum: 0.9) }, { Adam(amsgrad: true) }, { RMSprop(centered: true) },
            { Adagrad(learningRate: 0.1) }, { Adam(clipNorm: 0.01) },
        ]
        setRandomSeed(9)
        let x = Random.normal([1, 5]), y = Random.normal([1, 3])
        for make in optimizers {
            func train(compiledStep: Bool) -> [Tensor] {
                setRandomSeed(4)
                let model = Sequential { Dense(2500, activation: .tanh); Dense(3) }   // 5×2500: wide rows; 2500×3: narrow
                _ = model(x)
                let optimizer = make()
                let step = compiled { (x: Tensor, y: Tensor) -> Tensor in
                    let tape = GradientTape()
                    let loss = tape.record { square(model(x) - y).mean() }
                    optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
                    return loss
                }
                for _ in 0..<4 {
                    if compiledStep {
                        _ = step(x, y)
                    } else {
                        let tape = GradientTape()
                        let loss = tape.record { square(model(x) - y).mean() }
                        optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
                    }
                }
                return model.trainableWeights.map(\.value) + model.trainableWeights.flatMap { optimizer.state(of: $0) }
            }
            let (eager, replayed) = (train(compiledStep: false), train(compiledStep: true))
            XCTAssertEqual(eager.count, replayed.count)
            for (a, b) in zip(replayed, eager) { assertClose(a, b, tolerance: 1e-6) }
        }
    }

    func testRetracesOnANewShapeOnly() {
        var traces = 0
        let f = compiled { (x: Tensor) -> Tensor in
            traces += 1   // Swift code: runs at trace time only
            return (x * 2).sum(axis: 1)
        }
        XCTAssertEqual(f(Tensor([[1, 2], [3, 4]] as [[Float]])).scalars(as: Float.self), [6, 14])
        XCTAssertEqual(f(Tensor([[5, 6], [7, 8]] as [[Float]])).scalars(as: Float.self), [22, 30])
        XCTAssertEqual(traces, 1)
        XCTAssertEqual(f(Tensor([[1, 1, 1]] as [[Float]])).scalars(as: Float.self), [6])
        XCTAssertEqual(f.traceCount, 2)
        XCTAssertEqual(f(Tensor([[1, 1], [1, 1]] as [[Float]]).cast(to: .float64)).scalars(as: Double.self), [4, 4])
        XCTAssertEqual(f.traceCount, 3, "a new dtype traces again")
        XCTAssertEqual(f(Tensor([[0, 1], [2, 3]] as [[Float]])).scalars(as: Float.self), [2, 10])
        XCTAssertEqual(traces, 3)
    }

    func testFrequentRetracingWarnsOnce() {
        var warnings: [String] = []
        let saved = CompiledFunction.warningHandler
        CompiledFunction.warningHandler = { warnings.append($0) }
        defer { CompiledFunction.warningHandler = saved }
        let f = compiled(name: "varying") { (x: Tensor) -> Tensor in x * 2 }
        for n in 1...8 { _ = f(Tensor.ones([n])) }
        XCTAssertEqual(f.traceCount, 8)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].hasPrefix("DeepSwift warning: compiled function 'varying' has been traced 6 times"), warnings[0])
        XCTAssertTrue(warnings[0].contains("(the latest: (6,))"), warnings[0])
        for n in 1...8 { _ = f(Tensor.ones([n])) }   // all traced already: replays only
        XCTAssertEqual(f.traceCount, 8)
    }

    func testSwiftValuesAreFrozenAtTraceTime() {
        var scale = 2.0
        var printed: [String] = []
        let f = compiled { (x: Tensor) -> Tensor in
            printed.append("tracing with \(x.shape)")   // like print: once per trace
            let first = x[0].scalar(as: Float.self)     // a Swift value read from a tensor
            return x * scale + Double(first)
        }
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [3, 5])
        scale = 10
        // Both the captured scale and the value read from x stay as traced.
        XCTAssertEqual(f(Tensor([5, 6] as [Float])).scalars(as: Float.self), [11, 13])
        XCTAssertEqual(printed, ["tracing with (2,)"])
    }

    func testRandomOpsDrawFreshNumbersOnEveryReplay() {
        let f = compiled { (x: Tensor) -> Tensor in x + Random.normal(x.shape) }
        let zeros = Tensor.zeros([4])
        setRandomSeed(3)
        let draws = (0..<3).map { _ in f(zeros).scalars(as: Float.self) }
        XCTAssertNotEqual(draws[0], draws[1])
        XCTAssertNotEqual(draws[1], draws[2])
        // The same numbers as eager draws from the same seed.
        setRandomSeed(3)
        let eager = (0..<3).map { _ in Random.normal([4]).scalars(as: Float.self) }
        XCTAssertEqual(draws, eager)
    }

    func testDropoutInTrainingDrawsANewMaskEachReplay() {
        let dropout = Dropout(0.5, seed: 11)
        let f = compiled { (x: Tensor) -> Tensor in dropout(x, training: true) }
        let ones = Tensor.ones([64])
        let masks = (0..<3).map { _ in f(ones).scalars(as: Float.self) }
        XCTAssertNotEqual(masks[0], masks[1])
        XCTAssertNotEqual(masks[1], masks[2])
        for m in masks { XCTAssertTrue(m.allSatisfy { $0 == 0 || $0 == 2 }) }
    }

    func testVariablesAndMetricsChangeOnEveryCall() {
        let counter = Variable(Tensor.zeros([2]))
        let mean = Mean()
        let f = compiled { (x: Tensor) -> Tensor in
            counter.assignAdd(x)
            mean.updateState(x)
            return counter.value * 1
        }
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [1, 2])
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [2, 4])
        XCTAssertEqual(f(Tensor([3, 3] as [Float])).scalars(as: Float.self), [5, 7])
        XCTAssertEqual(counter.value.scalars(as: Float.self), [5, 7])
        XCTAssertEqual(mean.result().scalar(as: Float.self), 2, accuracy: 1e-6)   // mean of 1,2,1,2,3,3
    }

    func testUnusedOpsAreDropped() {
        let f = compiled { (x: Tensor) -> Tensor in
            _ = exp(x) * 3          // computed at trace time, unused
            return x + 1
        }
        let x = Tensor([1, 2] as [Float])
        XCTAssertEqual(f(x).scalars(as: Float.self), [2, 3])
        let summary = f.graphSummary(for: [x])
        XCTAssertEqual(summary?.steps, 1)
        XCTAssertEqual(summary?.dropped, 2)
    }

    func testElementwiseChainsRunAsOneFusedStep() {
        // The VAE's KL term: five elementwise ops in one pass, then the mean.
        let f = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let (zMean, zLogVar) = (args[0], args[1])
            return [-0.5 * (zLogVar - square(zMean) - exp(zLogVar) + 1).mean()]
        }
        let zMean = Random.normal([64, 32]), zLogVar = Random.normal([64, 32]) * 0.1
        let eager = -0.5 * (zLogVar - square(zMean) - exp(zLogVar) + 1).mean()
        XCTAssertEqual(f([zMean, zLogVar])[0].scalar(as: Float.self), eager.scalar(as: Float.self))
        // Replays, on new values, give exactly the eager results (the same kernels).
        for _ in 0..<3 {
            let (m, v) = (Random.normal([64, 32]), Random.normal([64, 32]))
            XCTAssertEqual(f([m, v])[0].scalar(as: Float.self),
                           (-0.5 * (v - square(m) - exp(v) + 1).mean()).scalar(as: Float.self))
        }
        // square → subtract → subtract(exp) → add in one chain (exp runs before it as
        // the chain's operand), then the mean's divide → multiply by -0.5.
        XCTAssertEqual(f.graphSummary(for: [zMean, zLogVar])?.fused, 6)
        XCTAssertEqual(f.graphSummary(for: [zMean, zLogVar])?.steps, 4)   // exp, the chain, sum, the chain
        // A chain longer than one tile, with a single-element operand on either side.
        let g = compiled { (x: Tensor) -> Tensor in sigmoid(2 - relu(x) * 3) / 4 }
        let x = Random.normal([5000])
        XCTAssertEqual(g(x), sigmoid(2 - relu(x) * 3) / 4)
        let y = Random.normal([5000])
        XCTAssertEqual(g(y), sigmoid(2 - relu(y) * 3) / 4)
        XCTAssertEqual(g.graphSummary(for: [x])?.steps, 1)
    }

    /// Slice gradients are summed into their tensor's gradient in place when the
    /// sum has no other use, and into a copy when it has, on every replay.
    func testSliceGradientsAccumulateOnReplay() {
        let f = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let (x, z) = (args[0], args[1])
            let tape = GradientTape()
            tape.watch(x)
            tape.watch(z)
            // Backwards, (x + z) comes first: x's running sum starts as the tensor
            // that is also z's gradient, so the first slice adds into a copy.
            let y = tape.record { () -> Tensor in
                x[.all, .range(nil, nil, stride: 2)].sum() + (x[.all, 0..<3] * 2).sum()
                    + (x[.all, 2..<6] * 3).sum() + (x + z).sum()
            }
            let grads = tape.gradient(of: y, wrt: [x, z])
            return [grads[0]!, grads[1]!]
        }
        let expectedX: [Float] = (0..<12).map { i in
            let col = i % 6
            return 1 + (col < 3 ? 2 : 0) + (col >= 2 ? 3 : 0) + (col % 2 == 0 ? 1 : 0)
        }
        for _ in 0..<3 {
            let (x, z) = (Random.normal([2, 6]), Random.normal([2, 6]))
            let grads = f([x, z])
            XCTAssertEqual(grads[0].scalars(as: Float.self), expectedX)
            XCTAssertEqual(grads[1].scalars(as: Float.self), [Float](repeating: 1, count: 12))
        }
        XCTAssertEqual(f.replayAllocations, 0)
    }

    func testResultsKeptByTheCallerAreNotOverwritten() {
        let f = compiled { (x: Tensor) -> Tensor in relu(x * 2) - 1 }
        let a = f(Tensor([1, 2] as [Float]))
        let b = f(Tensor([3, 4] as [Float]))
        let c = f(Tensor([5, 6] as [Float]))
        XCTAssertEqual(a.scalars(as: Float.self), [1, 3])
        XCTAssertEqual(b.scalars(as: Float.self), [5, 7])
        XCTAssertEqual(c.scalars(as: Float.self), [9, 11])
    }

    func testGradientsOfTheInputsThroughACompiledStep() {
        // The backward pass is part of the graph: d/dx sum(x^3) = 3x^2 on every replay.
        let f = compiled { (x: Tensor) -> Tensor in
            let tape = GradientTape()
            tape.watch(x)
            let y = tape.record { (x * x * x).sum() }
            return tape.gradient(of: y, wrt: x)!
        }
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [3, 12])
        XCTAssertEqual(f(Tensor([3, -1] as [Float])).scalars(as: Float.self), [27, 3])

        // Nested tapes: the second derivative 6x, replayed.
        let second = compiled { (x: Tensor) -> Tensor in
            let outer = GradientTape()
            outer.watch(x)
            let dy = outer.record { () -> Tensor in
                let inner = GradientTape()
                inner.watch(x)
                let y = inner.record { (x * x * x).sum() }
                return inner.gradient(of: y, wrt: x)!
            }
            return outer.gradient(of: dy, wrt: x)!
        }
        XCTAssertEqual(second(Tensor([1, 2] as [Float])).scalars(as: Float.self), [6, 12])
        XCTAssertEqual(second(Tensor([-1, 0.5] as [Float])).scalars(as: Float.self), [-6, 3])

        // Returning an argument, a constant and the same result twice.
        let g = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let y = args[0] * 2
            return [args[0], Tensor(7 as Float), y, y]
        }
        for v in [Float(1), 5] {
            let out = g([Tensor([v])])
            XCTAssertEqual(out.map { $0.scalars(as: Float.self) }, [[v], [7], [2 * v], [2 * v]])
        }
    }
}
