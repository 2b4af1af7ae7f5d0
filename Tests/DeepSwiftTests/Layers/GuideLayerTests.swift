import XCTest
import DeepSwift
import TestSupport

// The guide's layers, translated, with every assertion it makes.

/// y = w·x + b with weights created in init (the guide's first `Linear`).
final class EagerLinear: Layer {
    let w: Variable
    let b: Variable
    init(units: Int = 32, inputDim: Int = 32) {
        w = Variable(Initializer.randomNormal()([inputDim, units]))
        b = Variable(Tensor.zeros([units]))
        super.init()
    }
    override func call(_ inputs: Tensor, training: Bool) -> Tensor { matmul(inputs, w) + b }
}

/// y = w·x + b with weights created in build (the guide's second `Linear`).
final class Linear: Layer {
    let units: Int
    var w: Variable!
    var b: Variable!
    init(_ units: Int = 32) {
        self.units = units
        super.init()
    }
    override func build(inputShape: TensorShape) {
        w = addWeight(shape: [inputShape[inputShape.rank - 1], units], initializer: "random_normal")
        b = addWeight(shape: [units], initializer: "random_normal")
    }
    override func call(_ inputs: Tensor, training: Bool) -> Tensor { matmul(inputs, w) + b }
}

final class ComputeSum: Layer {
    let total: Variable
    init(inputDim: Int) {
        total = Variable(Tensor.zeros([inputDim]), trainable: false)
        super.init()
    }
    override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        total.assignAdd(inputs.sum(axis: 0))
        return total.value
    }
}

final class MLP: Layer {
    let linear1 = Linear(32), linear2 = Linear(32), linear3 = Linear(10)
    override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        linear3(relu(linear2(relu(linear1(inputs)))))
    }
}

/// The guide's own activity regularization layer: adds `rate * Σ inputs`.
final class RateRegularization: Layer {
    let rate: Double
    init(rate: Double = 1e-2) {
        self.rate = rate
        super.init()
    }
    override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        addLoss(inputs.sum() * rate)
        return inputs
    }
}

final class SparseMLP: Layer {
    let linear1 = Linear(32), regularization = RateRegularization(rate: 1e-2), linear3 = Linear(10)
    override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        linear3(regularization(relu(linear1(inputs))))
    }
}

final class MLPWithDropout: Layer {
    let linear1 = Linear(32), dropout = Dropout(0.5), linear3 = Linear(10)
    override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        linear3(dropout(linear1(inputs), training: training))
    }
}

final class GuideLayerTests: XCTestCase {
    func testLinearWithWeightsFromInit() {
        let layer = EagerLinear(units: 4, inputDim: 2)
        let y = layer(Tensor.ones([2, 2]))
        XCTAssertEqual(y.shape, [2, 4])
        XCTAssertTrue(layer.weights.elementsEqual([layer.w, layer.b], by: ===))
    }

    func testLinearBuildsLazily() {
        let layer = Linear(4)
        XCTAssertFalse(layer.isBuilt)
        XCTAssertEqual(layer.weights.count, 0)
        let y = layer(Tensor.ones([2, 2]))
        XCTAssertTrue(layer.isBuilt)
        XCTAssertEqual(y.shape, [2, 4])
        XCTAssertTrue(layer.weights.elementsEqual([layer.w, layer.b], by: ===))
        XCTAssertEqual(layer.w.shape, [2, 4])
    }

    func testNonTrainableWeights() {
        let mySum = ComputeSum(inputDim: 2)
        let x = Tensor.ones([2, 2])
        XCTAssertEqual(mySum(x).scalars(as: Float.self), [2, 2])
        XCTAssertEqual(mySum(x).scalars(as: Float.self), [4, 4])
        XCTAssertTrue(mySum.weights.elementsEqual([mySum.total], by: ===))
        XCTAssertTrue(mySum.nonTrainableWeights.elementsEqual([mySum.total], by: ===))
        XCTAssertTrue(mySum.trainableWeights.isEmpty)
    }

    func testLayersThatOwnLayers() {
        let mlp = MLP()
        _ = mlp(Tensor.ones([3, 64]))
        XCTAssertEqual(mlp.weights.count, 6)
        XCTAssertEqual(mlp.sublayers.count, 3)
        let seq = Sequential {
            Dense(32, activation: .relu)
            Dense(32, activation: .relu)
            Dense(10)
        }
        XCTAssertEqual(seq(Tensor.ones([3, 64])).shape, [3, 10])
        XCTAssertEqual(seq.weights.count, 6)
    }

    func testLossesAreClearedAtEachOutermostCall() {
        let mlp = SparseMLP()
        _ = mlp(Tensor.ones([10, 10]))
        _ = mlp(Tensor.ones([10, 10]))
        XCTAssertEqual(mlp.losses.count, 1)
    }

    func testTrainingFlagReachesDropout() {
        setRandomSeed(1)
        let mlp = MLPWithDropout()
        let yTrain = mlp(Tensor.ones([2, 2]), training: true)
        let yTest = mlp(Tensor.ones([2, 2]), training: false)
        XCTAssertEqual(yTrain.shape, [2, 10])
        XCTAssertEqual(mlp(Tensor.ones([2, 2])), yTest, "inference is deterministic")
        XCTAssertNotEqual(yTrain, yTest)
    }

    func testFunctionalAPI() {
        let inputs = Input(shape: [16])
        var x = Linear(32)(inputs)
        x = Dropout(0.5)(x)
        let outputs = Linear(10)(x)
        let model = Model(inputs: inputs, outputs: outputs)
        XCTAssertEqual(model.weights.count, 4)
        XCTAssertEqual(outputs.shape, [nil, 10])
        let y = model(Tensor.ones([2, 16]))
        XCTAssertEqual(y.shape, [2, 10])
        let yTrain = model(Tensor.ones([2, 16]), training: true)
        XCTAssertNotEqual(yTrain, y)
        XCTAssertEqual(model.layers.map { String(describing: type(of: $0)) }, ["InputLayer", "Linear", "Dropout", "Linear"])
    }
}
