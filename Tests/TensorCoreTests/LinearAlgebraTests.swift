import XCTest
@_spi(Autodiff) import TensorCore
import TestSupport

/// The LAPACK ops against NumPy/SciPy (float64, printed to 17 digits and written
/// here), batched and unbatched, in both float types, and their identities.
final class LinearAlgebraTests: XCTestCase {
    let spd = Tensor([[4, 2, 0.6], [2, 5, 1], [0.6, 1, 3]] as [[Double]], dtype: .float64)
    let general = Tensor([[2, 1, 0], [-1, 3, 1], [0.5, 0, 1]] as [[Double]], dtype: .float64)
    let rhs = Tensor([[1, 2], [0, -1], [3, 0.5]] as [[Double]], dtype: .float64)

    func testCholeskyAndTriangularSolve() {
        let l = cholesky(spd)
        assertClose(l, Tensor(shape: [3, 3], scalars: [2, 0, 0, 1, 2, 0, 0.3, 0.35, 1.6695807857064] as [Double]), tolerance: 1e-12)
        assertClose(matmul(l, l, transposeB: true), spd, tolerance: 1e-12)
        assertClose(triangularSolve(l, rhs), Tensor(shape: [3, 2], scalars: [0.5, 1, -0.25, -1, 1.759423697941722, 0.32942401152951395] as [Double]),
                    tolerance: 1e-12)
        assertClose(triangularSolve(l, rhs, adjoint: true),
                    Tensor(shape: [3, 2], scalars: [0.38769635970584754, 1.2312827266176414, -0.31445019282362685, -0.5524083654706045,
                                                     1.7968582447064394, 0.2994763741177399] as [Double]), tolerance: 1e-12)
        // The upper triangle is not read, for the factor or the solve.
        let junk = spd + Tensor([[0, 9, 9], [0, 0, 9], [0, 0, 0]] as [[Double]], dtype: .float64)
        XCTAssertEqual(cholesky(junk), l)
        XCTAssertEqual(triangularSolve(l.transposed(), rhs, lower: false, adjoint: true), triangularSolve(l, rhs))
        // Not positive definite: NaN, as JAX.
        XCTAssertTrue(cholesky(Tensor([[1, 2], [2, 1]] as [[Double]], dtype: .float64)).scalars(as: Double.self).allSatisfy(\.isNaN))
    }

    func testSolveInverseAndDeterminants() {
        assertClose(solve(general, rhs), Tensor(shape: [3, 2], scalars: [0.8, 1, -0.6, 0, 2.6, 0] as [Double]), tolerance: 1e-12)
        assertClose(solve(general, rhs, adjoint: true),
                    Tensor(shape: [3, 2], scalars: [-0.2, 0.5, 0.06666666666666665, -0.5, 2.933333333333333, 1] as [Double]), tolerance: 1e-12)
        assertClose(inverse(general),
                    Tensor(shape: [3, 3], scalars: [0.4, -0.13333333333333333, 0.13333333333333333, 0.2, 0.26666666666666666,
                                                     -0.26666666666666666, -0.2, 0.06666666666666667, 0.9333333333333333] as [Double]),
                    tolerance: 1e-12)
        assertClose(solve(general, matmul(general, rhs)), rhs, tolerance: 1e-12)
        let (sign, logAbs) = logDeterminant(general)
        XCTAssertEqual(sign.scalar(as: Double.self), 1)
        XCTAssertEqual(logAbs.scalar(as: Double.self), 2.0149030205422647, accuracy: 1e-13)
        XCTAssertEqual(determinant(general).scalar(as: Double.self), 7.5, accuracy: 1e-12)
        let swapped = logDeterminant(Tensor([[0, 2], [3, 0]] as [[Double]], dtype: .float64))
        XCTAssertEqual(swapped.sign.scalar(as: Double.self), -1)
        XCTAssertEqual(swapped.logAbsDeterminant.scalar(as: Double.self), 1.791759469228055, accuracy: 1e-13)
        // log|det| of an SPD matrix is twice the log-diagonal sum of its Cholesky factor.
        let l = cholesky(spd)
        XCTAssertEqual(logDeterminant(spd).logAbsDeterminant.scalar(as: Double.self),
                       (log((l * Tensor.eye(3, dtype: .float64)).sum(axis: 1)) * 2).sum().scalar(as: Double.self), accuracy: 1e-12)
        // Singular: sign 0, log -inf, a NaN solution.
        let singular = Tensor([[1, 2], [2, 4]] as [[Double]], dtype: .float64)
        XCTAssertEqual(logDeterminant(singular).sign.scalar(as: Double.self), 0)
        XCTAssertEqual(logDeterminant(singular).logAbsDeterminant.scalar(as: Double.self), -.infinity)
        XCTAssertTrue(solve(singular, Tensor.ones([2, 1], dtype: .float64)).scalars(as: Double.self).allSatisfy(\.isNaN))
    }

    func testEigh() {
        let (values, vectors) = eigh(spd)
        assertClose(values, Tensor([2.3724689848089806, 2.7225082073229028, 6.905022807868116] as [Double], dtype: .float64), tolerance: 1e-12)
        // Eigenvectors are defined up to sign: compare magnitudes, and the reconstruction.
        assertClose(abs(vectors), abs(Tensor(shape: [3, 3], scalars: [
            -0.6395061503940451, -0.5013667246014893, -0.582806392441404, 0.6456215540598848, 0.06132834139402199,
            -0.7611909375939513, -0.41737835658008077, 0.8630586550195952, -0.28447331237618506] as [Double])), tolerance: 1e-10)
        assertClose(matmul(vectors * values, vectors, transposeB: true), spd, tolerance: 1e-12)
        assertClose(matmul(vectors, vectors, transposeA: true), Tensor.eye(3, dtype: .float64), tolerance: 1e-12)
    }

    let tall = Tensor([[2, 1], [-1, 3], [0.5, 0]] as [[Double]], dtype: .float64)

    func testQR() {
        let (q, r) = qr(tall)
        assertClose(q, Tensor(shape: [3, 2], scalars: [-0.8728715609439694, -0.44091486446579303, 0.4364357804719848, -0.8970336897752339,
                                                       -0.2182178902359924, -0.03040792168729609] as [Double]), tolerance: 1e-12)
        assertClose(r, Tensor(shape: [2, 2], scalars: [-2.29128784747792, 0.43643578047198495, 0, -3.132015933791495] as [Double]), tolerance: 1e-12)
        assertClose(matmul(q, r), tall, tolerance: 1e-12)
        assertClose(matmul(q, q, transposeA: true), Tensor.eye(2, dtype: .float64), tolerance: 1e-12)
        // Full: an orthogonal 3×3 Q and a 3×2 R whose last row is zero; a wide matrix too.
        let full = qr(tall, fullMatrices: true)
        XCTAssertEqual(full.q.shape, [3, 3])
        XCTAssertEqual(full.r.shape, [3, 2])
        assertClose(matmul(full.q, full.q, transposeA: true), Tensor.eye(3, dtype: .float64), tolerance: 1e-12)
        assertClose(matmul(full.q, full.r), tall, tolerance: 1e-12)
        let wide = tall.transposed()
        let (qw, rw) = qr(wide)
        XCTAssertEqual([qw.shape, rw.shape], [[2, 2], [2, 3]])
        assertClose(matmul(qw, rw), wide, tolerance: 1e-12)
    }

    func testSVDAndPseudoInverse() {
        let (s, u, v) = svd(tall)
        assertClose(s, Tensor([3.1940477479228506, 2.2467885935238683] as [Double], dtype: .float64), tolerance: 1e-12)
        // Singular vectors are defined up to a shared sign: compare magnitudes, and the reconstruction.
        assertClose(abs(u), Tensor(shape: [3, 2], scalars: [0.1829411070785127, 0.9606472978947781, 0.982635427440847, 0.17196874078187888,
                                                            0.03098657901466494, 0.21813647389044383] as [Double]), tolerance: 1e-10)
        assertClose(abs(v), Tensor(shape: [2, 2], scalars: [0.19794522583524812, 0.9802130827371327, 0.9802130827371327,
                                                            0.19794522583524812] as [Double]), tolerance: 1e-10)
        assertClose(matmul(u * s, v, transposeB: true), tall, tolerance: 1e-12)
        let full = svd(tall, fullMatrices: true)
        XCTAssertEqual([full.u.shape, full.v.shape], [[3, 3], [2, 2]])
        assertClose(matmul(full.u, full.u, transposeA: true), Tensor.eye(3, dtype: .float64), tolerance: 1e-12)
        assertClose(pinv(tall), Tensor(shape: [2, 3], scalars: [0.4077669902912622, -0.1359223300970874, 0.09708737864077671,
                                                                0.1407766990291263, 0.28640776699029136, 0.00970873786407767] as [Double]),
                    tolerance: 1e-12)
        // A rank-1 matrix: the zero singular value is dropped.
        assertClose(pinv(Tensor([[1, 2], [2, 4]] as [[Double]], dtype: .float64)),
                    Tensor([[0.04, 0.08], [0.08, 0.16]] as [[Double]], dtype: .float64), tolerance: 1e-12)
    }

    func testBatchedAndFloat32AgreeWithOneAtATime() {
        var generator = RandomGenerator(seed: 7)
        let b = Random.normal([5, 2, 4, 4], dtype: .float64, using: &generator)
        let a = matmul(b, b, transposeB: true) + Tensor.eye(4, dtype: .float64) * 4
        let y = Random.normal([5, 2, 4, 3], dtype: .float64, using: &generator)
        let whole = [cholesky(a), solve(a, y), triangularSolve(cholesky(a), y), logDeterminant(a).logAbsDeterminant,
                     eigh(a).values, svd(a).s, qr(a).r]
        for i in 0..<5 {
            for j in 0..<2 {
                let (ai, yi) = (a[i, j], y[i, j])
                assertClose(whole[0][i, j], cholesky(ai), tolerance: 1e-13)
                assertClose(whole[1][i, j], solve(ai, yi), tolerance: 1e-13)
                assertClose(whole[2][i, j], triangularSolve(cholesky(ai), yi), tolerance: 1e-13)
                assertClose(whole[3][i, j], logDeterminant(ai).logAbsDeterminant, tolerance: 1e-13)
                assertClose(whole[4][i, j], eigh(ai).values, tolerance: 1e-13)
                assertClose(whole[5][i, j], svd(ai).s, tolerance: 1e-13)
                assertClose(whole[6][i, j], qr(ai).r, tolerance: 1e-13)
            }
        }
        let a32 = a.cast(to: .float32), y32 = y.cast(to: .float32)
        XCTAssertEqual(cholesky(a32).dtype, .float32)
        assertClose(cholesky(a32), whole[0], tolerance: 1e-5)
        assertClose(solve(a32, y32), whole[1], tolerance: 1e-4)
        assertClose(logDeterminant(a32).logAbsDeterminant, whole[3], tolerance: 1e-5)
        assertClose(eigh(a32).values, whole[4], tolerance: 1e-5)
    }

    func testNaNInputsGiveNaNAndBatchesBroadcast() {
        let withNaN = Tensor([[1, .nan], [0, 1]] as [[Double]], dtype: .float64)
        XCTAssertTrue(logDeterminant(withNaN).sign.scalar(as: Double.self).isNaN)
        XCTAssertTrue(determinant(withNaN).scalar(as: Double.self).isNaN)
        // One factor against a batch of right-hand sides, as TF broadcasts them.
        let l = cholesky(spd), bs = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Double.init))
        let x = triangularSolve(l, bs)
        XCTAssertEqual(x.shape, [2, 3, 2])
        assertClose(x[1], triangularSolve(l, bs[1]), tolerance: 1e-13)
        assertClose(solve(spd, bs)[0], solve(spd, bs[0]), tolerance: 1e-13)
    }

    func testBadShapesNameTheOp() {
        assertTraps("cholesky: expected square matrices in the last two axes, got shape (2, 3)") { _ = cholesky(Tensor.ones([2, 3])) }
        assertTraps("solve: expected a right-hand side of shape (..., 2, k) with the matrices' leading axes, got (2, 2) and (3, 1)") {
            _ = solve(Tensor.ones([2, 2]), Tensor.ones([3, 1]))
        }
        assertTraps("eigh: expected a float32 or float64 tensor, got int32") { _ = eigh(Tensor([[1, 0], [0, 1]] as [[Int32]])) }
    }
}
