import XCTest
@testable import DeepSwift
import TestSupport

final class DatasetShardTests: XCTestCase {
    func ids(_ d: Dataset<Tensor>) -> [Int32] { Array(d.map { $0.scalar(as: Int32.self) }) }

    /// As tf.data's shard: element i goes to shard i % count, in order; the shards
    /// together hold every element exactly once, with index streams and iterators.
    func testShardsCoverEveryElementOnce() {
        for n in [0, 1, 7, 10, 1000] {
            let base = Dataset.fromTensorSlices(Tensor.range(0, Double(n), dtype: .int32))
            for count in 1...5 {
                var all: [Int32] = []
                for index in 0..<count {
                    let expected = stride(from: index, to: n, by: count).map { Int32($0) }
                    let shard = base.shard(count: count, index: index)
                    XCTAssertEqual(ids(shard), expected, "n \(n), shard \(index) of \(count)")
                    XCTAssertEqual(shard.cardinality, expected.count)
                    // The element path (after a map) gives the same shard.
                    XCTAssertEqual(ids(base.map { $0 }.shard(count: count, index: index)), expected)
                    all += ids(shard)
                }
                XCTAssertEqual(all.sorted(), (0..<n).map { Int32($0) })
            }
        }
    }

    func testShardThenShuffleAndBatch() {
        let base = Dataset.fromTensorSlices(Tensor.range(0, 20, dtype: .int32))
        let batches = Array(base.shard(count: 3, index: 1).shuffle(bufferSize: 100, seed: 4).batch(4))
        XCTAssertEqual(batches.map(\.shape), [[4], [3]])
        XCTAssertEqual(batches.flatMap { $0.scalars(as: Int32.self) }.sorted(), [1, 4, 7, 10, 13, 16, 19])
        // A shard of a shuffled dataset is still part of one pass.
        XCTAssertEqual(ids(base.shuffle(bufferSize: 5, seed: 1).shard(count: 4, index: 0)).count, 5)
    }

    func testBadShardsTrap() {
        let base = Dataset.fromTensorSlices(Tensor.range(0, 4))
        assertTraps("Dataset.shard: count must be positive, got 0") { _ = base.shard(count: 0, index: 0) }
        assertTraps("Dataset.shard: index must be in 0..<2, got 2") { _ = base.shard(count: 2, index: 2) }
    }
}
