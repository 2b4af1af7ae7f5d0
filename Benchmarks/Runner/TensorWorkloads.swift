import CBLAS
import CBaselines
import DeepSwift

/// The op-level workloads of BENCHMARKS.md, with the plain C and direct BLAS
/// baselines they are judged against.
func tensorWorkloads() -> [Workload] {
    func gflops(_ m: Int, _ n: Int, _ k: Int) -> (Double) -> Double {
        { us in 2 * Double(m * n * k) / (us * 1e3) }
    }
    return [
        Workload("op_add_2x2") {
            let a = Random.normal([2, 2]), b = Random.normal([2, 2])
            return { consume(a + b) }
        },
        Workload("add_1m") {
            let a = Random.normal([1 << 20]), b = Random.normal([1 << 20])
            return { consume(a + b) }
        },
        Workload("baseline_c_add_1m") {
            let n = 1 << 20
            let a = [Float](repeating: 1, count: n), b = [Float](repeating: 2, count: n)
            var c = [Float](repeating: 0, count: n)
            return { baseline_add_f32(a, b, &c, n); consume(c[0]) }
        },
        Workload("exp_1m", extra: { us in Double(1 << 20) / (us * 1e3) }) {
            let a = Random.normal([1 << 20])
            return { consume(exp(a)) }
        },
        Workload("sum_1m") {
            let a = Random.normal([1 << 20])
            return { consume(a.sum()) }
        },
        Workload("sgemm_1024", extra: gflops(1024, 1024, 1024)) {
            let a = Random.normal([1024, 1024]), b = Random.normal([1024, 1024])
            return { consume(matmul(a, b)) }
        },
        Workload("baseline_cblas_sgemm_1024", extra: gflops(1024, 1024, 1024)) {
            directSgemm(1024, 1024, 1024)
        },
        Workload("sgemm_64x784x32", extra: gflops(64, 32, 784)) {
            let a = Random.normal([64, 784]), b = Random.normal([784, 32])
            return { consume(matmul(a, b)) }
        },
        Workload("baseline_cblas_sgemm_64x784x32", extra: gflops(64, 32, 784)) {
            directSgemm(64, 32, 784, threads: 1)
        },
    ]
}

/// cblas_sgemm on preallocated buffers: all cores unless `threads` is given.
func directSgemm(_ m: Int, _ n: Int, _ k: Int, threads: Int32? = nil) -> () -> Void {
    let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
    var c = [Float](repeating: 0, count: m * n)
    let count = threads ?? Int32(openblas_get_num_procs())
    return {
        openblas_set_num_threads(count)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        consume(c[0])
    }
}

/// sgemm at one and at all threads over sizes, to place the threading crossover.
func crossoverWorkloads() -> [Workload] {
    let shapes = [32, 64, 96, 128, 160, 192, 256, 384].map { ($0, $0, $0) } + [(64, 32, 784), (256, 2048, 784)]
    let threadCounts: [Int32] = [1, Int32(openblas_get_num_procs())]
    return shapes.flatMap { (m, n, k) in
        threadCounts.map { t in
            Workload("crossover_sgemm_\(m)x\(k)x\(n)_threads\(t)", extra: { us in 2 * Double(m * n * k) / (us * 1e3) }) {
                directSgemm(m, n, k, threads: t)
            }
        }
    }
}
