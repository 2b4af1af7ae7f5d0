import XCTest
@_spi(Autodiff) import Autodiff
import TestSupport

/// What a recorded op costs, counted (not timed): Swift heap allocations per op
/// under a recording tape, beyond what the same op allocates with no tape.
final class TapeCostTests: XCTestCase {
    func testTheAllocationCounterCounts() throws {
        let n = try XCTUnwrap(countSwiftAllocations {
            for _ in 0..<10 { withExtendedLifetime([Int](repeating: 1, count: 3)) {} }
        }, "the Swift runtime exposes no allocation hook")
        XCTAssertEqual(n, 10)
    }

    func testARecordedOpAllocatesNothingBeyondItsResult() throws {
        let a = Random.normal([2, 2]), b = Random.normal([2, 2])
        let untaped = try XCTUnwrap(countSwiftAllocations { for _ in 0..<100 { withExtendedLifetime(a + b) {} } })
        XCTAssertEqual(untaped, 100, "one storage object per result")

        let tape = GradientTape(persistent: true)
        tape.watch(a)
        var y = a
        tape.record { for _ in 0..<8 { y = y + b } }   // the tape's arrays and the thread's recorders exist now
        let taped = try XCTUnwrap(countSwiftAllocations {
            tape.record { for _ in 0..<100 { y = y + b } }
        })
        // Per op: the result's storage only. The inputs live inline in the record;
        // the record array and the id table grow by doubling (a few objects in all).
        // Before the inline inputs and the parked tape stack: 212.
        XCTAssertLessThanOrEqual(taped, 100 + 8, "allocations for 100 recorded ops")
        XCTAssertEqual(tape.gradient(of: y, wrt: a)?.shape, [2, 2])
    }

    func testOpsInABackwardPassCostNothingWhenNoOtherTapeRecords() throws {
        let a = Random.normal([2, 2]), b = Random.normal([2, 2])
        let tape = GradientTape(persistent: true)
        tape.watch(a)
        let y = tape.record { () -> Tensor in
            var y = a
            for i in 0..<64 { y = i % 2 == 0 ? y * b : y + b }
            return y
        }
        XCTAssertEqual(tape.gradient(of: y, wrt: a)?.shape, [2, 2])
        let n = try XCTUnwrap(countSwiftAllocations { _ = tape.gradient(of: y, wrt: a) })
        // Per record: the rule's result array, and for the 32 multiplies one product
        // (b needs no gradient); nothing for the ops' reports (the tape stack steps
        // aside). Before: 374.
        XCTAssertLessThanOrEqual(n, 64 * 3, "allocations for the backward pass of 64 ops")
    }
}
