import XCTest
import DeepSwift
import TestSupport

final class CompiledTrainingTests: XCTestCase {
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
}
