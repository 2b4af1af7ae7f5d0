import XCTest
import Foundation
@testable import DeepSwift
@_spi(Autodiff) import TensorCore

/// Seeded mutation fuzzing of every reader of outside bytes: each run makes at
/// least 2,000 mutated inputs per reader from valid seed files, and each must
/// either decode to content that agrees with itself and the file, or throw the
/// reader's typed error. A crash (trap, overflow, out-of-memory) fails the suite.
/// The inputs that crashed earlier versions are kept in `Fixtures/`.
final class ReaderFuzzTests: XCTestCase {
    static let mutationsPerReader = 2_000
    var generator = RandomGenerator(seed: 20261202)

    /// One mutation of `seed`: bit flips, random bytes, insertions, deletions,
    /// truncation, a repeated run, a digit changed, or a splice with `other`.
    func mutate(_ seed: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = seed
        let rounds = Int.random(in: 1...3, using: &generator)
        for _ in 0..<rounds {
            guard !bytes.isEmpty else { return bytes }
            let i = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 1: bytes[i] = UInt8.random(in: 0...255, using: &generator)
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: i)
            case 3: bytes.remove(at: i)
            case 4: bytes = Array(bytes.prefix(i))
            case 5:
                let n = Int.random(in: 1...16, using: &generator)
                bytes.insert(contentsOf: bytes[i..<min(i + n, bytes.count)], at: i)
            case 6:
                // A digit of a JSON number or a length changed into another digit.
                if let d = bytes.indices.filter({ (48...57).contains(bytes[$0]) }).randomElement(using: &generator) {
                    bytes[d] = UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &generator)
                }
            default:
                let j = Int.random(in: 0...other.count, using: &generator)
                bytes = Array(bytes.prefix(i)) + Array(other.suffix(from: j))
            }
        }
        return bytes
    }

    // MARK: safetensors

    /// A tensor's dtype, shape and raw bytes (NaN payloads included).
    static func describe(_ t: Tensor) -> String {
        let bytes = t.withUnsafeData { Array(UnsafeRawBufferPointer(start: $0, count: t.count * t.dtype.byteSize)) }
        return "\(t.dtype) \(t.shape) \(bytes)"
    }

    static func safetensorsSeeds() -> [[UInt8]] {
        [
            SafeTensors.encode([("a", Tensor([[1.5, -2], [3, 4]])), ("b", Tensor([7, 8, 9] as [Int32]))]),
            SafeTensors.encode([("w", Tensor([0.25], dtype: .float64)), ("empty", Tensor.zeros([0, 3])),
                                ("flag", Tensor([true, false])), ("n", Tensor(Int64(3)))],
                               metadata: ["format": "deepswift", "note": "ü"]),
            SafeTensors.encode([("u", Tensor([1, 2, 3] as [UInt8]))]),
        ]
    }

    func testMutatedSafetensorsDecodeConsistentlyOrThrow() {
        let seeds = ReaderFuzzTests.safetensorsSeeds()
        var outcome = (decoded: 0, rejected: 0)
        for trial in 0..<ReaderFuzzTests.mutationsPerReader {
            let seed = seeds[trial % seeds.count]
            let bytes = mutate(seed, other: seeds[(trial + 1) % seeds.count])
            do {
                let tensors = try SafeTensors.decode(bytes, file: "fuzz")
                outcome.decoded += 1
                // The file's data is exactly the tensors' bytes, end to end.
                let header = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
                let dataBytes = tensors.reduce(0) { $0 + $1.tensor.count * $1.tensor.dtype.byteSize }
                XCTAssertEqual(8 + header + dataBytes, bytes.count, "trial \(trial)")
                // And it round-trips through the writer.
                let again = try SafeTensors.decode(SafeTensors.encode(tensors))
                XCTAssertEqual(again.map(\.name), tensors.map(\.name), "trial \(trial)")
                XCTAssertEqual(again.map { ReaderFuzzTests.describe($0.tensor) }, tensors.map { ReaderFuzzTests.describe($0.tensor) }, "trial \(trial)")
            } catch is CheckpointError {
                outcome.rejected += 1
            } catch {
                XCTFail("trial \(trial): untyped error \(error)")
            }
        }
        XCTAssertGreaterThan(outcome.rejected, ReaderFuzzTests.mutationsPerReader / 2)
        XCTAssertGreaterThan(outcome.decoded, 20)
    }

    // MARK: checkpoints with optimizer state

    static func checkpointModel() -> Sequential {
        Sequential([Dense(4, activation: .relu, name: "hidden"), Dense(2, name: "out")], inputShape: [3], name: "net")
    }

    /// A loaded checkpoint never leaves the optimizer with state its fused kernel
    /// could overrun: after every successful load an Adam step runs, and every
    /// state slot has its variable's size.
    func testMutatedCheckpointsLoadSafelyOrThrow() throws {
        setRandomSeed(1)
        let model = ReaderFuzzTests.checkpointModel()
        let optimizer = Adam()
        optimizer.apply(model.trainableWeights.map { Tensor.ones(like: $0.value) }, to: model.trainableWeights)
        let path = NSTemporaryDirectory() + "fuzz-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.saveWeights(to: path, optimizer: optimizer)
        let seed = try readBytes(path)
        let other = SafeTensors.encode([("optimizer/net/hidden/kernel/0", Tensor([1.0]))])
        var outcome = (loaded: 0, rejected: 0)
        let target = ReaderFuzzTests.checkpointModel()
        for trial in 0..<ReaderFuzzTests.mutationsPerReader {
            let bytes = mutate(seed, other: other)
            try writeAtomically(bytes, to: path)
            let restored = Adam()
            do {
                try target.loadWeights(from: path, optimizer: restored)
                outcome.loaded += 1
                for v in target.trainableWeights {
                    for s in restored.state(of: v) { XCTAssertEqual(s.shape, v.shape, "trial \(trial)") }
                }
                restored.apply(target.trainableWeights.map { Tensor.ones(like: $0.value) }, to: target.trainableWeights)
            } catch is CheckpointError {
                outcome.rejected += 1
            } catch {
                XCTFail("trial \(trial): untyped error \(error)")
            }
        }
        XCTAssertGreaterThan(outcome.rejected, ReaderFuzzTests.mutationsPerReader / 2)
        XCTAssertGreaterThan(outcome.loaded, 20)
    }

    // MARK: IDX, plain and gzip

    static func idxSeeds() throws -> [[UInt8]] {
        let images = Tensor(shape: [3, 4, 5], scalars: (0..<60).map { UInt8($0) })
        let floats = Tensor([[1.5, -2, 0.25]])
        return [try IDX.encode(images), try IDX.encode(images, compress: true),
                try IDX.encode(floats), try IDX.encode(Tensor([7, -8] as [Int32]), compress: true)]
    }

    func testMutatedIDXFilesDecodeConsistentlyOrThrow() throws {
        let seeds = try ReaderFuzzTests.idxSeeds()
        var outcome = (decoded: 0, rejected: 0)
        for trial in 0..<ReaderFuzzTests.mutationsPerReader {
            let bytes = mutate(seeds[trial % seeds.count], other: seeds[(trial + 1) % seeds.count])
            do {
                let t = try IDX.decode(bytes, file: "fuzz")
                outcome.decoded += 1
                // What decoded re-encodes to the same plain bytes it came from.
                let plain = Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, file: "fuzz") : bytes
                XCTAssertEqual(try IDX.encode(t), plain, "trial \(trial)")
            } catch is DataError {
                outcome.rejected += 1
            } catch {
                XCTFail("trial \(trial): untyped error \(error)")
            }
        }
        XCTAssertGreaterThan(outcome.rejected, ReaderFuzzTests.mutationsPerReader / 4)
        XCTAssertGreaterThan(outcome.decoded, 20)
    }

    // MARK: the inputs that crashed earlier versions

    func fixture(_ name: String) throws -> [UInt8] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        return try readBytes(folder.appendingPathComponent(name).path)
    }

    func testInputsThatCrashedEarlierVersionsNowThrow() throws {
        // An arithmetic-overflow trap: a shape whose element count overflows.
        XCTAssertThrowsError(try SafeTensors.decode(fixture("overflowing-shape.safetensors"), file: "f")) { error in
            XCTAssertEqual("\(error)", "f: corrupt safetensors header (entry 'a': the shape [549755813888, 549755813888] has more elements than fit in memory)")
        }
        // An arithmetic-overflow trap: a byte count that overflows.
        XCTAssertThrowsError(try SafeTensors.decode(fixture("overflowing-bytes.safetensors"), file: "f")) { error in
            XCTAssertEqual("\(error)", "f: corrupt safetensors header (entry 'a': offsets [0, 4] do not fit shape [549755813888, 4194304] of F64)")
        }
        // A heap-buffer-overflow in the Adam kernel: the kernel's moments hold 4 of 12 elements.
        let path = NSTemporaryDirectory() + "fixture-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (name, problem) in [
            ("short-optimizer-state.safetensors", "optimizer state: state slot 0 of variable 'net/hidden/kernel' is (4,) float32, the variable needs (3, 4) float32"),
            ("vector-step-count.safetensors", "'optimizer/iterations' must be a non-negative integer scalar, the file has shape (2,) int64"),
        ] {
            try writeAtomically(fixture(name), to: path)
            let model = ReaderFuzzTests.checkpointModel(), optimizer = Adam()
            XCTAssertThrowsError(try model.loadWeights(from: path, optimizer: optimizer), name) { error in
                XCTAssertEqual(error as? CheckpointError, .mismatch(file: path, problems: [problem]), name)
            }
        }
        // A 4 GiB allocation abort: a gzip bomb whose header claims 2^32 - 1 labels.
        XCTAssertThrowsError(try IDX.decode(fixture("bomb-labels-idx1-ubyte.gz"), file: "bomb")) { error in
            XCTAssertEqual(error as? DataError, .corruptGzip(file: "bomb", reason: "its header describes 4294967303 bytes, more than the limit of 4294967296"))
        }
    }
}
