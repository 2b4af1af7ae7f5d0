import Foundation
@_spi(Autodiff) import Autodiff

extension Model {
    /// Configures training, as `model.compile`.
    ///
    /// As in Keras, the default training step runs as a compiled function (traced on
    /// the first batch of each shape, then replayed; see `CompiledFunction`);
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
    ///
    /// With a `distribution` strategy (``DistributionStrategy``), `batchSize` is each
    /// process's part of a global batch of `batchSize × processCount` examples.
    public func fit(x: Tensor, y: Tensor? = nil, batchSize: Int = 32, epochs: Int = 1, verbose: Int = 1,
                    shuffle: Bool = true, validationSplit: Double = 0, validationData: (Tensor, Tensor?)? = nil,
                    sampleWeight: Tensor? = nil, callbacks: [Callback] = [],
                    distribution: (any DistributionStrategy)? = nil) throws -> History {
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
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, train: train, validation: val,
                          distribution: distribution)
    }

    /// `runFit` over in-memory batches, each process taking its share with a strategy.
    func runFit(epochs: Int, verbose: Int, callbacks: [Callback], train: TensorBatches, validation: TensorBatches?,
                distribution: (any DistributionStrategy)?) throws -> History {
        guard let distribution else {
            return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, steps: train.count,
                              batches: { train.epoch() }, validation: validation.map { v in { v.epoch() } }, inMemory: true)
        }
        let (rank, count) = (distribution.rank, distribution.processCount)
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks,
                          steps: train.shardedCount(count),
                          batches: {
                              // Every process shuffles with rank 0's seed.
                              let seed = train.shuffle ? UInt64(distribution.fromRankZero([Double(TensorBatches.drawSeed())])[0]) : nil
                              return train.shardedEpoch(rank: rank, count: count, seed: seed)
                          },
                          validation: validation.map { v in { v.part(rank: rank, count: count).epoch() } },
                          distribution: distribution, firstExample: Batch(xs: train.xs.map { $0[0..<1] }, ys: nil), inMemory: true)
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
    ///
    /// With a `distribution` strategy, each process passes its own shard
    /// (``Dataset/shard(count:index:)``), with the same number of batches.
    public func fit(_ dataset: Dataset<(Tensor, Tensor)>, epochs: Int = 1, verbose: Int = 1,
                    validationData: Dataset<(Tensor, Tensor)>? = nil, callbacks: [Callback] = [],
                    distribution: (any DistributionStrategy)? = nil) throws -> History {
        try requireCompiled("fit")
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, steps: dataset.cardinality,
               batches: { AnyIterator(dataset.map { Batch(x: $0.0, y: $0.1) }.makeIterator()) },
               validation: validationData.map { v in { AnyIterator(v.map { Batch(x: $0.0, y: $0.1) }.makeIterator()) } },
               distribution: distribution)
    }

    /// Trains on a dataset of input batches alone: the loss is what the model's
    /// layers add (`addLoss`).
    @discardableResult
    public func fit(_ dataset: Dataset<Tensor>, epochs: Int = 1, verbose: Int = 1, callbacks: [Callback] = [],
                    distribution: (any DistributionStrategy)? = nil) throws -> History {
        try requireCompiled("fit")
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, steps: dataset.cardinality,
               batches: { AnyIterator(dataset.map { Batch(x: $0, y: nil) }.makeIterator()) }, validation: nil,
               distribution: distribution)
    }

    func runFit(epochs: Int, verbose: Int, callbacks: [Callback], steps: Int?,
                batches: () -> AnyIterator<Batch>, validation: (() -> AnyIterator<Batch>)?,
                distribution: (any DistributionStrategy)? = nil, firstExample: Batch? = nil,
                inMemory: Bool = false) throws -> History {
        TrackingEpoch.advance()   // a property reassigned since the last step is seen
        // With a strategy, rank 0 alone prints and writes files.
        let chief = (distribution?.rank ?? 0) == 0
        let callbacks = chief ? callbacks : callbacks.filter(\.runsOnEveryProcess)
        let verbose = chief ? verbose : 0
        let history = History()
        for c in callbacks { c.model = self }
        stopTraining = false
        var knownSteps = steps
        var logs = Logs()
        (resumeEpoch, callbackError) = (0, nil)
        for c in callbacks { c.onTrainBegin(logs: logs) }
        if let distribution {
            // Rank 0's resume epoch (BackupAndRestore runs there); a failure to start
            // anywhere stops every process.
            let agreed = distribution.sum([chief ? Double(resumeEpoch) : 0, callbackError == nil ? 0 : 1])
            resumeEpoch = Int(agreed[0])
            if agreed[1] > 0 && callbackError == nil {
                callbackError = TrainingError.invalidConfiguration("fit: training could not start on another process (rank 0 prints why)")
            }
        }
        if let error = callbackError {
            callbackError = nil
            throw error
        }
        if let distribution {
            if !isBuilt, let example = firstExample ?? batches().next() {
                _ = self(example.xs, training: false)   // the weights rank 0 sends must exist
            }
            try distribution.beginTraining(self)
        }
        defer { distribution?.endTraining(self) }
        let first = resumeEpoch
        resumeEpoch = 0
        for epoch in first..<Swift.max(first, epochs) {
            if verbose > 0 { print("Epoch \(epoch + 1)/\(epochs)") }
            var agreeEachStep = false
            if let distribution { agreeEachStep = try agreeOnSteps(knownSteps, distribution) }
            for c in callbacks { c.onEpochBegin(epoch, logs: logs) }
            resetTrainingMetrics()
            let bar = ProgressBar(target: knownSteps, verbose: verbose)
            var (step, examples) = (0, 0)
            var shown = Logs()
            // The next batches are made on a background thread while this one
            // trains, as tf.data's prefetch in Keras's fit (the order is the same).
            let source = batches()
            let iterator = prefetchingBatches ?? !inMemory ? Dataset(cardinality: nil, elements: { source }).prefetch(8).makeIterator() : source
            while true {
                var batch = iterator.next()
                if agreeEachStep, let distribution,
                   distribution.sum([batch == nil ? 0 : 1])[0] < Double(distribution.processCount) {
                    batch = nil   // a process has run out: all stop together
                }
                guard let batch else { break }
                try checkBatch("fit", batch)
                for c in callbacks { c.onBatchBegin(step, logs: logs) }
                logs = runTrainStep(batch)
                step += 1
                examples += batch.xs[0].rank > 0 ? batch.xs[0].shape[0] : 1
                for c in callbacks { c.onBatchEnd(step - 1, logs: logs) }
                if let distribution, step == 1 || step % FitDefaults.barAveragingInterval == 0 {
                    // The bar shows the processes' running means, refreshed every few
                    // steps: one small allreduce each time, made by every process
                    // whatever its `verbose` (Horovod's users pass 0 off rank 0).
                    shown = averaged(logs, examples, Logs(), 0, false, distribution).0
                }
                if knownSteps == nil || step < knownSteps! { bar.update(step, values: (distribution == nil ? logs : shown).entries) }
                // Processes stop together, at the end of the epoch.
                if stopTraining && distribution == nil { break }
            }
            knownSteps = knownSteps ?? step
            var valLogs = Logs(), valExamples = 0
            if let validation {
                resetTrainingMetrics()
                let it = validation()
                while let batch = it.next() {
                    try checkBatch("fit (validation)", batch)
                    valLogs = runTestStep(batch)
                    valExamples += batch.xs[0].rank > 0 ? batch.xs[0].shape[0] : 1
                }
            }
            if let distribution {
                (logs, valLogs) = averaged(logs, examples, valLogs, valExamples, validation != nil, distribution)
            }
            for (k, v) in valLogs.entries { logs["val_" + k] = v }
            bar.update(step, values: logs.entries, finalize: true)
            history.record(epoch: epoch, logs: logs)
            for c in callbacks { c.onEpochEnd(epoch, logs: logs) }
            if let distribution, distribution.sum([stopTraining ? 1 : 0])[0] > 0 { stopTraining = true }
            if stopTraining { break }
        }
        for c in callbacks { c.onTrainEnd(logs: logs) }
        return history
    }

    /// Checks that every process has as many batches this epoch; returns true when
    /// the counts are unknown, so that the processes agree before each step.
    private func agreeOnSteps(_ steps: Int?, _ distribution: any DistributionStrategy) throws -> Bool {
        var mine = [Double](repeating: 0, count: distribution.processCount)
        mine[distribution.rank] = Double(steps ?? -1)
        let all = distribution.sum(mine).map { Int($0) }
        if all.allSatisfy({ $0 == -1 }) { return true }
        guard all.allSatisfy({ $0 == all[0] }) else {
            let list = all.enumerated().map { "rank \($0.offset): \($0.element == -1 ? "unknown" : String($0.element))" }
            throw TrainingError.mismatchedData(
                "fit: the processes have different numbers of batches per epoch (\(list.joined(separator: ", "))); "
                + "give each the same, e.g. with Dataset.shard(count:index:) and batch(_:dropRemainder: true)")
        }
        return false
    }

    /// The epoch's logs averaged over the processes, each weighted by its examples.
    private func averaged(_ logs: Logs, _ examples: Int, _ valLogs: Logs, _ valExamples: Int, _ hasValidation: Bool,
                          _ distribution: any DistributionStrategy) -> (Logs, Logs) {
        // The same keys on every process: the training logs' (a process without
        // validation batches contributes zero weight).
        let keys = logs.entries.map(\.0)
        var values = logs.entries.map { $0.1 * Double(examples) } + [Double(examples)]
        if hasValidation { values += keys.map { (valLogs[$0] ?? 0) * Double(valExamples) } + [Double(valExamples)] }
        let sums = distribution.sum(values)
        func mean(_ offset: Int) -> Logs {
            let n = sums[offset + keys.count]
            return Logs(keys.enumerated().map { ($0.element, n > 0 ? sums[offset + $0.offset] / n : 0) })
        }
        return (mean(0), hasValidation ? mean(keys.count + 1) : Logs())
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

    /// The steps of an epoch shared by `count` processes: global batches of
    /// `batchSize × count` rows, the last kept when each process gets a row.
    func shardedCount(_ count: Int) -> Int {
        let (full, rest) = xs[0].shape[0].quotientAndRemainder(dividingBy: batchSize * count)
        return full + (rest >= count ? 1 : 0)
    }

    /// Process `rank`'s part of each global batch of `batchSize × count` rows (in
    /// the order `seed` shuffles, when given): for a full batch, rows
    /// `rank·batchSize ..< (rank+1)·batchSize` of it; a short last one is split
    /// evenly, and dropped when it has fewer rows than processes.
    func shardedEpoch(rank: Int, count: Int, seed: UInt64?) -> AnyIterator<Batch> {
        let n = xs[0].shape[0]
        let order: Tensor? = seed.map {
            var g = RandomGenerator(seed: $0)
            return Tensor(shape: [n], scalars: (0..<Int64(n)).shuffled(using: &g))
        }
        let (global, steps) = (batchSize * count, shardedCount(count))
        var step = 0
        return AnyIterator {
            guard step < steps else { return nil }
            let start = step * global, length = Swift.min(global, n - step * global)
            step += 1
            let (lo, hi) = (start + length * rank / count, start + length * (rank + 1) / count)
            return slice(lo, hi, order)
        }
    }

    /// Process `rank`'s contiguous part of the rows, when `count` processes each
    /// take one (for validation: every row is evaluated once).
    func part(rank: Int, count: Int) -> TensorBatches {
        let n = xs[0].shape[0]
        let (lo, hi) = (n * rank / count, n * (rank + 1) / count)
        return TensorBatches(xs: xs.map { $0[lo..<hi] }, ys: ys?.map { $0[lo..<hi] },
                             sampleWeight: sampleWeight?[lo..<hi], batchSize: batchSize, shuffle: false)
    }

    private func slice(_ start: Int, _ end: Int, _ order: Tensor?) -> Batch {
        if let order {
            let idx = order[start..<end]
            return Batch(xs: xs.map { $0.gathering(atIndices: idx) }, ys: ys?.map { $0.gathering(atIndices: idx) },
                         sampleWeight: sampleWeight?.gathering(atIndices: idx))
        }
        return Batch(xs: xs.map { $0[start..<end] }, ys: ys?.map { $0[start..<end] }, sampleWeight: sampleWeight?[start..<end])
    }

    func epoch() -> AnyIterator<Batch> {
        let n = xs[0].shape[0]
        let order: Tensor? = shuffle
            ? Tensor(shape: [n], scalars: withGlobalShuffle(n)) : nil
        var start = 0
        return AnyIterator {
            guard start < n else { return nil }
            let end = Swift.min(start + batchSize, n)
            defer { start = end }
            return slice(start, end, order)
        }
    }

    /// A seed from the global generator (reproducible under `setRandomSeed`),
    /// below 2⁵², so a `Double` carries it exactly.
    static func drawSeed() -> UInt64 {
        UInt64(Random.uniform([1], min: 0, max: 0x1p52, dtype: .int64).scalar(as: Int64.self))
    }

    /// A random permutation of 0..<n from the global generator.
    private func withGlobalShuffle(_ n: Int) -> [Int64] {
        var g = RandomGenerator(seed: TensorBatches.drawSeed())
        return (0..<Int64(n)).shuffled(using: &g)
    }
}

enum FitDefaults {
    /// Steps between the progress bar's refreshes of the processes' mean logs in
    /// a distributed `fit`.
    static let barAveragingInterval = 10
}
