import XCTest
import Foundation
@testable import DeepSwift

final class MNISTTests: XCTestCase {
    func testFashionMNISTLoadsFromTheSystemPackage() throws {
        let ((xTrain, yTrain), (xTest, yTest)) = try FashionMNIST.loadData()
        XCTAssertEqual(xTrain.shape, [60000, 28, 28])
        XCTAssertEqual(yTrain.shape, [60000])
        XCTAssertEqual(xTest.shape, [10000, 28, 28])
        XCTAssertEqual(yTest.shape, [10000])
        XCTAssertEqual(xTrain.dtype, .uint8)
        XCTAssertEqual(yTrain.dtype, .uint8)
        // Known values of the published files.
        XCTAssertEqual(yTrain[..<5].scalars(as: UInt8.self), [9, 0, 0, 3, 0])
        XCTAssertEqual(yTest[..<5].scalars(as: UInt8.self), [9, 2, 1, 1, 6])
        XCTAssertEqual(FashionMNIST.classNames[Int(yTrain[0].scalar(as: UInt8.self))], "Ankle boot")
        XCTAssertEqual(xTrain[0].cast(to: .int64).sum().scalar(as: Int64.self), 76247)
        XCTAssertEqual(xTrain.max().scalar(as: UInt8.self), 255)
        XCTAssertEqual(xTrain.min().scalar(as: UInt8.self), 0)
        XCTAssertEqual(yTrain.max().scalar(as: UInt8.self), 9)
    }

    /// A folder holding the four files of an MNIST-format dataset made of `train`
    /// and `test` (images, labels) tensors; removed after `body`.
    func withDataset(train: (Tensor, Tensor), test: (Tensor, Tensor), _ body: (String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "mnist-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, (images, labels)) in [("train", train), ("t10k", test)] {
            try IDX.write(images, to: "\(dir)/\(name)-images-idx3-ubyte.gz")
            try IDX.write(labels, to: "\(dir)/\(name)-labels-idx1-ubyte")
        }
        try body(dir)
    }

    func testDirectoryWithMismatchedCountsThrows() throws {
        let images = Tensor.zeros([3, 28, 28], dtype: .uint8), labels = Tensor.zeros([2], dtype: .uint8)
        try withDataset(train: (images, labels), test: (images, labels)) { dir in
            XCTAssertThrowsError(try MNIST.loadData(directory: dir)) { error in
                XCTAssertEqual(error as? DataError, .countMismatch(
                    images: "\(dir)/train-images-idx3-ubyte.gz", imageCount: 3,
                    labels: "\(dir)/train-labels-idx1-ubyte", labelCount: 2))
            }
        }
    }

    func testDatasetsWhoseContentsDisagreeThrowNamingTheFile() throws {
        let good = (Tensor.zeros([2, 28, 28], dtype: .uint8), Tensor([3, 9] as [UInt8]))
        try withDataset(train: good, test: good) { dir in XCTAssertNoThrow(try MNIST.loadData(directory: dir)) }
        let cases: [(train: (Tensor, Tensor), test: (Tensor, Tensor), message: String)] = [
            ((good.0, Tensor([3, 10] as [UInt8])), good,
             "train-labels-idx1-ubyte: label 10 at index 1 is not a class 0–9"),
            (good, (Tensor.zeros([2, 14, 14], dtype: .uint8), good.1),
             "t10k-images-idx3-ubyte.gz: images of 14×14 pixels; an MNIST-format dataset has 28×28"),
            ((Tensor.zeros([2, 0, 0], dtype: .uint8), good.1), good,
             "train-images-idx3-ubyte.gz: images of 0×0 pixels; an MNIST-format dataset has 28×28"),
            ((Tensor.zeros([0, 28, 28], dtype: .uint8), Tensor.zeros([0], dtype: .uint8)), good,
             "train-images-idx3-ubyte.gz: the file holds no examples"),
        ]
        for c in cases {
            try withDataset(train: c.train, test: c.test) { dir in
                XCTAssertThrowsError(try MNIST.loadData(directory: dir)) { error in
                    XCTAssertTrue(error is DataError, "\(error)")
                    XCTAssertEqual("\(error)", "\(dir)/\(c.message)")
                }
            }
        }
    }

    func testAFIFOOrADeviceInTheDataFolderIsRefusedWithoutReading() throws {
        let good = (Tensor.zeros([2, 28, 28], dtype: .uint8), Tensor([3, 9] as [UInt8]))
        try withDataset(train: good, test: good) { dir in
            let fifo = "\(dir)/t10k-labels-idx1-ubyte"
            try FileManager.default.removeItem(atPath: fifo)
            XCTAssertEqual(mkfifo(fifo, 0o600), 0)
            XCTAssertThrowsError(try MNIST.loadData(directory: dir)) { error in
                XCTAssertEqual(error as? DataError, .unreadable(file: fifo, reason: "a FIFO, not a regular file"))
            }
            try FileManager.default.removeItem(atPath: fifo)
            try FileManager.default.createSymbolicLink(atPath: fifo, withDestinationPath: "/dev/zero")
            XCTAssertThrowsError(try MNIST.loadData(directory: dir)) { error in
                XCTAssertEqual(error as? DataError, .unreadable(file: fifo, reason: "a character device, not a regular file"))
            }
        }
    }

    func testChecksumVerification() throws {
        XCTAssertEqual(Download.sha256(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertNoThrow(try Download.verify(Array("abc".utf8), sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", file: "abc"))
        XCTAssertThrowsError(try Download.verify(Array("abd".utf8), sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", file: "abd")) { error in
            guard case .checksumMismatch(let file, _, _) = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "abd")
        }
        XCTAssertEqual(MNIST.checksums.count, 4)
        XCTAssertTrue(MNIST.checksums.allSatisfy { $0.sha256.count == 64 })
    }

    func testMissingDatasetListsWhereItLooked() {
        XCTAssertThrowsError(try MNIST.loadData(directory: "/nonexistent/mnist")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("MNIST was not found; searched: /nonexistent/mnist"), text)
            XCTAssertTrue(text.contains("train-images-idx3-ubyte.gz"), text)
        }
    }
}
