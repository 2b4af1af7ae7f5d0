/// Multiplies the learning rate by `factor` when `monitor` has not improved by
/// `minDelta` for `patience` epochs, then waits `cooldown` epochs before watching
/// again, never going below `minLearningRate`, as `keras.callbacks.ReduceLROnPlateau`.
///
/// ```swift
/// try model.fit(x: x, y: y, epochs: 50, validationSplit: 0.2,
///               callbacks: [ReduceLROnPlateau(factor: 0.5, patience: 3)])
/// ```
public final class ReduceLROnPlateau: Callback {
    public let monitor: String, factor: Double, patience: Int, minDelta: Double, cooldown: Int, minLearningRate: Double
    let lowerIsBetter: Bool
    private var best = Double.infinity
    private var wait = 0
    private var cooldownCounter = 0

    public init(monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, mode: String = "auto",
                minDelta: Double = 1e-4, cooldown: Int = 0, minLearningRate: Double = 0) {
        precondition(factor < 1, "ReduceLROnPlateau: factor must be below 1, got \(factor)")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.minDelta = minDelta
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
        lowerIsBetter = monitorLowerIsBetter(monitor, mode: mode)
    }

    public override func onTrainBegin(logs: Logs) {
        best = .infinity
        wait = 0
        cooldownCounter = 0
    }

    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let optimizer = model?.optimizer, let value = logs[monitor] else { return }
        let current = lowerIsBetter ? value : -value
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            wait = 0
        }
        if current < best - minDelta {
            best = current
            wait = 0
        } else if cooldownCounter == 0 {
            wait += 1
            if wait >= patience {
                let old = optimizer.currentLearningRate
                if old > Double(Float(minLearningRate)) {
                    optimizer.learningRate = .constant(Swift.max(old * factor, minLearningRate))
                    cooldownCounter = cooldown
                    wait = 0
                }
            }
        }
    }
}

/// A callback made of closures, as `keras.callbacks.LambdaCallback`.
///
/// ```swift
/// let log = LambdaCallback(onEpochEnd: { epoch, logs in print(epoch, logs["loss"] ?? 0) })
/// ```
public final class LambdaCallback: Callback {
    let trainBegin: ((Logs) -> Void)?, trainEnd: ((Logs) -> Void)?
    let epochBegin: ((Int, Logs) -> Void)?, epochEnd: ((Int, Logs) -> Void)?
    let batchBegin: ((Int, Logs) -> Void)?, batchEnd: ((Int, Logs) -> Void)?

    public init(onTrainBegin: ((Logs) -> Void)? = nil, onTrainEnd: ((Logs) -> Void)? = nil,
                onEpochBegin: ((Int, Logs) -> Void)? = nil, onEpochEnd: ((Int, Logs) -> Void)? = nil,
                onBatchBegin: ((Int, Logs) -> Void)? = nil, onBatchEnd: ((Int, Logs) -> Void)? = nil) {
        (trainBegin, trainEnd, epochBegin, epochEnd, batchBegin, batchEnd) =
            (onTrainBegin, onTrainEnd, onEpochBegin, onEpochEnd, onBatchBegin, onBatchEnd)
    }

    public override func onTrainBegin(logs: Logs) { trainBegin?(logs) }
    public override func onTrainEnd(logs: Logs) { trainEnd?(logs) }
    public override func onEpochBegin(_ epoch: Int, logs: Logs) { epochBegin?(epoch, logs) }
    public override func onEpochEnd(_ epoch: Int, logs: Logs) { epochEnd?(epoch, logs) }
    public override func onBatchBegin(_ batch: Int, logs: Logs) { batchBegin?(batch, logs) }
    public override func onBatchEnd(_ batch: Int, logs: Logs) { batchEnd?(batch, logs) }
}
