import CBLAS
import CBaselines
import DeepSwift
import GuideExamples

/// The Keras MNIST convnet's training step (eager and compiled) and its second
/// convolution alone, beside one SGEMM of the same im2col shape and a plain C
/// im2col + SGEMM floor.
func visionWorkloads() -> [Workload] {
    // Multiply-adds ×2 of one step at batch 128: forward 2·(128·26²·32·9 +
    // 128·11²·64·288 + 128·1600·10), backward twice the second convolution and
    // the dense layer, plus the first convolution's kernel gradient: ≈ 1.8 GFLOP.
    let stepFlops = 1.8e9
    func gflops(_ flops: Double) -> (Double) -> Double { { us in flops / (us * 1e3) } }
    let convFlops = 2.0 * 128 * 11 * 11 * 64 * 288
    func convNetStep() -> (Sequential, (Tensor, Tensor) -> Tensor) {
        let model = ConvNetExample.makeModel()
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true), optimizer = Adam(learningRate: 1e-3)
        let weights = model.trainableWeights
        return (model, { x, y in
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, model(x, training: true)) }
            optimizer.apply(tape.gradient(of: loss, wrt: weights), to: weights)
            return loss
        })
    }
    return [
        Workload("convnet_step", extra: gflops(stepFlops)) {
            let (_, step) = convNetStep()
            let x = Random.uniform([128, 28, 28, 1])
            let y = Random.uniform([128], min: 0, max: 10, dtype: .int32)
            return { consume(step(x, y)) }
        },
        Workload.compiled("convnet_step_compiled") {
            let (_, step) = convNetStep()
            let x = Random.uniform([128, 28, 28, 1])
            let y = Random.uniform([128], min: 0, max: 10, dtype: .int32)
            let function = compiled { (x: Tensor, y: Tensor) -> Tensor in step(x, y) }
            return (function, { consume(function(x, y)) })
        },
        Workload("conv2d_64x11x11", extra: gflops(convFlops)) {
            let x = Random.uniform([128, 13, 13, 32]), k = Random.uniform([3, 3, 32, 64])
            return { consume(conv(x, k)) }
        },
        // One SGEMM of the im2col shape (15488 × 288 by 288 × 64) on every core.
        Workload("conv2d_64x11x11_sgemm", extra: gflops(convFlops)) {
            let a = Random.uniform([15488, 288]).scalars(as: Float.self)
            let b = Random.uniform([288, 64]).scalars(as: Float.self)
            var c = [Float](repeating: 0, count: 15488 * 64)
            openblas_set_num_threads(Int32(Threading.intraOpThreads))
            return {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 15488, 64, 288, 1, a, 288, b, 64, 0, &c, 64)
                consume(c[0])
            }
        },
        // A plain C im2col of the whole batch, then that SGEMM.
        Workload("conv2d_64x11x11_floor", extra: gflops(convFlops)) {
            let x = Random.uniform([128, 13, 13, 32]).scalars(as: Float.self)
            let k = Random.uniform([3, 3, 32, 64]).scalars(as: Float.self)
            var col = [Float](repeating: 0, count: 15488 * 288), y = [Float](repeating: 0, count: 15488 * 64)
            openblas_set_num_threads(Int32(Threading.intraOpThreads))
            return {
                baseline_im2col_conv(128, 13, 13, 32, 3, 3, 64, x, k, &col, &y)
                consume(y[0])
            }
        },
    ]
}
