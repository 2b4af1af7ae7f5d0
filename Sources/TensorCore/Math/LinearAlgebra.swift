import CBLAS
import Glibc

/// The linear-algebra ops computed by LAPACK (and BLAS's triangular solve), each
/// named once; the public functions (``cholesky(_:)``, ``solve(_:_:adjoint:)``, ...),
/// the gradient table and a compiled graph's replay all switch over it. Matrices
/// are the last two axes, batched over the leading ones; float32 and float64.
public enum LinalgOp: Sendable, Equatable {
    /// The lower Cholesky factor of a symmetric positive-definite matrix (input A,
    /// whose lower triangle is read).
    case cholesky
    /// X with A·X = B, or Aᵀ·X = B with `adjoint`, for triangular A (inputs A, B;
    /// the other triangle of A is not read).
    case triangularSolve(lower: Bool, adjoint: Bool)
    /// X with A·X = B, or Aᵀ·X = B with `adjoint`, by LU with partial pivoting (inputs A, B).
    case solve(adjoint: Bool)
    /// log |det A|, by LU (input A).
    case logAbsDeterminant
    /// The sign of det A: -1, 0 or 1 (input A); its gradient is zero.
    case determinantSign
    /// The eigenvalues (ascending) and eigenvectors of a symmetric matrix (input A,
    /// whose lower triangle is read), packed as one (n + 1)×n matrix per batch
    /// element: row 0 the eigenvalues, rows 1...n the matrix whose columns are
    /// the eigenvectors. ``eigh(_:)`` splits it.
    case eigh
    /// Q and R with A = Q·R (input A, m×n; R has k = min(m, n) rows, or m with
    /// `fullMatrices`), packed as one (m + k)×max(n, k) matrix: rows 0..<m hold Q
    /// in their first k columns, the rest R in their first n. ``qr(_:fullMatrices:)`` splits it.
    case qr(fullMatrices: Bool)
    /// U, S and V with A = U·diag(S)·Vᵀ (input A, m×n; k = min(m, n)), packed as
    /// one matrix of m + 1 + n rows: U, then S, then V, each in the first columns.
    /// ``svd(_:fullMatrices:)`` splits it.
    case svd(fullMatrices: Bool)

    /// The name errors and traces use.
    public var name: String {
        switch self {
        case .cholesky: return "cholesky"
        case .triangularSolve: return "triangularSolve"
        case .solve: return "solve"
        case .logAbsDeterminant: return "logAbsDeterminant"
        case .determinantSign: return "determinantSign"
        case .eigh: return "eigh"
        case .qr: return "qr"
        case .svd: return "svd"
        }
    }
}

// MARK: - public functions

/// The lower-triangular L with `L·Lᵀ = a`, for symmetric positive-definite
/// matrices in the last two axes (only their lower triangles are read), as
/// `tf.linalg.cholesky`. A matrix that is not positive definite gives NaN
/// everywhere in its factor (as JAX; check with `isFinite`). Differentiable to any
/// order (Murray 2016), with the gradient of the symmetric input.
///
/// ```swift
/// let l = cholesky(Tensor([[4, 2], [2, 3]] as [[Double]]))   // [[2, 0], [1, 1.414]]
/// ```
public func cholesky(_ a: Tensor) -> Tensor { linalg(.cholesky, [a]) }

/// X with `a·X = b` for a triangular `a` (lower by default; the other triangle is
/// not read), or `aᵀ·X = b` with `adjoint`, as `tf.linalg.triangular_solve`.
/// `a` is (..., n, n) and `b` (..., n, k); their leading axes broadcast.
///
/// ```swift
/// let l = cholesky(x)
/// let z = triangularSolve(l, y)   // l·z = y
/// ```
public func triangularSolve(_ a: Tensor, _ b: Tensor, lower: Bool = true, adjoint: Bool = false) -> Tensor {
    let (a, b) = broadcastBatches(a, b, op: "triangularSolve")
    return linalg(.triangularSolve(lower: lower, adjoint: adjoint), [a, b])
}

/// X with `a·X = b` (`aᵀ·X = b` with `adjoint`), by LU with partial pivoting, as
/// `tf.linalg.solve`. `a` is (..., n, n) and `b` (..., n, k); their leading axes
/// broadcast. A singular `a` gives NaN everywhere in its solution.
///
/// ```swift
/// let x = solve(Tensor([[2, 1], [1, 3]] as [[Double]]), Tensor([[3], [5]] as [[Double]]))   // [[0.8], [1.4]]
/// ```
public func solve(_ a: Tensor, _ b: Tensor, adjoint: Bool = false) -> Tensor {
    let (a, b) = broadcastBatches(a, b, op: "solve")
    return linalg(.solve(adjoint: adjoint), [a, b])
}

/// `a` and `b` with their leading (batch) axes broadcast against each other, as
/// TF's solves broadcast them; the broadcast's gradient sums back.
private func broadcastBatches(_ a: Tensor, _ b: Tensor, op: String) -> (Tensor, Tensor) {
    precondition(a.rank >= 2 && b.rank >= 2, "\(op): expected matrices in the last two axes, got shapes \(a.shape) and \(b.shape)\(currentScopeDescription)")
    let (batchA, batchB) = (TensorShape(Array(a.shape.dimensions.dropLast(2))), TensorShape(Array(b.shape.dimensions.dropLast(2))))
    if batchA == batchB { return (a, b) }
    let batch = broadcastShape(batchA, batchB, op: "\(op) (batch axes)").dimensions
    return (a.broadcasted(to: TensorShape(batch + a.shape.dimensions.suffix(2))), b.broadcasted(to: TensorShape(batch + b.shape.dimensions.suffix(2))))
}

/// The inverse of each matrix in the last two axes, as `tf.linalg.inv`: `solve(a, I)`.
/// A singular matrix gives NaN.
///
/// ```swift
/// inverse(Tensor([[2, 0], [0, 4]] as [[Float]]))   // [[0.5, 0], [0, 0.25]]
/// ```
public func inverse(_ a: Tensor) -> Tensor {
    checkSquare(a, op: "inverse")
    let n = a.shape[a.rank - 1]
    return solve(a, Tensor.eye(n, dtype: a.dtype).broadcasted(to: a.shape))
}

/// The sign and the log of the absolute value of each matrix's determinant, as
/// `tf.linalg.slogdet`: `det = sign·exp(logAbsDeterminant)`, without overflow.
/// The log is differentiable (its gradient is `inverse(a)ᵀ`); a singular matrix
/// gives sign 0 and log -inf.
///
/// ```swift
/// let (sign, logAbs) = logDeterminant(Tensor([[0, 2], [3, 0]] as [[Double]]))   // -1, log 6
/// ```
public func logDeterminant(_ a: Tensor) -> (sign: Tensor, logAbsDeterminant: Tensor) {
    (linalg(.determinantSign, [a]), linalg(.logAbsDeterminant, [a]))
}

/// The determinant of each matrix in the last two axes, as `tf.linalg.det`:
/// `sign·exp(log|det|)`, differentiable.
///
/// ```swift
/// determinant(Tensor([[1, 2], [3, 4]] as [[Double]]))   // -2
/// ```
public func determinant(_ a: Tensor) -> Tensor {
    let (sign, logAbs) = logDeterminant(a)
    return sign * exp(logAbs)
}

/// The eigenvalues, ascending, and eigenvectors (the columns of `vectors`) of
/// symmetric matrices in the last two axes (only their lower triangles are read),
/// as `tf.linalg.eigh`: `a = vectors·diag(values)·vectorsᵀ`. Differentiable to any
/// order with the usual rule, which is undefined where two eigenvalues are equal.
///
/// ```swift
/// let (values, vectors) = eigh(Tensor([[2, 1], [1, 2]] as [[Double]]))   // values [1, 3]
/// ```
public func eigh(_ a: Tensor) -> (values: Tensor, vectors: Tensor) {
    let packed = linalg(.eigh, [a])
    let n = a.shape[a.rank - 1]
    return (packed[.ellipsis, 0, .all], packed[.ellipsis, 1..<(n + 1), .all])
}

/// The QR decomposition of the matrices in the last two axes, as `tf.linalg.qr`:
/// `a = q·r` with q's columns orthonormal and r upper triangular; reduced (q m×k,
/// r k×n with k = min(m, n)) unless `fullMatrices` (q m×m, r m×n). Differentiable
/// (to any order) in the reduced form for m ≥ n.
///
/// ```swift
/// let (q, r) = qr(Tensor([[3, 1], [4, 2]] as [[Double]], dtype: .float64))   // r = [[-5, -2.2], [0, -0.4]]
/// ```
public func qr(_ a: Tensor, fullMatrices: Bool = false) -> (q: Tensor, r: Tensor) {
    precondition(a.rank >= 2, "qr: expected matrices in the last two axes, got shape \(a.shape)\(currentScopeDescription)")
    let (m, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let k = fullMatrices ? m : min(m, n)
    let packed = linalg(.qr(fullMatrices: fullMatrices), [a])
    return (packed[.ellipsis, 0..<m, 0..<k], packed[.ellipsis, m..<(m + k), 0..<n])
}

/// The singular value decomposition of the matrices in the last two axes, as
/// `tf.linalg.svd`: `a = u·diag(s)·vᵀ` with s descending; reduced (u m×k, v n×k
/// with k = min(m, n)) unless `fullMatrices` (u m×m, v n×n). Differentiable (to any
/// order) in the reduced form with the usual rule, which is undefined where two
/// singular values are equal or one is zero.
///
/// ```swift
/// let (s, u, v) = svd(Tensor([[3, 0], [0, -2]] as [[Double]], dtype: .float64))   // s = [3, 2]
/// ```
public func svd(_ a: Tensor, fullMatrices: Bool = false) -> (s: Tensor, u: Tensor, v: Tensor) {
    precondition(a.rank >= 2, "svd: expected matrices in the last two axes, got shape \(a.shape)\(currentScopeDescription)")
    let (m, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let k = min(m, n), (uc, vc) = fullMatrices ? (m, n) : (k, k)
    let packed = linalg(.svd(fullMatrices: fullMatrices), [a])
    return (packed[.ellipsis, m, 0..<k], packed[.ellipsis, 0..<m, 0..<uc], packed[.ellipsis, (m + 1)..<(m + 1 + n), 0..<vc])
}

/// The Moore–Penrose pseudo-inverse of the matrices in the last two axes, as
/// `tf.linalg.pinv`: `v·diag(1/s)·uᵀ` from the reduced SVD, with singular values
/// at most `rcond·max(s)` treated as zero (default `10·max(m, n)·ε`, TF's).
///
/// ```swift
/// pinv(Tensor([[1, 2]] as [[Double]], dtype: .float64))   // [[0.2], [0.4]]
/// ```
public func pinv(_ a: Tensor, rcond: Double? = nil) -> Tensor {
    precondition(a.rank >= 2, "pinv: expected matrices in the last two axes, got shape \(a.shape)\(currentScopeDescription)")
    let (m, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let epsilon = a.dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
    let (s, u, v) = svd(a)
    let cutoff = s.max(axes: [s.rank - 1], keepDims: true) * (rcond ?? 10 * Double(max(m, n)) * epsilon)
    let keep = s .> cutoff
    let inverted = `where`(keep, 1 / `where`(keep, s, Tensor.ones(like: s)), Tensor.zeros(like: s))
    return matmul(v * inverted.reshaped(to: TensorShape(s.shape.dimensions.dropLast() + [1, s.shape[s.rank - 1]])), u, transposeB: true)
}

// MARK: - the op

/// Runs `op` on `inputs` and records it: what the public functions call, and what
/// a compiled graph replays.
@_spi(Autodiff)
public func linalg(_ op: LinalgOp, _ inputs: [Tensor]) -> Tensor {
    let a = inputs[0]
    precondition(a.dtype == .float32 || a.dtype == .float64,
                 "\(op.name): expected a float32 or float64 tensor, got \(a.dtype)\(currentScopeDescription)")
    let batch = a.shape.dimensions.dropLast(2).reduce(1, *)
    let lead = Array(a.shape.dimensions.dropLast(2))
    let out: Tensor
    if case .qr(let full) = op {
        let (m, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let k = full ? m : min(m, n), width = max(n, k)
        let work = a.contiguousCopy()
        out = Tensor.zeros(TensorShape(lead + [m + k, width]), dtype: a.dtype)
        forEachMatrix(batch, n: max(m, n)) { i in geqrf(work, at: i * m * n, into: out, at: i * (m + k) * width, m: m, n: n, full: full) }
        return out.recorded(.linalg(op), OpInputs(a))
    }
    if case .svd(let full) = op {
        let (m, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let width = full ? max(m, n) : min(m, n)
        let work = a.contiguousCopy()
        out = Tensor.zeros(TensorShape(lead + [m + 1 + n, width]), dtype: a.dtype)
        forEachMatrix(batch, n: max(m, n)) { i in
            gesdd(work, at: i * m * n, into: out, at: i * (m + 1 + n) * width, m: m, n: n, width: width, full: full)
        }
        return out.recorded(.linalg(op), OpInputs(a))
    }
    checkSquare(a, op: op.name)
    let n = a.shape[a.rank - 1]
    switch op {
    case .cholesky:
        out = a.contiguousCopy()
        forEachMatrix(batch, n: n) { i in potrf(out, at: i * n * n, n: n) }
    case .triangularSolve(let lower, let adjoint):
        let b = checkedRightHandSide(a, inputs[1], op: op.name)
        out = b.contiguousCopy()
        let k = b.shape[b.rank - 1]
        forEachMatrix(batch, n: n) { i in trsm(a, at: i * n * n, out, at: i * n * k, n: n, k: k, lower: lower, adjoint: adjoint) }
    case .solve(let adjoint):
        let b = checkedRightHandSide(a, inputs[1], op: op.name)
        out = b.contiguousCopy()
        let k = b.shape[b.rank - 1]
        let lu = a.contiguousCopy()
        forEachMatrix(batch, n: n) { i in gesv(lu, at: i * n * n, out, at: i * n * k, n: n, k: k, adjoint: adjoint) }
    case .logAbsDeterminant, .determinantSign:
        let lu = a.contiguousCopy()
        out = Tensor(uninitializedShape: TensorShape(Array(a.shape.dimensions.dropLast(2))), dtype: a.dtype)
        forEachMatrix(batch, n: n) { i in
            let (sign, logAbs) = slogdet(lu, at: i * n * n, n: n)
            out.storeDouble(op == .determinantSign ? sign : logAbs, at: i)
        }
    case .eigh:
        let work = a.contiguousCopy()
        out = Tensor(uninitializedShape: TensorShape(Array(a.shape.dimensions.dropLast(2)) + [n + 1, n]), dtype: a.dtype)
        forEachMatrix(batch, n: n) { i in syevd(work, at: i * n * n, into: out, at: i * (n + 1) * n, n: n) }
    case .qr, .svd: fatalError("unreachable: handled above")
    }
    return out.recorded(.linalg(op), inputs.count == 1 ? OpInputs(a) : OpInputs(a, inputs[1]))
}

private func checkSquare(_ a: Tensor, op: String) {
    precondition(a.rank >= 2 && a.shape[a.rank - 1] == a.shape[a.rank - 2],
                 "\(op): expected square matrices in the last two axes, got shape \(a.shape)\(currentScopeDescription)")
}

/// `b` when it is (..., n, k) with `a`'s leading axes and dtype.
private func checkedRightHandSide(_ a: Tensor, _ b: Tensor, op: String) -> Tensor {
    precondition(b.dtype == a.dtype, "\(op): dtype mismatch: \(a.dtype) vs \(b.dtype)\(currentScopeDescription)")
    precondition(b.rank == a.rank && Array(b.shape.dimensions.dropLast()) == Array(a.shape.dimensions.dropLast()),
                 "\(op): expected a right-hand side of shape (..., \(a.shape[a.rank - 1]), k) with the matrices' leading axes, got \(a.shape) and \(b.shape)\(currentScopeDescription)")
    return b
}

/// Runs `body` for each of `batch` matrices, split over the intra-op threads when
/// there are several (each LAPACK call then runs on one thread).
private func forEachMatrix(_ batch: Int, n: Int, _ body: (Int) -> Void) {
    guard batch > 0 else { return }
    if batch == 1 {
        BLASThreads.configure(m: n, n: n, k: n)
        return body(0)
    }
    BLASThreads.configure(m: 1, n: 1, k: 1)
    Threading.parallelFor(batch, grain: max(1, 32_768 / max(n * n * n, 1))) { range in
        for i in range { body(i) }
    }
}

extension Tensor {
    /// A fresh contiguous copy that the LAPACK calls may overwrite.
    fileprivate func contiguousCopy() -> Tensor {
        let copy = Tensor(uninitializedShape: shape, dtype: dtype)
        if count > 0 { copy.storage.data.copyMemory(from: storage.data, byteCount: count * dtype.byteSize) }
        return copy
    }

    fileprivate func storeDouble(_ value: Double, at i: Int) {
        if dtype == .float32 { storage.data.assumingMemoryBound(to: Float.self)[i] = Float(value) }
        else { storage.data.assumingMemoryBound(to: Double.self)[i] = value }
    }

    fileprivate func fillNaN(from offset: Int, count: Int) {
        if dtype == .float32 {
            storage.data.assumingMemoryBound(to: Float.self).advanced(by: offset).update(repeating: .nan, count: count)
        } else {
            storage.data.assumingMemoryBound(to: Double.self).advanced(by: offset).update(repeating: .nan, count: count)
        }
    }
}

private let upper = CChar(UInt8(ascii: "U")), lowerChar = CChar(UInt8(ascii: "L"))

// The matrices are row-major; LAPACK's column-major view of one is its transpose.
// A symmetric matrix is its own transpose, so the factorizations run in place on
// the column-major view with the triangles swapped.

/// Cholesky in place at `offset`: the row-major lower factor, upper triangle zeroed.
private func potrf(_ t: Tensor, at offset: Int, n: Int) {
    func run<S: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<S>, _ call: (UnsafeMutablePointer<S>) -> Int32) {
        if call(p) != 0 { t.fillNaN(from: offset, count: n * n); return }
        for r in 0..<n { for c in (r + 1)..<max(n, r + 1) { p[r * n + c] = 0 } }
    }
    let n32 = Int32(n)
    if t.dtype == .float32 {
        run(t.storage.data.assumingMemoryBound(to: Float.self) + offset) { LAPACKE_spotrf(LAPACK_COL_MAJOR, upper, n32, $0, n32) }
    } else {
        run(t.storage.data.assumingMemoryBound(to: Double.self) + offset) { LAPACKE_dpotrf(LAPACK_COL_MAJOR, upper, n32, $0, n32) }
    }
}

/// X = A⁻¹B (A⁻ᵀB) in place in `x`, for triangular A at `aOffset`.
private func trsm(_ a: Tensor, at aOffset: Int, _ x: Tensor, at xOffset: Int, n: Int, k: Int, lower: Bool, adjoint: Bool) {
    let uplo = lower ? CblasLower : CblasUpper, trans = adjoint ? CblasTrans : CblasNoTrans
    let (n32, k32) = (Int32(n), Int32(k))
    if a.dtype == .float32 {
        cblas_strsm(CblasRowMajor, CblasLeft, uplo, trans, CblasNonUnit, n32, k32, 1,
                    a.storage.data.assumingMemoryBound(to: Float.self) + aOffset, n32,
                    x.storage.data.assumingMemoryBound(to: Float.self) + xOffset, k32)
    } else {
        cblas_dtrsm(CblasRowMajor, CblasLeft, uplo, trans, CblasNonUnit, n32, k32, 1,
                    a.storage.data.assumingMemoryBound(to: Double.self) + aOffset, n32,
                    x.storage.data.assumingMemoryBound(to: Double.self) + xOffset, k32)
    }
}

/// X = A⁻¹B (A⁻ᵀB) in place in `x`, by LU of the copy of A at `aOffset`; NaN when A is singular.
private func gesv(_ a: Tensor, at aOffset: Int, _ x: Tensor, at xOffset: Int, n: Int, k: Int, adjoint: Bool) {
    var pivots = [Int32](repeating: 0, count: n)
    let (n32, k32) = (Int32(n), Int32(k))
    let trans = CChar(UInt8(ascii: adjoint ? "T" : "N"))
    var info: Int32
    if a.dtype == .float32 {
        let pa = a.storage.data.assumingMemoryBound(to: Float.self) + aOffset
        info = LAPACKE_sgetrf(LAPACK_ROW_MAJOR, n32, n32, pa, n32, &pivots)
        if info == 0 { info = LAPACKE_sgetrs(LAPACK_ROW_MAJOR, trans, n32, k32, pa, n32, &pivots, x.storage.data.assumingMemoryBound(to: Float.self) + xOffset, k32) }
    } else {
        let pa = a.storage.data.assumingMemoryBound(to: Double.self) + aOffset
        info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n32, n32, pa, n32, &pivots)
        if info == 0 { info = LAPACKE_dgetrs(LAPACK_ROW_MAJOR, trans, n32, k32, pa, n32, &pivots, x.storage.data.assumingMemoryBound(to: Double.self) + xOffset, k32) }
    }
    if info != 0 { x.fillNaN(from: xOffset, count: n * k) }
}

/// The sign and log |det| of the matrix at `offset` (overwritten by its LU).
private func slogdet(_ a: Tensor, at offset: Int, n: Int) -> (Double, Double) {
    var pivots = [Int32](repeating: 0, count: n)
    let n32 = Int32(n)
    var diagonal = [Double](repeating: 0, count: n)
    var info: Int32
    if a.dtype == .float32 {
        let p = a.storage.data.assumingMemoryBound(to: Float.self) + offset
        info = LAPACKE_sgetrf(LAPACK_COL_MAJOR, n32, n32, p, n32, &pivots)
        for i in 0..<n { diagonal[i] = Double(p[i * n + i]) }
    } else {
        let p = a.storage.data.assumingMemoryBound(to: Double.self) + offset
        info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n32, n32, p, n32, &pivots)
        for i in 0..<n { diagonal[i] = p[i * n + i] }
    }
    // A negative code: LAPACKE refused the input (it holds NaN) and factored nothing.
    if info < 0 { return (.nan, .nan) }
    // det(A) = det(Aᵀ) = (-1)^(row swaps) · Π diag(U).
    var sign = 1.0, logAbs = 0.0
    for i in 0..<n {
        if pivots[i] != Int32(i + 1) { sign = -sign }
        if diagonal[i] == 0 { return (0, -.infinity) }
        if diagonal[i] < 0 { sign = -sign }
        logAbs += Glibc.log(diagonal[i].magnitude)
    }
    return (sign, logAbs)
}

/// Eigenvalues into row 0 and eigenvectors (as columns) into rows 1...n of the
/// packed output at `outOffset`; NaN if LAPACK fails to converge.
private func syevd(_ a: Tensor, at offset: Int, into out: Tensor, at outOffset: Int, n: Int) {
    func run<S: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<S>, _ o: UnsafeMutablePointer<S>,
                                     _ call: (UnsafeMutablePointer<S>, UnsafeMutablePointer<S>) -> Int32) {
        // Column-major with 'U' reads the row-major lower triangle; eigenvector j
        // comes back as column j of the column-major matrix, i.e. row j here.
        guard call(p, o) == 0 else { out.fillNaN(from: outOffset, count: (n + 1) * n); return }
        for r in 0..<n { for c in 0..<n { o[n + r * n + c] = p[c * n + r] } }
    }
    let n32 = Int32(n), vectors = CChar(UInt8(ascii: "V"))
    if a.dtype == .float32 {
        run(a.storage.data.assumingMemoryBound(to: Float.self) + offset, out.storage.data.assumingMemoryBound(to: Float.self) + outOffset) {
            LAPACKE_ssyevd(LAPACK_COL_MAJOR, vectors, upper, n32, $0, n32, $1)
        }
    } else {
        run(a.storage.data.assumingMemoryBound(to: Double.self) + offset, out.storage.data.assumingMemoryBound(to: Double.self) + outOffset) {
            LAPACKE_dsyevd(LAPACK_COL_MAJOR, vectors, upper, n32, $0, n32, $1)
        }
    }
}

/// Q (first columns of rows 0..<m) and R (rows m...) of the m×n matrix at
/// `offset` into the packed output at `outOffset` (width max(n, rows of R)).
private func geqrf(_ a: Tensor, at offset: Int, into out: Tensor, at outOffset: Int, m: Int, n: Int, full: Bool) {
    func run<S: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<S>, _ o: UnsafeMutablePointer<S>,
                                     factor: (UnsafeMutablePointer<S>, UnsafeMutablePointer<S>) -> Int32,
                                     formQ: (UnsafeMutablePointer<S>, Int32, UnsafeMutablePointer<S>, UnsafeMutablePointer<S>) -> Int32) {
        let k = min(m, n), rows = full ? m : k
        var tau = [S](repeating: 0, count: max(k, 1))
        // Q needs as many columns as R has rows: a full Q of a wide matrix is m×m in an m×max(m, n) workspace.
        let width = max(n, rows)
        var q = [S](repeating: 0, count: m * width)
        for r in 0..<m { for c in 0..<n { q[r * width + c] = p[r * n + c] } }
        let failed = q.withUnsafeMutableBufferPointer { qp in tau.withUnsafeMutableBufferPointer { factor(qp.baseAddress!, $0.baseAddress!) } } != 0
        // R: the upper triangle of the factored matrix.
        for r in 0..<k { for c in r..<n { o[(m + r) * width + c] = q[r * width + c] } }
        let formed = q.withUnsafeMutableBufferPointer { qp in tau.withUnsafeMutableBufferPointer { formQ(qp.baseAddress!, Int32(width), $0.baseAddress!, $0.baseAddress!) } }
        if failed || formed != 0 { out.fillNaN(from: outOffset, count: (m + rows) * width); return }
        for r in 0..<m { for c in 0..<rows { o[r * width + c] = q[r * width + c] } }
    }
    let (m32, n32) = (Int32(m), Int32(n)), k32 = Int32(min(m, n)), rows32 = Int32(full ? m : min(m, n))
    if a.dtype == .float32 {
        run(a.storage.data.assumingMemoryBound(to: Float.self) + offset, out.storage.data.assumingMemoryBound(to: Float.self) + outOffset,
            factor: { LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, m32, n32, $0, Int32(max(n, full ? m : min(m, n))), $1) },
            formQ: { q, lda, tau, _ in LAPACKE_sorgqr(LAPACK_ROW_MAJOR, m32, rows32, k32, q, lda, tau) })
    } else {
        run(a.storage.data.assumingMemoryBound(to: Double.self) + offset, out.storage.data.assumingMemoryBound(to: Double.self) + outOffset,
            factor: { LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m32, n32, $0, Int32(max(n, full ? m : min(m, n))), $1) },
            formQ: { q, lda, tau, _ in LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m32, rows32, k32, q, lda, tau) })
    }
}

/// U (rows 0..<m), S (row m) and V (rows m+1...) of the m×n matrix at `offset`
/// into the packed output at `outOffset` (`width` columns).
private func gesdd(_ a: Tensor, at offset: Int, into out: Tensor, at outOffset: Int, m: Int, n: Int, width: Int, full: Bool) {
    func run<S: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<S>, _ o: UnsafeMutablePointer<S>,
                                     _ call: (UnsafeMutablePointer<S>, UnsafeMutablePointer<S>, UnsafeMutablePointer<S>, Int32,
                                              UnsafeMutablePointer<S>, Int32) -> Int32) {
        let k = min(m, n), (uc, vr) = full ? (m, n) : (k, k)
        var s = [S](repeating: 0, count: max(k, 1)), u = [S](repeating: 0, count: max(m * uc, 1)), vt = [S](repeating: 0, count: max(vr * n, 1))
        let info = s.withUnsafeMutableBufferPointer { sp in u.withUnsafeMutableBufferPointer { up in vt.withUnsafeMutableBufferPointer { vp in
            call(p, sp.baseAddress!, up.baseAddress!, Int32(uc), vp.baseAddress!, Int32(n))
        } } }
        guard info == 0 else { out.fillNaN(from: outOffset, count: (m + 1 + n) * width); return }
        for r in 0..<m { for c in 0..<uc { o[r * width + c] = u[r * uc + c] } }
        for c in 0..<k { o[m * width + c] = s[c] }
        // V = (Vᵀ)ᵀ: row r of V is column r of Vᵀ.
        for r in 0..<n { for c in 0..<vr { o[(m + 1 + r) * width + c] = vt[c * n + r] } }
    }
    let (m32, n32) = (Int32(m), Int32(n)), job = CChar(UInt8(ascii: full ? "A" : "S"))
    if a.dtype == .float32 {
        run(a.storage.data.assumingMemoryBound(to: Float.self) + offset, out.storage.data.assumingMemoryBound(to: Float.self) + outOffset) {
            LAPACKE_sgesdd(LAPACK_ROW_MAJOR, job, m32, n32, $0, n32, $1, $2, $3, $4, $5)
        }
    } else {
        run(a.storage.data.assumingMemoryBound(to: Double.self) + offset, out.storage.data.assumingMemoryBound(to: Double.self) + outOffset) {
            LAPACKE_dgesdd(LAPACK_ROW_MAJOR, job, m32, n32, $0, n32, $1, $2, $3, $4, $5)
        }
    }
}
