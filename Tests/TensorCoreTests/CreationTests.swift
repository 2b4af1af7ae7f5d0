import XCTest
@testable import TensorCore
import TestSupport

final class CreationTests: XCTestCase {
    func testLiteralDTypes() {
        XCTAssertEqual(Tensor([[5, 2], [1, 3]]).dtype, .int32)
        XCTAssertEqual(Tensor([1.5, 2]).dtype, .float32)
        XCTAssertEqual(Tensor([true, false]).dtype, .bool)
        XCTAssertEqual(Tensor([1.5, 2], dtype: .float64).dtype, .float64)
        XCTAssertEqual(Tensor([[[1], [2]]]).shape, [1, 2, 1])
        XCTAssertEqual(Tensor(7).shape, [])
        XCTAssertEqual(Tensor(7).rank, 0)
    }

    /// Literals keep Double and Int precision until the dtype is chosen.
    func testLiteralsKeepFullPrecisionForWideDTypes() {
        XCTAssertEqual(Tensor([0.1, 0.05], dtype: .float64).scalars(as: Double.self), [0.1, 0.05])
        XCTAssertEqual(Tensor([[0.1], [1e-300]], dtype: .float64).scalars(as: Double.self), [0.1, 1e-300])
        XCTAssertEqual(Tensor([0.1, 0.05]).scalars(as: Float.self), [0.1, 0.05])
        XCTAssertEqual(Tensor([16_777_217, -9_007_199_254_740_993], dtype: .int64).scalars(as: Int64.self),
                       [16_777_217, -9_007_199_254_740_993])
        XCTAssertEqual(Tensor([16_777_217], dtype: .float64).scalars(as: Double.self), [16_777_217])
        XCTAssertEqual(Tensor([[1, 2]]).dtype, .int32)
        assertTraps("the integer 3000000000 does not fit int32") { _ = Tensor([3_000_000_000]) }
    }

    func testShapeScalarsRoundTrip() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6] as [Float])
        XCTAssertEqual(t.count, 6)
        XCTAssertEqual(t.scalars(as: Float.self), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.scalars(as: Int32.self), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.array(as: [[Float]].self), [[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(t[1, 2].scalar(as: Float.self), 6)
        XCTAssertEqual(Tensor([[5, 2], [1, 3]]).array(as: [[Int32]].self), [[5, 2], [1, 3]])
    }

    func testFactories() {
        XCTAssertEqual(Tensor.full([2], value: 7, dtype: .int64).scalars(as: Int64.self), [7, 7])
        XCTAssertEqual(Tensor.ones([2, 2], dtype: .uint8).scalars(as: UInt8.self), [1, 1, 1, 1])
        XCTAssertEqual(Tensor.zeros(like: Tensor([1.5, 2])).dtype, .float32)
        XCTAssertEqual(Tensor.range(0, 5).scalars(as: Int32.self), [0, 1, 2, 3, 4])
        XCTAssertEqual(Tensor.range(0, 1, delta: 0.25).scalars(as: Float.self), [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(Tensor.range(5, 0, delta: -2).scalars(as: Int32.self), [5, 3, 1])
        XCTAssertEqual(Tensor.eye(2, 3).scalars(as: Float.self), [1, 0, 0, 0, 1, 0])
        XCTAssertEqual(Tensor.zeros([0]).count, 0)
    }

    func testCopyOnWrite() {
        let a = Tensor([1, 2, 3])
        var b = a
        b.withUnsafeMutableBufferPointer(as: Int32.self) { $0[0] = 9 }
        XCTAssertEqual(a.scalars(as: Int32.self), [1, 2, 3])
        XCTAssertEqual(b.scalars(as: Int32.self), [9, 2, 3])
    }

    func testEquality() {
        XCTAssertEqual(Tensor([1, 2]), Tensor([1, 2]))
        XCTAssertNotEqual(Tensor([1, 2]), Tensor([1, 3]))
        XCTAssertNotEqual(Tensor([1, 2]), Tensor([1, 2], dtype: .int64))
        XCTAssertNotEqual(Tensor([1, 2]), Tensor([[1, 2]]))
        XCTAssertNotEqual(Tensor([Float.nan]), Tensor([Float.nan]))
    }
}

final class StorageAlignmentTests: XCTestCase {
    func testDataIsAligned() {
        for count in [1, 3, 7, 100, 1023, 1024, 5000] {
            for dtype in [DType.float32, .float64, .uint8] {
                let t = Tensor.zeros([count], dtype: dtype)
                let address = Int(bitPattern: t.storage.data)
                XCTAssertEqual(address % (count * dtype.byteSize >= 4096 ? 64 : 16), 0, "\(count) \(dtype)")
            }
        }
    }
}
