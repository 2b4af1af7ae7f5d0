import XCTest
@testable import TensorCore
import TestSupport

final class ReductionTests: XCTestCase {
    let x = Tensor.range(0, 24).reshaped(to: [2, 3, 4])   // int32 0..<24

    func testReducingAxesOfSizeOneSharesMemoryButKeepsValueSemantics() {
        let x = Tensor(shape: [1, 3, 1], scalars: [1, 2, 3] as [Float])
        var s = x.sum(axes: [0, 2])
        XCTAssertEqual(s.shape, [3])
        XCTAssertEqual(s.scalars(as: Float.self), [1, 2, 3])
        XCTAssertEqual(x.max(axes: [0], keepDims: true).shape, [1, 3, 1])
        XCTAssertEqual(x.sum(axes: [0, 1]).scalars(as: Float.self), [6])
        s.withUnsafeMutableBufferPointer(as: Float.self) { $0[0] = 100 }
        XCTAssertEqual(x.scalars(as: Float.self), [1, 2, 3], "writing the result never changes the input")
        XCTAssertEqual(s.scalars(as: Float.self), [100, 2, 3])
    }

    func testSumOverAxes() {
        XCTAssertEqual(x.sum().scalar(as: Int32.self), 276)
        XCTAssertEqual(x.sum().shape, [])
        XCTAssertEqual(x.sum(axis: 0).array(as: [[Int32]].self),
                       [[12, 14, 16, 18], [20, 22, 24, 26], [28, 30, 32, 34]])
        XCTAssertEqual(x.sum(axis: -1).array(as: [[Int32]].self), [[6, 22, 38], [54, 70, 86]])
        XCTAssertEqual(x.sum(axes: [0, 2]).scalars(as: Int32.self), [60, 92, 124])
        XCTAssertEqual(x.sum(axes: [1, 2]).scalars(as: Int32.self), [66, 210])
        XCTAssertEqual(x.sum(axis: 1, keepDims: true).shape, [2, 1, 4])
        XCTAssertEqual(x.sum(keepDims: true).shape, [1, 1, 1])
        XCTAssertEqual(x.sum(axes: []).shape, [2, 3, 4])
    }

    func testOtherReductions() {
        let f = x.cast(to: .float32)
        XCTAssertEqual(f.mean(axis: 2).array(as: [[Float]].self), [[1.5, 5.5, 9.5], [13.5, 17.5, 21.5]])
        XCTAssertEqual(x.mean(axis: 2).scalars(as: Int32.self), [1, 5, 9, 13, 17, 21])
        XCTAssertEqual(f.max(axis: 1).array(as: [[Float]].self), [[8, 9, 10, 11], [20, 21, 22, 23]])
        XCTAssertEqual(f.min(axes: [0, 1]).scalars(as: Float.self), [0, 1, 2, 3])
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).prod(axis: 0).scalars(as: Int32.self), [3, 8])
        XCTAssertEqual(Tensor([true, false]).any(), true)
        XCTAssertEqual(Tensor([true, false]).all(), false)
        XCTAssertEqual(Tensor([[true, false], [true, true]]).all(axes: [1]).scalars(as: Bool.self), [false, true])
    }

    func testEmptyReductions() {
        let e = Tensor.zeros([0, 3])
        XCTAssertEqual(e.sum(axis: 0).scalars(as: Float.self), [0, 0, 0])
        XCTAssertEqual(e.prod(axis: 0).scalars(as: Float.self), [1, 1, 1])
        XCTAssertEqual(e.max(axis: 0).scalars(as: Float.self), [-.infinity, -.infinity, -.infinity])
    }

    func testArgmaxArgmin() {
        let t = Tensor([[1.0, 9, 9], [7, 2, 0]])
        XCTAssertEqual(t.argmax(axis: 1).dtype, .int64)
        XCTAssertEqual(t.argmax(axis: 1).scalars(as: Int64.self), [1, 0])
        XCTAssertEqual(t.argmin(axis: 1).scalars(as: Int64.self), [0, 2])
        XCTAssertEqual(t.argmax(axis: 0).scalars(as: Int64.self), [1, 0, 0])
        XCTAssertEqual(Tensor([1.0, Double.nan, 3]).argmax().scalars(as: Int64.self), [1])
        // NaN counts as the extreme, as PyTorch and NumPy: the first NaN's index.
        let nan = Tensor([[1, .nan, 5, .nan], [4, 2, 8, 0]] as [[Float]])
        XCTAssertEqual(nan.argmax(axis: 1).scalars(as: Int64.self), [1, 2])
        XCTAssertEqual(nan.argmin(axis: 1).scalars(as: Int64.self), [1, 3])
        XCTAssertEqual(nan.argmax(axis: 0).scalars(as: Int64.self), [1, 0, 1, 0])
        XCTAssertEqual(Tensor([Float.nan, .nan]).argmin().scalars(as: Int64.self), [0])
    }

    func testLargeFloatSumIsAccurate() {
        // 2^20 copies of 0.1: a naive float32 running sum drifts by ~1%.
        let t = Tensor.full([1 << 20], value: 0.1)
        XCTAssertEqual(t.sum().scalar(as: Float.self), Float(104857.6), accuracy: 0.05)
        let d = Tensor.full([1001], value: 0.5, dtype: .float64)
        XCTAssertEqual(d.sum().scalar(as: Double.self), 500.5)
    }
}
