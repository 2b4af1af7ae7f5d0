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

    func testDirectoryWithMismatchedCountsThrows() throws {
        let dir = NSTemporaryDirectory() + "mnist-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let images = Tensor.zeros([3, 2, 2], dtype: .uint8), labels = Tensor.zeros([2], dtype: .uint8)
        for name in ["train", "t10k"] {
            try IDX.write(images, to: "\(dir)/\(name)-images-idx3-ubyte.gz")
            try IDX.write(labels, to: "\(dir)/\(name)-labels-idx1-ubyte")
        }
        XCTAssertThrowsError(try MNIST.loadData(directory: dir)) { error in
            XCTAssertEqual(error as? DataError, .countMismatch(
                images: "\(dir)/train-images-idx3-ubyte.gz", imageCount: 3,
                labels: "\(dir)/train-labels-idx1-ubyte", labelCount: 2))
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
