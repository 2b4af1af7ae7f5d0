import XCTest
@testable import TensorCore
import TestSupport

final class BinaryTests: XCTestCase {
    func testArithmeticSameShape() {
        let a = Tensor([[1.0, 2], [3, 4]]), b = Tensor([[10.0, 20], [30, 40]])
        XCTAssertEqual((a + b).array(as: [[Float]].self), [[11, 22], [33, 44]])
        XCTAssertEqual((b - a).array(as: [[Float]].self), [[9, 18], [27, 36]])
        XCTAssertEqual((a * b).array(as: [[Float]].self), [[10, 40], [90, 160]])
        XCTAssertEqual((b / a).array(as: [[Float]].self), [[10, 10], [10, 10]])
        XCTAssertEqual((-a).scalars(as: Float.self), [-1, -2, -3, -4])
        XCTAssertEqual(pow(a, 2).scalars(as: Float.self), [1, 4, 9, 16])
        XCTAssertEqual(maximum(a, 2.5).scalars(as: Float.self), [2.5, 2.5, 3, 4])
        XCTAssertEqual(minimum(a, 2.5).scalars(as: Float.self), [1, 2, 2.5, 2.5])
    }

    func testScalarOperandTakesTensorDType() {
        let x = Tensor([1, 2, 3])
        XCTAssertEqual((x * 2).dtype, .int32)
        XCTAssertEqual((x * 2).scalars(as: Int32.self), [2, 4, 6])
        XCTAssertEqual((1 - Tensor([0.25], dtype: .float64)).scalars(as: Double.self), [0.75])
        XCTAssertEqual((10 / Tensor([4.0])).scalars(as: Float.self), [2.5])
        var y = Tensor([1.0, 2.0])
        y += 1
        y *= Tensor([2.0, 3.0])
        XCTAssertEqual(y.scalars(as: Float.self), [4, 9])
    }

    func testBroadcasting() {
        let m = Tensor([[1, 2, 3], [4, 5, 6]])           // (2, 3)
        let row = Tensor([10, 20, 30])                    // (3,)
        let col = Tensor([[100], [200]])                  // (2, 1)
        XCTAssertEqual((m + row).array(as: [[Int32]].self), [[11, 22, 33], [14, 25, 36]])
        XCTAssertEqual((m + col).array(as: [[Int32]].self), [[101, 102, 103], [204, 205, 206]])
        XCTAssertEqual((col + row).array(as: [[Int32]].self), [[110, 120, 130], [210, 220, 230]])
        XCTAssertEqual((row - m).array(as: [[Int32]].self), [[9, 18, 27], [6, 15, 24]])
        // Rank-0 and size-1 operands on either side.
        XCTAssertEqual((Tensor(Int32(1)) + m).shape, [2, 3])
        XCTAssertEqual((Tensor([[[1]]]) + row).shape, [1, 1, 3])
        // Broadcasting with an empty axis gives an empty result.
        XCTAssertEqual((Tensor.zeros([0, 3]) + Tensor.ones([3])).shape, [0, 3])
        // A higher-rank middle broadcast.
        let a = Tensor.range(0, 6).reshaped(to: [2, 1, 3])
        let b = Tensor.range(0, 4).reshaped(to: [4, 1])
        let c = a * b
        XCTAssertEqual(c.shape, [2, 4, 3])
        XCTAssertEqual(c[1, 3].scalars(as: Int32.self), [9, 12, 15])
    }

    func testIntegerArithmetic() {
        let a = Tensor([7, -7, 9]), b = Tensor([2, 2, -4])
        XCTAssertEqual((a / b).scalars(as: Int32.self), [3, -3, -2])
        XCTAssertEqual(pow(Tensor([2, 3]), Tensor([10, 2])).scalars(as: Int32.self), [1024, 9])
        XCTAssertEqual((Tensor([Int32.max]) + 1).scalars(as: Int32.self), [Int32.min])
        let u = Tensor(shape: [2], scalars: [250, 3] as [UInt8])
        XCTAssertEqual((u + Tensor(shape: [2], scalars: [10, 4] as [UInt8])).scalars(as: UInt8.self), [4, 7])
    }

    func testComparisonsGiveBool() {
        let a = Tensor([1.0, 2, 3]), b = Tensor([3.0, 2, 1])
        XCTAssertEqual((a .< b).scalars(as: Bool.self), [true, false, false])
        XCTAssertEqual((a .<= b).scalars(as: Bool.self), [true, true, false])
        XCTAssertEqual((a .> b).scalars(as: Bool.self), [false, false, true])
        XCTAssertEqual((a .>= b).scalars(as: Bool.self), [false, true, true])
        XCTAssertEqual((a .== b).scalars(as: Bool.self), [false, true, false])
        XCTAssertEqual((a .!= b).scalars(as: Bool.self), [true, false, true])
        XCTAssertEqual((a .> 1.5).dtype, .bool)
        let t = Tensor([true, false, true]), f = Tensor([true, true, false])
        XCTAssertEqual(logicalAnd(t, f).scalars(as: Bool.self), [true, false, false])
        XCTAssertEqual(logicalOr(t, f).scalars(as: Bool.self), [true, true, true])
        XCTAssertEqual(logicalNot(t).scalars(as: Bool.self), [false, true, false])
    }

    func testMaximumPropagatesNaN() {
        let r = maximum(Tensor([Float.nan, 1]), Tensor([0, Float.nan]))
        XCTAssertTrue(r.scalars(as: Float.self).allSatisfy(\.isNaN))
    }

    func testLargeContiguousAddMatchesScalarLoop() {
        var g = RandomGenerator(seed: 5)
        let a = Random.normal([1027], using: &g), b = Random.normal([1027], using: &g)
        let sum = (a + b).scalars(as: Float.self)
        let x = a.scalars(as: Float.self), y = b.scalars(as: Float.self)
        XCTAssertEqual(sum, zip(x, y).map { $0 + $1 })
    }
}
