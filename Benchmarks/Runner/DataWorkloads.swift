import Foundation
import DeepSwift

/// The input-pipeline workloads: one shuffled, batched epoch over MNIST-sized
/// data in memory, and loading Fashion-MNIST from its gzip files.
func dataWorkloads() -> [Workload] {
    [
        Workload("data_epoch") {
            let x = Random.uniform([60000, 784])
            let y = Random.uniform([60000], min: 0, max: 10, dtype: .int32)
            let dataset = Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 1024).batch(64)
            return {
                var batches = 0
                for (bx, _) in dataset { batches += bx.shape[0] > 0 ? 1 : 0 }
                consume(batches)
            }
        },
        // The cost a user sees: one epoch of the guide's MLP on Fashion-MNIST with
        // fit (batch 64, shuffled, batches made on fit's background thread), against
        // the same steps over batches already in memory, measured first. Extra:
        // µs per step for the reference, and the ratio to it for fit (target ≤ 1.05).
        Workload("fit_epoch_mlp_in_memory", extra: { us in FitEpochReference.shared.median = us; return us / 938 }) {
            let (model, x, y) = fitEpochMLP()
            let batches = stride(from: 0, to: 60000, by: 64).map { start in
                (x[start..<min(start + 64, 60000)], y[start..<min(start + 64, 60000)])
            }
            return { for (bx, by) in batches { consume(model.trainStep(bx, by)) } }
        },
        Workload("fit_epoch_mlp", extra: { us in us / FitEpochReference.shared.median }) {
            let (model, x, y) = fitEpochMLP()
            return { consume(try! model.fit(x: x, y: y, batchSize: 64, epochs: 1, verbose: 0)) }
        },
        Workload("load_fashion_mnist") {
            { consume(try! FashionMNIST.loadData()) }
        },
    ]
}

/// The reference median of `fit_epoch_mlp_in_memory`, which `fit_epoch_mlp`'s ratio divides by.
final class FitEpochReference: @unchecked Sendable {
    static let shared = FitEpochReference()
    var median = Double.nan
}

/// The guide's MLP (784→64→64→10, Adam 1e-3, sparse cross-entropy from logits),
/// compiled, and Fashion-MNIST's 60,000 training images in [0, 1].
func fitEpochMLP() -> (Model, Tensor, Tensor) {
    let (train, _) = try! FashionMNIST.loadData()
    let x = train.x.reshaped(to: [60000, 784]).cast(to: .float32) / 255
    setRandomSeed(1)
    let model = Sequential([Dense(64, activation: .relu), Dense(64, activation: .relu), Dense(10)], inputShape: [784])
    model.compile(optimizer: Adam(learningRate: 1e-3), loss: SparseCategoricalCrossentropy(fromLogits: true),
                  metrics: [SparseCategoricalAccuracy()])
    return (model, x, train.y)
}
