import XCTest
import TensorCore
import TestSupport

/// einsum against NumPy's values (written here) and the ops it stands for.
final class EinsumTests: XCTestCase {
    var generator = RandomGenerator(seed: 5)
    func random(_ shape: TensorShape) -> Tensor { Random.normal(shape, dtype: .float64, using: &generator) }

    func testValuesFromNumPy() {
        let a = Tensor(shape: [2, 3], scalars: (0..<6).map(Double.init))
        let b = Tensor(shape: [3, 4], scalars: (0..<12).map { Double($0) - 5 })
        let c = Tensor([[1, 2], [3, 4], [5, 6], [7, 8]] as [[Double]], dtype: .float64)
        XCTAssertEqual(einsum("ij,jk,kl->il", a, b, c).scalars(as: Double.self), [182, 220, 344, 400])
        let m = Tensor(shape: [3, 3], scalars: (0..<9).map(Double.init))
        XCTAssertEqual(einsum("ii->i", m).scalars(as: Double.self), [0, 4, 8])
        XCTAssertEqual(einsum("ii", m).scalar(as: Double.self), 12)
        XCTAssertEqual(einsum("bij->j", Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Double.init))).scalars(as: Double.self), [60, 66, 72, 78])
        XCTAssertEqual(einsum("iij->ij", Tensor(shape: [3, 3, 2], scalars: (0..<18).map(Double.init))).scalars(as: Double.self),
                       [0, 1, 8, 9, 16, 17])
    }

    func testTheOpsItStandsFor() {
        let (x, y) = (random([2, 3, 4]), random([2, 4, 5]))
        assertClose(einsum("bij,bjk->bik", x, y), matmul(x, y), tolerance: 1e-12)
        assertClose(einsum("ij->ji", x[0]), x[0].transposed(), tolerance: 0)
        let (q, k) = (random([2, 3, 4, 5]), random([2, 3, 6, 5]))
        assertClose(einsum("bhqd,bhkd->bhqk", q, k), matmul(q, k, transposeB: true), tolerance: 1e-12)
        assertClose(einsum("...ij,...jk->...ik", q, k.transposed(permutation: [0, 1, 3, 2])), matmul(q, k, transposeB: true), tolerance: 1e-12)
        // Ellipses of different lengths broadcast from the end.
        let w = random([5, 7])
        assertClose(einsum("...ij,jk->...ik", q, w), matmul(q, w.broadcasted(to: [2, 3, 5, 7])), tolerance: 1e-12)
        let (u, v) = (random([4]), random([3]))
        assertClose(einsum("i,j->ij", u, v), u.reshaped(to: [4, 1]) * v, tolerance: 1e-12)
        assertClose(einsum("i,i->", u, u), (u * u).sum(), tolerance: 1e-12)
        // Implicit output: the labels seen once, alphabetically.
        assertClose(einsum("ij,jk", x[0], y[0]), matmul(x[0], y[0]), tolerance: 1e-12)
        assertClose(einsum("ba", x[0]), x[0].transposed(), tolerance: 0)
    }

    func testEllipsisAxesBroadcastAndRepeatedLabels() {
        let y = einsum("...ij,...jk->...ik", Tensor.ones([1, 2, 3]), Tensor.ones([5, 3, 4]))
        XCTAssertEqual(y.shape, [5, 2, 4])
        XCTAssertTrue(y.scalars(as: Float.self).allSatisfy { $0 == 3 })
        let batch = random([2, 3, 3])
        assertClose(einsum("...ii->...i", batch), Tensor(concatenating: [einsum("ii->i", batch[0]), einsum("ii->i", batch[1])]).reshaped(to: [2, 3]),
                    tolerance: 0)
        // A label shared by the first and third operands only.
        let (a, b, c) = (random([2, 3]), random([4]), random([2, 5]))
        assertClose(einsum("ij,k,il->jkl", a, b, c),
                    (a.reshaped(to: [2, 3, 1, 1]) * b.reshaped(to: [1, 1, 4, 1]) * c.reshaped(to: [2, 1, 1, 5])).sum(axis: 0), tolerance: 1e-12)
    }

    func testGradientsToSecondOrder() {
        checkGradients([random([2, 3, 4]), random([2, 4, 2])]) { einsum("bij,bjk->bik", $0[0], $0[1]) }
        checkGradients([random([3, 3])]) { x in einsum("ii->i", x[0]) * einsum("ij,jk->ik", x[0], x[0]).sum() }
        checkGradients([random([2, 3]), random([3, 4]), random([4])]) { einsum("ij,jk,k->i", $0[0], $0[1], $0[2]) }
    }

    func testUnsupportedEquationsSayWhy() {
        let m = Tensor.ones([2, 3])
        assertTraps("einsum(\"ij,jk->ik\"): 2 input terms for 1 operands") { _ = einsum("ij,jk->ik", m) }
        assertTraps("einsum(\"ijk->i\"): the term 'ijk' has 3 labels for an operand of rank 2 (shape (2, 3))") { _ = einsum("ijk->i", m) }
        assertTraps("einsum(\"ij->iz\"): the output label 'z' is in no input") { _ = einsum("ij->iz", m) }
        assertTraps("einsum(\"ij,ij->i\"): the label 'i' has size 2 and 3") { _ = einsum("ij,ij->i", m, m.transposed()) }
        assertTraps("einsum(\"i2->i\"): only letters, ',', '->' and '...' may appear") { _ = einsum("i2->i", m) }
        assertTraps("einsum(\"i..j->ij\"): a '.' outside '...'") { _ = einsum("i..j->ij", m) }
        assertTraps("einsum(\"ij->i->j\"): more than one '->'") { _ = einsum("ij->i->j", m) }
    }
}
