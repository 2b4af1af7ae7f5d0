import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// What a saved model keeps beyond its layer arguments: statistics, input dtypes,
/// activation arguments, weight dtypes and seeds; and how the folder is written.
final class ModelSavingFidelityTests: TemporaryFolderTestCase {

    func config(_ name: String) throws -> String { try String(contentsOfFile: folder + name + "/config.json", encoding: .utf8) }

    func testAdaptedAndPresetNormalizationLoad() throws {
        setRandomSeed(5)
        let adapted = Normalization()
        try adapted.adapt(Random.normal([50, 3], mean: 2, stddev: 3))
        let preset = Normalization(axis: nil, mean: Tensor(4.0), variance: Tensor(9.0), invert: true)
        let model = Sequential([adapted, Dense(2), preset], inputShape: [3])
        try model.save(to: folder + "norm")
        let text = try config("norm")
        XCTAssertTrue(text.contains("\"statistics_shape\": [3]"), text)
        let loaded = try loadModel(from: folder + "norm")
        let x = Random.normal([4, 3])
        XCTAssertEqual(try loaded.predict(x), try model.predict(x))
        let restored = try XCTUnwrap(loaded.layers[0] as? Normalization)
        XCTAssertEqual(restored.mean?.value, adapted.mean?.value)
        XCTAssertEqual(restored.variance?.value, adapted.variance?.value)
        XCTAssertEqual((loaded.layers[2] as? Normalization)?.mean?.value, Tensor(4.0))
    }

    func testASequentialStartingWithAnEmbeddingLoads() throws {
        setRandomSeed(6)
        let ids = Tensor([[1, 4, 2], [0, 3, 3]] as [[Int32]])
        // Given its input dtype, or built by a first call on integer ids.
        let declared = Sequential([Embedding(inputDim: 5, outputDim: 4), Flatten(), Dense(2)], inputShape: [3], inputDType: .int32)
        let called = Sequential([Embedding(inputDim: 5, outputDim: 4), GlobalAveragePooling1D(), Dense(2)])
        _ = called(ids)
        for (name, model) in [("declared", declared), ("called", called)] {
            try model.save(to: folder + name)
            let text = try config(name)
            XCTAssertTrue(text.contains("\"input_dtype\": \"int32\""), text)
            XCTAssertEqual(try loadModel(from: folder + name).predict(ids), try model.predict(ids), name)
        }
    }

    func testActivationArgumentsAreKeptAndCustomFunctionsRefused() throws {
        setRandomSeed(7)
        let model = Sequential([Dense(4, activation: .elu(alpha: 0.5)), Dense(3, activation: .leakyRelu(negativeSlope: 0.05)),
                                Dense(2, activation: "tanh")], inputShape: [2])
        try model.save(to: folder + "act")
        let text = try config("act")
        XCTAssertTrue(text.contains("\"activation\": {\n"), text)
        XCTAssertTrue(text.contains("\"name\": \"elu\",\n") && text.contains("\"alpha\": 0.5\n"), text)
        XCTAssertTrue(text.contains("\"negative_slope\": 0.05\n"), text)
        XCTAssertTrue(text.contains("\"activation\": \"tanh\""), text)
        let x = Tensor([[-3, 1], [2, -0.5]] as [[Float]])
        XCTAssertEqual(try loadModel(from: folder + "act").predict(x), try model.predict(x))
        // A closure that borrows a built-in name is still a closure.
        let impostor = Sequential([Dense(2, activation: ActivationFunction("relu") { $0 * 3 }, name: "fake")], inputShape: [3])
        XCTAssertThrowsError(try impostor.save(to: folder + "impostor")) { error in
            XCTAssertEqual("\(error)", "cannot save the model: fake: the activation 'relu' is a custom function; only Keras's named activations can be saved")
        }
    }

    func testWeightDTypesAndDropoutSeedsAreKept() throws {
        setRandomSeed(8)
        let dense = Dense(3)
        dense.dtype = .float64
        let model = Sequential([dense, Dropout(0.5, seed: 42), SpatialDropout1D(0.25, seed: UInt64.max)], inputShape: [2, 4],
                               inputDType: .float64)
        try model.save(to: folder + "typed")
        let loaded = try loadModel(from: folder + "typed")
        XCTAssertEqual(loaded.layers[0].dtype, .float64)
        XCTAssertEqual(loaded.weights.map(\.dtype), [.float64, .float64])
        XCTAssertEqual((loaded.layers[1] as? Dropout)?.seed, 42)
        XCTAssertEqual((loaded.layers[2] as? SpatialDropout1D)?.seed, UInt64.max)
        // The same seed draws the same mask as a fresh layer with that seed.
        let x = Tensor.ones([2, 8], dtype: .float64)
        XCTAssertEqual((loaded.layers[1] as! Dropout)(x, training: true), Dropout(0.5, seed: 42)(x, training: true))
    }

    func testTheFolderPathMayEndInASlashAndIsReplacedWhole() throws {
        let model = Sequential([Dense(2)], inputShape: [3])
        try model.save(to: folder + "slashed/")
        try model.save(to: folder + "slashed//")
        let x = Tensor.ones([1, 3])
        XCTAssertEqual(try loadModel(from: folder + "slashed").predict(x), try model.predict(x))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["slashed"], "no staging or replaced folder is left")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "slashed").sorted(), ["config.json", "model.safetensors"])
    }

    func testNonFiniteConfigValuesAreRefusedAtSave() throws {
        let model = Sequential([Rescaling(scale: .infinity)], inputShape: [2], name: "wild")
        XCTAssertThrowsError(try model.save(to: folder + "wild")) { error in
            XCTAssertEqual("\(error)", "cannot save the model: the config value at model.config.layers[0].config.scale is not a finite number; JSON cannot hold it")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "wild"))
    }
}
