import CBLAS
import CKernels

/// How many threads OpenBLAS uses for a product of the given size (at most
/// `Threading.intraOpThreads`), and which products DeepSwift splits itself.
///
/// Measured with `Benchmarks --crossover` on the 2-core development machine
/// (2026-11-30): in a loop of identical products OpenBLAS's two threads already
/// win at 96³ (33 vs 68 µs) and even at 64×784×32 (87 vs 148 µs), because its
/// workers stay hot. Inside a training step they do not: between products they go
/// back to sleep, and waking them for every small GEMM made the reference MLP
/// step 2.7× slower (257 vs 95 µs, BENCHMARKS.md). So OpenBLAS runs on one thread
/// below m·n·k = 2^22 (a 160³ product, or batch 256 × 128 × 128) and on every
/// core above, where the work amortizes its hand-off (256×784×2048: 14.3 vs
/// 23.3 ms). From 2^18 up to that crossover, DeepSwift's own pool (whose worker
/// stays awake between the kernels of a step) runs one single-threaded product
/// per thread on a block of c's rows or columns: the MLP step's 64×784×32
/// forward product takes 73 instead of 133 µs, its 784×64×32 weight gradient 59
/// instead of 97 µs. A row vector times a matrix of 2^18 elements and more
/// (gemv, bound by memory bandwidth) splits the same way (`rowVectorProduct`).
enum BLASThreads {
    static let crossoverFlops = 1 << 22
    /// Products from 2^18 multiply-adds (32×64×128) up to the crossover split
    /// into blocks of c's rows or columns, one per intra-op thread.
    static let splitFlops = 1 << 18
    static let splitMinimum = 8
    static let maxThreads = Int32(openblas_get_num_procs())

    /// Asks OpenBLAS for its current count rather than remembering what was set:
    /// other code in the process (a C library, a baseline) may set it too.
    static func configure(m: Int, n: Int, k: Int) {
        let wanted: Int32 = m * n * k >= crossoverFlops ? min(maxThreads, ck_thread_count()) : 1
        if openblas_get_num_threads() != wanted { openblas_set_num_threads(wanted) }
    }
}

/// The matrix product of the last two axes, batched over the leading axes with
/// broadcasting, as `tf.matmul`. float32 and float64 run on OpenBLAS; integer
/// dtypes are computed exactly in float64 (for sums below 2^53) and converted back.
///
/// ```swift
/// let y = matmul(Tensor.ones([2, 3]), Tensor.ones([3, 4]))   // shape (2, 4), all 3
/// ```
public func matmul(_ a: some TensorConvertible, _ b: some TensorConvertible,
                   transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    let (a, b) = (a.tensor, b.tensor)
    precondition(a.dtype == b.dtype,
                 "matmul: dtype mismatch: \(a.dtype) vs \(b.dtype) (shapes \(a.shape) and \(b.shape))\(currentScopeDescription)")
    precondition(a.rank >= 2 && b.rank >= 2,
                 "matmul: both operands need rank >= 2, got shapes \(a.shape) and \(b.shape)\(currentScopeDescription)")
    precondition(a.dtype != .bool, "matmul: not defined on bool tensors")
    if !a.dtype.isFloatingPoint {
        return matmul(a.cast(to: .float64), b.cast(to: .float64), transposeA: transposeA, transposeB: transposeB)
            .cast(to: a.dtype)
    }
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    precondition(k == kb,
                 "matmul: inner dimensions differ: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(kb))\(currentScopeDescription)")
    if a.rank == 2 && b.rank == 2 {
        // The common case without the batch machinery (its arrays cost more than
        // a small product's packing).
        let out = Tensor(uninitializedShape: [m, n], dtype: a.dtype)
        if out.count > 0 {
            BLASThreads.configure(m: m, n: n, k: k)
            gemm(a, 0, transposeA, lda: ac, b, 0, transposeB, ldb: bc, out, 0, m: m, n: n, k: k, beta: 0)
        }
        return out.recorded(.matmul(transposeA: transposeA, transposeB: transposeB), OpInputs(a, b))
    }
    let aBatch = TensorShape(Array(a.shape.dimensions.dropLast(2)))
    let bBatch = TensorShape(Array(b.shape.dimensions.dropLast(2)))
    let batch = broadcastShape(aBatch, bBatch, op: "matmul (batch axes)")
    let out = Tensor(uninitializedShape: TensorShape(batch.dimensions + [m, n]), dtype: a.dtype)
    guard out.count > 0 else { return out.recorded(.matmul(transposeA: transposeA, transposeB: transposeB), OpInputs(a, b)) }
    BLASThreads.configure(m: m, n: n, k: k)

    let aStrides = broadcastStrides(aBatch, to: batch)
    let bStrides = broadcastStrides(bBatch, to: batch)
    let batchCount = batch.elementCount
    let perProduct = m * n * k
    if batchCount > 1, perProduct < BLASThreads.splitFlops, perProduct * batchCount >= BLASThreads.splitFlops,
       ck_thread_count() > 1 {
        // Many small products (attention's heads): each stays single-threaded, and
        // the pool's threads take the batch in parts of at least 2^17 multiply-adds.
        // Every product is computed as it would be alone, so the results do not
        // depend on the split.
        let dims = batch.dimensions
        Threading.parallelFor(batchCount, grain: Swift.max(1, BLASThreads.splitFlops / 2 / Swift.max(perProduct, 1))) { range in
            for p in range {
                var (rest, ao, bo) = (p, 0, 0)
                for d in stride(from: dims.count - 1, through: 0, by: -1) {
                    let i = rest % dims[d]
                    rest /= dims[d]
                    ao += i * aStrides[d]
                    bo += i * bStrides[d]
                }
                gemm(a, ao * ar * ac, transposeA, lda: ac, b, bo * br * bc, transposeB, ldb: bc,
                     out, p * m * n, m: m, n: n, k: k, beta: 0)
            }
        }
        return out.recorded(.matmul(transposeA: transposeA, transposeB: transposeB), OpInputs(a, b))
    }
    var index = [Int](repeating: 0, count: batch.rank)
    for p in 0..<batchCount {
        var ao = 0, bo = 0
        for d in 0..<batch.rank { ao += index[d] * aStrides[d]; bo += index[d] * bStrides[d] }
        gemm(a, ao * ar * ac, transposeA, lda: ac, b, bo * br * bc, transposeB, ldb: bc,
             out, p * m * n, m: m, n: n, k: k, beta: 0)
        var d = batch.rank - 1
        while d >= 0 { index[d] += 1; if index[d] < batch[d] { break }; index[d] = 0; d -= 1 }
    }
    return out.recorded(.matmul(transposeA: transposeA, transposeB: transposeB), OpInputs(a, b))
}

/// `c = a·op(b) + beta·c` for a row vector `a` (gemv, without gemm's packing).
/// Bound by memory bandwidth, a product of 2^18 matrix elements and more splits
/// over the intra-op threads: by c's entries when there are many, else by the
/// sum (the hypernetwork's 16 dot products of length 51,050), whose partial sums
/// are then added. OpenBLAS itself stays on one thread, so its spinning workers
/// never compete with the pool's.
private func rowVectorProduct(_ a: Tensor, _ aOffset: Int, _ b: Tensor, _ bOffset: Int, _ tb: Bool, ldb: Int,
                              _ c: Tensor, _ cOffset: Int, n: Int, k: Int, beta: Double) {
    let size = c.dtype.byteSize
    let (pa, pb, pc) = (a.storage.data + aOffset * size, b.storage.data + bOffset * size, c.storage.data + cOffset * size)
    /// out[cols] (+)= a[sum]·op(b)[sum, cols], on this thread.
    func gemv(_ cols: Range<Int>, _ sum: Range<Int>, _ out: UnsafeMutableRawPointer, beta: Double) {
        let (rows, columns, trans, shift) = tb
            ? (cols.count, sum.count, CblasNoTrans, cols.lowerBound * ldb + sum.lowerBound)
            : (sum.count, cols.count, CblasTrans, sum.lowerBound * ldb + cols.lowerBound)
        let (x, y, matrix) = (pa + sum.lowerBound * size, out + cols.lowerBound * size, pb + shift * size)
        switch c.dtype {
        case .float32:
            cblas_sgemv(CblasRowMajor, trans, Int32(rows), Int32(columns), 1,
                        matrix.assumingMemoryBound(to: Float.self), Int32(ldb),
                        x.assumingMemoryBound(to: Float.self), 1, Float(beta), y.assumingMemoryBound(to: Float.self), 1)
        default:
            cblas_dgemv(CblasRowMajor, trans, Int32(rows), Int32(columns), 1,
                        matrix.assumingMemoryBound(to: Double.self), Int32(ldb),
                        x.assumingMemoryBound(to: Double.self), 1, beta, y.assumingMemoryBound(to: Double.self), 1)
        }
    }
    let threads = Int(ck_thread_count())
    if n * k >= BLASThreads.splitFlops && threads >= 2 {
        let columnGrain = Swift.max(16, (BLASThreads.splitFlops / 2 + k - 1) / k)
        if n >= 2 * columnGrain {
            Threading.parallelFor(n, grain: columnGrain) { gemv($0, 0..<k, pc, beta: beta) }
            return
        }
        let parts = Swift.min(threads, k / 4096)
        if parts >= 2 {
            let partials = UnsafeMutableRawPointer.allocate(byteCount: (parts - 1) * n * size, alignment: 64)
            defer { partials.deallocate() }
            Threading.parallelFor(parts, grain: 1) { range in
                for part in range {
                    let sum = (k * part / parts)..<(k * (part + 1) / parts)
                    if part == 0 {
                        gemv(0..<n, sum, pc, beta: beta)
                    } else {
                        gemv(0..<n, sum, partials + (part - 1) * n * size, beta: 0)
                    }
                }
            }
            for part in 1..<parts {
                _ = ck_binary(CK_ADD, c.dtype.ck, pc, 1, partials + (part - 1) * n * size, 1, pc, n)
            }
            return
        }
    }
    gemv(0..<n, 0..<k, pc, beta: beta)
}

/// One row-major GEMM of offset matrices into `c`: `c = a·b + beta·c` (beta 0
/// or 1; with beta 0, `c` may hold anything).
private func gemm(_ a: Tensor, _ aOffset: Int, _ ta: Bool, lda: Int,
                  _ b: Tensor, _ bOffset: Int, _ tb: Bool, ldb: Int,
                  _ c: Tensor, _ cOffset: Int, m: Int, n: Int, k: Int, beta: Double) {
    let transA = ta ? CblasTrans : CblasNoTrans
    let transB = tb ? CblasTrans : CblasNoTrans
    let size = c.dtype.byteSize
    if k == 0 {
        if beta == 0 { ck_fill(c.dtype.ck, c.storage.data + cOffset * size, 0, m * n) }
        return
    }
    if k == 1 && beta == 0 {
        // An outer product: both operands are contiguous vectors whatever the
        // transposes, and one pass writes the result (the hypernetwork's weight
        // gradient, 16×51,050, took 3× longer through sgemm's zeroing and packing).
        ck_outer(c.dtype.ck, a.storage.data + aOffset * size, b.storage.data + bOffset * size,
                 c.storage.data + cOffset * size, m, n)
        return
    }
    if m == 1 {
        rowVectorProduct(a, aOffset, b, bOffset, tb, ldb: ldb, c, cOffset, n: n, k: k, beta: beta)
        return
    }
    // A block of rows (or columns) of c from the matching block of op(a) (or op(b)).
    let work = m * n * k
    func block(_ range: Range<Int>, rows: Bool) {
        let (lo, count) = (range.lowerBound, range.count)
        let (aShift, bShift) = rows ? ((ta ? lo : lo * lda), 0) : (0, (tb ? lo * ldb : lo))
        let (bm, bn, cShift) = rows ? (count, n, lo * n) : (m, count, lo)
        var beta = beta
        if beta == 0 && work < BLASThreads.crossoverFlops {
            // Single-threaded OpenBLAS clears c for beta 0 with a scalar loop; a
            // memset and beta 1 give the same values 15 µs sooner on a 784×64
            // weight gradient (k = 32), three times a step in the MLP and the VAE.
            let (size, start) = (c.dtype.byteSize, c.storage.data + (cOffset + cShift) * c.dtype.byteSize)
            if bn == n {
                ck_fill(c.dtype.ck, start, 0, bm * n)
            } else {
                for r in 0..<bm { ck_fill(c.dtype.ck, start + r * n * size, 0, bn) }
            }
            beta = 1
        }
        switch a.dtype {
        case .float32:
            let pa = a.storage.data.assumingMemoryBound(to: Float.self) + aOffset + aShift
            let pb = b.storage.data.assumingMemoryBound(to: Float.self) + bOffset + bShift
            let pc = c.storage.data.assumingMemoryBound(to: Float.self) + cOffset + cShift
            cblas_sgemm(CblasRowMajor, transA, transB, Int32(bm), Int32(bn), Int32(k), 1,
                        pa, Int32(lda), pb, Int32(ldb), Float(beta), pc, Int32(n))
        default:
            let pa = a.storage.data.assumingMemoryBound(to: Double.self) + aOffset + aShift
            let pb = b.storage.data.assumingMemoryBound(to: Double.self) + bOffset + bShift
            let pc = c.storage.data.assumingMemoryBound(to: Double.self) + cOffset + cShift
            cblas_dgemm(CblasRowMajor, transA, transB, Int32(bm), Int32(bn), Int32(k), 1,
                        pa, Int32(lda), pb, Int32(ldb), beta, pc, Int32(n))
        }
    }
    if work >= BLASThreads.splitFlops && work < BLASThreads.crossoverFlops {
        // Below the crossover OpenBLAS runs on one thread; the intra-op pool runs
        // one single-threaded product per thread on a block of c's longer side.
        // Each block holds at least 2^17 multiply-adds and 8 rows or columns.
        let rows = m >= n
        let perLine = (rows ? n : m) * k
        let grain = Swift.max(BLASThreads.splitMinimum, (BLASThreads.splitFlops / 2 + perLine - 1) / perLine)
        Threading.parallelFor(rows ? m : n, grain: grain) { block($0, rows: rows) }
    } else {
        block(0..<m, rows: true)
    }
}

/// `x·w + b` for a batch of rows `x` (m×k), weights `w` (k×n) and a bias `b` (n),
/// as one GEMM that accumulates onto the bias: the core of a dense layer, one
/// pass and one tensor fewer than `matmul(x, w) + b`, with the same gradients.
public func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
    guard x.rank == 2, w.rank == 2, b.rank == 1, x.dtype.isFloatingPoint, x.dtype == w.dtype, w.dtype == b.dtype,
          x.shape[1] == w.shape[0], b.shape[0] == w.shape[1], x.shape[0] > 1, x.shape[1] > 1 else {
        return matmul(x, w) + b
    }
    let (m, k, n) = (x.shape[0], x.shape[1], w.shape[1])
    let out = Tensor(uninitializedShape: [m, n], dtype: x.dtype)
    let dims = [m, n], rowStrides = [0, 1], outStrides = [n, 1]
    ck_copy_nd(x.dtype.byteSize, 2, dims, b.storage.data, rowStrides, out.storage.data, outStrides)
    BLASThreads.configure(m: m, n: n, k: k)
    gemm(x, 0, false, lda: k, w, 0, false, ldb: n, out, 0, m: m, n: n, k: k, beta: 1)
    return out.recorded(.linear, OpInputs(x, w, b))
}
