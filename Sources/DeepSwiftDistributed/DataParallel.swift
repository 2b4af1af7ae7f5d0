import DeepSwift

/// Data-parallel training on Open MPI for `fit`, as Keras's
/// `MultiWorkerMirroredStrategy` and Horovod's Keras callbacks together: every
/// process trains a copy of the model on its part of each batch, and the copies
/// stay equal.
///
/// ```swift
/// // mpirun -np 2 swift run -c release DistributedMNIST
/// // let strategy = try DataParallel()
/// // try model.fit(x: x, y: labels, batchSize: 32, epochs: 3, distribution: strategy)
/// ```
///
/// `fit` with it (see ``DistributionStrategy``) broadcasts rank 0's weights and
/// optimizer state when training begins, averages the gradients of every step
/// through a fusion buffer (``FusedGradientAverage``), averages each epoch's logs
/// over the processes, and prints and writes checkpoints only on rank 0.
/// `batchSize` is per process; with a fixed per-process batch, scale the learning
/// rate by ``Distributed/size`` (the global batch grows with it).
///
/// It is a strategy object rather than a `fit(distributed: true)` flag so that
/// DeepSwift itself stays free of MPI: `fit` knows only the
/// ``DistributionStrategy`` protocol, and this one carries its settings.
public final class DataParallel: DistributionStrategy {
    /// The fusion buffer's size in bytes.
    public let fusionThreshold: Int
    /// The optimizer this strategy gave an aggregator, to take it back at the end.
    private var installedOn: Optimizer?

    /// Joins the world (``Distributed/initialize()``) if needed.
    ///
    /// - Parameter fusionThreshold: the fusion buffer's size in bytes (default 64 MiB).
    /// - Throws: ``DistributedError`` when MPI cannot start.
    public init(fusionThreshold: Int = 64 << 20) throws {
        self.fusionThreshold = fusionThreshold
        try Distributed.initialize()
    }

    /// This process's rank in the MPI world.
    public var rank: Int { Distributed.rank }
    /// The world's size.
    public var processCount: Int { Distributed.size }

    /// Installs the fused average on the model's optimizer and broadcasts rank 0's
    /// weights, optimizer state and step count.
    ///
    /// - Throws: `TrainingError` when the model has no optimizer, or one with another aggregator.
    public func beginTraining(_ model: Model) throws {
        guard let optimizer = model.optimizer else {
            throw TrainingError.invalidConfiguration("DataParallel: compile the model with an optimizer before fit")
        }
        switch optimizer.gradientAggregator {
        case nil:
            optimizer.gradientAggregator = FusedGradientAverage(threshold: fusionThreshold)
            installedOn = optimizer
        case is FusedGradientAverage:
            break   // DistributedOptimizer(wrapping:) already averages
        case let other?:
            throw TrainingError.invalidConfiguration(
                "DataParallel: the optimizer already has a gradient aggregator (\(type(of: other))); remove it, or train without a strategy")
        }
        Distributed.broadcastVariables(model.weights)
        broadcastState(of: optimizer, for: model.trainableWeights)
    }

    /// Takes the fused average back off the optimizer it was installed on.
    public func endTraining(_ model: Model) {
        installedOn?.gradientAggregator = nil
        installedOn = nil
    }

    /// The sums of `values` over the processes.
    public func sum(_ values: [Double]) -> [Double] { Distributed.sum(values) }

    /// Rank 0's optimizer step count and per-variable state (a run resumed from
    /// rank 0's backup goes on with the same moments everywhere).
    private func broadcastState(of optimizer: Optimizer, for variables: [Variable]) {
        let root = rank == 0
        let flags = Distributed.sum([root ? Double(optimizer.iterations) : 0]
                                    + variables.map { root && !optimizer.state(of: $0).isEmpty ? 1 : 0 })
        optimizer.iterations = Int(flags[0])
        let withState = variables.indices.filter { flags[$0 + 1] > 0 }
        guard !withState.isEmpty else { return }
        var holders: [Variable] = []
        for i in withState {
            let v = variables[i]
            var state = optimizer.state(of: v)
            if state.isEmpty { state = optimizer.makeState(for: v) }
            // Sent as variables, so one message carries them all.
            holders += state.map { Variable($0, name: "\(v.name)/state", trainable: false) }
        }
        Distributed.broadcastVariables(holders)
        var k = 0
        for i in withState {
            let count = optimizer.makeState(for: variables[i]).count
            optimizer.setState(holders[k..<(k + count)].map(\.value), of: variables[i])
            k += count
        }
    }
}
