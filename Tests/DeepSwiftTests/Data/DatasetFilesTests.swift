import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// Dataset.fromFiles: rows of IDX and raw files read in chunks, and the errors of bad files.
final class DatasetFilesTests: TemporaryFolderTestCase {

    func write(_ bytes: [UInt8], _ name: String) -> String {
        let path = folder + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func testIDXFilesStreamTheirRowsInOrder() throws {
        let a = Tensor(shape: [7, 2, 3], scalars: (0..<42).map(Float.init))
        let b = Tensor(shape: [3, 2, 3], scalars: (100..<118).map(Float.init))
        try IDX.write(a, to: folder + "a.idx")
        try IDX.write(b, to: folder + "b.idx")
        // Chunks of 3 rows cross both the chunk and the file boundaries.
        let rows = try Dataset.fromFiles([folder + "a.idx", folder + "b.idx"], rowsPerRead: 3)
        XCTAssertEqual(rows.cardinality, 10)
        let all = Array(rows)
        XCTAssertEqual(all.map(\.shape), Array(repeating: [2, 3], count: 10))
        XCTAssertEqual(Tensor(stacking: all), a.concatenated(with: b))
        XCTAssertEqual(Array(rows).count, 10, "a second pass starts over")
        let batches = Array(rows.batch(4)).map(\.shape)
        XCTAssertEqual(batches, [[4, 2, 3], [4, 2, 3], [2, 2, 3]])
        let labels = Tensor([3, 1, 4] as [UInt8])
        try IDX.write(labels, to: folder + "labels.idx")
        XCTAssertEqual(Array(try Dataset.fromFiles([folder + "labels.idx"])).map { $0.scalar(as: UInt8.self) }, [3, 1, 4])
    }

    func testRawRecordsAfterAHeader() throws {
        let values: [Int32] = [1, -2, 3, -4, 5, -6]
        let body = values.flatMap { v in withUnsafeBytes(of: v.littleEndian, Array.init) }
        let path = write([9, 9, 9, 9, 9] + body, "records.bin")
        let records = try Dataset.fromFiles([path], format: .raw(shape: [2], dtype: .int32, headerBytes: 5), rowsPerRead: 2)
        XCTAssertEqual(records.cardinality, 3)
        XCTAssertEqual(Array(records).map { $0.scalars(as: Int32.self) }, [[1, -2], [3, -4], [5, -6]])
    }

    func testBadFilesThrowBeforeAnythingIsRead() throws {
        try IDX.write(Tensor.ones([4, 2]), to: folder + "wide.idx")
        try IDX.write(Tensor.ones([4, 3]), to: folder + "other.idx")
        try IDX.write(Tensor.ones([4, 2]), to: folder + "packed.idx.gz")
        let missing = folder + "none.idx"
        XCTAssertThrowsError(try Dataset.fromFiles([folder + "wide.idx", folder + "other.idx"])) { error in
            XCTAssertEqual("\(error)", "\(self.folder)other.idx: rows of shape (3,) and dtype float32, but \(self.folder)wide.idx has (2,) and float32")
        }
        XCTAssertThrowsError(try Dataset.fromFiles([folder + "packed.idx.gz"])) { error in
            XCTAssertTrue("\(error)".hasSuffix("a gzip-compressed IDX file cannot be read in chunks; decompress it (gunzip) or load it whole with IDX.read"), "\(error)")
        }
        XCTAssertThrowsError(try Dataset.fromFiles([missing])) { error in
            XCTAssertEqual(error as? DataError, .unreadable(file: missing, reason: "no such file"))
        }
        let short = write([0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2], "short.idx")
        XCTAssertThrowsError(try Dataset.fromFiles([short])) { error in
            XCTAssertEqual(error as? DataError, .sizeMismatch(file: short, shape: [5], expectedBytes: 5, actualBytes: 2))
        }
        let odd = write([1, 2, 3, 4, 5, 6, 7], "odd.bin")
        XCTAssertThrowsError(try Dataset.fromFiles([odd], format: .raw(shape: [2], dtype: .float32))) { error in
            XCTAssertEqual("\(error)", "\(odd): 7 bytes after a 0-byte header are not a whole number of 8-byte records of shape (2,) and dtype float32")
        }
        XCTAssertThrowsError(try Dataset.fromFiles([folder])) { error in
            XCTAssertEqual(error as? DataError, .unreadable(file: self.folder, reason: "not a regular file"))
        }
    }
}
