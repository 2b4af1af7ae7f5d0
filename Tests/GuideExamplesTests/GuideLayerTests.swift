import XCTest
import DeepSwift
import GuideExamples
import TestSupport

// Every assertion the guide makes on layers, on the guide's own layer classes
// (GuideExamples/Layers.swift).

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
