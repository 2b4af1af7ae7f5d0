@_spi(Autodiff) import TensorCore

// The gradients of the LAPACK ops, written with differentiable ops (triangular
// solves, solves, matmuls, masks) so that nested tapes give second derivatives.
// Cholesky and eigh read only the lower triangle of their input, so their
// gradients are those of that triangle: zero above the diagonal (the gradient of
// the symmetric matrix, as TensorFlow's Cholesky rule gives it, is half of this
// below the diagonal and the same on it; both give the same gradient to any
// parameter the symmetric input is built from).

func linalgGradients(_ op: LinalgOp, inputs x: OpInputs, output y: Tensor, upstream g: Tensor, needs: [Bool]) -> [Tensor?] {
    switch op {
    case .cholesky:
        // Murray (2016): with Φ the lower triangle with its diagonal halved,
        // the symmetric input's gradient comes from L⁻ᵀ·Φ(Lᵀ·Ḡ)·L⁻¹.
        let n = y.shape[y.rank - 1]
        let lower = triangleMask(n, lower: true, like: y), eye = Tensor.eye(n, dtype: y.dtype)
        let m = matmul(y, g * lower, transposeA: true)
        let phi = m * lower - m * eye * 0.5
        let lInverse = triangularSolve(y, eye.broadcasted(to: y.shape))
        return [lowerTriangleGradient(matmul(matmul(lInverse, phi, transposeA: true), lInverse))]
    case .triangularSolve(let lower, let adjoint):
        let gb = triangularSolve(x[0], g, lower: lower, adjoint: !adjoint)
        let ga = needs[0] ? -(adjoint ? matmul(y, gb, transposeB: true) : matmul(gb, y, transposeB: true))
            * triangleMask(x[0].shape[x[0].rank - 1], lower: lower, like: y) : nil
        return [ga, needs[1] ? gb : nil]
    case .solve(let adjoint):
        let gb = solve(x[0], g, adjoint: !adjoint)
        let ga = needs[0] ? -(adjoint ? matmul(y, gb, transposeB: true) : matmul(gb, y, transposeB: true)) : nil
        return [ga, needs[1] ? gb : nil]
    case .logAbsDeterminant:
        // d log|det A| = tr(A⁻¹ dA): the gradient is A⁻ᵀ.
        let n = x[0].shape[x[0].rank - 1]
        let inverseTransposed = solve(x[0], Tensor.eye(n, dtype: x[0].dtype).broadcasted(to: x[0].shape), adjoint: true)
        return [g.reshaped(to: TensorShape(g.shape.dimensions + [1, 1])) * inverseTransposed]
    case .determinantSign:
        return [Tensor.zeros(like: x[0])]
    case .eigh:
        // A = V·diag(λ)·Vᵀ: the symmetric input's gradient is
        // V·(diag(ḡλ) + F∘(Vᵀ·ḡV))·Vᵀ with F_ij = 1/(λ_j - λ_i) off the diagonal.
        let n = y.shape[y.rank - 1]
        let values = y[.ellipsis, 0..<1, .all], vectors = y[.ellipsis, 1..<(n + 1), .all]
        let gValues = g[.ellipsis, 0..<1, .all], gVectors = g[.ellipsis, 1..<(n + 1), .all]
        let eye = Tensor.eye(n, dtype: y.dtype)
        let gaps = values - values.transposed(permutation: lastTwoSwapped(y.rank))   // λ_j - λ_i
        // Zero where two eigenvalues are equal (as TF's _SafeReciprocal), not inf·0 = NaN.
        let f = safeReciprocal(gaps) * (1 - eye)
        let inner = gValues * eye + f * matmul(vectors, gVectors, transposeA: true)
        return [lowerTriangleGradient(matmul(matmul(vectors, inner), vectors, transposeB: true))]
    case .qr(let full):
        // TensorFlow's rules: for m ≥ n (R square) directly; for m < n, A = [X | Y]
        // with X square: X by the square rule, Y's gradient Q·ḡR_Y.
        let (m, n) = (x[0].shape[x[0].rank - 2], x[0].shape[x[0].rank - 1])
        precondition(!full || m <= n, "qr: the gradient of the full form is defined for m ≤ n; got \(m)×\(n) with fullMatrices")
        let k = min(m, n)
        let q = y[.ellipsis, 0..<m, 0..<k], r = y[.ellipsis, m..<(m + k), 0..<n]
        let gq = g[.ellipsis, 0..<m, 0..<k], gr = g[.ellipsis, m..<(m + k), 0..<n]
        if m >= n { return [qrSquareGradient(q: q, r: r, gq: gq, gr: gr)] }
        let (u, gu, gv) = (r[.ellipsis, 0..<m], gr[.ellipsis, 0..<m], gr[.ellipsis, m..<n])
        let rest = x[0][.ellipsis, m..<n]
        let gx = qrSquareGradient(q: q, r: u, gq: gq + matmul(rest, gv, transposeB: true), gr: gu)
        return [Tensor(concatenating: [gx, matmul(q, gv)], alongAxis: y.rank - 1)]
    case .svd(let full):
        // Townsend (2016), reduced form: with F_ij = 1/(s_j² - s_i²) off the diagonal,
        // U·(F∘(UᵀḡU - ḡUᵀU)·S + diag(ḡS) + S·F∘(VᵀḡV - ḡVᵀV))·Vᵀ
        // + (I - UUᵀ)·ḡU·S⁻¹·Vᵀ + U·S⁻¹·ḡVᵀ·(I - VVᵀ).
        let (m, n) = (x[0].shape[x[0].rank - 2], x[0].shape[x[0].rank - 1])
        precondition(!full || m == n, "svd: the gradient is defined for the reduced form; got \(m)×\(n) with fullMatrices")
        let k = min(m, n)
        let u = y[.ellipsis, 0..<m, 0..<k], s = y[.ellipsis, m..<(m + 1), 0..<k], v = y[.ellipsis, (m + 1)..<(m + 1 + n), 0..<k]
        let gu = g[.ellipsis, 0..<m, 0..<k], gs = g[.ellipsis, m..<(m + 1), 0..<k], gv = g[.ellipsis, (m + 1)..<(m + 1 + n), 0..<k]
        let swap = lastTwoSwapped(y.rank), eye = Tensor.eye(k, dtype: y.dtype)
        let s2 = s * s, sColumn = s.transposed(permutation: swap)
        // Zero where two singular values are equal, and 1/s zero where s is, as TF's
        // _SafeReciprocal (the rule is undefined there; this keeps it finite).
        let f = safeReciprocal(s2 - s2.transposed(permutation: swap)) * (1 - eye)
        let utgu = matmul(u, gu, transposeA: true), vtgv = matmul(v, gv, transposeA: true)
        let j = f * (utgu - utgu.transposed(permutation: swap)), kk = f * (vtgv - vtgv.transposed(permutation: swap))
        let core = j * s + gs * eye + sColumn * kk
        var ga = matmul(matmul(u, core), v, transposeB: true)
        let sInverse = safeReciprocal(s)
        let guScaled = gu * sInverse
        ga = ga + matmul(guScaled - matmul(u, matmul(u, guScaled, transposeA: true)), v, transposeB: true)
        let gvScaled = gv * sInverse
        ga = ga + matmul(u, (gvScaled - matmul(v, matmul(v, gvScaled, transposeA: true))), transposeB: true)
        return [ga]
    }
}

/// 1/x, and 0 where x is 0.
private func safeReciprocal(_ x: Tensor) -> Tensor {
    let zero = x .== Tensor(0, dtype: x.dtype)
    return `where`(zero, Tensor.zeros(like: x), 1 / `where`(zero, Tensor.ones(like: x), x))
}

/// TensorFlow's QR gradient for a square R (m ≥ n, reduced).
private func qrSquareGradient(q: Tensor, r: Tensor, gq: Tensor, gr: Tensor) -> Tensor {
    let swap = lastTwoSwapped(q.rank), n = r.shape[r.rank - 1]
    /// z·R⁻ᵀ, as (R⁻¹·zᵀ)ᵀ.
    func timesRInverseTransposed(_ z: Tensor) -> Tensor {
        triangularSolve(r, z.transposed(permutation: swap), lower: false).transposed(permutation: swap)
    }
    let qdq = matmul(q, gq, transposeA: true), rdr = matmul(r, gr, transposeB: true)
    let tril = (qdq - qdq.transposed(permutation: swap) + rdr - rdr.transposed(permutation: swap)) * triangleMask(n, lower: true, like: q)
    return matmul(q, gr + timesRInverseTransposed(tril)) + timesRInverseTransposed(gq - matmul(q, qdq))
}

/// The permutation of `rank` axes that swaps the last two.
private func lastTwoSwapped(_ rank: Int) -> [Int] { Array(0..<(rank - 2)) + [rank - 1, rank - 2] }

/// Ones on and below (`lower`) or above the diagonal of an n×n matrix of `like`'s dtype.
private func triangleMask(_ n: Int, lower: Bool, like t: Tensor) -> Tensor {
    var scalars = [Double](repeating: 0, count: n * n)
    for r in 0..<n { for c in 0..<n where lower ? c <= r : c >= r { scalars[r * n + c] = 1 } }
    return Tensor(shape: [n, n], scalars: scalars).cast(to: t.dtype)
}

/// The gradient of a function of the lower triangle of its input, which it reads
/// as the symmetric matrix S, from h, the gradient in S's entries taken apart:
/// h_ij + h_ji below the diagonal, h_ii on it, zero above.
private func lowerTriangleGradient(_ h: Tensor) -> Tensor {
    let n = h.shape[h.rank - 1]
    let strictlyLower = triangleMask(n, lower: true, like: h) - Tensor.eye(n, dtype: h.dtype)
    return (h + h.transposed(permutation: lastTwoSwapped(h.rank))) * strictlyLower + h * Tensor.eye(n, dtype: h.dtype)
}
