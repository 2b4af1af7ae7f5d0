import XCTest
@testable import DeepSwift
@testable import DeepSwiftDistributed
import TestSupport

/// Allreduce, broadcast and the fusion buffer on two processes, over shared
/// memory and TCP; and the world of one process started without `mpirun`.
final class CollectivesTests: XCTestCase {
    func testCollectivesOnTwoRanks() throws {
        for transport in [MPILauncher.Transport.sharedMemory, .tcp] {
            let (status, output) = try MPILauncher.run("CollectivesTests/testCollectivesOnEachRank", transport: transport)
            XCTAssertEqual(status, 0, "\(transport):\n\(output)")
            XCTAssertEqual(output.components(separatedBy: "collectives checked").count - 1, 2, output)
        }
    }

    func testCollectivesOnEachRank() throws {
        guard MPILauncher.isWorker else { throw XCTSkip("a rank's half: run by its test under mpirun") }
        try Distributed.initialize()
        let r = Double(Distributed.rank)   // 0 and 1
        // Allreduce: float32 and float64, sum, average, min, max; integers.
        for dtype in [DType.float32, .float64] {
            let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6].map { $0 + 10 * r }).cast(to: dtype)
            XCTAssertEqual(Distributed.allreduce(t, op: .sum).scalars(as: Double.self), [12, 14, 16, 18, 20, 22])
            XCTAssertEqual(Distributed.allreduce(t).scalars(as: Double.self), [6, 7, 8, 9, 10, 11])
            XCTAssertEqual(Distributed.allreduce(t, op: .min).scalars(as: Double.self), [1, 2, 3, 4, 5, 6])
            XCTAssertEqual(Distributed.allreduce(t, op: .max).scalars(as: Double.self), [11, 12, 13, 14, 15, 16])
            XCTAssertEqual(Distributed.allreduce(t).dtype, dtype)
            XCTAssertEqual(Distributed.allreduce(t).shape, [2, 3])
        }
        XCTAssertEqual(Distributed.allreduce(Tensor(shape: [2], scalars: [Int64(3), Int64(1) << 40]), op: .sum)
                        .scalars(as: Int64.self), [6, 1 << 41])
        // Empty tensors.
        XCTAssertEqual(Distributed.allreduce(Tensor.zeros([0, 4])).shape, [0, 4])
        XCTAssertEqual(Distributed.broadcast(Tensor.zeros([0], dtype: .float64)).shape, [0])
        // Broadcast: rank 1's values everywhere.
        for dtype in [DType.float32, .float64] {
            let t = Tensor(shape: [3], scalars: [r, r + 0.5, -r]).cast(to: dtype)
            XCTAssertEqual(Distributed.broadcast(t, root: 1).scalars(as: Double.self), [1, 1.5, -1])
        }
        let v = Variable(Tensor(shape: [2], scalars: [Float(r), Float(r)]))
        let w = Variable(Tensor(shape: [1], scalars: [r * 2]).cast(to: .float64))
        Distributed.broadcastVariables([v, w], root: 0)
        XCTAssertEqual(v.value.scalars(as: Float.self), [0, 0])
        XCTAssertEqual(w.value.scalars(as: Double.self), [0])

        // The fusion buffer: many small gradients in as few allreduces as the
        // threshold allows, one above it alone, both dtypes.
        let fused = FusedGradientAverage(threshold: 1024)
        let small = (0..<300).map { i in Tensor(shape: [3], scalars: [Float(i), Float(i) + Float(r), 2 * Float(r)]) }
        let large = Tensor(shape: [1000], scalars: (0..<1000).map { Double($0) + 1000 * r })   // 8000 bytes
        let gradients = small + [large]
        let variables = gradients.map { Variable(Tensor.zeros($0.shape, dtype: $0.dtype)) }
        let averaged = fused.aggregate(gradients, of: variables)
        // 300 × 12 bytes in 1024-byte groups of 85 tensors: 4 allreduces, and 1 alone.
        XCTAssertEqual(fused.allreduceCalls, 5)
        for (i, a) in averaged.prefix(300).enumerated() {
            XCTAssertEqual(a.scalars(as: Float.self), [Float(i), Float(i) + 0.5, 1], "tensor \(i)")
        }
        XCTAssertEqual(averaged[300].dtype, .float64)
        XCTAssertEqual(averaged[300].scalars(as: Double.self), (0..<1000).map { Double($0) + 500 })
        // The next step of the same shapes makes no new tensors.
        let again = fused.aggregate(gradients, of: variables)
        XCTAssertEqual(again[7].scalars(as: Float.self), [7, 7.5, 1])
        XCTAssertEqual(fused.allreduceCalls, 10)
        // The sums and 1/size, for an optimizer that scales as it reads.
        let (sums, scale) = fused.aggregateBeforeScaling(gradients, of: variables)
        XCTAssertEqual(scale, 0.5)
        XCTAssertEqual(sums[7].scalars(as: Float.self), [14, 15, 2])
        XCTAssertEqual(sums[300].scalars(as: Double.self).prefix(2), [1000, 1002])
        // 1 MiB and more goes straight from the gradient into its output; below,
        // through the buffer; Horovod's way (directBytes nil) packs everything.
        let kernels = [Tensor.full([1 << 18], value: r), Tensor.full([10], value: 1)]   // 1 MiB and 40 bytes
        let direct = FusedGradientAverage(), packed = FusedGradientAverage(directBytes: nil)
        XCTAssertEqual(direct.aggregate(kernels, of: kernels.map { Variable($0) }), packed.aggregate(kernels, of: kernels.map { Variable($0) }))
        XCTAssertEqual([direct.allreduceCalls, packed.allreduceCalls], [2, 1])
        // Above the threshold, in a 64 MiB default buffer: one call for everything.
        let big = FusedGradientAverage()
        let many = (0..<50).map { _ in Tensor.full([1 << 16], value: r) }   // 50 × 256 KiB
        XCTAssertEqual(big.aggregate(many, of: many.map { Variable($0) }).map { $0.mean().scalar(as: Float.self) },
                       [Float](repeating: 0.5, count: 50))
        XCTAssertEqual(big.allreduceCalls, 1)
        print("collectives checked")
    }

    /// Started without mpirun: a world of one, and collectives return their input
    /// without calling MPI (MPI is not initialized).
    func testAWorldOfOneWithoutMPIRun() throws {
        try XCTSkipIf(World.launchedByMPI, "this process runs under an MPI launcher")
        try Distributed.initialize()
        XCTAssertEqual(Distributed.size, 1)
        XCTAssertEqual(Distributed.rank, 0)
        XCTAssertEqual(Distributed.localRank, 0)
        XCTAssertFalse(Distributed.world.usesMPI)
        let t = Tensor([1, 2, 3] as [Float])
        XCTAssertEqual(Distributed.allreduce(t), t)
        XCTAssertEqual(Distributed.broadcast(t), t)
        let fused = FusedGradientAverage()
        XCTAssertEqual(fused.aggregate([t], of: [Variable(t)]), [t])
        XCTAssertEqual(fused.allreduceCalls, 0)
        // fit with the strategy is plain fit.
        setRandomSeed(5)
        let x = Random.normal([96, 4])
        let y = Random.uniform([96], min: 0, max: 3, dtype: .int64)
        func model() -> Sequential {
            setRandomSeed(9)
            let m = Sequential([Dense(3)], inputShape: [4])
            m.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true))
            return m
        }
        let (a, b) = (model(), model())
        setRandomSeed(1)
        try a.fit(x: x, y: y, batchSize: 16, epochs: 2, verbose: 0)
        setRandomSeed(1)
        try b.fit(x: x, y: y, batchSize: 16, epochs: 2, verbose: 0, distribution: try DataParallel())
        for (p, q) in zip(a.weights, b.weights) { XCTAssertEqual(p.value, q.value) }
    }
}
