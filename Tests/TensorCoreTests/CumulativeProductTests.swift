import XCTest
import TensorCore
import Autodiff
import TestSupport

/// cumprod against TensorFlow's values (written here), with zeros, and its gradients.
final class CumulativeProductTests: XCTestCase {
    let x = Tensor([[2, 0, 3, -1], [0.5, 4, 0, 2]] as [[Double]], dtype: .float64)

    func testValuesAsTensorFlow() {
        XCTAssertEqual(x.cumprod(axis: 1).scalars(as: Double.self), [2, 0, 0, 0, 0.5, 2, 0, 0])
        XCTAssertEqual(x.cumprod(axis: 0).scalars(as: Double.self), [2, 0, 3, -1, 1, 0, 0, -2])
        XCTAssertEqual(x.cumprod(axis: 1, exclusive: true).scalars(as: Double.self), [1, 2, 0, 0, 1, 0.5, 2, 0])
        XCTAssertEqual(x.cumprod(axis: 1, reverse: true).scalars(as: Double.self), [0, 0, -3, -1, 0, 0, 0, 2])
        XCTAssertEqual(x.cumprod(axis: -1, exclusive: true, reverse: true).scalars(as: Double.self), [0, -3, -1, 1, 0, 0, 2, 1])
        let long = Tensor(shape: [9], scalars: (1...9).map(Float.init))
        XCTAssertEqual(long.cumprod().scalars(as: Float.self), [1, 2, 6, 24, 120, 720, 5040, 40320, 362880])
    }

    func testGradientsAreExactAtZerosToSecondOrder() {
        for (axis, exclusive, reverse) in [(1, false, false), (0, false, false), (1, true, false), (1, false, true), (1, true, true)] {
            checkGradients([x]) { $0[0].cumprod(axis: axis, exclusive: exclusive, reverse: reverse) }
        }
        // d/dx of Π(x) at one zero: the product of the others.
        let v = Tensor([3, 0, 2] as [Double], dtype: .float64)
        let tape = GradientTape()
        tape.watch(v)
        let y = tape.record { v.cumprod()[2] }
        XCTAssertEqual(tape.gradient(of: y, wrt: v)?.scalars(as: Double.self), [0, 6, 0])
    }
}
