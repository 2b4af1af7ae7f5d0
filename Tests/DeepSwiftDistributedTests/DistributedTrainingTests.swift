import XCTest
@testable import DeepSwift
@testable import DeepSwiftDistributed
import TestSupport

/// Data-parallel training on two processes. Each `test…` method launches
/// `mpirun -np 2` on its `…OnEachRank` half, which runs in both ranks (and is
/// skipped when run directly).
final class DistributedTrainingTests: XCTestCase {
    // MARK: The key check: 2 ranks × 32 equal 1 process × 64

    func testTwoRanksOfBatch32MatchOneProcessOfBatch64() throws {
        for transport in [MPILauncher.Transport.sharedMemory, .tcp] {
            let (status, output) = try MPILauncher.run("DistributedTrainingTests/testMatchOnEachRank", transport: transport)
            XCTAssertEqual(status, 0, "\(transport):\n\(output)")
            XCTAssertEqual(output.components(separatedBy: "matched one process: SGD, Adam").count - 1, 2, output)
        }
    }

    func testMatchOnEachRank() throws {
        try requireWorker()
        try Distributed.initialize()
        XCTAssertEqual(Distributed.size, 2)
        XCTAssertEqual(Distributed.localSize, 2)
        XCTAssertEqual(Distributed.localRank, Distributed.rank)
        setRandomSeed(7)
        let x = Random.normal([20 * 64, 8])
        let y = Random.uniform([20 * 64], min: 0, max: 4, dtype: .int64)
        for (name, makeOptimizer) in [("SGD", { SGD(learningRate: 0.1) as Optimizer }), ("Adam", { Adam(learningRate: 0.01) })] {
            // One process, batch 64: every rank computes it, from seed 1.
            let reference = mlp(seed: 1, makeOptimizer())
            let referenceHistory = try reference.fit(x: x, y: y, batchSize: 64, epochs: 1, verbose: 0)
            // Two processes, 32 each. Rank 1 starts from other weights: the broadcast
            // makes them rank 0's. The shuffle follows rank 0's seed.
            let model = mlp(seed: 1 + UInt64(Distributed.rank) * 100, makeOptimizer())
            let strategy = try DataParallel()
            let history = try model.fit(x: x, y: y, batchSize: 32, epochs: 1, verbose: 0, distribution: strategy)
            XCTAssertEqual(model.optimizer!.iterations, 20, name)
            XCTAssertNil(model.optimizer!.gradientAggregator, "the strategy takes its aggregator back")
            for (a, b) in zip(model.weights, reference.weights) {
                assertClose(a.value, b.value, tolerance: 1e-5)
            }
            // Both ranks hold the same weights, bit for bit.
            for w in model.weights {
                XCTAssertEqual(Distributed.allreduce(w.value, op: .max), Distributed.allreduce(w.value, op: .min), w.name)
            }
            // The logged loss is the mean over both ranks' examples: as the
            // reference's, up to the weights' rounding.
            XCTAssertEqual(history.history["loss"]![0], referenceHistory.history["loss"]![0], accuracy: 1e-5, name)
            // The compiled step replays the fused average without allocations.
            XCTAssertEqual(model.compiledTrainSteps.values.map(\.replayAllocations), [0], name)
        }
        // A custom loop: broadcastVariables, DistributedOptimizer, each rank's half
        // of every batch, in a compiled step.
        let reference = mlp(seed: 1, SGD(learningRate: 0.1))
        try reference.fit(x: x, y: y, batchSize: 64, epochs: 1, verbose: 0, shuffle: false)
        let model = mlp(seed: 50 + UInt64(Distributed.rank), SGD(learningRate: 0.1))
        let copy = mlp(seed: 1, SGD(learningRate: 0.1))
        if Distributed.rank == 0 { for (w, c) in zip(model.weights, copy.weights) { w.assign(c.value) } }
        Distributed.broadcastVariables(model.weights)
        let optimizer = DistributedOptimizer(wrapping: SGD(learningRate: 0.1))
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        let step = compiled { (x: Tensor, y: Tensor) -> Tensor in
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, model(x)) }
            optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
            return loss
        }
        for k in 0..<20 {
            let rows = (k * 64 + 32 * Distributed.rank)..<(k * 64 + 32 * Distributed.rank + 32)
            _ = step(x[rows], y[rows])
        }
        XCTAssertEqual(step.replayAllocations, 0)
        for (a, b) in zip(model.weights, reference.weights) { assertClose(a.value, b.value, tolerance: 1e-5) }
        print("matched one process: SGD, Adam")
    }

    // MARK: fit's duties: logs, checkpoints, datasets

    func testFitAveragesLogsAndOnlyRankZeroWrites() throws {
        let (status, output) = try MPILauncher.run("DistributedTrainingTests/testFitDutiesOnEachRank")
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(output.components(separatedBy: "fit duties done").count - 1, 2, output)
        // Rank 0 alone prints the progress.
        XCTAssertEqual(output.components(separatedBy: "Epoch 1/2").count - 1, 1, output)
    }

    func testFitDutiesOnEachRank() throws {
        try requireWorker()
        try Distributed.initialize()
        let rank = Distributed.rank
        let folder = NSTemporaryDirectory() + "deepswift-distributed-\(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_JOBID"] ?? "")-\(getppid())/"
        try FileManager.default.createDirectory(atPath: folder + "rank\(rank)", withIntermediateDirectories: true)
        defer { if rank == 0 { try? FileManager.default.removeItem(atPath: folder) } }
        // Rank r's examples all have label r; the averaged accuracy is the mean.
        setRandomSeed(3)
        let model = mlp(seed: 3, SGD(learningRate: 0))
        model.compile(optimizer: SGD(learningRate: 0), loss: SparseCategoricalCrossentropy(fromLogits: true),
                      metrics: [SparseCategoricalAccuracy()])
        let x = Random.normal([64, 8])
        let predicted = try model.predict(x).argmax(axis: -1)
        let y = Tensor.full([64], value: Double(rank), dtype: .int64)
        let local = Double((predicted .== y.cast(to: predicted.dtype)).cast(to: .float32).mean().scalar(as: Float.self))
        let expected = Distributed.allreduce(Tensor(shape: [], scalars: [local]), op: .average).scalar(as: Double.self)
        // One epoch over a dataset shard of 2 batches per rank.
        let checkpoint = ModelCheckpoint(folder + "rank\(rank)/weights.safetensors", monitor: "loss")
        let csv = CSVLogger(folder + "rank\(rank)/log.csv")
        let shard = Dataset.fromTensorSlices((x, y)).batch(32)
        let history = try model.fit(shard, epochs: 2, verbose: rank == 0 ? 1 : 0, callbacks: [checkpoint, csv],
                                    distribution: try DataParallel())
        for accuracy in history.history["sparse_categorical_accuracy"]! { XCTAssertEqual(accuracy, expected, accuracy: 1e-6) }
        XCTAssertEqual(history.history["sparse_categorical_accuracy"]!.count, 2)
        XCTAssertEqual(FileManager.default.fileExists(atPath: folder + "rank\(rank)/weights.safetensors"), rank == 0)
        XCTAssertEqual(FileManager.default.fileExists(atPath: folder + "rank\(rank)/log.csv"), rank == 0)
        // Different numbers of batches: a typed error on every rank, before training.
        let uneven = Dataset.fromTensorSlices((x, y)).take(rank == 0 ? 64 : 32).batch(32)
        XCTAssertThrowsError(try model.fit(uneven, verbose: 0, distribution: try DataParallel())) { error in
            XCTAssertEqual("\(error)", "fit: the processes have different numbers of batches per epoch (rank 0: 2, rank 1: 1); "
                           + "give each the same, e.g. with Dataset.shard(count:index:) and batch(_:dropRemainder: true)")
        }
        // Unknown counts (a filter): the ranks stop together when one runs out.
        let filtered = Dataset.fromTensorSlices((x, y)).take(rank == 0 ? 64 : 32).filter { _ in true }.batch(32)
        let before = model.optimizer!.iterations
        try model.fit(filtered, verbose: 0, distribution: try DataParallel())
        XCTAssertEqual(model.optimizer!.iterations - before, 1)
        // Rank 0's optimizer state and step count reach every rank (a run resumed
        // from rank 0's backup).
        let resumed = mlp(seed: 3, Adam(learningRate: 0.01))
        if rank == 0 { try resumed.fit(x: x, y: y, batchSize: 32, epochs: 1, verbose: 0) }
        let strategy = try DataParallel()
        try strategy.beginTraining(resumed)
        let adam = resumed.optimizer!
        XCTAssertEqual(adam.iterations, 2)
        for v in resumed.trainableWeights {
            let state = adam.state(of: v)
            XCTAssertEqual(state.count, 2)
            for t in state + [v.value] { XCTAssertEqual(Distributed.allreduce(t, op: .max), Distributed.allreduce(t, op: .min)) }
        }
        strategy.endTraining(resumed)
        XCTAssertNil(adam.gradientAggregator)
        print("fit duties done")
    }

    // MARK: Failures: a clear message naming the rank, never a hang

    func testAMissingRankIsNamedWithinTheTimeout() throws {
        let start = Date()
        let (status, output) = try MPILauncher.run("DistributedTrainingTests/testMissingRankOnEachRank",
                                                   environment: ["DEEPSWIFT_DISTRIBUTED_TIMEOUT": "3"], limit: 60)
        XCTAssertNotEqual(status, 0, output)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, output)
        XCTAssertTrue(output.contains("DeepSwiftDistributed: rank 0 of 2: rank 1 did not reach collective #3 "
                                      + "(allreduce of 16 bytes) within 3.0 s: it has stopped, hung, or run fewer steps than rank 0"), output)
    }

    func testMissingRankOnEachRank() throws {
        try requireWorker()
        try Distributed.initialize()
        let t = Tensor([1, 2, 3, 4] as [Float])
        _ = Distributed.allreduce(t)
        _ = Distributed.allreduce(t)
        // Rank 1 runs one step fewer and then waits elsewhere, as a rank whose data ran out.
        if Distributed.rank == 1 { sleep(30); return }
        _ = Distributed.allreduce(t)
        XCTFail("rank 0 went on without rank 1")
    }

    func testMismatchedCollectivesAreNamed() throws {
        let (status, output) = try MPILauncher.run("DistributedTrainingTests/testMismatchOnEachRank", limit: 60)
        XCTAssertNotEqual(status, 0, output)
        XCTAssertTrue(output.contains("DeepSwiftDistributed: rank 0 of 2: rank 1 reached collective #1 (allreduce of 20 bytes) "
                                      + "while rank 0 reached collective #1 (allreduce of 16 bytes): the processes run different steps"), output)
    }

    func testMismatchOnEachRank() throws {
        try requireWorker()
        try Distributed.initialize()
        _ = Distributed.allreduce(Tensor(shape: [4 + Distributed.rank], scalars: [Float](repeating: 1, count: 4 + Distributed.rank)))
        XCTFail("mismatched allreduce went through")
    }

    func testAKilledRankStopsTheSurvivorWithAMessage() throws {
        let start = Date()
        let (status, output) = try MPILauncher.run("DistributedTrainingTests/testKilledRankOnEachRank", limit: 60)
        XCTAssertNotEqual(status, 0, output)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, output)
        // mpirun names the dead rank; the survivor says why it stops.
        XCTAssertTrue(output.contains("process rank 1"), output)
        XCTAssertTrue(output.contains("DeepSwiftDistributed: rank 0 of 2 was stopped by mpirun (SIGTERM)"), output)
    }

    func testKilledRankOnEachRank() throws {
        try requireWorker()
        try Distributed.initialize()
        _ = Distributed.allreduce(Tensor([1] as [Float]))
        if Distributed.rank == 1 { kill(getpid(), SIGKILL) }
        _ = Distributed.allreduce(Tensor([1] as [Float]))
        XCTFail("rank 0 went on without rank 1")
    }

    // MARK: Helpers

    private func requireWorker() throws {
        guard MPILauncher.isWorker else { throw XCTSkip("a rank's half: run by its test under mpirun") }
    }

    /// A small MLP from `seed`, compiled with sparse cross-entropy from logits.
    private func mlp(seed: UInt64, _ optimizer: Optimizer) -> Sequential {
        setRandomSeed(seed)
        let model = Sequential([Dense(16, activation: .relu), Dense(4)], inputShape: [8])
        model.compile(optimizer: optimizer, loss: SparseCategoricalCrossentropy(fromLogits: true))
        return model
    }
}
