import Foundation

/// Code run at points of `fit`, as `keras.callbacks.Callback`: override what you need.
open class Callback {
    /// The model being trained (set by `fit`).
    public internal(set) weak var model: Model?
    /// Set to true to end training after the current epoch.
    public var stopTraining: Bool {
        get { model?.stopTraining ?? false }
        set { model?.stopTraining = newValue }
    }

    public init() {}

    /// Whether the callback runs on every process of a distributed `fit`
    /// (``DistributionStrategy``), or only on rank 0: false for the callbacks that
    /// write files (checkpoints, backups, logs), as Horovod leaves them to rank 0.
    open var runsOnEveryProcess: Bool { true }

    open func onTrainBegin(logs: Logs) {}
    open func onTrainEnd(logs: Logs) {}
    open func onEpochBegin(_ epoch: Int, logs: Logs) {}
    open func onEpochEnd(_ epoch: Int, logs: Logs) {}
    open func onBatchBegin(_ batch: Int, logs: Logs) {}
    open func onBatchEnd(_ batch: Int, logs: Logs) {}
}

/// Whether a smaller value of `monitor` is better, as Keras's callbacks read
/// `mode`: "min", "max", or "auto" (higher is better for accuracies and AUC).
func monitorLowerIsBetter(_ monitor: String, mode: String) -> Bool {
    switch mode {
    case "min": return true
    case "max": return false
    default: return !(monitor.contains("acc") || monitor.contains("auc"))
    }
}

/// Stops training when `monitor` has not improved by `minDelta` for `patience`
/// epochs, optionally restoring the best weights, as `keras.callbacks.EarlyStopping`.
public final class EarlyStopping: Callback {
    public let monitor: String, minDelta: Double, patience: Int, restoreBestWeights: Bool
    let lowerIsBetter: Bool
    private var best = Double.infinity
    private var wait = 0
    private var bestWeights: [Tensor]?
    /// The epoch training stopped at, if it did.
    public private(set) var stoppedEpoch: Int?

    /// `mode` "auto" treats names containing "acc" or "auc" as higher-is-better.
    public init(monitor: String = "val_loss", minDelta: Double = 0, patience: Int = 0, mode: String = "auto",
                restoreBestWeights: Bool = false) {
        self.monitor = monitor
        self.minDelta = Swift.abs(minDelta)
        self.patience = patience
        self.restoreBestWeights = restoreBestWeights
        lowerIsBetter = monitorLowerIsBetter(monitor, mode: mode)
    }

    public override func onTrainBegin(logs: Logs) {
        best = .infinity
        wait = 0
        stoppedEpoch = nil
    }

    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let value = logs[monitor] else { return }
        let score = lowerIsBetter ? value : -value
        wait += 1
        if score < best - minDelta {
            best = score
            wait = 0
            if restoreBestWeights { bestWeights = model?.weights.map(\.value) }
        } else {
            if wait >= patience && epoch > 0 {
                stoppedEpoch = epoch
                stopTraining = true
                if restoreBestWeights, let bestWeights, let model {
                    for (v, w) in zip(model.weights, bestWeights) { v.assign(w) }
                }
            }
        }
    }
}

/// Stops training as soon as a batch's loss is NaN or infinite, as `keras.callbacks.TerminateOnNaN`.
public final class TerminateOnNaN: Callback {
    public override func onBatchEnd(_ batch: Int, logs: Logs) {
        if let loss = logs["loss"], !loss.isFinite {
            print("Batch \(batch): Invalid loss, terminating training")
            stopTraining = true
        }
    }
}

/// Sets the optimizer's learning rate at each epoch from `schedule(epoch, currentRate)`,
/// as `keras.callbacks.LearningRateScheduler`.
public final class LearningRateScheduler: Callback {
    let schedule: (Int, Double) -> Double

    public init(_ schedule: @escaping (Int, Double) -> Double) { self.schedule = schedule }

    public override func onEpochBegin(_ epoch: Int, logs: Logs) {
        guard let optimizer = model?.optimizer else { return }
        optimizer.learningRate = .constant(schedule(epoch, optimizer.currentLearningRate))
    }
}

/// Writes each epoch's logs as a row of a CSV file, as `keras.callbacks.CSVLogger`.
public final class CSVLogger: Callback {
    public let path: String, separator: String, append: Bool
    private var keys: [String]?
    private var rows: [String] = []

    /// Runs only on rank 0 of a distributed `fit`: one process writes the file.
    public override var runsOnEveryProcess: Bool { false }

    public init(_ path: String, separator: String = ",", append: Bool = false) {
        self.path = path
        self.separator = separator
        self.append = append
    }

    public override func onTrainBegin(logs: Logs) {
        keys = nil
        rows = append ? ((try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []) : []
        if append, let header = rows.first { keys = header.components(separatedBy: separator).dropFirst().map { $0 } }
    }

    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        if keys == nil {
            keys = logs.entries.map(\.0)
            rows.append((["epoch"] + keys!).joined(separator: separator))
        }
        rows.append(([String(epoch)] + keys!.map { logs[$0].map { String($0) } ?? "" }).joined(separator: separator))
        try? writeAtomically(Array((rows.joined(separator: "\n") + "\n").utf8), to: path)
    }
}

/// Saves the model's weights after each epoch (or only when `monitor` improves),
/// as `keras.callbacks.ModelCheckpoint` with `save_weights_only`. The path may
/// contain `{epoch}` (1-based), as Keras's does.
public final class ModelCheckpoint: Callback {
    public let path: String, monitor: String, saveBestOnly: Bool
    public let includeOptimizer: Bool
    let lowerIsBetter: Bool
    private var best = Double.infinity
    /// The error of the last save that failed (training goes on).
    public private(set) var lastError: Error?

    /// Runs only on rank 0 of a distributed `fit`: one process writes the file.
    public override var runsOnEveryProcess: Bool { false }

    public init(_ path: String, monitor: String = "val_loss", saveBestOnly: Bool = false, mode: String = "auto",
                includeOptimizer: Bool = false) {
        self.path = path
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.includeOptimizer = includeOptimizer
        lowerIsBetter = monitorLowerIsBetter(monitor, mode: mode)
    }

    public override func onTrainBegin(logs: Logs) { best = .infinity }

    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        guard let model else { return }
        if saveBestOnly {
            guard let value = logs[monitor] else { return }
            let score = lowerIsBetter ? value : -value
            guard score < best else { return }
            best = score
        }
        do {
            try model.saveWeights(to: path.replacingOccurrences(of: "{epoch}", with: String(epoch + 1)),
                                  optimizer: includeOptimizer ? model.optimizer : nil)
        } catch {
            lastError = error
            print("ModelCheckpoint: could not save: \(error)")
        }
    }
}
