import CMPI
import Foundation

/// The processes training together, as Horovod's `hvd`: Open MPI's world,
/// initialized once per process.
///
/// ```swift
/// // mpirun -np 2 swift run -c release DistributedMNIST
/// // try Distributed.initialize()
/// // print(Distributed.rank, Distributed.size)   // 0 2 and 1 2
/// ```
///
/// A process started without `mpirun` is a world of size 1: every collective
/// returns its input, and no MPI function is called (MPI is not even initialized).
///
/// Every collective first checks that all processes reached the same one (by
/// count, kind and size); a process that does not arrive within ``timeout``
/// stops the job with a message naming it (``Failure``), instead of a hang.
public enum Distributed {
    /// This process's index in the world, in `0..<size`.
    public static var rank: Int { world.rank }
    /// The number of processes.
    public static var size: Int { world.size }
    /// This process's index among the processes of its machine.
    public static var localRank: Int { world.localRank }
    /// The number of processes on this machine.
    public static var localSize: Int { world.localSize }
    /// Whether ``initialize()`` has run (and ``finalize()`` has not).
    public static var isInitialized: Bool { state != nil }

    /// Seconds a collective waits for the other processes before it stops the job
    /// (default 300, or `DEEPSWIFT_DISTRIBUTED_TIMEOUT`). A process writing a
    /// checkpoint or running validation makes the others wait, so keep it long.
    nonisolated(unsafe) public static var timeout: Double = {
        ProcessInfo.processInfo.environment["DEEPSWIFT_DISTRIBUTED_TIMEOUT"].flatMap(Double.init).map { Swift.max(0.1, $0) } ?? 300
    }()

    /// Joins the world: `MPI_Init_thread` under `mpirun` (or another MPI launcher),
    /// nothing otherwise. Calling it again does nothing.
    ///
    /// - Throws: ``DistributedError`` when MPI cannot start.
    public static func initialize() throws {
        guard state == nil else { return }
        state = try World.start()
    }

    /// Leaves the world (`MPI_Finalize`), after which no collective may run. A
    /// process that initialized and never finalizes is finalized at exit.
    public static func finalize() {
        guard let s = state else { return }
        state = nil
        s.stop()
    }

    nonisolated(unsafe) static var state: World?

    static var world: World {
        guard let state else {
            preconditionFailure("DeepSwiftDistributed: call Distributed.initialize() before using the world")
        }
        return state
    }
}

/// Why MPI could not start or a call failed.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI function returned an error code.
    case mpi(function: String, code: Int32, message: String)

    /// The failed function, its error code and MPI's message.
    public var description: String {
        switch self {
        case .mpi(let function, let code, let message): return "\(function) failed (error \(code)): \(message)"
        }
    }
}

/// Open MPI's error text for `code`.
func mpiErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
    var length: Int32 = 0
    _ = MPI_Error_string(code, &buffer, &length)
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
