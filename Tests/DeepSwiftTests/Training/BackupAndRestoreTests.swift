import XCTest
import Foundation
@testable import DeepSwift

/// An interrupted fit resumed by BackupAndRestore ends where an uninterrupted one does.
final class BackupAndRestoreTests: XCTestCase {
    var folder = ""

    override func setUp() { folder = NSTemporaryDirectory() + "deepswift-backup-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func data() -> (Tensor, Tensor) {
        setRandomSeed(21)
        return (Random.normal([40, 4]), Random.uniform([40], min: 0, max: 3, dtype: .int32))
    }

    func makeModel() -> Sequential {
        setRandomSeed(11)
        let model = Sequential([Dense(8, activation: .relu), Dense(3)], inputShape: [4])
        model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true))
        return model
    }

    func values(_ model: Model) -> [[Float]] { model.weights.map { $0.value.scalars(as: Float.self) } }

    /// The backup's epoch and batch, from its safetensors metadata.
    func progress() throws -> [String] {
        let metadata = try SafeTensors.decodeWithMetadata(readBytes(folder + "/model.safetensors"), file: "backup").metadata
        return [metadata["epoch"] ?? "-", metadata["batch"] ?? "-", metadata["format"] ?? "-"]
    }

    func testAResumedRunEndsWhereAnUninterruptedOneDoes() throws {
        let (x, y) = data()
        let straight = makeModel()
        try straight.fit(x: x, y: y, batchSize: 8, epochs: 4, verbose: 0, shuffle: false)

        // A run cut off after its second epoch leaves its backup behind.
        let interrupted = makeModel()
        try interrupted.fit(x: x, y: y, batchSize: 8, epochs: 2, verbose: 0, shuffle: false,
                            callbacks: [BackupAndRestore(backupDirectory: folder, deleteCheckpoint: false)])
        XCTAssertEqual(try progress(), ["2", "0", "deepswift"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["model.safetensors"], "one file: weights and progress agree")

        // Started again, it restores weights and Adam's state and runs epochs 3 and 4 only.
        let resumed = Sequential([Dense(8, activation: .relu), Dense(3)], inputShape: [4])
        resumed.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let history = try resumed.fit(x: x, y: y, batchSize: 8, epochs: 4, verbose: 0, shuffle: false,
                                      callbacks: [BackupAndRestore(backupDirectory: folder)])
        XCTAssertEqual(history.epochs, [2, 3])
        XCTAssertEqual(resumed.optimizer?.iterations, 20)
        for (a, b) in zip(values(resumed), values(straight)) {
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5) }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "a finished run deletes its backup")
    }

    func testBatchFrequencyAndBadBackups() throws {
        let (x, y) = data()
        let model = makeModel()
        try model.fit(x: x, y: y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false,
                      callbacks: [BackupAndRestore(backupDirectory: folder, saveFrequency: .batches(2), deleteCheckpoint: false)])
        // Five batches: backups after batches 2 and 4, inside epoch 0.
        XCTAssertEqual(try progress(), ["0", "4", "deepswift"])

        // A weights file without a backup's progress is refused and changes nothing.
        let before = values(model)
        try model.saveWeights(to: folder + "/model.safetensors", optimizer: model.optimizer, metadata: ["epoch": "-1", "batch": "0"])
        XCTAssertThrowsError(try model.fit(x: x, y: y, verbose: 0, callbacks: [BackupAndRestore(backupDirectory: folder)])) { error in
            XCTAssertEqual("\(error)", "\(self.folder)/model.safetensors: its metadata lacks \"epoch\" and \"batch\" as whole numbers >= 0; not a BackupAndRestore backup")
        }
        XCTAssertEqual(values(model), before)
        try model.saveWeights(to: folder + "/model.safetensors", optimizer: model.optimizer, metadata: ["epoch": "1", "batch": "0"])
        let other = Sequential([Dense(5), Dense(3)], inputShape: [4])
        other.compile(optimizer: Adam(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        XCTAssertThrowsError(try other.fit(x: x, y: y, verbose: 0, callbacks: [BackupAndRestore(backupDirectory: folder)])) { error in
            XCTAssertTrue(error is CheckpointError, "\(error)")
        }
        let unbuilt = Sequential([Dense(3)])
        unbuilt.compile(optimizer: Adam(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        XCTAssertThrowsError(try unbuilt.fit(x: x, y: y, verbose: 0, callbacks: [BackupAndRestore(backupDirectory: folder)])) { error in
            XCTAssertTrue("\(error)".hasPrefix("BackupAndRestore: the model 'sequential"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("must be built before fit to restore \(self.folder) (give it an input shape or call it once)"), "\(error)")
        }
    }
}
