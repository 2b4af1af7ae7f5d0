@_spi(Autodiff) import Autodiff

/// What `compile(optimizer:losses:lossWeights:metrics:)` set for each output.
struct OutputConfig {
    let names: [String]
    let losses: [Loss?]
    let weights: [Double]
    let metrics: [[any Metric]]
    /// The running mean of each output's (unweighted) loss, logged as `<name>_loss`.
    let trackers: [Mean]
}

extension Model {
    /// The names of the inputs (their `Input` names), as Keras's `input_names`.
    public var inputNames: [String] { graph.map { g in g.inputs.map(g.inputName) } ?? ["input"] }

    /// The names of the outputs: the layer that produces each, as Keras names the
    /// outputs in `compile`'s dictionaries and in the logs (`dense_1_loss`).
    public var outputNames: [String] {
        guard let graph else { return ["output"] }
        return graph.outputs.enumerated().map { i, t in
            if case .layer(let layer) = t.node.operation { return layer.name }
            return "output_\(i + 1)"
        }
    }

    /// Configures a model with several outputs, as `compile(loss=[...],
    /// loss_weights=[...], metrics=[[...], ...])`: one loss per output (nil for an
    /// output that is not trained), weights for the total loss (default 1 each),
    /// and metrics per output. The logs hold `loss` (the weighted total plus the
    /// layers' losses), `<output>_loss` for each output with a loss, and
    /// `<output>_<metric>`.
    ///
    /// ```swift
    /// try model.compile(optimizer: Adam(), losses: [MeanSquaredError(), BinaryCrossentropy()],
    ///                   lossWeights: [1, 0.2], metrics: [[], [BinaryAccuracy()]])
    /// ```
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` when the counts differ from the outputs'.
    public func compile(optimizer: Optimizer, losses: [Loss?], lossWeights: [Double]? = nil,
                        metrics: [[any Metric]] = [], runEagerly: Bool = false) throws {
        let names = outputNames
        guard losses.count == names.count else {
            throw TrainingError.invalidConfiguration(
                "Model '\(name)': \(losses.count) losses for \(names.count) outputs (\(names.joined(separator: ", ")))")
        }
        if let lossWeights, lossWeights.count != names.count {
            throw TrainingError.invalidConfiguration("Model '\(name)': \(lossWeights.count) loss weights for \(names.count) outputs")
        }
        guard metrics.isEmpty || metrics.count == names.count else {
            throw TrainingError.invalidConfiguration("Model '\(name)': metrics for \(metrics.count) outputs, the model has \(names.count)")
        }
        compile(optimizer: optimizer, loss: Loss?.none, metrics: [any Metric](), runEagerly: runEagerly)
        outputConfig = OutputConfig(names: names, losses: losses, weights: lossWeights ?? Array(repeating: 1, count: names.count),
                                    metrics: metrics.isEmpty ? Array(repeating: [], count: names.count) : metrics,
                                    trackers: names.map { Mean(name: "\($0)_loss") })
    }

    /// ``compile(optimizer:losses:lossWeights:metrics:runEagerly:)`` with the
    /// losses, weights and metrics keyed by output name (outputs left out get no loss).
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` for a name that is not an output.
    public func compile(optimizer: Optimizer, losses: [String: Loss], lossWeights: [String: Double]? = nil,
                        metrics: [String: [any Metric]] = [:], runEagerly: Bool = false) throws {
        let names = outputNames
        for key in Array(losses.keys) + Array(lossWeights?.keys ?? [:].keys) + Array(metrics.keys) where !names.contains(key) {
            throw TrainingError.invalidConfiguration(
                "Model '\(name)' has no output named '\(key)'; its outputs: \(names.joined(separator: ", "))")
        }
        try compile(optimizer: optimizer, losses: names.map { losses[$0] },
                    lossWeights: names.map { lossWeights?[$0] ?? 1 }, metrics: names.map { metrics[$0] ?? [] },
                    runEagerly: runEagerly)
    }

    // MARK: fit, evaluate, predict on several inputs and targets

    /// Trains a model with several inputs or outputs, as `fit(x=[...], y=[...])`:
    /// one tensor per input and one target per output, all with the same number of
    /// examples.
    @discardableResult
    public func fit(x: [Tensor], y: [Tensor]? = nil, batchSize: Int = 32, epochs: Int = 1, verbose: Int = 1,
                    shuffle: Bool = true, validationSplit: Double = 0, validationData: ([Tensor], [Tensor]?)? = nil,
                    sampleWeight: Tensor? = nil, callbacks: [Callback] = [],
                    distribution: (any DistributionStrategy)? = nil) throws -> History {
        guard validationSplit >= 0 && validationSplit < 1 else {
            throw TrainingError.invalidConfiguration("fit: validationSplit must be in [0, 1), got \(validationSplit)")
        }
        guard batchSize > 0 else { throw TrainingError.invalidConfiguration("fit: batchSize must be positive, got \(batchSize)") }
        try requireCompiled("fit")
        try checkBatch("fit", Batch(xs: x, ys: y, sampleWeight: sampleWeight))
        if let (vx, vy) = validationData { try checkBatch("fit (validationData)", Batch(xs: vx, ys: vy)) }
        let n = x[0].shape[0]
        let trainCount = n - Int(Double(n) * validationSplit)
        func head(_ t: Tensor) -> Tensor { validationSplit > 0 ? t[..<trainCount] : t }
        var validation = validationData
        if validationSplit > 0 { validation = (x.map { $0[trainCount...] }, y?.map { $0[trainCount...] }) }
        let train = TensorBatches(xs: x.map(head), ys: y?.map(head), sampleWeight: sampleWeight.map(head),
                                  batchSize: batchSize, shuffle: shuffle)
        let val = validation.map { TensorBatches(xs: $0.0, ys: $0.1, sampleWeight: nil, batchSize: batchSize, shuffle: false) }
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, train: train, validation: val,
                          distribution: distribution)
    }

    /// `fit(x:y:batchSize:epochs:verbose:shuffle:validationSplit:callbacks:)` on arrays,
    /// with inputs keyed by input name and targets by output name.
    /// - Throws: ``TrainingError/mismatchedData(_:)`` for a missing or unknown name.
    @discardableResult
    public func fit(x: [String: Tensor], y: [String: Tensor]? = nil, batchSize: Int = 32, epochs: Int = 1,
                    verbose: Int = 1, shuffle: Bool = true, validationSplit: Double = 0,
                    callbacks: [Callback] = []) throws -> History {
        try fit(x: ordered(x, inputNames, "input"), y: y.map { try ordered($0, outputNames, "output") },
                batchSize: batchSize, epochs: epochs, verbose: verbose, shuffle: shuffle,
                validationSplit: validationSplit, callbacks: callbacks)
    }

    /// Trains on a dataset of (inputs, targets) batches for a model with several
    /// inputs or outputs.
    @discardableResult
    public func fit(_ dataset: Dataset<([Tensor], [Tensor])>, epochs: Int = 1, verbose: Int = 1,
                    validationData: Dataset<([Tensor], [Tensor])>? = nil, callbacks: [Callback] = [],
                    distribution: (any DistributionStrategy)? = nil) throws -> History {
        try requireCompiled("fit")
        return try runFit(epochs: epochs, verbose: verbose, callbacks: callbacks, steps: dataset.cardinality,
                          batches: { AnyIterator(dataset.map { Batch(xs: $0.0, ys: $0.1) }.makeIterator()) },
                          validation: validationData.map { v in { AnyIterator(v.map { Batch(xs: $0.0, ys: $0.1) }.makeIterator()) } },
                          distribution: distribution)
    }

    /// The loss and metrics of a model with several inputs or outputs, as `evaluate(x=[...], y=[...])`.
    @discardableResult
    public func evaluate(x: [Tensor], y: [Tensor]? = nil, batchSize: Int = 32, verbose: Int = 0) throws -> Logs {
        guard batchSize > 0 else { throw TrainingError.invalidConfiguration("evaluate: batchSize must be positive, got \(batchSize)") }
        try checkBatch("evaluate", Batch(xs: x, ys: y))
        resetTrainingMetrics()
        let batches = TensorBatches(xs: x, ys: y, sampleWeight: nil, batchSize: batchSize, shuffle: false)
        var logs = Logs()
        let it = batches.epoch()
        while let batch = it.next() { logs = runTestStep(batch) }
        return logs
    }

    /// The outputs of a model with several inputs or outputs, computed in batches in
    /// inference mode, one tensor per output.
    public func predict(_ x: [Tensor], batchSize: Int = 32) throws -> [Tensor] {
        guard batchSize > 0 else { throw TrainingError.invalidConfiguration("predict: batchSize must be positive, got \(batchSize)") }
        try checkBatch("predict", Batch(xs: x, ys: nil))
        let n = x[0].shape[0]
        let parts = stride(from: 0, to: n, by: batchSize).map { start in
            self(x.map { $0[start..<Swift.min(start + batchSize, n)] }, training: false)
        }
        guard let first = parts.first else { return [] }
        return first.indices.map { k in Tensor(concatenating: parts.map { $0[k] }) }
    }

    /// The values of `named` in the order of `names`.
    private func ordered(_ named: [String: Tensor], _ names: [String], _ kind: String) throws -> [Tensor] {
        for key in named.keys where !names.contains(key) {
            throw TrainingError.mismatchedData("Model '\(name)' has no \(kind) named '\(key)'; its \(kind)s: \(names.joined(separator: ", "))")
        }
        return try names.map { n in
            guard let t = named[n] else {
                throw TrainingError.mismatchedData("Model '\(name)': no data for \(kind) '\(n)'")
            }
            return t
        }
    }

    // MARK: the steps behind fit and evaluate

    /// Throws when a batch's inputs, targets and weights disagree, or do not fit the model.
    func checkBatch(_ op: String, _ batch: Batch) throws {
        guard let first = batch.xs.first else { throw TrainingError.incompatibleInput("\(op): no inputs given") }
        guard first.rank >= 1 else { throw TrainingError.incompatibleInput("\(op): x must have a batch axis, got a scalar") }
        let n = first.shape[0]
        for (i, x) in batch.xs.enumerated() where x.rank < 1 || x.shape[0] != n {
            throw TrainingError.mismatchedData("\(op): input 0 has \(n) examples but input \(i) has \(x.rank < 1 ? "a scalar" : "\(x.shape[0])")")
        }
        if let ys = batch.ys {
            let expected = outputConfig?.names.count ?? ys.count
            guard ys.count == expected else {
                throw TrainingError.mismatchedData("\(op): \(ys.count) targets for \(expected) outputs")
            }
            for (i, y) in ys.enumerated() where y.rank < 1 || y.shape[0] != n {
                let which = ys.count == 1 ? "y" : "target \(i)"
                throw TrainingError.mismatchedData("\(op): x has \(n) examples but \(which) has \(y.rank < 1 ? "a scalar" : "\(y.shape[0])")")
            }
        }
        if let w = batch.sampleWeight, w.rank != 1 || w.shape[0] != n {
            throw TrainingError.mismatchedData("\(op): sampleWeight must have one weight per example (\(n)), got shape \(w.shape)")
        }
        if let problem = inputProblem(batch.xs) { throw TrainingError.incompatibleInput("\(op): \(problem)") }
    }

    /// The training step for a batch: the overridable single-tensor `trainStep`
    /// for one input and one output, else the step over all inputs and outputs.
    func runTrainStep(_ batch: Batch) -> Logs {
        if outputConfig == nil, batch.xs.count == 1, (batch.ys?.count ?? 1) == 1 {
            return trainStep(batch.x, batch.y, sampleWeight: batch.sampleWeight)
        }
        return multiStep(batch, training: true)
    }

    func runTestStep(_ batch: Batch) -> Logs {
        if outputConfig == nil, batch.xs.count == 1, (batch.ys?.count ?? 1) == 1 {
            return testStep(batch.x, batch.y, sampleWeight: batch.sampleWeight)
        }
        return multiStep(batch, training: false)
    }

    /// Forward, the per-output losses and their weighted total, and (in training)
    /// the gradients and the update, compiled unless `runEagerly`; then the logs.
    private func multiStep(_ batch: Batch, training: Bool) -> Logs {
        guard let config = outputConfig else {
            preconditionFailure("Model '\(name)': several inputs or targets need compile(optimizer:losses:...) for their losses")
        }
        let (xs, ys, w) = (batch.xs, batch.ys, batch.sampleWeight)
        let counts = (xs.count, ys?.count ?? 0)
        let withLoss = ys == nil ? [] : config.losses.indices.filter { config.losses[$0] != nil }
        /// [total] + the losses of `withLoss` + the predictions.
        func body(_ args: [Tensor]) -> [Tensor] {
            let inputs = Array(args[..<counts.0])
            let targets = ys == nil ? nil : Array(args[counts.0..<(counts.0 + counts.1)])
            let weight = w == nil ? nil : args[args.count - 1]
            func forward() -> [Tensor] {
                let predictions = self(inputs, training: training)
                var parts: [Tensor] = []
                var total: Tensor?
                if let targets {
                    for k in withLoss {
                        let part = config.losses[k]!(targets[k], predictions[k], sampleWeight: weight)
                        parts.append(part)
                        let weighted = config.weights[k] == 1 ? part : part * config.weights[k]
                        total = total.map { $0 + weighted } ?? weighted
                    }
                }
                for extra in losses { total = total.map { $0 + extra.cast(to: $0.dtype) } ?? extra }
                precondition(total != nil, "Model '\(name)': nothing to minimize: give the outputs losses, or add losses in the model")
                return [total!] + parts + predictions
            }
            guard training else { return forward() }
            let tape = GradientTape()
            let results = tape.record { forward() }
            let weights = trainableWeights
            optimizer!.apply(tape.gradient(of: results[0], wrt: weights), to: weights)
            return results
        }
        let args = xs + (ys ?? []) + (w.map { [$0] } ?? [])
        let results: [Tensor]
        if runEagerly || (!training && optimizer == nil) {
            results = body(args)
        } else {
            let key = 16 + (ys == nil ? 0 : 1) + (w == nil ? 0 : 2) + (training ? 4 : 0)
            var steps = training ? compiledTrainSteps : compiledTestSteps
            let step = steps[key] ?? CompiledFunction(name: "\(name).\(training ? "train" : "test")_step", body)
            steps[key] = step
            if training { compiledTrainSteps = steps } else { compiledTestSteps = steps }
            results = step(args)
        }
        let predictions = Array(results[(1 + withLoss.count)...])
        let batchSize = Tensor(Float(xs[0].shape[0]))
        lossTracker.updateState(stopGradient(results[0]), sampleWeight: batchSize)
        for (j, k) in withLoss.enumerated() {
            config.trackers[k].updateState(stopGradient(results[1 + j]), sampleWeight: batchSize)
        }
        if let ys {
            for (k, metrics) in config.metrics.enumerated() {
                for m in metrics { m.updateState(ys[k], stopGradient(predictions[k]), sampleWeight: w) }
            }
        }
        return currentLogs()
    }
}
