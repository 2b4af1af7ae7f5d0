import XCTest
@testable import DeepSwift

final class DatasetCombiningTests: XCTestCase {
    let x = Tensor([[1, 2], [3, 4], [5, 6]] as [[Float]])

    func testZipConcatenateEnumerate() {
        let rows = Dataset.fromTensorSlices(x)
        let labels = Dataset.fromTensorSlices(Tensor([10, 20, 30, 40] as [Int32]))
        let zipped = Dataset<(Tensor, Tensor)>.zip(rows, labels)
        XCTAssertEqual(zipped.cardinality, 3)
        XCTAssertEqual(zipped.map { $0.1.scalar(as: Int32.self) }.map { $0 }, [10, 20, 30])
        XCTAssertEqual(Array(zipped).map { $0.0.scalars(as: Float.self) }, [[1, 2], [3, 4], [5, 6]])

        let both = rows.concatenate(rows.take(1))
        XCTAssertEqual(both.cardinality, 4)
        XCTAssertEqual(Array(both).map { $0.scalars(as: Float.self)[0] }, [1, 3, 5, 1])
        XCTAssertEqual(Array(both).count, 4, "a second pass starts over")

        let numbered = rows.enumerate(start: 1)
        XCTAssertEqual(Array(numbered).map(\.0), [1, 2, 3])
        XCTAssertEqual(numbered.cardinality, 3)
    }

    func testCacheRunsTheWorkBeforeItOnce() {
        var calls = 0
        let cached = Dataset.fromTensorSlices(x).map { row -> Tensor in calls += 1; return row * 2 }.cache()
        _ = Array(cached.take(2))   // an early stop caches nothing
        XCTAssertEqual(calls, 2)
        XCTAssertEqual(Array(cached).map { $0.scalars(as: Float.self)[0] }, [2, 6, 10])
        XCTAssertEqual(calls, 5)
        XCTAssertEqual(Array(cached).map { $0.scalars(as: Float.self)[0] }, [2, 6, 10])
        XCTAssertEqual(calls, 5, "later passes replay the cache")
        // A shuffle before the cache is frozen by it, as in TF.
        let frozen = Dataset.fromTensorSlices(Tensor((0..<20).map { Float($0) })).shuffle(bufferSize: 20).cache()
        XCTAssertEqual(Array(frozen).map { $0.scalar(as: Float.self) }, Array(frozen).map { $0.scalar(as: Float.self) })
    }

    func testUnbatchUndoesBatch() {
        let y = Tensor([7, 8, 9] as [Int32])
        let pairs = Dataset.fromTensorSlices((x, y)).batch(2).unbatch()
        XCTAssertEqual(Array(pairs).map { $0.1.scalar(as: Int32.self) }, [7, 8, 9])
        XCTAssertEqual(Array(pairs).map { $0.0.shape }, [[2], [2], [2]])
        let rows = Dataset.fromTensorSlices(x).batch(2).unbatch()
        XCTAssertEqual(Array(rows).map { $0.scalars(as: Float.self) }, [[1, 2], [3, 4], [5, 6]])
    }

    func testFromGenerator() {
        let squares = Dataset<Tensor>.fromGenerator(cardinality: 4) { (0..<4).lazy.map { Tensor(Float($0 * $0)) }.makeIterator() }
        XCTAssertEqual(Array(squares).map { $0.scalar(as: Float.self) }, [0, 1, 4, 9])
        XCTAssertEqual(Array(squares.batch(3)).map(\.shape), [[3], [1]])
        XCTAssertEqual(squares.cardinality, 4)
    }
}
