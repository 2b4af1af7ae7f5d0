import Foundation
import XCTest

/// Runs one test of this binary as a job of `mpirun -np 2` and returns its exit
/// status and output; the job is killed (and the test fails) if it outlives
/// `limit` seconds.
enum MPILauncher {
    enum Transport: String {
        /// Open MPI's shared-memory transport (vader), as on one machine.
        case sharedMemory = "self,vader"
        /// TCP, the transport that crosses machines.
        case tcp = "tcp,self"
    }

    /// `mpirun`'s path, or nil when Open MPI's launcher is not installed.
    static let mpirun: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static func requireMPIRun() throws -> String {
        guard let mpirun else { throw XCTSkip("mpirun is not installed (Debian's openmpi-bin; `make` installs it)") }
        return mpirun
    }

    /// Whether this process is a rank of a job launched by ``run(_:transport:environment:limit:)``.
    static var isWorker: Bool { ProcessInfo.processInfo.environment["DEEPSWIFT_MPI_WORKER"] != nil }

    static func run(_ test: String, processes: Int = 2, transport: Transport = .sharedMemory,
                    environment extra: [String: String] = [:], limit: Double = 120) throws -> (status: Int32, output: String) {
        let mpirun = try requireMPIRun()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = ["--oversubscribe", "-np", String(processes), "--mca", "btl", transport.rawValue,
                             ProcessInfo.processInfo.arguments[0], "DeepSwiftDistributedTests.\(test)"]
        var environment = ProcessInfo.processInfo.environment
        environment["DEEPSWIFT_MPI_WORKER"] = "1"
        // Containers: root may launch, and the shared-memory transport copies
        // through its own buffers (no cross-memory attach).
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let collected = OutputCollector()
        pipe.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("mpirun \(test) still ran after \(limit) s; output:\n\(collected.text)")
        }
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        collected.append(pipe.fileHandleForReading.readDataToEndOfFile())
        return (process.terminationStatus, collected.text)
    }
}

/// Output gathered from a pipe's handler thread.
final class OutputCollector: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
