import XCTest
@testable import TensorCore
import TestSupport

final class ShapeTests: XCTestCase {
    let x = Tensor.range(0, 6).reshaped(to: [2, 3])

    /// Python-style negative axes, as the `Layer` docs write `inputShape[-1]`.
    func testShapeSubscriptsCountNegativeAxesFromTheEnd() {
        var shape: TensorShape = [2, 3, 5]
        XCTAssertEqual(shape[-1], 5)
        XCTAssertEqual(shape[-3], 2)
        XCTAssertEqual(shape[1], 3)
        shape[-2] = 7
        XCTAssertEqual(shape, [2, 7, 5])
        XCTAssertEqual(Array(shape), [2, 7, 5])
        assertTraps("TensorShape: axis -4 is out of range for shape (2, 7, 5) of rank 3") { _ = shape[-4] }
    }

    func testReshapeSharesAndInfers() {
        XCTAssertEqual(x.reshaped(to: [3, -1]).shape, [3, 2])
        XCTAssertEqual(x.reshaped(to: [-1]).scalars(as: Int32.self), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(Tensor(Int32(5)).reshaped(to: [1, 1]).shape, [1, 1])
        XCTAssertEqual(Tensor.zeros([0, 4]).reshaped(to: [-1, 2]).shape, [0, 2])
    }

    func testTranspose() {
        XCTAssertEqual(x.transposed().array(as: [[Int32]].self), [[0, 3], [1, 4], [2, 5]])
        let t = Tensor.range(0, 24).reshaped(to: [2, 3, 4])
        let p = t.transposed(permutation: [2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(p[3, 1, 2].scalar(as: Int32.self), t[1, 2, 3].scalar(as: Int32.self))
    }

    func testExpandAndSqueeze() {
        XCTAssertEqual(x.expandingShape(at: 0).shape, [1, 2, 3])
        XCTAssertEqual(x.expandingShape(at: -1).shape, [2, 3, 1])
        XCTAssertEqual(Tensor.zeros([1, 3, 1]).squeezingShape().shape, [3])
        XCTAssertEqual(Tensor.zeros([1, 3, 1]).squeezingShape(at: -1).shape, [1, 3])
    }

    func testConcatStackSplit() {
        let c = Tensor(concatenating: [x, x * 10], alongAxis: 1)
        XCTAssertEqual(c.array(as: [[Int32]].self), [[0, 1, 2, 0, 10, 20], [3, 4, 5, 30, 40, 50]])
        XCTAssertEqual(x.concatenated(with: x).shape, [4, 3])
        XCTAssertEqual(Tensor(stacking: [x, x], alongAxis: 1).shape, [2, 2, 3])
        XCTAssertEqual(Tensor(stacking: [x, x], alongAxis: -1).shape, [2, 3, 2])
        let parts = c.split(count: 2, alongAxis: 1)
        XCTAssertEqual(parts[0], x)
        XCTAssertEqual(parts[1], x * 10)
        let sized = x.split(sizes: [1, 2], alongAxis: -1)
        XCTAssertEqual(sized.map(\.shape), [[2, 1], [2, 2]])
        XCTAssertEqual(sized[1].array(as: [[Int32]].self), [[1, 2], [4, 5]])
    }

    func testBroadcastAndTile() {
        XCTAssertEqual(Tensor([1, 2]).broadcasted(to: [3, 2]).array(as: [[Int32]].self), [[1, 2], [1, 2], [1, 2]])
        XCTAssertEqual(Tensor([[1], [2]]).broadcasted(to: [2, 3]).array(as: [[Int32]].self), [[1, 1, 1], [2, 2, 2]])
        XCTAssertEqual(Tensor([[1, 2]]).tiled(multiples: [2, 2]).array(as: [[Int32]].self), [[1, 2, 1, 2], [1, 2, 1, 2]])
    }

    func testGatherOneHotWhere() {
        let g = x.gathering(atIndices: Tensor([2, 0]), alongAxis: 1)
        XCTAssertEqual(g.array(as: [[Int32]].self), [[2, 0], [5, 3]])
        XCTAssertEqual(x.gathering(atIndices: Tensor([[1], [0]])).shape, [2, 1, 3])
        XCTAssertEqual(oneHot(Tensor([0, 2, 5]), depth: 3).array(as: [[Float]].self),
                       [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
        XCTAssertEqual(oneHot(Tensor([1]), depth: 2, onValue: 5, offValue: -1, dtype: .int32).scalars(as: Int32.self), [-1, 5])
        let w = `where`(x .> 2, x, Tensor(Int32(-1)))
        XCTAssertEqual(w.array(as: [[Int32]].self), [[-1, -1, -1], [3, 4, 5]])
        XCTAssertEqual(`where`(Tensor([true, false]), Tensor([[1.0], [2.0]]), Tensor([0.0])).array(as: [[Float]].self),
                       [[1, 0], [2, 0]])
    }

    func testSubscripts() {
        let t = Tensor.range(0, 24).reshaped(to: [2, 3, 4])
        XCTAssertEqual(t[1, 2, 3].scalar(as: Int32.self), 23)
        XCTAssertEqual(t[-1, -1, -1].scalar(as: Int32.self), 23)
        XCTAssertEqual(t[0].shape, [3, 4])
        XCTAssertEqual(t[.all, 1].array(as: [[Int32]].self), [[4, 5, 6, 7], [16, 17, 18, 19]])
        XCTAssertEqual(t[0, .all, 1..<3].array(as: [[Int32]].self), [[1, 2], [5, 6], [9, 10]])
        XCTAssertEqual(t[0, 0, 1...].scalars(as: Int32.self), [1, 2, 3])
        XCTAssertEqual(t[0, 0, ..<2].scalars(as: Int32.self), [0, 1])
        XCTAssertEqual(t[0, 0, ...(-2)].scalars(as: Int32.self), [0, 1, 2])
        XCTAssertEqual(t[0, 0, (-3)...(-1)].scalars(as: Int32.self), [1, 2, 3])
        XCTAssertEqual(t[.ellipsis, 0].shape, [2, 3])
        XCTAssertEqual(t[0, .newAxis].shape, [1, 3, 4])
        XCTAssertEqual(t[0, 0, .range(nil, nil, stride: -1)].scalars(as: Int32.self), [3, 2, 1, 0])
        XCTAssertEqual(t[0, 0, .range(1, nil, stride: 2)].scalars(as: Int32.self), [1, 3])
        XCTAssertEqual(t[0, 0, .range(0, -1)].scalars(as: Int32.self), [0, 1, 2])
        XCTAssertEqual(t[0, 0, .range(10, 20)].count, 0)
        // The hypernetwork's w[:, i:j].
        let w = Tensor.range(0, 20).reshaped(to: [2, 10])
        XCTAssertEqual(w[.all, 3..<6].array(as: [[Int32]].self), [[3, 4, 5], [13, 14, 15]])
    }
}
