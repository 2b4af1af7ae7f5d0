import XCTest
@_spi(Autodiff) import TensorCore
import Compile
import Autodiff
import TestSupport

/// Every op of the elementwise tables has a gradient rule (checked against finite
/// differences, first and second order, in float64), a replay that matches eager
/// mode, and a fusion kernel (it joins an elementwise chain).
final class OpTableTests: XCTestCase {
    /// Away from every op's kinks and integer steps (floor, round, relu, abs, sign).
    let x = Tensor([0.3, 0.7, 1.2, 0.45] as [Double])
    let y = Tensor([1.1, 0.4, 0.9, 0.6] as [Double])

    func testEveryUnaryOpHasAGradientAReplayAndAFusionKernel() {
        XCTAssertEqual(UnaryOp.allCases.count, 21)
        for op in UnaryOp.allCases {
            checkGradients([x]) { $0[0].applying(op) }

            let f = compiled { (t: Tensor) -> Tensor in t.applying(op) * 2 }
            let traced = Tensor([0.2, 0.9, 1.4, 0.6] as [Double])
            XCTAssertEqual(f(traced), traced.applying(op) * 2, "\(op) traced")
            XCTAssertEqual(f(x), x.applying(op) * 2, "\(op) replayed")
            let summary = f.graphSummary(for: [x])
            XCTAssertEqual(summary?.steps, 1, "\(op) and the multiply run as one chain")
            XCTAssertEqual(summary?.fused, 2, "\(op) joins a fused chain")
        }
    }

    func testEveryBinaryOpHasAGradientAReplayAndAFusionKernel() {
        XCTAssertEqual(BinaryOp.allCases.count, 7)
        for op in BinaryOp.allCases {
            checkGradients([x, y]) { Tensor.applying(op, $0[0], $0[1]) }

            let f = compiled { (a: Tensor, b: Tensor) -> Tensor in exp(Tensor.applying(op, a, b)) }
            _ = f(y, x)
            XCTAssertEqual(f(x, y), exp(Tensor.applying(op, x, y)), "\(op) replayed")
            XCTAssertEqual(f.graphSummary(for: [x, y])?.fused, 2, "\(op) joins a fused chain")
        }
    }

    func testTheNamedFunctionsAreTheTableOps() {
        let cases: [(UnaryOp, (Tensor) -> Tensor)] = [
            (.negate, { -$0 }), (.exp, exp), (.log, log), (.log1p, log1p), (.expm1, expm1), (.sqrt, sqrt),
            (.rsqrt, rsqrt), (.reciprocal, reciprocal), (.tanh, tanh), (.sigmoid, sigmoid), (.softplus, softplus),
            (.sin, sin), (.cos, cos), (.erf, erf), (.square, square), (.abs, abs), (.relu, relu), (.floor, floor),
            (.ceil, ceil), (.round, round), (.sign, sign),
        ]
        XCTAssertEqual(Set(cases.map(\.0)), Set(UnaryOp.allCases))
        for (op, f) in cases { XCTAssertEqual(f(x), x.applying(op), "\(op)") }
        let binaries: [(BinaryOp, (Tensor, Tensor) -> Tensor)] = [
            (.add, +), (.subtract, -), (.multiply, *), (.divide, /), (.pow, { pow($0, $1) }),
            (.maximum, { maximum($0, $1) }), (.minimum, { minimum($0, $1) }),
        ]
        XCTAssertEqual(Set(binaries.map(\.0)), Set(BinaryOp.allCases))
        for (op, f) in binaries { XCTAssertEqual(f(x, y), Tensor.applying(op, x, y), "\(op)") }
    }

    func testDTypeRulesComeFromTheTable() {
        let ints = Tensor([-2, 3] as [Int32])
        for op in UnaryOp.allCases where op.acceptsIntegers {
            XCTAssertEqual(ints.applying(op).dtype, .int32, "\(op)")
        }
        XCTAssertEqual(UnaryOp.allCases.filter(\.acceptsIntegers), [.negate, .square, .abs, .relu, .sign])
        assertTraps("exp: expected a float32 or float64 tensor, got int32") { _ = exp(Tensor([1] as [Int32])) }
        assertTraps("negate: not defined on bool tensors") { _ = -Tensor([true]) }
    }
}
