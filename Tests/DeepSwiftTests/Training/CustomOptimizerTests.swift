import XCTest
import DeepSwift

/// An optimizer written outside the module (no `@testable` here): Keras's Lion as a
/// user would write it, overriding only the public `makeState` and `updateStep`.
final class UserLion: Optimizer {
    let beta1 = 0.9, beta2 = 0.99

    override func makeState(for variable: Variable) -> [Tensor] {
        [Tensor.zeros(variable.shape, dtype: variable.dtype)]
    }

    override func updateStep(gradient: Tensor, variable: Variable, state: inout [Tensor], learningRate: Double) {
        let m = state[0]
        variable.assignSub(sign(m * beta1 + gradient * (1 - beta1)) * learningRate)
        state[0] = m * beta2 + gradient * (1 - beta2)
    }
}

final class CustomOptimizerTests: XCTestCase {
    func testAUserOptimizerTrainsThroughApply() {
        let w = Variable(Tensor([1.0, 2.0], dtype: .float64))
        let optimizer = UserLion(learningRate: 0.1)
        for g in [[0.5, -1.0], [-0.25, 0.75], [0.5, -1.0]] {
            optimizer.apply([Tensor(g, dtype: .float64)], to: [w])
        }
        // Keras 3 Lion(learning_rate=0.1) on the same gradients: [0.9, 2.1].
        XCTAssertEqual(w.value.scalars(as: Double.self)[0], 0.9, accuracy: 1e-12)
        XCTAssertEqual(w.value.scalars(as: Double.self)[1], 2.1, accuracy: 1e-12)
        XCTAssertEqual(optimizer.iterations, 3)
        // m after three steps: 0.01·g3 + 0.99·(0.01·g2 + 0.99·0.01·g1).
        let m = optimizer.state(of: w)[0].scalars(as: Double.self)
        XCTAssertEqual(m[0], 0.01 * 0.5 + 0.99 * (0.01 * -0.25 + 0.99 * 0.01 * 0.5), accuracy: 1e-15)
        // Clipping from the base class applies before updateStep.
        let clipped = Variable(Tensor([0.0], dtype: .float64))
        let sgdLike = UserLion(learningRate: 1, clipValue: 0.5)
        sgdLike.apply([Tensor([-3.0], dtype: .float64)], to: [clipped])
        XCTAssertEqual(clipped.value.scalars(as: Double.self), [1])
        XCTAssertEqual(sgdLike.state(of: clipped)[0].scalars(as: Double.self)[0], 0.01 * -0.5, accuracy: 1e-15)
    }

    func testAUserOptimizerTrainsThroughFitAndACompiledStep() throws {
        setRandomSeed(5)
        let x = Random.normal([64, 3]), y = matmul(x, Tensor([[1], [-2], [0.5]] as [[Float]]))
        let model = Sequential { Dense(1) }
        model.compile(optimizer: UserLion(learningRate: 0.01), loss: MeanSquaredError())
        let history = try model.fit(x: x, y: y, batchSize: 16, epochs: 5, verbose: 0, shuffle: false)
        let losses = history.history["loss"]!
        XCTAssertLessThan(losses.last!, losses.first!)
        XCTAssertEqual(model.optimizer?.iterations, 20)

        // Eager and compiled steps from the same start agree step for step.
        func train(compiledStep: Bool) -> [Float] {
            setRandomSeed(9)
            let layer = Dense(1)
            _ = layer(x)
            let optimizer = UserLion(learningRate: 0.01)
            let step = { (x: Tensor, y: Tensor) -> Tensor in
                let tape = GradientTape()
                let loss = tape.record { MeanSquaredError()(y, layer(x)) }
                optimizer.apply(tape.gradient(of: loss, wrt: layer.trainableWeights), to: layer.trainableWeights)
                return loss
            }
            let compiledVersion = compiled(step)
            for _ in 0..<4 { _ = compiledStep ? compiledVersion(x, y) : step(x, y) }
            XCTAssertEqual(optimizer.iterations, 4)
            if compiledStep { XCTAssertEqual(compiledVersion.traceCount, 1) }
            return layer.trainableWeights.flatMap { $0.value.scalars(as: Float.self) }
        }
        XCTAssertEqual(train(compiledStep: true), train(compiledStep: false))
    }
}

/// Doubles every gradient, counting its calls.
final class Doubling: GradientAggregator {
    var calls = 0
    func aggregate(_ gradients: [Tensor], of variables: [Variable]) -> [Tensor] {
        calls += 1
        return gradients.map { $0 * 2 }
    }
}

final class GradientAggregatorTests: XCTestCase {
    /// An aggregator runs before clipping and the update, eagerly, in fit and on
    /// every replay of a compiled step: SGD with doubled gradients is SGD at twice
    /// the rate.
    func testAnAggregatorChangesTheGradientsBeforeTheUpdate() throws {
        setRandomSeed(2)
        let x = Random.normal([32, 3]), y = Random.normal([32, 1])
        func train(_ rate: Double, _ aggregator: Doubling?, eager: Bool) throws -> [Float] {
            setRandomSeed(6)
            let model = Sequential([Dense(1)], inputShape: [3])
            let optimizer = SGD(learningRate: .constant(rate))
            optimizer.gradientAggregator = aggregator
            model.compile(optimizer: optimizer, loss: MeanSquaredError(), runEagerly: eager)
            try model.fit(x: x, y: y, batchSize: 8, epochs: 2, verbose: 0, shuffle: false)
            return model.weights.flatMap { $0.value.scalars(as: Float.self) }
        }
        for eager in [true, false] {
            let doubling = Doubling()
            let doubled = try train(0.05, doubling, eager: eager)
            let plain = try train(0.1, nil, eager: eager)
            for (a, b) in zip(doubled, plain) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            XCTAssertEqual(doubling.calls, eager ? 8 : 8, "once per step")
        }
    }

    /// A producer-fused gradient (an outer product the update would compute tile
    /// by tile) reaches an aggregator as a tensor.
    func testTheOuterProductGradientIsMaterializedForAnAggregator() {
        let v = Variable(Tensor.zeros([1, 3]))
        let optimizer = SGD(learningRate: 1)
        let doubling = Doubling()
        optimizer.gradientAggregator = doubling
        let step = compiled { (a: Tensor, b: Tensor) -> Tensor in
            let g = matmul(a, b, transposeA: true)
            optimizer.apply([g], to: [v])
            return g
        }
        for _ in 0..<3 { _ = step(Tensor([[1]] as [[Float]]), Tensor([[1, 2, 3]] as [[Float]])) }
        XCTAssertEqual(v.value.scalars(as: Float.self), [-6, -12, -18])
        XCTAssertEqual(doubling.calls, 3)
    }
}
