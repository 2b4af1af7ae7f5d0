/// How `fit` spreads training over several processes, as Keras's distribution
/// strategies (`tf.distribute.MultiWorkerMirroredStrategy`): each process trains
/// on its part of every batch, and the strategy keeps their weights equal.
///
/// `DeepSwiftDistributed`'s `DataParallel` implements it on Open MPI; this
/// library itself has no MPI. Pass one to `fit(..., distribution:)`:
///
/// ```swift
/// // let strategy = DataParallel()   (import DeepSwiftDistributed)
/// // try model.fit(x: x, y: labels, batchSize: 32, distribution: strategy)
/// ```
///
/// With a strategy, `fit`:
/// - gives each process its share of every global batch of `batchSize ×
///   processCount` examples of in-memory tensors (shuffled the same way
///   everywhere); a `Dataset` is sharded by the caller
///   (``Dataset/shard(count:index:)``), and every process must have the same
///   number of batches;
/// - calls ``beginTraining(_:)`` once the model is built, so every process starts
///   from rank 0's weights and averages its gradients from then on;
/// - averages each epoch's logs over the processes (weighted by their examples),
///   for the progress bar, ``History`` and the callbacks' `onEpochEnd`;
/// - prints, and runs the callbacks that write files
///   (``Callback/runsOnEveryProcess`` false), only on rank 0;
/// - stops after an epoch in which any process's callbacks asked to stop.
public protocol DistributionStrategy: AnyObject {
    /// This process's index, 0 for the one that prints and writes checkpoints.
    var rank: Int { get }
    /// The number of processes training together.
    var processCount: Int { get }
    /// Makes every process start from rank 0's weights (and optimizer state), and
    /// makes the model's optimizer combine gradients over the processes.
    func beginTraining(_ model: Model) throws
    /// Undoes what ``beginTraining(_:)`` changed on the optimizer.
    func endTraining(_ model: Model)
    /// The element-wise sums of `values` over all processes; every process passes
    /// the same number of values and receives the same sums.
    func sum(_ values: [Double]) -> [Double]
}

extension DistributionStrategy {
    /// Rank 0's `values`, on every process.
    func fromRankZero(_ values: [Double]) -> [Double] {
        sum(rank == 0 ? values : values.map { _ in 0 })
    }
}
