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
        let f = (1 - eye) / (gaps + eye)
        let inner = gValues * eye + f * matmul(vectors, gVectors, transposeA: true)
        return [lowerTriangleGradient(matmul(matmul(vectors, inner), vectors, transposeB: true))]
    }
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
