import XCTest
@_spi(Autodiff) import Autodiff
import Compile
import TestSupport

/// The LAPACK ops' gradients against float64 finite differences, first and second
/// order (through nested tapes), batched; and in a compiled step.
final class LinalgGradientTests: XCTestCase {
    var generator = RandomGenerator(seed: 11)

    /// Well-conditioned symmetric positive-definite matrices (batch 2 of n×n).
    func spd(_ n: Int) -> Tensor {
        let b = Random.normal([2, n, n], dtype: .float64, using: &generator)
        return matmul(b, b, transposeB: true) + Tensor.eye(n, dtype: .float64) * Double(n)
    }

    func testCholesky() {
        // Junk above the diagonal: the op ignores it, and so must its gradient.
        let a = spd(3) + Tensor([[0, 5, 5], [0, 0, 5], [0, 0, 0]] as [[Double]], dtype: .float64)
        checkGradients([a]) { cholesky($0[0]) }
    }

    func testTriangularSolve() {
        let l = cholesky(spd(3)), b = Random.normal([2, 3, 2], dtype: .float64, using: &generator)
        checkGradients([l, b]) { triangularSolve($0[0], $0[1]) }
        checkGradients([l.transposed(permutation: [0, 2, 1]), b]) { triangularSolve($0[0], $0[1], lower: false, adjoint: true) }
    }

    func testSolveAndInverse() {
        let a = Random.normal([2, 3, 3], dtype: .float64, using: &generator) + Tensor.eye(3, dtype: .float64) * 3
        let b = Random.normal([2, 3, 2], dtype: .float64, using: &generator)
        checkGradients([a, b]) { solve($0[0], $0[1]) }
        checkGradients([a, b]) { solve($0[0], $0[1], adjoint: true) }
        checkGradients([a]) { inverse($0[0]) }
    }

    func testDeterminants() {
        let a = Random.normal([2, 3, 3], dtype: .float64, using: &generator) + Tensor.eye(3, dtype: .float64) * 3
        checkGradients([a]) { logDeterminant($0[0]).logAbsDeterminant }
        checkGradients([a]) { determinant($0[0]) }
    }

    func testEigh() {
        let a = spd(4)
        checkGradients([a]) { eigh($0[0]).values }
        // Eigenvectors up to sign: a sign-free function of them (each one's outer product).
        checkGradients([a]) { x in
            let v = eigh(x[0]).vectors
            return v * v
        }
    }

    func testQR() {
        let a = Random.normal([2, 4, 3], dtype: .float64, using: &generator)
        checkGradients([a]) { qr($0[0]).r }
        checkGradients([a]) { qr($0[0]).q }
        let square = Random.normal([3, 3], dtype: .float64, using: &generator)
        checkGradients([square]) { x in let (q, r) = qr(x[0], fullMatrices: true); return matmul(q, r) * q.sum() }
    }

    /// u·diag(s) for batched u (..., m, k) and s (..., k).
    func scaledColumns(_ u: Tensor, _ s: Tensor) -> Tensor {
        u * s.reshaped(to: TensorShape(s.shape.dimensions.dropLast() + [1, s.shape[s.rank - 1]]))
    }

    func testSVDAndPseudoInverse() {
        let tall = Random.normal([2, 4, 3], dtype: .float64, using: &generator)
        checkGradients([tall]) { svd($0[0]).s }
        // Singular vectors up to a shared sign: sign-free functions of them.
        checkGradients([tall]) { x in let u = svd(x[0]).u; return u * u }
        checkGradients([tall]) { x in let v = svd(x[0]).v; return v * v }
        checkGradients([tall]) { x in let (s, u, v) = svd(x[0]); return matmul(self.scaledColumns(u, s), v, transposeB: true) }
        checkGradients([tall.transposed(permutation: [0, 2, 1])]) { x in let (s, u, v) = svd(x[0]); return matmul(self.scaledColumns(u, s * s), v, transposeB: true) }
        checkGradients([tall]) { pinv($0[0]) }
    }

    func testWideQRAndBroadcastSolves() {
        let wide = Random.normal([2, 3, 5], dtype: .float64, using: &generator)
        checkGradients([wide]) { qr($0[0]).r }
        checkGradients([wide]) { x in let (q, r) = qr(x[0]); return q * r.sum() }
        let a = Random.normal([3, 3], dtype: .float64, using: &generator) + Tensor.eye(3, dtype: .float64) * 3
        checkGradients([a, Random.normal([2, 3, 2], dtype: .float64, using: &generator)]) { solve($0[0], $0[1]) }
    }

    /// Where the eigh and SVD rules are undefined (repeated or zero values), the
    /// gradient stays finite, as TensorFlow's: the trace's and the nuclear norm's
    /// gradient at the identity is the identity.
    func testRepeatedValuesGiveFiniteGradients() {
        func gradient(_ a: Tensor, _ f: (Tensor) -> Tensor) -> Tensor {
            let tape = GradientTape()
            tape.watch(a)
            let y = tape.record { f(a).sum() }
            return tape.gradient(of: y, wrt: a)!
        }
        let eye = Tensor.eye(3, dtype: .float64)
        XCTAssertEqual(gradient(eye) { eigh($0).values }, eye)
        assertClose(gradient(eye) { svd($0).s }, eye, tolerance: 1e-12)
        let rankOne = Tensor([[1, 2], [2, 4]] as [[Double]], dtype: .float64)
        XCTAssertTrue(gradient(rankOne) { pinv($0) }.scalars(as: Double.self).allSatisfy(\.isFinite))
    }

    func testInACompiledStep() {
        let f = compiled { (a: Tensor) -> Tensor in
            let tape = GradientTape()
            tape.watch(a)
            let y = tape.record { logDeterminant(a).logAbsDeterminant.sum() + cholesky(a).sum() }
            return tape.gradient(of: y, wrt: a)!
        }
        for a in [spd(3), spd(3)] {
            let tape = GradientTape()
            tape.watch(a)
            let y = tape.record { logDeterminant(a).logAbsDeterminant.sum() + cholesky(a).sum() }
            assertClose(f(a), tape.gradient(of: y, wrt: a)!, tolerance: 1e-12)
        }
        XCTAssertEqual(f.traceCount, 1)
    }
}
