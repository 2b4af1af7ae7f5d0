import XCTest
import CKernels
import Foundation
@testable import TensorCore
import TestSupport

/// The intra-op pool: large transcendental ops split over threads with the same
/// results as on one thread, and the pool covers every element exactly once.
final class ThreadingTests: XCTestCase {
    override func tearDown() { Threading.intraOpThreads = 0 }

    func testThreadCountSetting() {
        let cpus = min(ProcessInfo.processInfo.activeProcessorCount, 16)
        Threading.intraOpThreads = 0
        XCTAssertEqual(Threading.intraOpThreads, cpus)
        Threading.intraOpThreads = 1
        XCTAssertEqual(Threading.intraOpThreads, 1)
        Threading.intraOpThreads = 100
        XCTAssertEqual(Threading.intraOpThreads, 16)
        Threading.intraOpThreads = -3
        XCTAssertEqual(Threading.intraOpThreads, cpus)
    }

    /// A container's CPU quota caps the default thread count.
    func testCPUQuotaParsing() {
        XCTAssertEqual(ck_cpu_quota_limit("max 100000\n", nil, nil), 0)
        XCTAssertEqual(ck_cpu_quota_limit("200000 100000\n", nil, nil), 2)
        XCTAssertEqual(ck_cpu_quota_limit("150000 100000", nil, nil), 2, "a part of a CPU counts as one")
        XCTAssertEqual(ck_cpu_quota_limit("50000 100000", nil, nil), 1)
        XCTAssertEqual(ck_cpu_quota_limit(nil, "-1\n", "100000\n"), 0)
        XCTAssertEqual(ck_cpu_quota_limit(nil, "400000\n", "100000\n"), 4)
        XCTAssertEqual(ck_cpu_quota_limit("garbage", nil, nil), 0)
        XCTAssertEqual(ck_cpu_quota_limit(nil, nil, nil), 0)
        XCTAssertEqual(ck_cpu_quota_limit("100000 0", nil, nil), 0)
    }

    /// 300,001 elements: above the parallel threshold, with a short last chunk.
    func testLargeOpsMatchOneThreadExactly() {
        var g = RandomGenerator(seed: 5)
        let x = Random.uniform([300_001], min: 0.01, max: 8, using: &g)
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("exp", { exp($0) }), ("log", { log($0) }), ("tanh", { tanh($0) }),
            ("sigmoid", { sigmoid(-$0) }), ("softplus", { softplus($0 - 4) }), ("sqrt", { sqrt($0) }),
            ("sin", { sin($0) }),
        ]
        for dtype in [DType.float32, .float64] {
            let xd = x.cast(to: dtype)
            for (name, op) in ops {
                Threading.intraOpThreads = 1
                let serial = op(xd)
                Threading.intraOpThreads = 2
                let parallel = op(xd)
                XCTAssertEqual(serial.scalars(as: Double.self), parallel.scalars(as: Double.self), "\(name) \(dtype)")
            }
        }
        // And the values are right: spot checks against Foundation's exp.
        let e = exp(x).scalars(as: Float.self)
        let xs = x.scalars(as: Float.self)
        for i in stride(from: 0, to: 300_001, by: 9_999) {
            XCTAssertEqual(e[i], Foundation.exp(xs[i]), accuracy: Foundation.exp(xs[i]) * 2e-7)
        }
    }

    /// A large outer product (a batch-of-one weight gradient) splits its rows.
    func testLargeOuterProductMatchesOneThreadExactly() {
        var g = RandomGenerator(seed: 6)
        let a = Random.normal([1, 7], using: &g), b = Random.normal([1, 40_003], using: &g)
        Threading.intraOpThreads = 1
        let serial = matmul(a, b, transposeA: true)
        Threading.intraOpThreads = 2
        let parallel = matmul(a, b, transposeA: true)
        XCTAssertEqual(parallel.shape, [7, 40_003])
        XCTAssertEqual(serial.scalars(as: Float.self), parallel.scalars(as: Float.self))
        let (p, x, y) = (parallel.scalars(as: Float.self), a.scalars(as: Float.self), b.scalars(as: Float.self))
        for (i, j) in [(0, 0), (3, 20_001), (6, 40_002)] { XCTAssertEqual(p[i * 40_003 + j], x[i] * y[j]) }
    }

    /// A batch of long rows (a shuffled dataset batch) splits its rows.
    func testLargeRowGatherIsComplete() {
        Threading.intraOpThreads = 2
        let x = Tensor(shape: [500, 784], scalars: (0..<(500 * 784)).map { Float($0) })
        var g = RandomGenerator(seed: 2)
        let picks = (0..<97).map { _ in Int64(Random.uniform([], min: 0, max: 500, dtype: .int64, using: &g).scalar(as: Int64.self)) }
        let batch = x.gathering(atIndices: Tensor(shape: [97], scalars: picks))
        XCTAssertEqual(batch.shape, [97, 784])
        let values = batch.scalars(as: Float.self)
        for (j, row) in picks.enumerated() {
            XCTAssertEqual(Array(values[j * 784..<(j + 1) * 784]), (0..<784).map { Float(Int(row) * 784 + $0) }, "row \(j)")
        }
    }

    /// Several threads using large ops at once: the one that finds the pool busy
    /// runs its op itself, and every result is complete and right.
    func testConcurrentCallersAllGetCompleteResults() {
        Threading.intraOpThreads = 2
        let x = Tensor.full([200_000], value: 0.5)
        let expected = Float(Foundation.exp(0.5))
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for _ in 0..<5 {
                let y = exp(x + Double(i)).scalars(as: Float.self)
                let want = expected * Foundation.exp(Float(i))
                if y.contains(where: { abs($0 - want) > want * 2e-7 }) { failures.add() }
            }
        }
        XCTAssertEqual(failures.value, 0)
    }

    /// The pool's own contract: chunks tile [0, n) exactly once, and with two
    /// threads a second thread takes part.
    func testParallelForCoversTheRangeOnMoreThanOneThread() throws {
        try XCTSkipIf(ProcessInfo.processInfo.activeProcessorCount < 2, "one CPU")
        Threading.intraOpThreads = 2
        // A concurrent test before this one leaves the pool "contended" (every
        // caller on its own thread) for about 10 ms.
        usleep(50_000)
        let log = Self.runTwoParts()
        let chunks = log.chunks.sorted { $0.0 < $1.0 }
        XCTAssertEqual(chunks.first?.0, 0)
        XCTAssertEqual(chunks.last?.1, 1_000_003)
        for (a, b) in zip(chunks, chunks.dropFirst()) { XCTAssertEqual(a.1, b.0) }
        XCTAssertEqual(Set(log.threads).count, 2)
    }

    /// Two parts of a range, each held until the other has started (or 5 s have
    /// passed): the second can then only have been claimed by a worker.
    private static func runTwoParts() -> ChunkLog {
        let log = ChunkLog()
        let context = Unmanaged.passRetained(log)
        defer { context.release() }
        ck_parallel_for(1_000_003, 100_000, { ctx, begin, end in
            let log = Unmanaged<ChunkLog>.fromOpaque(ctx!).takeUnretainedValue()
            log.record(begin, end)
            for _ in 0..<5_000 where log.count < 2 { usleep(1_000) }
        }, context.toOpaque())
        return log
    }

    private static func partsRanOnTwoThreads() -> Bool { Set(runTwoParts().threads).count == 2 }

    /// A forked child (the parent's pool already running) starts workers of its
    /// own: its kernels are right, and they run on two threads again.
    func testForkedChildRunsParallelKernels() throws {
        try XCTSkipIf(ProcessInfo.processInfo.activeProcessorCount < 2, "one CPU")
        Threading.intraOpThreads = 2
        let n = 300_000
        let x = UnsafeMutablePointer<Float>.allocate(capacity: n), y = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { x.deallocate(); y.deallocate() }
        x.initialize(repeating: 1, count: n)
        ck_unary(CK_EXP, CK_F32, x, y, n)   // the parent's pool is up
        let pid = fork()
        if pid == 0 {
            alarm(30)   // a hang ends the child instead of the test run
            y.initialize(repeating: 0, count: n)
            ck_unary(CK_EXP, CK_F32, x, y, n)
            let correct = (0..<n).allSatisfy { abs(y[$0] - 2.7182817) < 1e-6 }
            _exit(correct && Self.partsRanOnTwoThreads() ? 0 : 1)
        }
        XCTAssertGreaterThan(pid, 0)
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pid, &status, 0), pid)
        XCTAssertEqual(status, 0, "the child computed exp on its own pool and exited normally")
    }

    /// Below two grains the loop runs as one call on the calling thread.
    func testSmallRangesRunInOneCall() {
        let log = ChunkLog()
        let context = Unmanaged.passRetained(log)
        defer { context.release() }
        ck_parallel_for(150, 100, { ctx, begin, end in
            Unmanaged<ChunkLog>.fromOpaque(ctx!).takeUnretainedValue().record(begin, end)
        }, context.toOpaque())
        XCTAssertEqual(log.chunks.count, 1)
        XCTAssertEqual(log.chunks.first?.0, 0)
        XCTAssertEqual(log.chunks.first?.1, 150)
        XCTAssertEqual(log.threads, [pthread_self()])
    }
}

private final class ChunkLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var chunks: [(Int, Int)] = []
    private(set) var threads: [pthread_t] = []
    var count: Int { lock.withLock { chunks.count } }
    func record(_ begin: Int, _ end: Int) {
        lock.withLock {
            chunks.append((begin, end))
            threads.append(pthread_self())
        }
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var value = 0
    func add() { lock.withLock { value += 1 } }
}
