import XCTest
import Autodiff
import TestSupport

/// The guide's "Variables" and "Gradients" sections, with values checked
/// against their closed forms.
final class GuideGradientTests: XCTestCase {
    let a0 = Tensor([[0.6405563, 0.03973103], [-0.6126285, -0.71384406]])
    let b = Tensor([[-1.1, 0.5], [0.3, 2.0]])

    var expectedFirst: Tensor { a0 / sqrt(square(a0) + square(b)) }
    var expectedSecond: Tensor { square(b) / pow(square(a0) + square(b), 1.5) }

    func testWatchedTensor() {
        let a = a0
        let tape = GradientTape()
        let dcda = tape.record { () -> Tensor in
            tape.watch(a)
            let c = sqrt(square(a) + square(b))
            return tape.gradient(of: c, wrt: a)!
        }
        assertClose(dcda, expectedFirst, tolerance: 1e-6)
    }

    func testVariablesAreWatchedAutomatically() {
        let a = Variable(a0)
        let tape = GradientTape()
        let dcda = tape.record { tape.gradient(of: sqrt(square(a) + square(b)), wrt: a)! }
        assertClose(dcda, expectedFirst, tolerance: 1e-6)
    }

    func testNestedTapesGiveSecondDerivative() {
        let a = Variable(a0)
        let outer = GradientTape(), inner = GradientTape()
        let dcda = outer.record {
            inner.record {
                let c = sqrt(square(a) + square(b))
                return inner.gradient(of: c, wrt: a)!
            }
        }
        let d2cda2 = outer.gradient(of: dcda, wrt: a)!
        assertClose(dcda, expectedFirst, tolerance: 1e-6)
        assertClose(d2cda2, expectedSecond, tolerance: 1e-5)
        // The same as TensorFlow prints for these inputs in the guide's float32.
        XCTAssertEqual(d2cda2.dtype, .float32)
    }

    func testSecondGradientCalledInsideOuterScope() {
        let a = Variable(a0)
        let outer = GradientTape()
        let d2 = outer.record { () -> Tensor in
            let inner = GradientTape()
            let dcda = inner.record { inner.gradient(of: sqrt(square(a) + square(b)), wrt: a)! }
            return outer.gradient(of: dcda, wrt: a)!
        }
        assertClose(d2, expectedSecond, tolerance: 1e-5)
    }

    func testVariableAssignments() {
        let a = Variable(Random.normal([2, 2]))
        let newValue = Random.normal([2, 2])
        a.assign(newValue)
        for i in 0..<2 { for j in 0..<2 { XCTAssertEqual(a[i, j], newValue[i, j]) } }
        let added = Random.normal([2, 2])
        a.assignAdd(added)
        for i in 0..<2 { for j in 0..<2 { XCTAssertEqual(a[i, j], newValue[i, j] + added[i, j]) } }
        a.assignSub(added)
        assertClose(a.value, newValue, tolerance: 1e-6)
    }
}
