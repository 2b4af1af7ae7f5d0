import Foundation

/// Backs up the model's weights, the optimizer's state and the epoch reached in
/// `backupDirectory` during `fit`, and, when `fit` starts and a backup is there
/// (a run that was interrupted), restores them and resumes at the epoch after the
/// last one backed up, as `keras.callbacks.BackupAndRestore`. A run that ends
/// normally deletes its backup unless `deleteCheckpoint` is false.
///
/// ```swift
/// // Run this again after a crash: it goes on where the last finished epoch left off.
/// try model.fit(x: x, y: y, epochs: 100, callbacks: [BackupAndRestore(backupDirectory: "/tmp/backup")])
/// ```
///
/// The backup is one file, written atomically: `model.safetensors` holds the
/// weights and optimizer state (as ``Layer/saveWeights(to:optimizer:)``) and, in
/// its metadata, the epoch and batch reached, so weights and progress never
/// disagree. The model must be built before `fit` (give `Sequential` an
/// `inputShape`, or call it once), as Keras requires. Unlike Keras, which deletes
/// the whole folder, only this file (and then the folder, if it is left empty) is deleted.
public final class BackupAndRestore: Callback {
    /// When a backup is written.
    public enum SaveFrequency: Sendable, Equatable {
        /// At the end of every epoch.
        case epoch
        /// Every `n` batches (a resumed run restarts the epoch it was in, with the
        /// weights of the last backup).
        case batches(Int)
    }

    /// The folder holding the backup.
    public let backupDirectory: String
    /// When a backup is written.
    public let saveFrequency: SaveFrequency
    /// Whether a run that ends normally deletes its backup.
    public let deleteCheckpoint: Bool
    /// The error of the last backup that could not be written (training goes on).
    public private(set) var lastError: Error?
    private var currentEpoch = 0, batchesSinceSave = 0, lastBatch = 0

    var weightsPath: String { (backupDirectory as NSString).appendingPathComponent("model.safetensors") }

    /// Runs only on rank 0 of a distributed `fit`: one process writes the file.
    public override var runsOnEveryProcess: Bool { false }

    /// - Parameters:
    ///   - backupDirectory: where the backup goes (made when first written).
    ///   - saveFrequency: `.epoch` (default) or `.batches(n)`.
    ///   - deleteCheckpoint: delete the backup when `fit` ends normally (default true).
    public init(backupDirectory: String, saveFrequency: SaveFrequency = .epoch, deleteCheckpoint: Bool = true) {
        if case .batches(let n) = saveFrequency {
            precondition(n > 0, "BackupAndRestore: saveFrequency must be a positive number of batches, got \(n)")
        }
        precondition(!backupDirectory.isEmpty, "BackupAndRestore: backupDirectory is empty")
        self.backupDirectory = backupDirectory
        self.saveFrequency = saveFrequency
        self.deleteCheckpoint = deleteCheckpoint
    }

    public override func onTrainBegin(logs: Logs) {
        guard let model else { return }
        (currentEpoch, batchesSinceSave, lastBatch) = (0, 0, 0)
        guard FileManager.default.fileExists(atPath: weightsPath) else { return }
        do {
            guard model.isBuilt else {
                throw TrainingError.invalidConfiguration(
                    "BackupAndRestore: the model '\(model.name)' must be built before fit to restore \(backupDirectory) (give it an input shape or call it once)")
            }
            var epoch = 0
            try model.loadWeights(from: weightsPath, optimizer: model.optimizer) { metadata in
                guard let text = metadata["epoch"], let e = Int(text), e >= 0, metadata["batch"].flatMap({ Int($0) }) != nil else {
                    throw DataError.inconsistentDataset(file: weightsPath, reason: "its metadata lacks \"epoch\" and \"batch\" as whole numbers >= 0; not a BackupAndRestore backup")
                }
                epoch = e
            }
            currentEpoch = epoch
            model.resumeEpoch = currentEpoch
        } catch {
            model.callbackError = error
        }
    }

    public override func onBatchEnd(_ batch: Int, logs: Logs) {
        lastBatch = batch + 1
        guard case .batches(let n) = saveFrequency else { return }
        batchesSinceSave += 1
        if batchesSinceSave >= n {
            batchesSinceSave = 0
            save()
        }
    }

    public override func onEpochBegin(_ epoch: Int, logs: Logs) { currentEpoch = epoch }

    public override func onEpochEnd(_ epoch: Int, logs: Logs) {
        (currentEpoch, lastBatch) = (epoch + 1, 0)
        if saveFrequency == .epoch { save() }
    }

    public override func onTrainEnd(logs: Logs) {
        guard deleteCheckpoint else { return }
        try? FileManager.default.removeItem(atPath: weightsPath)
        rmdir(backupDirectory)   // only when nothing else is in it
    }

    private func save() {
        guard let model else { return }
        do {
            try FileManager.default.createDirectory(atPath: backupDirectory, withIntermediateDirectories: true)
            try model.saveWeights(to: weightsPath, optimizer: model.optimizer,
                                  metadata: ["epoch": "\(currentEpoch)", "batch": "\(lastBatch)"])
        } catch {
            lastError = error
            print("BackupAndRestore: could not back up to \(backupDirectory): \(error)")
        }
    }
}
