import XCTest
@_spi(Autodiff) import Autodiff
import Compile
import TestSupport

final class CustomGradientTests: XCTestCase {
    func testAStraightThroughEstimator() {
        let x = Tensor([0.2, 1.7, -0.6] as [Float])
        let tape = GradientTape()
        tape.watch(x)
        let y = tape.record { () -> Tensor in
            let rounded = customGradient(x) { x in (round(x), { upstream in upstream }) }
            return (rounded * rounded).sum()
        }
        // d/dx Σ r² = 2r·(dr/dx), with the estimator's dr/dx = 1: 2·round(x).
        XCTAssertEqual(tape.gradient(of: y, wrt: x)?.scalars(as: Float.self), [0, 4, -2])
    }

    func testTheClosureDefinesTheGradientAndRecordsForOuterTapes() {
        // f(x) = x³ with its gradient given as 3x², written in differentiable ops:
        // an outer tape then gets the second derivative 6x.
        func cube(_ x: Tensor) -> Tensor {
            customGradient(x) { x in (x * x * x, { upstream in upstream * 3 * x * x }) }
        }
        let x = Tensor([1.0, -2.0, 0.5] as [Double])
        let outer = GradientTape(), inner = GradientTape()
        outer.watch(x)
        let dy = outer.record { () -> Tensor in
            inner.watch(x)
            let y = inner.record { cube(x).sum() }
            return inner.gradient(of: y, wrt: x)!
        }
        XCTAssertEqual(dy.scalars(as: Double.self), [3, 12, 0.75])
        XCTAssertEqual(outer.gradient(of: dy, wrt: x)?.scalars(as: Double.self), [6, -12, 3])
        // And it is what finite differences say.
        checkGradients([x]) { cube($0[0]) }
    }

    func testTheForwardOpsAreNotRecordedAndTwoInputsGetTheirOwnGradients() {
        let a = Tensor([1, 2] as [Float]), b = Tensor([3, 4] as [Float])
        let tape = GradientTape(persistent: true)
        tape.watch([a, b])
        let y = tape.record { () -> Tensor in
            // The value a·b, with a made-up gradient (2 for a, nil for b).
            customGradient([a, b]) { t in (t[0] * t[1], { upstream in [upstream * 2, nil] }) }.sum()
        }
        XCTAssertEqual(tape.gradient(of: y, wrt: a)?.scalars(as: Float.self), [2, 2])
        XCTAssertNil(tape.gradient(of: y, wrt: b))
    }

    func testInACompiledStep() {
        let f = compiled { (x: Tensor) -> Tensor in
            let tape = GradientTape()
            tape.watch(x)
            let y = tape.record { customGradient(x) { x in (exp(x), { upstream in upstream * 10 }) }.sum() }
            return tape.gradient(of: y, wrt: x)! + exp(x) * 0
        }
        XCTAssertEqual(f(Tensor([0, 1] as [Float])).scalars(as: Float.self), [10, 10])
        XCTAssertEqual(f(Tensor([2, 3] as [Float])).scalars(as: Float.self), [10, 10])
        XCTAssertEqual(f.traceCount, 1)
    }
}
