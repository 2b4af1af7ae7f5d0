import CMPI
import DeepSwift
import DeepSwiftDistributed
import Foundation

// The distributed workloads run in a job of `mpirun -np 2` that the runner
// launches on itself (`--mpi-worker`); rank 0 prints their result lines, which
// the parent passes on. Every rank runs the same fixed number of iterations (the
// adaptive batching of `measure` would give the ranks different counts).

/// Names of the workloads measured under mpirun, in the order they print.
/// `big_mlp_step_2ranks_1thread` is compared with `big_mlp_step` (one process,
/// both cores), which runs outside the job.
let distributedWorkloadNames = [
    "allreduce_raw_4mb", "allreduce_fused_4mb", "allreduce_fused_divided_4mb", "allreduce_packed_4mb", "allreduce_raw_4mb_again",
    "big_mlp_step_2ranks_1thread",
]

/// Runs the distributed workloads in a 2-rank job, prints their lines and returns
/// them; a missing `mpirun` prints a note instead.
func runDistributedWorkloads(selected: [String]) -> [Measurement] {
    guard !selected.isEmpty else { return [] }
    guard let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        print("(distributed workloads skipped: mpirun is not installed)")
        return []
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun)
    process.arguments = ["--oversubscribe", "--bind-to", "core", "-np", "2", CommandLine.arguments[0], "--mpi-worker",
                         selected.joined(separator: ",")]
    var environment = ProcessInfo.processInfo.environment
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    var results: [Measurement] = []
    do {
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 4, selected.contains(String(fields[0])),
               let median = Double(fields[1]), let min = Double(fields[2]), let max = Double(fields[3]) {
                let m = Measurement(name: String(fields[0]), median: median, min: min, max: max, extra: fields.count > 4 ? Double(fields[4]) : nil)
                results.append(m)
                printMeasurement(m)
            } else {
                print(line)
            }
        }
        if process.terminationStatus != 0 { print("(the distributed workloads' job exited with status \(process.terminationStatus))") }
    } catch {
        print("(distributed workloads failed to start: \(error))")
    }
    return results
}

/// The `--mpi-worker` side: runs the named workloads on every rank; rank 0 prints.
func distributedWorker(_ names: [String]) throws {
    try Distributed.initialize()
    defer { Distributed.finalize() }
    for name in names {
        guard let m = try distributedMeasurement(name) else { continue }
        if Distributed.rank == 0 { printMeasurement(m) }
    }
}

/// Gradients the size of a 784→1024→256→10 MLP's: 1,068,810 float32 (4.3 MB).
private func mlpSizedGradients() -> [Tensor] {
    [[784, 1024], [1024], [1024, 256], [256], [256, 10], [10]].map { Random.normal(TensorShape($0)) }
}

private func distributedMeasurement(_ name: String) throws -> Measurement? {
    switch name {
    case "allreduce_raw_4mb", "allreduce_raw_4mb_again":
        // One MPI_Allreduce of the same bytes, from one buffer into another.
        let count = mlpSizedGradients().reduce(0) { $0 + $1.count }
        let send = UnsafeMutablePointer<Float>.allocate(capacity: count), receive = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { send.deallocate(); receive.deallocate() }
        send.initialize(repeating: 1, count: count)
        return timed(name) { _ = MPI_Allreduce(send, receive, Int32(count), cmpi_float(), cmpi_sum(), cmpi_comm_world()) }
    case "allreduce_fused_4mb":
        // What an optimizer's step runs: the sums, whose 1/size its fused update applies.
        let gradients = mlpSizedGradients()
        let variables = gradients.map { Variable($0) }
        let fused = FusedGradientAverage()
        return timed(name) { consume(fused.aggregateBeforeScaling(gradients, of: variables)) }
    case "allreduce_fused_divided_4mb":
        // The averages as tensors (a custom optimizer's path): one more pass.
        let gradients = mlpSizedGradients()
        let variables = gradients.map { Variable($0) }
        let fused = FusedGradientAverage()
        return timed(name) { consume(fused.aggregate(gradients, of: variables)) }
    case "allreduce_packed_4mb":
        // Horovod's way: every gradient through the buffer.
        let gradients = mlpSizedGradients()
        let variables = gradients.map { Variable($0) }
        let fused = FusedGradientAverage(directBytes: nil)
        return timed(name) { consume(fused.aggregate(gradients, of: variables)) }
    case "big_mlp_step_2ranks_1thread":
        Threading.intraOpThreads = 1
        return timed(name, iterations: 20, bigMLPStep(batch: 128, distributed: true))
    default:
        return nil
    }
}

/// A fixed number of timed iterations after a warm-up, the same on every rank.
private func timed(_ name: String, iterations: Int = 60, _ body: () -> Void) -> Measurement {
    for _ in 0..<5 { body() }
    var samples: [Double] = []
    for _ in 0..<iterations {
        let t0 = now()
        body()
        samples.append(now() - t0)
    }
    samples.sort()
    return Measurement(name: name, median: samples[samples.count / 2], min: samples.first!, max: samples.last!, extra: nil)
}
