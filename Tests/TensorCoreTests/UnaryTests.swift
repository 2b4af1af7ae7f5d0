import XCTest
import Foundation
@testable import TensorCore
import TestSupport

final class UnaryTests: XCTestCase {
    /// Every float op against Foundation's libm, in both dtypes, over lengths that
    /// exercise the vector body and its tail.
    func testFloatOpsAgainstLibm() {
        let cases: [(String, (Tensor) -> Tensor, (Double) -> Double, ClosedRange<Double>)] = [
            ("exp", exp, Foundation.exp, -10...10),
            ("log", log, Foundation.log, 0.01...100),
            ("log1p", log1p, Foundation.log1p, -0.9...10),
            ("expm1", expm1, Foundation.expm1, -5...5),
            ("sqrt", sqrt, Foundation.sqrt, 0...100),
            ("rsqrt", rsqrt, { 1 / Foundation.sqrt($0) }, 0.01...100),
            ("reciprocal", reciprocal, { 1 / $0 }, 0.5...100),
            ("tanh", tanh, Foundation.tanh, -10...10),
            ("sigmoid", sigmoid, { 1 / (1 + Foundation.exp(-$0)) }, -30...30),
            ("softplus", softplus, { Foundation.log1p(Foundation.exp(-Swift.abs($0))) + Swift.max($0, 0) }, -30...30),
            ("sin", sin, Foundation.sin, -10...10),
            ("cos", cos, Foundation.cos, -10...10),
            ("erf", erf, Foundation.erf, -4...4),
            ("floor", floor, Foundation.floor, -10...10),
            ("ceil", ceil, Foundation.ceil, -10...10),
            ("square", square, { $0 * $0 }, -10...10),
            ("abs", abs, Swift.abs, -10...10),
            ("relu", relu, { Swift.max($0, 0) }, -10...10),
            ("sign", sign, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, -10...10),
        ]
        var g = RandomGenerator(seed: 11)
        for (name, op, reference, range) in cases {
            for dtype in [DType.float32, .float64] {
                let x = Random.uniform([37], min: range.lowerBound, max: range.upperBound, dtype: dtype, using: &g)
                let y = op(x)
                XCTAssertEqual(y.dtype, dtype, name)
                let expected = x.scalars(as: Double.self).map(reference)
                let tolerance = dtype == .float32 ? 2e-6 : 1e-14
                for (i, (got, want)) in zip(y.scalars(as: Double.self), expected).enumerated() {
                    XCTAssertEqual(got, want, accuracy: tolerance * Swift.max(1, Swift.abs(want)), "\(name) \(dtype) at \(i)")
                }
            }
        }
    }

    func testRoundHalvesToEven() {
        XCTAssertEqual(round(Tensor([0.5, 1.5, 2.5, -0.5, -1.7])).scalars(as: Float.self), [0, 2, 2, -0, -2])
    }

    func testIntegerOpsKeepDType() {
        let x = Tensor([-3, 0, 4])
        XCTAssertEqual(abs(x).scalars(as: Int32.self), [3, 0, 4])
        XCTAssertEqual(square(x).scalars(as: Int32.self), [9, 0, 16])
        XCTAssertEqual(sign(x).scalars(as: Int32.self), [-1, 0, 1])
        XCTAssertEqual(relu(x).scalars(as: Int32.self), [0, 0, 4])
        XCTAssertEqual((-x).scalars(as: Int32.self), [3, 0, -4])
    }

    func testGuideMath() {
        let a = Tensor([[1.0, 2], [0, -1]]), b = Tensor([[0.5, 0], [1, 1]])
        let e = exp(square(a + b))
        assertClose(e, Tensor([[Foundation.exp(2.25), Foundation.exp(4)], [Foundation.exp(1), 1]]))
    }

    func testSoftmaxFamily() {
        let x = Tensor([[1.0, 2, 3], [1000, 1000, 1000]])
        let s = softmax(x)
        let e1 = [1.0, Foundation.exp(1), Foundation.exp(2)]
        let z = e1.reduce(0, +)
        assertClose(s, Tensor([e1.map { $0 / z }, [1.0 / 3, 1.0 / 3, 1.0 / 3]]))
        assertClose(logSoftmax(x), log(s), tolerance: 1e-6)
        assertClose(x.logSumExp(axis: 1), Tensor([Foundation.log(z) + 1, 1000 + Foundation.log(3)]))
        assertClose(softmax(x, axis: 0)[.all, 0], Tensor([0.0, 1.0]))
        let allNegInf = Tensor([-Float.infinity, -Float.infinity]).logSumExp()
        XCTAssertEqual(allNegInf.scalar(as: Float.self), -Float.infinity)
    }

    func testIsFiniteAndClip() {
        XCTAssertEqual(isFinite(Tensor([1, Float.nan, Float.infinity])).scalars(as: Bool.self), [true, false, false])
        XCTAssertEqual(Tensor([-2.0, 0.5, 3]).clipped(min: -1, max: 1).scalars(as: Float.self), [-1, 0.5, 1])
        XCTAssertEqual(Tensor([-2, 5]).clipped(min: 0, max: 3).scalars(as: Int32.self), [0, 3])
        XCTAssertEqual(Tensor([-2.0, 5]).clipped(min: Tensor([0.0]), max: Tensor([1.0, 4])).scalars(as: Float.self), [0, 4])
    }

    func testCasts() {
        let f = Tensor([-1.7, 0, 2.9])
        XCTAssertEqual(f.cast(to: .int32).scalars(as: Int32.self), [-1, 0, 2])
        XCTAssertEqual(f.cast(to: .bool).scalars(as: Bool.self), [true, false, true])
        XCTAssertEqual(Tensor([true, false]).cast(to: .float64).scalars(as: Double.self), [1, 0])
        let pixels = Tensor(shape: [2], scalars: [0, 255] as [UInt8])
        XCTAssertEqual((pixels.cast(to: .float32) / 255).scalars(as: Float.self), [0, 1])
        XCTAssertEqual(Tensor([70000]).cast(to: .int64).cast(to: .int32).scalars(as: Int32.self), [70000])
    }
}

final class ExpEdgeTests: XCTestCase {
    func testExpAtTheEdgesOfFloat32() {
        let x = Tensor([-200, -104, -87.5, 0, 1, 88.7, 88.8, 1000, Float.nan, -Float.infinity, Float.infinity])
        let y = exp(x).scalars(as: Float.self)
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[1], 0)
        XCTAssertLessThan(y[2], 1.2e-38)
        XCTAssertEqual(y[3], 1)
        XCTAssertEqual(y[4], Float(M_E), accuracy: 1e-6)
        XCTAssertEqual(Double(y[5]), Foundation.exp(Double(Float(88.7))), accuracy: 1e-6 * 3.3e38)
        XCTAssertTrue(y[5].isFinite)
        XCTAssertEqual(y[6], .infinity)
        XCTAssertEqual(y[7], .infinity)
        XCTAssertTrue(y[8].isNaN)
        XCTAssertEqual(y[9], 0)
        XCTAssertEqual(y[10], .infinity)
        XCTAssertEqual(sigmoid(Tensor([-100.0, 100])).scalars(as: Float.self), [0, 1])
        XCTAssertEqual(softplus(Tensor([-100.0, 100])).scalars(as: Float.self), [0, 100])
    }
}
