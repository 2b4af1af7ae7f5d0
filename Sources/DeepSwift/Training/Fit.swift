import Foundation
@_spi(Autodiff) import Autodiff

extension Model {
    /// Configures training, as `model.compile`.
    ///
    /// As in Keras, the default training step runs as a compiled function (traced on
    /// the first batch of each shape, then replayed; see ``CompiledFunction``);
    /// `runEagerly: true` runs it as plain Swift, for debugging. Compile again after
    /// changing which weights are trainable.
    ///
    /// ```swift
    /// model.compile(optimizer: Adam(learningRate: 1e-3),
    ///               loss: SparseCategoricalCrossentropy(fromLogits: true),
    ///               metrics: [SparseCategoricalAccuracy()])
    /// ```
    public func compile(optimizer: Optimizer, loss: Loss? = nil, metrics: [any Metric] = [], runEagerly: Bool = false) {
        TrackingEpoch.advance()   // layers look at their properties again
        self.optimizer = optimizer
        self.compiledLoss = loss
        self.compiledMetrics = metrics
        self.outputConfig = nil
        self.runEagerly = runEagerly
        self.compiledTrainSteps = [:]
        self.compiledTestSteps = [:]
        self.compiledPredictStep = nil
    }

    /// The loss to minimize for a batch: the compiled loss (when there is a target)
    /// plus every loss the model's layers added during the forward pass.
    public func computeLoss(_ y: Tensor?, _ yPred: Tensor, sampleWeight: Tensor? = nil) -> Tensor {
        var total: Tensor? = nil
        if let compiledLoss, let y { total = compiledLoss(y, yPred, sampleWeight: sampleWeight) }
        for extra in losses { total = total.map { $0 + extra.cast(to: $0.dtype) } ?? extra }
        precondition(total != nil, "Model '\(name)': nothing to minimize: compile with a loss, or add losses in the model")
        return total!
    }

    func updateMetrics(loss: Tensor, _ y: Tensor?, _ yPred: Tensor, sampleWeight: Tensor?) -> Logs {
        // Weighted by the batch size, as Keras: with a short last batch the epoch's
        // loss is the mean over examples, not the mean of the batch means.
        lossTracker.updateState(stopGradient(loss), sampleWeight: yPred.rank > 0 ? Tensor(Float(yPred.shape[0])) : nil)
        if let y { for m in compiledMetrics { m.updateState(y, stopGradient(yPred), sampleWeight: sampleWeight) } }
        return currentLogs()
    }

    func currentLogs() -> Logs {
        // A metric with a vector result (F1Score per class) logs its mean, the figure
        // Keras's progress bar shows.
        func value(_ t: Tensor) -> Double { t.rank == 0 ? Double(t.scalar(as: Float.self)) : Double(t.cast(to: .float64).mean().scalar(as: Double.self)) }
        var entries = [("loss", value(lossTracker.result()))] + compiledMetrics.map { ($0.name, value($0.result())) }
        if let config = outputConfig {
            // Keras's keys: `<output>_loss` and `<output>_<metric>` when there are
            // several outputs, the metric's own name for one.
            let several = config.names.count > 1
            if several {
                for (k, name) in config.names.enumerated() where config.losses[k] != nil {
                    entries.append(("\(name)_loss", value(config.trackers[k].result())))
                }
            }
            for (k, name) in config.names.enumerated() {
                for m in config.metrics[k] { entries.append((several ? "\(name)_\(m.name)" : m.name, value(m.result()))) }
            }
        }
        return Logs(entries)
    }

    func resetTrainingMetrics() {
        lossTracker.resetState()
        for m in compiledMetrics { m.resetState() }
        if let config = outputConfig {
            for t in config.trackers { t.resetState() }
            for m in config.metrics.joined() { m.resetState() }
        }
    }

    /// Trains on one batch and returns its logs, as `train_on_batch` (metrics are
    /// reset first, so the logs describe this batch alone).
    @discardableResult
    public func trainOnBatch(_ x: Tensor, _ y: Tensor? = nil, sampleWeight: Tensor? = nil) -> Logs {
        resetTrainingMetrics()
        return trainStep(x, y, sampleWeight: sampleWeight)
    }

    /// Evaluates one batch, as `test_on_batch`.
    @discardableResult
    public func testOnBatch(_ x: Tensor, _ y: Tensor? = nil, sampleWeight: Tensor? = nil) -> Logs {
        resetTrainingMetrics()
        return testStep(x, y, sampleWeight: sampleWeight)
    }

    /// Trains on in-memory tensors, as `model.fit(x, y, ...)`: `epochs` passes over
    /// the data in batches, shuffled each epoch, holding out the last
    /// `validationSplit` of the examples (or using `validationData`) for `val_`
    /// logs. `sampleWeight` (one weight per example) weights each example's loss,
    /// as Keras's `sample_weight`. Returns the per-epoch logs.
    ///
    /// Throws ``TrainingError`` before training when the data disagree (x and y
    /// of different lengths, inputs the built model cannot take) or a setting is
    /// out of range.
    @discardableResult
    public func fit(x: Tensor, y: Tensor? = nil, batchSize: Int = 32, epochs: Int = 1, verbose: Int = 1,
                    shuffle: Bool = true, validationSplit: Double = 0, validationData: (Tensor, Tensor?)? = nil,
                    sampleWeight: Tensor? = nil, callbacks: [Callback] = []) throws -> History {
        guard validationSplit >= 0 && validationSplit < 1 else {
            throw TrainingError.invalidConfiguration("fit: validationSplit must be in [0, 1), got \(validationSplit)")
        }
        try checkData("fit", x: x, y: y, sampleWeight: sampleWeight, batchSize: batchSize)
        if let (vx, vy) = validationData { try checkData("fit (validationData)", x: vx, y: vy, sampleWeight: nil, batchSize: batchSize) }
        try requireCompiled("fit")
        let n = x.shape[0]
        let trainCount = n - Int(Double(n) * validationSplit)
        let split = { (t: Tensor?) in validationSplit > 0 ? t?[..<trainCount] : t }
        var validation = validationData
        if validationSplit > 0 { validation = (x[trainCount...], y?[trainCount...]) }
        let train = TensorBatches(x: split(x)!, y: split(y), sampleWeight: split(sampleWeight), batchSize: batchSize,
                                  shuffle: shuffle)
        let val = validation.map { TensorBatches(x: $0.0, y: $0.1, sampleWeight: nil, batchSize: batchSize, shuffle: false) }
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks,
                          steps: train.count, batches: { train.epoch() }, validation: val.map { v in { v.epoch() } })
    }

    /// Throws when x, y and the sample weights disagree on the number of examples,
    /// when x does not fit the built model, or when the batch size is not positive.
    func checkData(_ op: String, x: Tensor, y: Tensor?, sampleWeight: Tensor?, batchSize: Int) throws {
        guard batchSize > 0 else { throw TrainingError.invalidConfiguration("\(op): batchSize must be positive, got \(batchSize)") }
        guard x.rank >= 1 else { throw TrainingError.incompatibleInput("\(op): x must have a batch axis, got a scalar") }
        if let y {
            guard y.rank >= 1, y.shape[0] == x.shape[0] else {
                throw TrainingError.mismatchedData("\(op): x has \(x.shape[0]) examples but y has \(y.rank == 0 ? "a scalar" : "\(y.shape[0])")")
            }
        }
        if let sampleWeight {
            guard sampleWeight.rank == 1 && sampleWeight.shape[0] == x.shape[0] else {
                throw TrainingError.mismatchedData("\(op): sampleWeight must have one weight per example (\(x.shape[0])), got shape \(sampleWeight.shape)")
            }
        }
        try checkInputs(op, x)
    }

    /// Throws when `x` cannot be the built model's input.
    func checkInputs(_ op: String, _ x: Tensor) throws {
        if let problem = inputProblem([x]) { throw TrainingError.incompatibleInput("\(op): \(problem)") }
    }

    func requireCompiled(_ op: String) throws {
        guard optimizer != nil else {
            throw TrainingError.invalidConfiguration("Model '\(name)': call compile(optimizer:loss:metrics:) before \(op)")
        }
    }

    /// Trains on a dataset of `(x, y)` batches, as `model.fit(dataset, ...)`. For an
    /// autoencoder the pairs can be `(x, x)`; the model's own losses are added to
    /// the compiled loss.
    @discardableResult
    public func fit(_ dataset: Dataset<(Tensor, Tensor)>, epochs: Int = 1, verbose: Int = 1,
                    validationData: Dataset<(Tensor, Tensor)>? = nil, callbacks: [Callback] = []) throws -> History {
        try requireCompiled("fit")
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, steps: dataset.cardinality,
               batches: { AnyIterator(dataset.map { Batch(x: $0.0, y: $0.1) }.makeIterator()) },
               validation: validationData.map { v in { AnyIterator(v.map { Batch(x: $0.0, y: $0.1) }.makeIterator()) } })
    }

    /// Trains on a dataset of input batches alone: the loss is what the model's
    /// layers add (`addLoss`).
    @discardableResult
    public func fit(_ dataset: Dataset<Tensor>, epochs: Int = 1, verbose: Int = 1, callbacks: [Callback] = []) throws -> History {
        try requireCompiled("fit")
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, steps: dataset.cardinality,
               batches: { AnyIterator(dataset.map { Batch(x: $0, y: nil) }.makeIterator()) }, validation: nil)
    }

    func runFit(epochs: Int, verbose: Int, callbacks: [Callback], steps: Int?,
                        batches: () -> AnyIterator<Batch>,
                        validation: (() -> AnyIterator<Batch>)?) throws -> History {
        TrackingEpoch.advance()   // a property reassigned since the last step is seen
        let history = History()
        for c in callbacks { c.model = self }
        stopTraining = false
        var knownSteps = steps
        var logs = Logs()
        (resumeEpoch, callbackError) = (0, nil)
        for c in callbacks { c.onTrainBegin(logs: logs) }
        if let error = callbackError {
            callbackError = nil
            throw error
        }
        let first = resumeEpoch
        resumeEpoch = 0
        for epoch in first..<Swift.max(first, epochs) {
            if verbose > 0 { print("Epoch \(epoch + 1)/\(epochs)") }
            for c in callbacks { c.onEpochBegin(epoch, logs: logs) }
            resetTrainingMetrics()
            let bar = ProgressBar(target: knownSteps, verbose: verbose)
            var step = 0
            let iterator = batches()
            while let batch = iterator.next() {
                try checkBatch("fit", batch)
                for c in callbacks { c.onBatchBegin(step, logs: logs) }
                logs = runTrainStep(batch)
                step += 1
                for c in callbacks { c.onBatchEnd(step - 1, logs: logs) }
                if knownSteps == nil || step < knownSteps! { bar.update(step, values: logs.entries) }
                if stopTraining { break }
            }
            knownSteps = knownSteps ?? step
            if let validation {
                resetTrainingMetrics()
                var valLogs = Logs()
                let it = validation()
                while let batch = it.next() {
                    try checkBatch("fit (validation)", batch)
                    valLogs = runTestStep(batch)
                }
                for (k, v) in valLogs.entries { logs["val_" + k] = v }
            }
            bar.update(step, values: logs.entries, finalize: true)
            history.record(epoch: epoch, logs: logs)
            for c in callbacks { c.onEpochEnd(epoch, logs: logs) }
            if stopTraining { break }
        }
        for c in callbacks { c.onTrainEnd(logs: logs) }
        return history
    }

    /// The loss and metrics over data in batches, in inference mode, as
    /// `model.evaluate` (`sampleWeight`: one weight per example). Throws
    /// ``TrainingError`` when the data disagree or do not fit the model.
    @discardableResult
    public func evaluate(x: Tensor, y: Tensor? = nil, batchSize: Int = 32, verbose: Int = 0,
                         sampleWeight: Tensor? = nil) throws -> Logs {
        try checkData("evaluate", x: x, y: y, sampleWeight: sampleWeight, batchSize: batchSize)
        resetTrainingMetrics()
        let batches = TensorBatches(x: x, y: y, sampleWeight: sampleWeight, batchSize: batchSize, shuffle: false)
        let bar = ProgressBar(target: batches.count, verbose: verbose)
        var logs = Logs()
        var step = 0
        let it = batches.epoch()
        while let batch = it.next() {
            logs = runTestStep(batch)
            step += 1
            bar.update(step, values: logs.entries)
        }
        return logs
    }

    /// The model's outputs for `x`, computed in batches in inference mode, as
    /// `model.predict`. Throws ``TrainingError`` when `x` does not fit the model.
    public func predict(_ x: Tensor, batchSize: Int = 32) throws -> Tensor {
        try checkData("predict", x: x, y: nil, sampleWeight: nil, batchSize: batchSize)
        let n = x.shape[0]
        guard n > batchSize else { return self(x, training: false) }
        // Batch after batch, the forward pass replays as a compiled function (as
        // Keras's predict_step), unless the model was compiled with runEagerly.
        let forward: (Tensor) -> Tensor
        if runEagerly {
            forward = { self($0, training: false) }
        } else {
            let step = compiledPredictStep ?? CompiledFunction(name: "\(name).predict_step") { [unowned self] (x: Tensor) -> Tensor in
                self(x, training: false)
            }
            compiledPredictStep = step
            forward = { step($0) }
        }
        let outputs = stride(from: 0, to: n, by: batchSize).map { forward(x[$0..<Swift.min($0 + batchSize, n)]) }
        return Tensor(concatenating: outputs)
    }
}

/// One batch for a training or evaluation step: the model's inputs, its targets
/// (one per output), and per-example weights.
struct Batch {
    let xs: [Tensor]
    let ys: [Tensor]?
    var sampleWeight: Tensor? = nil

    init(xs: [Tensor], ys: [Tensor]?, sampleWeight: Tensor? = nil) {
        (self.xs, self.ys, self.sampleWeight) = (xs, ys, sampleWeight)
    }

    init(x: Tensor, y: Tensor?, sampleWeight: Tensor? = nil) {
        self.init(xs: [x], ys: y.map { [$0] }, sampleWeight: sampleWeight)
    }

    var x: Tensor { xs[0] }
    var y: Tensor? { ys?[0] }
}

/// In-memory tensors in batches, optionally reshuffled each epoch (every input
/// and target cut at the same rows).
struct TensorBatches {
    let xs: [Tensor]
    let ys: [Tensor]?
    let sampleWeight: Tensor?
    let batchSize: Int
    let shuffle: Bool

    init(xs: [Tensor], ys: [Tensor]?, sampleWeight: Tensor?, batchSize: Int, shuffle: Bool) {
        precondition(batchSize > 0, "fit: batchSize must be positive, got \(batchSize)")
        self.xs = xs
        self.ys = ys
        self.sampleWeight = sampleWeight
        self.batchSize = batchSize
        self.shuffle = shuffle
    }

    init(x: Tensor, y: Tensor?, sampleWeight: Tensor?, batchSize: Int, shuffle: Bool) {
        self.init(xs: [x], ys: y.map { [$0] }, sampleWeight: sampleWeight, batchSize: batchSize, shuffle: shuffle)
    }

    var count: Int { (xs[0].shape[0] + batchSize - 1) / batchSize }

    func epoch() -> AnyIterator<Batch> {
        let n = xs[0].shape[0]
        let order: Tensor? = shuffle
            ? Tensor(shape: [n], scalars: withGlobalShuffle(n)) : nil
        var start = 0
        return AnyIterator {
            guard start < n else { return nil }
            let end = Swift.min(start + batchSize, n)
            defer { start = end }
            if let order {
                let idx = order[start..<end]
                return Batch(xs: xs.map { $0.gathering(atIndices: idx) }, ys: ys?.map { $0.gathering(atIndices: idx) },
                             sampleWeight: sampleWeight?.gathering(atIndices: idx))
            }
            return Batch(xs: xs.map { $0[start..<end] }, ys: ys?.map { $0[start..<end] },
                         sampleWeight: sampleWeight?[start..<end])
        }
    }

    /// A random permutation of 0..<n from the global generator (reproducible
    /// under `setRandomSeed`).
    private func withGlobalShuffle(_ n: Int) -> [Int64] {
        var g = RandomGenerator(seed: UInt64(Random.uniform([1], min: 0, max: 0x1p52, dtype: .int64).scalar(as: Int64.self)))
        return (0..<Int64(n)).shuffled(using: &g)
    }
}
