import XCTest
@testable import TensorCore
import Autodiff
import TestSupport

final class CumulativeTests: XCTestCase {
    let x = Tensor([[1, 2, 3], [4, 5, 6]] as [[Float]])

    func testCumsumMatchesNumPy() {
        XCTAssertEqual(x.cumsum(axis: 1).scalars(as: Float.self), [1, 3, 6, 4, 9, 15])
        XCTAssertEqual(x.cumsum(axis: 0).scalars(as: Float.self), [1, 2, 3, 5, 7, 9])
        XCTAssertEqual(x.cumsum(axis: -1, exclusive: true).scalars(as: Float.self), [0, 1, 3, 0, 4, 9])
        XCTAssertEqual(x.cumsum(axis: 1, reverse: true).scalars(as: Float.self), [6, 5, 3, 15, 11, 6])
        XCTAssertEqual(x.cumsum(axis: 1, exclusive: true, reverse: true).scalars(as: Float.self), [5, 3, 0, 11, 6, 0])
        XCTAssertEqual(Tensor.zeros([0, 3]).cumsum(axis: 1).shape, [0, 3])
        assertTraps("cumsum: expected a float32 or float64 tensor, got int32") { _ = Tensor([1, 2] as [Int32]).cumsum() }
    }

    func testCumsumGradients() {
        let d = Tensor([[0.5, -1, 2], [1.5, 0.25, -0.75]] as [[Double]])
        for (axis, exclusive, reverse) in [(0, false, false), (1, false, false), (1, true, false), (1, false, true), (1, true, true)] {
            checkGradients([d]) { square($0[0].cumsum(axis: axis, exclusive: exclusive, reverse: reverse)) }
        }
    }
}
