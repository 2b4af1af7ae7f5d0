import CMPI
import Foundation

/// The MPI state of this process: its rank, the communicators, and the arrival
/// check every collective starts with.
///
/// MPI is called from one thread at a time (`MPI_THREAD_SERIALIZED`); the
/// collectives of DeepSwiftDistributed are not meant to run concurrently.
final class World {
    let rank: Int, size: Int, localRank: Int, localSize: Int
    /// Whether MPI runs (false in a world of one started without a launcher).
    let usesMPI: Bool
    /// The collectives' communicator, and the one for the arrival notices (both
    /// duplicates of `MPI_COMM_WORLD`, so a user's messages never match ours).
    private var comm: MPI_Comm?, notices: MPI_Comm?
    /// Collectives started so far: the same on every process while they agree.
    private(set) var sequence: Int64 = 0
    /// Notice buffers and requests, made once (a collective allocates nothing).
    private let noticeBuffer: UnsafeMutablePointer<Int64>
    private let requests: UnsafeMutablePointer<MPI_Request?>

    private init(rank: Int, size: Int, localRank: Int, localSize: Int, comm: MPI_Comm?, notices: MPI_Comm?) {
        (self.rank, self.size, self.localRank, self.localSize) = (rank, size, localRank, localSize)
        (self.comm, self.notices, usesMPI) = (comm, notices, comm != nil)
        noticeBuffer = .allocate(capacity: 4 * Swift.max(1, size))
        noticeBuffer.initialize(repeating: 0, count: 4 * Swift.max(1, size))
        requests = .allocate(capacity: Swift.max(2, size))
        requests.initialize(repeating: cmpi_request_null(), count: Swift.max(2, size))
    }

    /// Whether a launcher started this process as part of a job: Open MPI's
    /// `mpirun` and PMIx or PMI launchers (Slurm's `srun`, MPICH's Hydra) say so.
    static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    static func start() throws -> World {
        guard launchedByMPI else {
            return World(rank: 0, size: 1, localRank: 0, localSize: 1, comm: nil, notices: nil)
        }
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided), "MPI_Init_thread")
        // Errors come back as codes, so a failure is reported with this process's rank.
        try check(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        var comm: MPI_Comm?, notices: MPI_Comm?, local: MPI_Comm?
        try check(MPI_Comm_dup(cmpi_comm_world(), &comm), "MPI_Comm_dup")
        try check(MPI_Comm_dup(cmpi_comm_world(), &notices), "MPI_Comm_dup")
        var (rank, size, localRank, localSize): (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
        try check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(comm, &size), "MPI_Comm_size")
        try check(MPI_Comm_split_type(comm, cmpi_comm_type_shared(), rank, cmpi_info_null(), &local), "MPI_Comm_split_type")
        try check(MPI_Comm_rank(local, &localRank), "MPI_Comm_rank")
        try check(MPI_Comm_size(local, &localSize), "MPI_Comm_size")
        _ = MPI_Comm_free(&local)
        let world = World(rank: Int(rank), size: Int(size), localRank: Int(localRank), localSize: Int(localSize),
                          comm: comm, notices: notices)
        World.installExitHandlers(rank: Int(rank), size: Int(size))
        return world
    }

    func stop() {
        guard usesMPI else { return }
        _ = MPI_Comm_free(&notices)
        _ = MPI_Comm_free(&comm)
        _ = MPI_Finalize()
    }

    private static func check(_ code: Int32, _ function: String) throws {
        guard code == cmpi_success() else {
            throw DistributedError.mpi(function: function, code: code, message: mpiErrorText(code))
        }
    }

    // MARK: The collectives, on raw memory

    /// What a collective is, as the arrival notice carries it.
    enum Kind: Int64 {
        case allreduce = 1, broadcast, fusedAverage

        var name: String {
            switch self {
            case .allreduce: return "allreduce"
            case .broadcast: return "broadcast"
            case .fusedAverage: return "fused gradient average"
            }
        }
    }

    /// Sums (or takes the min/max of) `count` elements in place on every process,
    /// in chunks MPI's `int` counts can hold. Call ``arrive(_:bytes:)`` first.
    func allreduceInPlace(_ data: UnsafeMutableRawPointer, count: Int, type: MPI_Datatype?, elementSize: Int,
                          op: MPI_Op?) {
        var done = 0
        while done < count {
            let n = Swift.min(count - done, World.chunk)
            let code = MPI_Allreduce(cmpi_in_place(), data + done * elementSize, Int32(n), type, op, comm)
            if code != cmpi_success() { fail("MPI_Allreduce failed: \(mpiErrorText(code))") }
            done += n
        }
    }

    /// Sums `count` elements of `source` over the processes into `target` (a
    /// different buffer), in chunks. Call ``arrive(_:bytes:)`` first.
    func allreduce(from source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, count: Int, type: MPI_Datatype?,
                   elementSize: Int, op: MPI_Op?) {
        var done = 0
        while done < count {
            let n = Swift.min(count - done, World.chunk)
            let code = MPI_Allreduce(source + done * elementSize, target + done * elementSize, Int32(n), type, op, comm)
            if code != cmpi_success() { fail("MPI_Allreduce failed: \(mpiErrorText(code))") }
            done += n
        }
    }

    /// Copies `bytes` bytes from `root` to every process. Call ``arrive(_:bytes:)`` first.
    func broadcast(_ data: UnsafeMutableRawPointer, bytes: Int, root: Int) {
        var done = 0
        while done < bytes {
            let n = Swift.min(bytes - done, World.chunk)
            let code = MPI_Bcast(data + done, Int32(n), cmpi_byte(), Int32(root), comm)
            if code != cmpi_success() { fail("MPI_Bcast failed: \(mpiErrorText(code))") }
            done += n
        }
    }

    /// Elements (or bytes) per MPI call.
    static let chunk = 1 << 30

    // MARK: Arrival

    /// Checks that every process has reached the same collective: each tells rank
    /// 0 its collective count, kind and size, and waits for rank 0's answer. Rank 0
    /// stops the job, naming the processes, when one is missing after ``Distributed/timeout``
    /// seconds or has reached a different collective. Two small messages per
    /// process: a few microseconds over shared memory.
    func arrive(_ kind: Kind, bytes: Int) {
        guard usesMPI, size > 1 else { return }
        sequence += 1
        let what = { "collective #\(self.sequence) (\(kind.name) of \(bytes) bytes)" }
        let timeout = Distributed.timeout
        if rank == 0 {
            for p in 1..<size {
                let code = MPI_Irecv(noticeBuffer + 4 * p, 3, cmpi_int64(), Int32(p), 0, notices, requests + (p - 1))
                if code != cmpi_success() { fail("MPI_Irecv failed: \(mpiErrorText(code))") }
            }
            if !poll(Int32(size - 1), until: World.now() + timeout) {
                var missing: [Int] = []
                for p in 1..<size {
                    var flag: Int32 = 0
                    _ = MPI_Test(requests + (p - 1), &flag, cmpi_status_ignore())
                    if flag == 0 { missing.append(p) }
                }
                fail("\(missing.count == 1 ? "rank" : "ranks") \(missing.map(String.init).joined(separator: ", ")) did not reach "
                     + "\(what()) within \(timeout) s: \(missing.count == 1 ? "it has" : "they have") stopped, hung, "
                     + "or run fewer steps than rank 0")
            }
            for p in 1..<size {
                let (s, k, b) = (noticeBuffer[4 * p], noticeBuffer[4 * p + 1], noticeBuffer[4 * p + 2])
                if s != sequence || k != kind.rawValue || b != Int64(bytes) {
                    let theirs = "collective #\(s) (\(Kind(rawValue: k)?.name ?? "unknown") of \(b) bytes)"
                    fail("rank \(p) reached \(theirs) while rank 0 reached \(what()): the processes run different "
                         + "steps (mismatched step counts or tensors)")
                }
            }
            noticeBuffer[0] = sequence
            for p in 1..<size {
                let code = MPI_Send(noticeBuffer, 1, cmpi_int64(), Int32(p), 1, notices)
                if code != cmpi_success() { fail("MPI_Send failed: \(mpiErrorText(code))") }
            }
        } else {
            let mine = noticeBuffer + 4 * rank
            (mine[0], mine[1], mine[2]) = (sequence, kind.rawValue, Int64(bytes))
            let answer = noticeBuffer
            var code = MPI_Isend(mine, 3, cmpi_int64(), 0, 0, notices, requests)
            if code == cmpi_success() { code = MPI_Irecv(answer, 1, cmpi_int64(), 0, 1, notices, requests + 1) }
            if code != cmpi_success() { fail("MPI_Isend failed: \(mpiErrorText(code))") }
            // A little longer than rank 0 waits, so that rank 0 names the missing ranks.
            if !poll(2, until: World.now() + timeout + 2) {
                fail("rank 0 did not answer at \(what()) within \(timeout) s: it has stopped, hung, or run fewer steps")
            }
        }
    }

    /// Waits for the first `count` requests, spinning (as MPI's own waits do) and
    /// yielding the core now and then; false when the deadline passes first.
    private func poll(_ count: Int32, until deadline: Double) -> Bool {
        var flag: Int32 = 0
        var spins = 0
        while true {
            let code = MPI_Testall(count, requests, &flag, cmpi_statuses_ignore())
            if code != cmpi_success() { fail("MPI_Testall failed: \(mpiErrorText(code))") }
            if flag != 0 { return true }
            spins += 1
            if spins & 63 == 0 {
                if World.now() > deadline { return false }
                sched_yield()
            }
        }
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Prints why this process stops the job, naming its rank, and aborts every
    /// process of it (MPI cannot recover from a broken collective).
    func fail(_ message: String) -> Never {
        let text = "DeepSwiftDistributed: rank \(rank) of \(size): \(message)\n"
        FileHandle.standardError.write(text.data(using: .utf8)!)
        if usesMPI { _ = MPI_Abort(cmpi_comm_world(), 70) }
        exit(70)
    }

    // MARK: Exit

    /// Finalizes MPI at exit if the program did not, and says which process was
    /// stopped when `mpirun` ends the job because another process died.
    private static func installExitHandlers(rank: Int, size: Int) {
        atexit { Distributed.finalize() }
        let text = "DeepSwiftDistributed: rank \(rank) of \(size) was stopped by mpirun (SIGTERM): the job is ending, "
            + "usually because another process died or failed first (mpirun's message names it)\n"
        let bytes = Array(text.utf8)
        World.stopMessage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        _ = World.stopMessage!.initialize(from: bytes)
        signal(SIGTERM) { _ in
            // Only async-signal-safe calls here: write(2) and _exit(2).
            if let message = World.stopMessage { _ = write(2, message.baseAddress, message.count) }
            _exit(143)
        }
    }

    nonisolated(unsafe) static var stopMessage: UnsafeMutableBufferPointer<UInt8>?
}
