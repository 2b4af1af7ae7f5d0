import XCTest
import DeepSwift

/// `import DeepSwift` alone gives the whole stack: tensors, variables and tapes.
final class UmbrellaImportTests: XCTestCase {
    func testOneImportReachesTensorsVariablesAndTapes() {
        let w = Variable(Tensor([[2.0], [3.0]]))
        let x = Tensor([[1.0, 4.0]])
        let tape = GradientTape()
        let y = tape.record { matmul(x, w).sum() }
        XCTAssertEqual(y.scalar(as: Float.self), 14)
        XCTAssertEqual(tape.gradient(of: y, wrt: w), Tensor([[1.0], [4.0]]))
    }
}
