import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// Records callback events in order.
final class Recorder: Callback {
    var events: [String] = []
    override func onTrainBegin(logs: Logs) { events.append("trainBegin") }
    override func onTrainEnd(logs: Logs) { events.append("trainEnd") }
    override func onEpochBegin(_ epoch: Int, logs: Logs) { events.append("epochBegin \(epoch)") }
    override func onEpochEnd(_ epoch: Int, logs: Logs) { events.append("epochEnd \(epoch)") }
    override func onBatchBegin(_ batch: Int, logs: Logs) { events.append("batchBegin \(batch)") }
    override func onBatchEnd(_ batch: Int, logs: Logs) { events.append("batchEnd \(batch)") }
}

final class FitTests: XCTestCase {
    /// Three well-separated blobs: a learnable classification problem.
    func blobs(_ n: Int, seed: UInt64) -> (Tensor, Tensor) {
        var g = RandomGenerator(seed: seed)
        let labels = Random.uniform([n], min: 0, max: 3, dtype: .int32, using: &g)
        let centers = Tensor([[2.0, 0], [-2, 2], [0, -2]])
        let x = centers.gathering(atIndices: labels) + Random.normal([n, 2], stddev: 0.5, using: &g)
        return (x, labels)
    }

    /// With a short last batch (32, 32, 32, 4) the epoch loss is the mean over
    /// examples, as Keras's, not the mean of the four batch means.
    func testEpochLossIsThePerExampleMeanWithAShortLastBatch() throws {
        setRandomSeed(5)
        let (x, y) = blobs(100, seed: 3)
        let model = Sequential([Dense(3)])
        let loss = SparseCategoricalCrossentropy(fromLogits: true)
        model.compile(optimizer: SGD(learningRate: 0), loss: loss)
        _ = model(x)
        let expected = loss(y, model(x)).scalar(as: Float.self)
        let batchMeans = stride(from: 0, to: 100, by: 32).map { loss(y[$0..<min($0 + 32, 100)], model(x[$0..<min($0 + 32, 100)])).scalar(as: Float.self) }
        XCTAssertNotEqual(Double(batchMeans.reduce(0, +) / 4), Double(expected), accuracy: 1e-3)
        let history = try model.fit(x: x, y: y, batchSize: 32, epochs: 1, verbose: 0, shuffle: false)
        XCTAssertEqual(history.history["loss"]![0], Double(expected), accuracy: 1e-5)
        XCTAssertEqual(try model.evaluate(x: x, y: y, batchSize: 32)["loss"]!, Double(expected), accuracy: 1e-5)
    }

    func testMisuseThrowsTypedErrorsWithClearMessages() throws {
        let (x, y) = blobs(10, seed: 3)
        let model = Sequential([Dense(4), Dense(3)])
        XCTAssertThrowsError(try model.fit(x: x, y: y, verbose: 0)) { error in
            XCTAssertEqual(error as? TrainingError, .invalidConfiguration("Model '\(model.name)': call compile(optimizer:loss:metrics:) before fit"))
        }
        model.compile(optimizer: SGD(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        XCTAssertThrowsError(try model.fit(x: x, y: y[..<9], verbose: 0)) { error in
            XCTAssertEqual(error as? TrainingError, .mismatchedData("fit: x has 10 examples but y has 9"))
        }
        XCTAssertThrowsError(try model.evaluate(x: x, y: y, sampleWeight: Tensor.ones([3]))) { error in
            XCTAssertEqual("\(error)", "evaluate: sampleWeight must have one weight per example (10), got shape (3,)")
        }
        XCTAssertThrowsError(try model.fit(x: x, y: y, verbose: 0, validationSplit: 1)) { error in
            XCTAssertEqual("\(error)", "fit: validationSplit must be in [0, 1), got 1.0")
        }
        try model.fit(x: x, y: y, verbose: 0)
        // The built model takes inputs of width 2.
        let wide = Tensor.ones([10, 5])
        for (name, attempt) in [("fit", { _ = try model.fit(x: wide, y: y, verbose: 0) }),
                                ("evaluate", { _ = try model.evaluate(x: wide, y: y) }),
                                ("predict", { _ = try model.predict(wide) })] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertEqual(error as? TrainingError, .incompatibleInput(
                    "\(name): Input 0 of layer \"\(model.name)\" is incompatible with the layer: expected axis -1 of input shape to have value 2, but received input with shape (10, 5)"))
            }
        }
        XCTAssertThrowsError(try model.predict(Tensor.ones([10]))) { error in
            XCTAssertEqual("\(error)", "predict: Input 0 of layer \"\(model.name)\" is incompatible with the layer: expected min_ndim=2, found ndim=1. Full shape received: (10,)")
        }
        // A functional model names its input shape; so does a Sequential given one.
        let input = Input(shape: [2])
        let functional = Model(inputs: input, outputs: Dense(3)(input))
        functional.compile(optimizer: SGD(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        XCTAssertThrowsError(try functional.fit(x: Tensor.ones([10, 2, 1]), y: y, verbose: 0)) { error in
            XCTAssertEqual("\(error)", "fit: Input 0 of layer \"\(functional.name)\" is incompatible with the layer: expected shape=(None, 2), found shape=(10, 2, 1)")
        }
        let declared = Sequential([Dense(3)], inputShape: [2])
        XCTAssertThrowsError(try declared.predict(Tensor.ones([4, 3]))) { error in
            XCTAssertEqual("\(error)", "predict: Input 0 of layer \"\(declared.name)\" is incompatible with the layer: expected axis 1 of input shape to have value 2, but received input with shape (4, 3)")
        }
    }

    func testFitLearnsAndRecordsHistory() throws {
        setRandomSeed(11)
        let (x, y) = blobs(300, seed: 1)
        let model = Sequential([Dense(16, activation: .relu), Dense(3)])
        model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true),
                      metrics: [SparseCategoricalAccuracy()])
        let history = try model.fit(x: x, y: y, batchSize: 32, epochs: 5, verbose: 0, validationSplit: 0.2)
        let loss = history.history["loss"]!
        XCTAssertEqual(loss.count, 5)
        XCTAssertLessThan(loss.last!, loss.first!)
        XCTAssertGreaterThan(history.history["sparse_categorical_accuracy"]!.last!, 0.9)
        XCTAssertEqual(history.history["val_loss"]!.count, 5)
        XCTAssertGreaterThan(history.history["val_sparse_categorical_accuracy"]!.last!, 0.9)
        XCTAssertEqual(model.optimizer!.iterations, 5 * 8)
        let logs = try model.evaluate(x: x, y: y)
        XCTAssertGreaterThan(logs["sparse_categorical_accuracy"]!, 0.9)
        XCTAssertEqual(try model.predict(x, batchSize: 64).shape, [300, 3])
        let batchLogs = model.trainOnBatch(x[..<10], y[..<10])
        XCTAssertNotNil(batchLogs["loss"])
        XCTAssertEqual(model.testOnBatch(x[..<10], y[..<10]).entries.map(\.0), ["loss", "sparse_categorical_accuracy"])
    }

    /// fit compiles the training step by default (as Keras); the compiled and the
    /// eager step train identically: dropout, batch normalization's moving
    /// statistics, sample weights, a short last batch and a learning-rate schedule.
    func testCompiledFitMatchesRunEagerly() throws {
        let (x, y) = blobs(264, seed: 3)   // 198 to train (6 batches of 32, one of 6), 66 to validate
        let weights = Tensor(shape: [264], scalars: (0..<264).map { Float(1 + $0 % 3) })
        func train(runEagerly: Bool) throws -> (History, [Tensor], Model) {
            setRandomSeed(21)
            let model = Sequential {
                Dense(16, activation: .relu)
                BatchNormalization()
                Dropout(0.2, seed: 5)
                Dense(3, kernelRegularizer: .l2(1e-3))
            }
            model.compile(optimizer: Adam(learningRate: .schedule(ExponentialDecay(initialLearningRate: 0.01, decaySteps: 3,
                                                                                    decayRate: 0.9))),
                          loss: SparseCategoricalCrossentropy(fromLogits: true),
                          metrics: [SparseCategoricalAccuracy()], runEagerly: runEagerly)
            let history = try model.fit(x: x, y: y, batchSize: 32, epochs: 3, verbose: 0, shuffle: false,
                                    validationSplit: 0.25)
            for start in stride(from: 0, to: 96, by: 32) {
                model.trainOnBatch(x[start..<(start + 32)], y[start..<(start + 32)],
                                   sampleWeight: weights[start..<(start + 32)])
            }
            return (history, model.weights.map(\.value), model)
        }
        let (eager, eagerWeights, _) = try train(runEagerly: true)
        let (compiled, compiledWeights, model) = try train(runEagerly: false)
        XCTAssertEqual(compiled.history["val_loss"]!.count, 3)
        for key in ["loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"] {
            for (a, b) in zip(compiled.history[key]!, eager.history[key]!) { XCTAssertEqual(a, b, accuracy: 1e-5 * Swift.max(1, abs(b))) }
        }
        XCTAssertEqual(compiledWeights.count, eagerWeights.count)
        for (a, b) in zip(compiledWeights, eagerWeights) { assertClose(a, b, tolerance: 1e-5) }
        // predict replays a compiled forward pass: the eager model's predictions.
        XCTAssertEqual(try model.predict(x, batchSize: 50), model(x, training: false))
        XCTAssertEqual(model.compiledPredictStep?.traceCount, 2)   // 50 and the last 14
        // Batches of 32 and the last short one; batches of 32 with sample weights.
        XCTAssertEqual(model.compiledTrainSteps.values.map(\.traceCount).sorted(), [1, 2])
        XCTAssertEqual(model.compiledTestSteps.values.map(\.traceCount), [2])   // validation: 32 and 2
    }

    /// Sample weights of 2 double the loss (Keras's sum over the batch size), so SGD
    /// with half the learning rate takes exactly the unweighted steps.
    func testSampleWeightsInFitAndEvaluate() throws {
        let (x, y) = blobs(96, seed: 4)
        let twos = Tensor.full([96], value: 2)
        func train(weighted: Bool) throws -> (History, [Tensor], Logs) {
            setRandomSeed(2)
            let model = Sequential([Dense(8, activation: .tanh), Dense(3)])
            model.compile(optimizer: SGD(learningRate: weighted ? 0.05 : 0.1),
                          loss: SparseCategoricalCrossentropy(fromLogits: true))
            let history = try model.fit(x: x, y: y, batchSize: 32, epochs: 2, verbose: 0, shuffle: false,
                                    sampleWeight: weighted ? twos : nil)
            let logs = try model.evaluate(x: x, y: y, sampleWeight: weighted ? twos : nil)
            return (history, model.weights.map(\.value), logs)
        }
        let (plain, plainWeights, plainLogs) = try train(weighted: false)
        let (weighted, weightedWeights, weightedLogs) = try train(weighted: true)
        for (a, b) in zip(weighted.history["loss"]!, plain.history["loss"]!) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5) }
        for (a, b) in zip(weightedWeights, plainWeights) { assertClose(a, b, tolerance: 1e-5) }
        XCTAssertEqual(weightedLogs["loss"]!, 2 * plainLogs["loss"]!, accuracy: 1e-5)
    }

    func testFitOnDatasetOfPairsAddsModelLosses() throws {
        setRandomSeed(12)
        // An autoencoder trained on (x, x) pairs with an activity penalty added by a layer.
        let x = Random.uniform([128, 8])
        let model = Sequential([Dense(4, activation: .relu, activityRegularizer: .l2(1e-3)), Dense(8)])
        model.compile(optimizer: Adam(learningRate: 0.02), loss: MeanSquaredError())
        let dataset = Dataset.fromTensorSlices((x, x)).shuffle(bufferSize: 128).batch(32)
        let history = try model.fit(dataset, epochs: 8, verbose: 0)
        let loss = history.history["loss"]!
        XCTAssertLessThan(loss.last!, loss.first! * 0.8)
        // The compiled loss alone is below the logged loss: the penalty was added.
        _ = model(x)
        let penalty = model.losses.map { $0.scalar(as: Float.self) }.reduce(0, +)
        XCTAssertGreaterThan(penalty, 0)
    }

    func testCallbacksFireInOrder() throws {
        let (x, y) = blobs(8, seed: 2)
        let model = Sequential([Dense(3)])
        model.compile(optimizer: SGD(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let recorder = Recorder()
        try model.fit(x: x, y: y, batchSize: 4, epochs: 2, verbose: 0, callbacks: [recorder])
        XCTAssertEqual(recorder.events, ["trainBegin", "epochBegin 0", "batchBegin 0", "batchEnd 0", "batchBegin 1", "batchEnd 1",
                                         "epochEnd 0", "epochBegin 1", "batchBegin 0", "batchEnd 0", "batchBegin 1", "batchEnd 1",
                                         "epochEnd 1", "trainEnd"])
    }

    func testEarlyStoppingAndSchedulerAndCSV() throws {
        let (x, y) = blobs(64, seed: 3)
        let model = Sequential([Dense(3)])
        model.compile(optimizer: SGD(learningRate: 0), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let stopper = EarlyStopping(monitor: "loss", patience: 1)
        let path = NSTemporaryDirectory() + "log-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try model.fit(x: x, y: y, epochs: 10, verbose: 0, shuffle: false, callbacks: [stopper, CSVLogger(path)])
        XCTAssertEqual(history.epochs, [0, 1])  // no improvement with a zero learning rate
        XCTAssertEqual(stopper.stoppedEpoch, 1)
        let csv = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "epoch,loss")
        XCTAssertEqual(csv.count, 3)
        var rates: [Double] = []
        final class Probe: Callback {
            var seen: [Double] = []
            override func onEpochBegin(_ epoch: Int, logs: Logs) { seen.append(model!.optimizer!.currentLearningRate) }
        }
        let probe = Probe()
        try model.fit(x: x, y: y, epochs: 3, verbose: 0, callbacks: [LearningRateScheduler { epoch, _ in 0.1 / Double(epoch + 1) }, probe])
        rates = probe.seen
        XCTAssertEqual(rates, [0.1, 0.05, 0.1 / 3], accuracy: 1e-12)
        let nan = Sequential([Dense(3)])
        nan.compile(optimizer: SGD(learningRate: 1e30), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let h = try nan.fit(x: x * 1e30, y: y, batchSize: 8, epochs: 3, verbose: 0, callbacks: [TerminateOnNaN()])
        XCTAssertEqual(h.epochs, [0])
    }

    func testModelCheckpointSavesTheBestEpochs() throws {
        let (x, y) = blobs(64, seed: 5)
        let model = Sequential([Dense(3)])
        model.compile(optimizer: Adam(learningRate: 0.05), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let dir = NSTemporaryDirectory() + "ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.fit(x: x, y: y, epochs: 3, verbose: 0, callbacks: [ModelCheckpoint(dir + "/w-{epoch}.safetensors", monitor: "loss")])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       ["w-1.safetensors", "w-2.safetensors", "w-3.safetensors"])
        let restored = Sequential([Dense(3)])
        _ = restored(x)
        try restored.loadWeights(from: dir + "/w-3.safetensors")
        XCTAssertEqual(restored(x), model(x))
    }

    func testProgressBarText() throws {
        var time = 0.0
        var out = ""
        let bar = ProgressBar(target: 1875, interactive: true, clock: { time }, write: { out += $0 })
        time = 0.5
        bar.update(32, values: [("loss", 0.51234)])
        XCTAssertEqual(out, "\r  32/1875 [..............................] - ETA: 28s - loss: 0.5123")
        out = ""
        time = 1.873
        bar.update(1875, values: [("loss", 0.0838)])
        XCTAssertEqual(out, "\r1875/1875 [==============================] - 1s 999us/step - loss: 0.0838\n")
        var log = ""
        time = 0
        let quiet = ProgressBar(target: 10, interactive: false, clock: { time }, write: { log += $0 })
        time = 2.0
        quiet.update(5, values: [("loss", 1)])
        XCTAssertEqual(log, "")
        time = 3.0
        quiet.update(10, values: [("loss", 0.00012)])
        XCTAssertEqual(log, "10/10 [==============================] - 3s 300ms/step - loss: 1.2000e-04\n")
        var half = ""
        let mid = ProgressBar(target: 10, interactive: true, clock: { 0 }, write: { half += $0 })
        mid.update(5)
        XCTAssertEqual(half, "\r 5/10 [==============>...............] - ETA: 0s")
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}

/// fit's background batches: the same batches in the same order, so the same
/// losses and weights, whether it prefetches or not.
final class FitPrefetchTests: XCTestCase {
    func testPrefetchingChangesNothing() throws {
        setRandomSeed(3)
        let x = Random.normal([200, 5]), y = Random.uniform([200], min: 0, max: 3, dtype: .int32)
        func train(_ prefetch: Bool?, dataset: Bool) throws -> ([Double], [Tensor]) {
            setRandomSeed(8)
            let model = Sequential([Dense(8, activation: .relu), Dropout(0.2), Dense(3)], inputShape: [5])
            model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true))
            model.prefetchingBatches = prefetch
            let history = dataset
                ? try model.fit(Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 50).map { ($0.0 * 2, $0.1) }.batch(16), epochs: 3, verbose: 0)
                : try model.fit(x: x, y: y, batchSize: 16, epochs: 3, verbose: 0, validationSplit: 0.2)
            return (history.history["loss"]!, model.weights.map(\.value))
        }
        for dataset in [false, true] {
            let (plainLoss, plainWeights) = try train(false, dataset: dataset)
            let (prefetchedLoss, prefetchedWeights) = try train(true, dataset: dataset)
            XCTAssertEqual(prefetchedLoss, plainLoss, "dataset: \(dataset)")
            XCTAssertEqual(prefetchedWeights, plainWeights, "dataset: \(dataset)")
            XCTAssertEqual(try train(nil, dataset: dataset).0, plainLoss)
        }
    }
}
