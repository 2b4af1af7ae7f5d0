import CBLAS
import CBaselines
import DeepSwift

/// The linear-algebra ops beside plain LAPACKE call loops in C, and einsum beside
/// the batched matmul it stands for.
func mathWorkloads() -> [Workload] {
    func spdBatch(_ batch: Int, _ n: Int) -> Tensor {
        let b = Random.normal([batch, n, n])
        return matmul(b, b, transposeB: true) + Tensor.eye(n) * Double(n)
    }
    return [
        Workload("cholesky_256_batch16") {
            let a = spdBatch(16, 256)
            return { consume(cholesky(a)) }
        },
        Workload("cholesky_256_batch16_lapacke_loop") {
            let a = spdBatch(16, 256).scalars(as: Float.self)
            var work = [Float](repeating: 0, count: a.count)
            openblas_set_num_threads(Int32(Threading.intraOpThreads))
            return {
                baseline_cholesky_batch(16, 256, a, &work)
                consume(work[0])
            }
        },
        Workload("svd_128") {
            let a = Random.normal([128, 128])
            return { consume(svd(a).s) }
        },
        Workload("svd_128_lapacke") {
            let a = Random.normal([128, 128]).scalars(as: Float.self)
            var (work, s, u, vt) = ([Float](repeating: 0, count: a.count), [Float](repeating: 0, count: 128),
                                    [Float](repeating: 0, count: a.count), [Float](repeating: 0, count: a.count))
            openblas_set_num_threads(Int32(Threading.intraOpThreads))
            return {
                baseline_svd(128, 128, a, &work, &s, &u, &vt)
                consume(s[0])
            }
        },
        // Attention scores at batch 32, 4 heads, 64 positions, head size 32.
        // The reference first: of two runs of the same work in one process, the
        // second measures faster here, which would flatter einsum.
        Workload("einsum_attention_matmul") {
            let (q, k) = (Random.normal([32, 4, 64, 32]), Random.normal([32, 4, 64, 32]))
            return { consume(matmul(q, k, transposeB: true)) }
        },
        Workload("einsum_attention") {
            let (q, k) = (Random.normal([32, 4, 64, 32]), Random.normal([32, 4, 64, 32]))
            return { consume(einsum("bhqd,bhkd->bhqk", q, k)) }
        },
    ]
}
