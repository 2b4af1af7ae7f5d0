import XCTest
import TensorCore
import Autodiff
import TestSupport

/// Segment sums against TensorFlow's values (written here).
final class SegmentsTests: XCTestCase {
    func testSegmentSumsAsTensorFlow() {
        let data = Tensor([[1, 2], [3, 4], [5, 6], [7, 8]] as [[Double]], dtype: .float64)
        XCTAssertEqual(data.unsortedSegmentSum(Tensor([2, 0, -1, 2] as [Int32]), segmentCount: 3).scalars(as: Double.self), [3, 4, 0, 0, 8, 10])
        XCTAssertEqual(data.segmentSum(Tensor([0, 0, 1, 3] as [Int32])).scalars(as: Double.self), [4, 6, 5, 6, 0, 0, 7, 8])
        checkGradients([data]) { $0[0].unsortedSegmentSum(Tensor([2, 0, -1, 2] as [Int32]), segmentCount: 3) }
        assertTraps("unsortedSegmentSum: segment id 3 is out of range for 3 segments") {
            _ = data.unsortedSegmentSum(Tensor([0, 3, 1, 1] as [Int32]), segmentCount: 3)
        }
        assertTraps("segmentSum: segment ids must be sorted and non-negative; use unsortedSegmentSum otherwise") {
            _ = data.segmentSum(Tensor([1, 0, 0, 0] as [Int32]))
        }
    }
}
