import XCTest
@testable import TensorCore
import Autodiff
import TestSupport

final class SortingTests: XCTestCase {
    let x = Tensor([[1, 3, 2, 3], [5, 4, 6, 0]] as [[Float]])

    func testArgsortSortAndTopKMatchNumPy() {
        XCTAssertEqual(x.argsort().scalars(as: Int64.self), [0, 2, 1, 3, 3, 1, 0, 2])
        XCTAssertEqual(x.argsort(descending: true).scalars(as: Int64.self), [1, 3, 2, 0, 2, 0, 1, 3])
        XCTAssertEqual(x.sorted().scalars(as: Float.self), [1, 2, 3, 3, 0, 4, 5, 6])
        XCTAssertEqual(x.sorted(descending: true).scalars(as: Float.self), [3, 3, 2, 1, 6, 5, 4, 0])
        let (values, indices) = x.topK(2)
        XCTAssertEqual(values.scalars(as: Float.self), [3, 3, 6, 5])
        XCTAssertEqual(indices.scalars(as: Int64.self), [1, 3, 2, 0])
        XCTAssertEqual(values.shape, [2, 2])
        XCTAssertEqual(Tensor([2, .nan, 1] as [Float]).argsort().scalars(as: Int64.self), [2, 0, 1], "NaN last")
        XCTAssertEqual(x.takingAlongLastAxis(Tensor([[3, 0], [1, 1]] as [[Int32]])).scalars(as: Float.self), [3, 1, 4, 4])
        assertTraps("takingAlongLastAxis: an index is outside 0..<4") { _ = self.x.takingAlongLastAxis(Tensor([[4], [0]] as [[Int32]])) }
        assertTraps("topK: k = 5 is not in 0...4 for shape (2, 4)") { _ = self.x.topK(5) }
    }

    func testGradientsGoBackToTheChosenElements() {
        let d = Tensor([[0.3, -1.2, 2.5, 0.9], [1.1, -0.4, 0.2, 3.3]] as [[Double]])
        checkGradients([d]) { square($0[0].sorted()) }
        checkGradients([d]) { $0[0].topK(2).values * $0[0].topK(2).values }
        let tape = GradientTape()
        tape.watch(d)
        let y = tape.record { d.topK(1).values.sum() }
        XCTAssertEqual(tape.gradient(of: y, wrt: d)?.scalars(as: Double.self), [0, 0, 1, 0, 0, 0, 0, 1])
    }
}

/// searchSorted and unique against TensorFlow's values (written here).
final class SearchSortedAndUniqueTests: XCTestCase {
    func testSearchSortedAndUniqueAsTensorFlow() {
        let sorted = Tensor([[1, 3, 5, 7], [2, 2, 2, 9]] as [[Float]]), values = Tensor([[0, 3, 6, 8], [2, 1, 9, 10]] as [[Float]])
        XCTAssertEqual(sorted.searchSorted(values).scalars(as: Int64.self), [0, 1, 3, 4, 0, 0, 3, 4])
        XCTAssertEqual(sorted.searchSorted(values, side: .right).scalars(as: Int64.self), [0, 2, 3, 4, 3, 0, 4, 4])
        XCTAssertEqual(sorted.searchSorted(values).dtype, .int64)
        let (u, idx) = Tensor([3, 1, 3, 2, 1, 5] as [Float]).unique()
        XCTAssertEqual(u.scalars(as: Float.self), [3, 1, 2, 5])
        XCTAssertEqual(idx.scalars(as: Int64.self), [0, 1, 0, 2, 1, 3])
        assertTraps("unique: expected a vector, got shape (2, 4)") { _ = sorted.unique() }
        // Integers beyond 2^53 are compared exactly, not through Double.
        let big = Tensor([9_007_199_254_740_993, 9_007_199_254_740_992] as [Int64])
        XCTAssertEqual(big.unique().values.scalars(as: Int64.self), [9_007_199_254_740_993, 9_007_199_254_740_992])
        XCTAssertEqual(big.argsort().scalars(as: Int64.self), [1, 0])
        let ascending = Tensor([9_007_199_254_740_992, 9_007_199_254_740_993] as [Int64])
        XCTAssertEqual(ascending.searchSorted(Tensor([9_007_199_254_740_993] as [Int64])).scalars(as: Int64.self), [1])
        // Each NaN is its own value, as TF's.
        XCTAssertEqual(Tensor([Float.nan, 1, .nan] as [Float]).unique().indices.scalars(as: Int64.self), [0, 1, 2])
    }
}
