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
        Workload("load_fashion_mnist") {
            { consume(try! FashionMNIST.loadData()) }
        },
    ]
}
