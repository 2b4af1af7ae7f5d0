import XCTest
@testable import DeepSwift

/// Keras's string identifiers in `compile`.
final class StringShortcutTests: XCTestCase {
    func testNamesGiveKerasDefaults() throws {
        XCTAssertTrue(try Optimizer.named("adam") is Adam)
        XCTAssertEqual(try Optimizer.named("Adam").currentLearningRate, 0.001)
        XCTAssertEqual(try Optimizer.named("sgd").currentLearningRate, 0.01)
        XCTAssertTrue(try Optimizer.named("rmsprop") is RMSprop)
        XCTAssertTrue(try Optimizer.named("lion") is Lion)
        XCTAssertTrue(try Loss.named("mse") is MeanSquaredError)
        XCTAssertTrue(try Loss.named("SparseCategoricalCrossentropy") is SparseCategoricalCrossentropy)
        XCTAssertTrue(try Loss.named("kld") is KLDivergence)
    }

    func testActivationsByName() throws {
        XCTAssertEqual(try ActivationFunction(named: "gelu").name, "gelu")
        XCTAssertThrowsError(try ActivationFunction(named: "rellu")) { error in
            XCTAssertTrue("\(error)".hasPrefix("ActivationFunction: unknown name 'rellu'; known: relu,"), "\(error)")
        }
    }

    func testAccuracyFollowsTheLoss() throws {
        XCTAssertTrue(try metric(named: "accuracy", forLoss: SparseCategoricalCrossentropy()) is SparseCategoricalAccuracy)
        XCTAssertTrue(try metric(named: "acc", forLoss: BinaryCrossentropy()) is BinaryAccuracy)
        XCTAssertTrue(try metric(named: "accuracy", forLoss: CategoricalCrossentropy()) is CategoricalAccuracy)
        XCTAssertEqual(try metric(named: "accuracy", forLoss: SparseCategoricalCrossentropy()).name, "accuracy")
    }

    func testUnknownNamesThrowListingTheKnownOnes() {
        XCTAssertThrowsError(try Optimizer.named("adamm")) { error in
            XCTAssertEqual(error as? TrainingError, .invalidConfiguration(
                "unknown optimizer 'adamm'; known: adam, adamw, adafactor, adagrad, lion, nadam, rmsprop, sgd"))
        }
        let model = Sequential { Dense(2) }
        XCTAssertThrowsError(try model.compile(optimizer: "adam", loss: "cross_entropy")) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown loss 'cross_entropy'; known: binary_crossentropy,"), "\(error)")
        }
        XCTAssertThrowsError(try model.compile(optimizer: "adam", loss: "mse", metrics: ["f2"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown metric 'f2'; known: accuracy (acc), auc,"), "\(error)")
        }
        XCTAssertNil(model.optimizer, "a failed compile changes nothing")
    }

    func testCompileWithStringsTrains() throws {
        setRandomSeed(4)
        let x = Random.normal([64, 4])
        let y = (x[.all, 0] .> 0).cast(to: .int32)
        let model = Sequential { Dense(8, activation: .relu); Dense(2) }
        try model.compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
        let history = try model.fit(x: x, y: y, batchSize: 16, epochs: 3, verbose: 0)
        XCTAssertEqual(Set(history.history.keys), ["loss", "accuracy"])
        XCTAssertTrue(model.optimizer is Adam)
        XCTAssertEqual(history.history["accuracy"]?.count, 3)
    }
}
