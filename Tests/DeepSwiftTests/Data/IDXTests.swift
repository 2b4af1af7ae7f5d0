import XCTest
import Foundation
@testable import DeepSwift

final class IDXTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "idx-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testRoundTripsPlainAndGzip() throws {
        let tensors = [
            Tensor(shape: [2, 3, 2], scalars: (0..<12).map { UInt8($0 * 20) }),
            Tensor([[1, -2], [300_000, 4]]),
            Tensor([1.5, -2.25, 3e-8]),
            Tensor([[1.5, -2.25]], dtype: .float64),
        ]
        for (i, t) in tensors.enumerated() {
            for suffix in ["", ".gz"] {
                let path = "\(directory!)/t\(i)-idx\(suffix)"
                try IDX.write(t, to: path)
                let back = try IDX.read(contentsOf: path)
                XCTAssertEqual(back, t, path)
                let compressed = try readBytes(path).starts(with: [0x1f, 0x8b])
                XCTAssertEqual(compressed, suffix == ".gz")
            }
        }
    }

    func testConcatenatedGzipMembersAreOneStream() throws {
        let bytes = try IDX.encode(Tensor(shape: [6], scalars: [1, 2, 3, 4, 5, 6] as [UInt8]))
        let joined = try Gzip.compress(Array(bytes[..<7])) + Gzip.compress(Array(bytes[7...]))
        XCTAssertEqual(try IDX.decode(joined), Tensor(shape: [6], scalars: [1, 2, 3, 4, 5, 6] as [UInt8]))
    }

    func testMNISTHeaderLayout() throws {
        let labels = Tensor(shape: [3], scalars: [7, 2, 1] as [UInt8])
        let bytes = try IDX.encode(labels)
        XCTAssertEqual(Array(bytes[0..<8]), [0, 0, 8, 1, 0, 0, 0, 3])
        XCTAssertEqual(Array(bytes[8...]), [7, 2, 1])
    }

    func testMalformedInputsThrowTypedErrors() throws {
        let good = try IDX.encode(Tensor(shape: [2, 2, 2], scalars: [UInt8](repeating: 1, count: 8)))
        func error(_ bytes: [UInt8]) -> DataError? {
            do { _ = try IDX.decode(bytes, file: "f.idx"); return nil } catch { return error as? DataError }
        }
        XCTAssertEqual(error([0, 0]), .truncatedHeader(file: "f.idx", length: 2, needed: 4))
        XCTAssertEqual(error([1, 2, 8, 1, 0, 0, 0, 0]), .badMagic(file: "f.idx", found: 0x0102_0801))
        XCTAssertEqual(error([0, 0, 0x0B, 1, 0, 0, 0, 0]), .unsupportedElementType(file: "f.idx", code: 0x0B))
        XCTAssertEqual(error(Array(good[0..<10])), .truncatedHeader(file: "f.idx", length: 10, needed: 16))
        XCTAssertEqual(error(Array(good.dropLast())), .sizeMismatch(file: "f.idx", shape: [2, 2, 2], expectedBytes: 8, actualBytes: 7))
        XCTAssertEqual(error(good + [0]), .sizeMismatch(file: "f.idx", shape: [2, 2, 2], expectedBytes: 8, actualBytes: 9))
        let gz = try Gzip.compress(good)
        guard case .corruptGzip = error(Array(gz.dropLast(12))) else { return XCTFail("truncated gzip") }
        var flipped = gz
        flipped[12] ^= 0xFF
        guard case .corruptGzip = error(flipped) else { return XCTFail("corrupt gzip") }
        // A header claiming 2^32-1 elements in each of 4 dimensions must not allocate or crash.
        guard case .sizeMismatch = error([0, 0, 8, 4] + [UInt8](repeating: 0xFF, count: 16)) else { return XCTFail("huge header") }
        XCTAssertEqual(DataError.badMagic(file: "x.gz", found: 0x1234).description,
                       "x.gz: not an IDX file: magic number 0x1234 (expected 0x00000801 for labels, 0x00000803 for images, or another IDX type)")
    }

    func testAGzipBombIsRefusedBeforeItFillsMemory() throws {
        // A header promising 2^32 - 1 bytes of labels (more than the 4 GiB limit),
        // then a megabyte of zeros in 65 concatenated members.
        let header: [UInt8] = [0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF]
        var bomb = try Gzip.compress(header + [UInt8](repeating: 0, count: 1 << 14))
        for _ in 0..<64 { bomb += try Gzip.compress([UInt8](repeating: 0, count: 1 << 14)) }
        XCTAssertThrowsError(try IDX.decode(bomb, file: "bomb.gz")) { error in
            XCTAssertEqual(error as? DataError, .corruptGzip(file: "bomb.gz", reason: "its header describes 4294967303 bytes, more than the limit of 4294967296"))
        }
        // A header promising 4 labels, followed by more data than that.
        let long = try Gzip.compress([0, 0, 8, 1, 0, 0, 0, 4] + [UInt8](repeating: 7, count: 1 << 19))
        XCTAssertThrowsError(try IDX.decode(long, file: "long.gz")) { error in
            XCTAssertEqual(error as? DataError, .corruptGzip(file: "long.gz", reason: "it decompresses to more than the 12 bytes its header describes"))
        }
        // Without a header to go by, the output stops at the limit.
        XCTAssertThrowsError(try Gzip.decompress(Gzip.compress([UInt8](repeating: 0, count: 1000)), file: "z.gz", maxBytes: 999)) { error in
            XCTAssertEqual(error as? DataError, .corruptGzip(file: "z.gz", reason: "it decompresses to more than 999 bytes"))
        }
    }

    func testBytesAfterTheGzipDataAreRejectedButZeroPaddingIsNot() throws {
        let labels = Tensor(shape: [3], scalars: [7, 2, 1] as [UInt8])
        let gz = try IDX.encode(labels, compress: true)
        XCTAssertEqual(try IDX.decode(gz + [0, 0, 0, 0]), labels)
        XCTAssertThrowsError(try IDX.decode(gz + [0, 0x41, 0x42], file: "t.gz")) { error in
            XCTAssertEqual(error as? DataError, .corruptGzip(file: "t.gz", reason: "2 bytes after the end of the gzip data"))
        }
    }

    func testWriteErrorsSayWhichStepFailedAndWhy() throws {
        let target = "\(directory!)/missing-folder/labels-idx1-ubyte"
        XCTAssertThrowsError(try IDX.write(Tensor([1] as [UInt8]), to: target)) { error in
            guard case .unwritable(let file, let reason) = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, target)
            XCTAssertTrue(reason.hasPrefix("cannot create the temporary file \(target).tmp-"), reason)
            XCTAssertTrue(reason.hasSuffix(": No such file or directory"), reason)
            XCTAssertTrue("\(error)".hasPrefix("\(target): cannot be written (cannot create the temporary file"), "\(error)")
        }
        // A folder where the file should go: the rename fails.
        let folder = "\(directory!)/a-folder"
        try FileManager.default.createDirectory(atPath: folder + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try IDX.write(Tensor([1] as [UInt8]), to: folder)) { error in
            XCTAssertEqual(error as? DataError, .unwritable(file: folder, reason: "cannot rename the temporary file over it: Is a directory"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory!).sorted(), ["a-folder"])
    }

    func testStaleTemporaryFilesOfDeadWritersAreRemoved() throws {
        let target = "\(directory!)/w.idx"
        // A writer that died mid-write left its temporary file (pid 2^22 + 1 is
        // above Linux's pid_max default, so no process has it); a live one (this
        // process) keeps its own.
        let dead = "\(target).tmp-4194305-17", live = "\(target).tmp-\(getpid())-5"
        for path in [dead, live] { _ = FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3])) }
        try IDX.write(Tensor([1] as [UInt8]), to: target)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live))
        XCTAssertEqual(try IDX.read(contentsOf: target), Tensor([1] as [UInt8]))
    }

    func testMissingFileSaysSo() {
        XCTAssertThrowsError(try IDX.read(contentsOf: "\(directory!)/nothing")) { error in
            XCTAssertEqual(error as? DataError, .unreadable(file: "\(directory!)/nothing", reason: "no such file"))
        }
    }

    /// Thousands of mutated and truncated files: every result is either a typed
    /// error or a tensor whose size agrees with its header.
    func testFuzzedInputsNeverCrash() throws {
        var g = RandomGenerator(seed: 2024)
        let plain = try IDX.encode(Tensor(shape: [3, 4, 5], scalars: (0..<60).map { UInt8($0) }))
        let gz = try Gzip.compress(plain)
        var outcomes = (errors: 0, tensors: 0)
        for trial in 0..<3000 {
            var bytes = trial % 2 == 0 ? plain : gz
            switch Int.random(in: 0..<3, using: &g) {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &g)))
            case 1:
                for _ in 0..<Int.random(in: 1...4, using: &g) {
                    bytes[Int.random(in: 0..<bytes.count, using: &g)] = UInt8.random(in: 0...255, using: &g)
                }
            default:
                bytes.insert(UInt8.random(in: 0...255, using: &g), at: Int.random(in: 0...bytes.count, using: &g))
            }
            do {
                let t = try IDX.decode(bytes, file: "fuzz")
                XCTAssertEqual(t.count, t.shape.elementCount)
                outcomes.tensors += 1
            } catch is DataError {
                outcomes.errors += 1
            }
        }
        XCTAssertEqual(outcomes.errors + outcomes.tensors, 3000)
        XCTAssertGreaterThan(outcomes.errors, 1000)
        XCTAssertGreaterThan(outcomes.tensors, 50)
    }
}
