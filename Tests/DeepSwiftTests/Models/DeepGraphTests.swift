import XCTest
@testable import DeepSwift

/// A functional graph 65 536 layer calls deep is built, run and freed; freeing it
/// used to recurse once per node and overflow the stack.
final class DeepGraphTests: XCTestCase {
    func testAGraph65536CallsDeepRunsAndFrees() {
        func run() -> [Float] {
            let input = Input(shape: [1])
            var x = input
            let step = Rescaling(scale: 1, offset: 1)
            for _ in 0..<65536 { x = step(x) }
            return Model(inputs: input, outputs: x)(Tensor([[0]] as [[Float]])).scalars(as: Float.self)
        }
        XCTAssertEqual(run(), [65536])   // and the graph is gone when run returns
    }
}
