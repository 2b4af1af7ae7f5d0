import DeepSwift
import DeepSwiftDistributed
import CBaselines
import CBLAS
import GuideExamples

/// The model-level workloads of BENCHMARKS.md: the guide's VAE and hypernetwork
/// steps, a large MLP step, and an epoch of the functional VAE's `fit`.
func modelWorkloads() -> [Workload] {
    [
        Workload("vae_step") {
            let vae = VariationalAutoEncoder(originalDim: 784, intermediateDim: 64, latentDim: 32)
            let lossFn = MeanSquaredError(), optimizer = Adam(learningRate: 1e-3)
            let x = Random.uniform([32, 784])
            return { consume(vaeTrainingStep(vae, x, lossFn, optimizer)) }
        },
        // The same step written by hand against OpenBLAS: the floor vae_step is judged by.
        Workload("vae_step_floor") {
            let floor = baseline_vae_create(32, 1)!
            let x = Random.uniform([32, 784]).scalars(as: Float.self)
            openblas_set_num_threads(1)
            return { consume(baseline_vae_step(floor, x, 1e-3)) }
        },
        Workload("hyper_step") {
            let net = Hypernetwork()
            let x = Random.uniform([1, 784])
            let y = Tensor([3])
            return { consume(net.trainStep(x, y)) }
        },
        Workload.compiled("vae_step_compiled") {
            let vae = VariationalAutoEncoder(originalDim: 784, intermediateDim: 64, latentDim: 32)
            let lossFn = MeanSquaredError(), optimizer = Adam(learningRate: 1e-3)
            let x = Random.uniform([32, 784])
            let step = compiled { (x: Tensor) -> Tensor in vaeTrainingStep(vae, x, lossFn, optimizer) }
            return (step, { consume(step(x)) })
        },
        Workload.compiled("hyper_step_compiled") {
            let net = Hypernetwork()
            let x = Random.uniform([1, 784])
            let y = Tensor([3])
            let step = compiled { (x: Tensor, y: Tensor) -> Tensor in net.trainStep(x, y) }
            return (step, { consume(step(x, y)) })
        },
        Workload("big_mlp_step", extra: { us in 6 * 256 * Double(784 * 2048 + 2048 * 2048 + 2048 * 10) / (us * 1e3) }) {
            bigMLPStep(batch: 256, distributed: false)
        },
        Workload("fit_epoch_vae", extra: { us in us / 1875 }) {
            let (vae, _, _) = functionalVAE()
            vae.compile(optimizer: Adam(learningRate: 1e-3), loss: MeanSquaredError())
            let x = Random.uniform([60000, 784])
            let dataset = Dataset.fromTensorSlices((x, x)).shuffle(bufferSize: 1024).batch(32)
            return { consume(try! vae.fit(dataset, epochs: 1, verbose: 0)) }
        },
    ]
}

/// big_mlp_step's model and step (784→2048→2048→10, Adam) at `batch` examples
/// per process, averaging the gradients over the processes when `distributed`
/// (`big_mlp_step_2ranks_1thread`).
func bigMLPStep(batch: Int, distributed: Bool) -> () -> Void {
    let model = Sequential([Dense(2048, activation: .relu), Dense(2048, activation: .relu), Dense(10)], inputShape: [784])
    let optimizer = Adam()
    if distributed { DistributedOptimizer(wrapping: optimizer) }
    let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
    let x = Random.uniform([batch, 784])
    let y = Random.uniform([batch], min: 0, max: 10, dtype: .int32)
    let weights = model.trainableWeights
    return {
        let tape = GradientTape()
        let loss = tape.record { lossFn(y, model(x)) }
        optimizer.apply(tape.gradient(of: loss, wrt: weights), to: weights)
        consume(loss)
    }
}
