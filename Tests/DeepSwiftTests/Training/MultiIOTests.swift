import XCTest
@testable import DeepSwift

/// Models with several inputs and outputs through compile, fit, evaluate and predict.
final class MultiIOTests: XCTestCase {
    func model() -> Model {
        let a = Input(shape: [3], name: "a"), b = Input(shape: [2], name: "b")
        let h = Concatenate()(a, b)
        let reg = Dense(1, name: "reg")(h)
        let cls = Dense(2, name: "cls")(h)
        return Model(inputs: [a, b], outputs: [reg, cls], name: "multi")
    }

    func data() -> (xa: Tensor, xb: Tensor, yr: Tensor, yc: Tensor) {
        setRandomSeed(8)
        let xa = Random.normal([40, 3]), xb = Random.normal([40, 2])
        let yr = xa.sum(axis: 1, keepDims: true)
        let yc = (xb[.all, 0] .> 0).cast(to: .int32)
        return (xa, xb, yr, yc)
    }

    func testPerOutputLossesAndTheirWeightedSum() throws {
        let m = model()
        let (xa, xb, yr, yc) = data()
        try m.compile(optimizer: SGD(learningRate: 0), losses: ["reg": MeanSquaredError(),
                                                                "cls": SparseCategoricalCrossentropy(fromLogits: true)],
                      lossWeights: ["reg": 0.5, "cls": 2], metrics: ["cls": [SparseCategoricalAccuracy()]])
        XCTAssertEqual(m.outputNames, ["reg", "cls"])
        XCTAssertEqual(m.inputNames, ["a", "b"])
        let logs = try m.evaluate(x: [xa, xb], y: [yr, yc], batchSize: 40)
        let outputs = m([xa, xb])
        let reg = Double(MeanSquaredError()(yr, outputs[0]).scalar(as: Float.self))
        let cls = Double(SparseCategoricalCrossentropy(fromLogits: true)(yc, outputs[1]).scalar(as: Float.self))
        let accuracy = (outputs[1].argmax(axis: -1).cast(to: .int32) .== yc).cast(to: .float32).mean().scalar(as: Float.self)
        XCTAssertEqual(logs.entries.map(\.0), ["loss", "reg_loss", "cls_loss", "cls_sparse_categorical_accuracy"])
        XCTAssertEqual(logs["reg_loss"]!, reg, accuracy: 1e-5)
        XCTAssertEqual(logs["cls_loss"]!, cls, accuracy: 1e-5)
        XCTAssertEqual(logs["loss"]!, 0.5 * reg + 2 * cls, accuracy: 1e-5)
        XCTAssertEqual(logs["cls_sparse_categorical_accuracy"]!, Double(accuracy), accuracy: 1e-6)
    }

    func testFitTrainsBothHeadsWithKerasKeys() throws {
        let m = model()
        let (xa, xb, yr, yc) = data()
        try m.compile(optimizer: Adam(learningRate: 0.05), losses: [MeanSquaredError(), SparseCategoricalCrossentropy(fromLogits: true)],
                      metrics: [[], [SparseCategoricalAccuracy(name: "accuracy")]])
        let history = try m.fit(x: [xa, xb], y: [yr, yc], batchSize: 8, epochs: 15, verbose: 0, validationSplit: 0.25)
        XCTAssertEqual(Set(history.history.keys), ["loss", "reg_loss", "cls_loss", "cls_accuracy",
                                                   "val_loss", "val_reg_loss", "val_cls_loss", "val_cls_accuracy"])
        let reg = history.history["reg_loss"]!, cls = history.history["cls_loss"]!
        XCTAssertLessThan(reg.last!, reg.first! * 0.5)
        XCTAssertLessThan(cls.last!, cls.first!)
        for (total, (r, c)) in zip(history.history["loss"]!, zip(reg, cls)) { XCTAssertEqual(total, r + c, accuracy: 1e-4) }

        // By name, as a dictionary; from a dataset of tuples; predict gives one tensor per output.
        _ = try m.fit(x: ["b": xb, "a": xa], y: ["cls": yc, "reg": yr], batchSize: 20, epochs: 1, verbose: 0)
        let dataset = Dataset<([Tensor], [Tensor])>.fromGenerator(cardinality: 4) {
            (0..<4).lazy.map { i in
                let rows = (i * 10)..<(i * 10 + 10)
                return ([xa[rows], xb[rows]], [yr[rows], yc[rows]])
            }.makeIterator()
        }
        let fromDataset = try m.fit(dataset, epochs: 2, verbose: 0)
        XCTAssertEqual(fromDataset.history["cls_accuracy"]?.count, 2)
        let predictions = try m.predict([xa, xb], batchSize: 16)
        XCTAssertEqual(predictions.map(\.shape), [[40, 1], [40, 2]])
        XCTAssertEqual(predictions[0], m([xa, xb])[0])
    }

    func testMismatchesThrow() throws {
        let m = model()
        let (xa, xb, yr, yc) = data()
        XCTAssertThrowsError(try m.compile(optimizer: SGD(), losses: [MeanSquaredError()])) { error in
            XCTAssertEqual(error as? TrainingError, .invalidConfiguration("Model 'multi': 1 losses for 2 outputs (reg, cls)"))
        }
        XCTAssertThrowsError(try m.compile(optimizer: SGD(), losses: ["head": MeanSquaredError()])) { error in
            XCTAssertEqual(error as? TrainingError, .invalidConfiguration("Model 'multi' has no output named 'head'; its outputs: reg, cls"))
        }
        try m.compile(optimizer: SGD(), losses: [MeanSquaredError(), nil])
        XCTAssertThrowsError(try m.fit(x: [xa, xb[..<30]], y: [yr, yc], verbose: 0)) { error in
            XCTAssertEqual(error as? TrainingError, .mismatchedData("fit: input 0 has 40 examples but input 1 has 30"))
        }
        XCTAssertThrowsError(try m.fit(x: [xa, xb], y: [yr], verbose: 0)) { error in
            XCTAssertEqual(error as? TrainingError, .mismatchedData("fit: 1 targets for 2 outputs"))
        }
        XCTAssertThrowsError(try m.fit(x: ["a": xa], y: nil, verbose: 0)) { error in
            XCTAssertEqual(error as? TrainingError, .mismatchedData("Model 'multi': no data for input 'b'"))
        }
        // An output without a loss is not trained, and logs no loss of its own.
        let history = try m.fit(x: [xa, xb], y: [yr, yc.cast(to: .float32)], batchSize: 40, verbose: 0)
        XCTAssertEqual(Set(history.history.keys), ["loss", "reg_loss"])
    }
}
