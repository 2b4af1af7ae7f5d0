import XCTest
@testable import DeepSwift
import TestSupport

/// paddedBatch and interleave against tf.data's outputs for the same inputs.
final class DatasetSequenceTests: XCTestCase {
    let sentences: [[Int32]] = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10], [11]]
    var dataset: Dataset<Tensor> {
        let rows = sentences
        return Dataset<Tensor>.fromGenerator(cardinality: rows.count) { rows.lazy.map { Tensor($0) }.makeIterator() }
    }

    func rows(_ t: Tensor) -> [[Int32]] { t.array(as: [[Int32]].self) }

    func testPaddedBatchMatchesTensorFlow() {
        // tf.data...padded_batch(2)
        let batches = Array(dataset.paddedBatch(2)).map(rows)
        XCTAssertEqual(batches, [[[1, 2, 3], [4, 0, 0]], [[5, 6, 0, 0], [7, 8, 9, 10]], [[11]]])
        XCTAssertEqual(dataset.paddedBatch(2).cardinality, 3)
        // padded_batch(2, padded_shapes=[5], padding_values=-1, drop_remainder=True)
        let fixed = dataset.paddedBatch(2, paddedShape: [5], paddingValue: -1, dropRemainder: true)
        XCTAssertEqual(Array(fixed).map(rows), [[[1, 2, 3, -1, -1], [4, -1, -1, -1, -1]],
                                                [[5, 6, -1, -1, -1], [7, 8, 9, 10, -1]]])
        XCTAssertEqual(fixed.cardinality, 2)
    }

    func testPaddedBatchOfPairsPadsEachComponent() {
        let pairs = Dataset<(Tensor, Tensor)>.zip(dataset, dataset.map { $0.cast(to: .float32) * 2 })
        let first = Array(pairs.paddedBatch(3, paddedShapes: (nil, [4]), paddingValues: (0, 0.5)))[0]
        XCTAssertEqual(rows(first.0), [[1, 2, 3], [4, 0, 0], [5, 6, 0]])
        XCTAssertEqual(first.1.array(as: [[Float]].self), [[2, 4, 6, 0.5], [8, 0.5, 0.5, 0.5], [10, 12, 0.5, 0.5]])
    }

    func testPaddedBatchErrorsNameTheProblem() {
        assertTraps("Dataset.paddedBatch: an element has 4 positions on axis 0, more than the padded shape's 3") {
            _ = Array(self.dataset.paddedBatch(5, paddedShape: [3]))
        }
        assertTraps("Dataset.paddedBatch: the padded shape [3, nil] needs 1 entries for elements of shape (3,)") {
            _ = Array(self.dataset.paddedBatch(5, paddedShape: [3, nil]))
        }
    }

    func testInterleaveMatchesTensorFlowsOrder() {
        let numbers = Dataset.fromTensorSlices(Tensor((1...5).map(Int32.init)))
        // range(1, 6).interleave(lambda x: from_tensors(x).repeat(6), cycle_length=2, block_length=4)
        let six = numbers.interleave(cycleLength: 2, blockLength: 4) { x in Dataset.fromTensorSlices(Tensor(stacking: Array(repeating: x, count: 6))) }
        XCTAssertEqual(Array(six).map { $0.scalar(as: Int32.self) },
                       [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5])
        // range(1, 7).interleave(lambda x: from_tensors(x).repeat(x), cycle_length=3, block_length=2):
        // datasets of different lengths end mid-cycle and are replaced in place.
        let more = Dataset.fromTensorSlices(Tensor((1...6).map(Int32.init)))
        let uneven = more.interleave(cycleLength: 3, blockLength: 2) { x in
            Dataset.fromTensorSlices(Tensor(stacking: Array(repeating: x, count: Int(x.scalar(as: Int32.self)))))
        }
        XCTAssertEqual(Array(uneven).map { $0.scalar(as: Int32.self) },
                       [1, 2, 2, 3, 3, 4, 4, 3, 4, 4, 5, 5, 6, 6, 5, 5, 6, 6, 5, 6, 6])
        XCTAssertEqual(Array(uneven).count, 21, "a second pass starts over")
        XCTAssertNil(uneven.cardinality)
    }
}
