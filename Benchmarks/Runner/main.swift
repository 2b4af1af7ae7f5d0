// `swift run -c release Benchmarks [--filter SUBSTRING] [--only NAME,NAME] [--threads N] [--json] [--crossover]`
// prints `name  median_us  min_us  max_us  [extra]` per workload (see BENCHMARKS.md).
import ArgumentParser
import Foundation
import DeepSwift

/// The runner's command line (`--help` lists it with the defaults).
struct BenchmarkArguments: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "Benchmarks",
                                                    abstract: "Times the workloads of BENCHMARKS.md (release builds only).")

    @Option(help: "Run only the workloads whose name contains this.")
    var filter: String?
    @Option(help: "Run only these workloads (comma-separated names).")
    var only: String?
    @Option(help: "Intra-op threads (Threading.intraOpThreads); the machine's CPUs when omitted.")
    var threads: Int?
    @Flag(help: "Add a JSON object of every result as the last line.")
    var json = false
    @Flag(help: "Run the crossover workloads (where splitting a kernel over threads starts to pay) instead.")
    var crossover = false
    @Option(help: .hidden)
    var mpiWorker: String?

    mutating func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    /// Whether `name` is selected by --filter and --only.
    func selects(_ name: String) -> Bool {
        (filter.map { name.contains($0) } ?? true) && (only.map { $0.split(separator: ",").map(String.init).contains(name) } ?? true)
    }
}

let arguments = BenchmarkArguments.parseOrExit()
// A rank of the 2-process job the runner launches for the distributed workloads.
if let names = arguments.mpiWorker {
    try distributedWorker(names.split(separator: ",").map(String.init))
    exit(0)
}
let json = arguments.json
if let threads = arguments.threads { Threading.intraOpThreads = threads }

var workloads = tensorWorkloads() + autodiffWorkloads() + dataWorkloads() + modelWorkloads() + visionWorkloads() + mathWorkloads() + sequenceWorkloads()
if arguments.crossover { workloads = crossoverWorkloads() }
workloads = workloads.filter { arguments.selects($0.name) }
let distributed = arguments.crossover ? [] : distributedWorkloadNames.filter { arguments.selects($0) }

var results: [Measurement] = []
for w in workloads {
    let m = measure(w)
    results.append(m)
    printMeasurement(m)
}
// Their lines come from rank 0 of a 2-process job.
results += runDistributedWorkloads(selected: distributed)

if json {
    let entries = results.map { m -> String in
        var fields = ["\"median_us\": \(m.median)", "\"min_us\": \(m.min)", "\"max_us\": \(m.max)"]
        if let e = m.extra { fields.append("\"extra\": \(e)") }
        return "\"\(m.name)\": {\(fields.joined(separator: ", "))}"
    }
    print("{" + entries.joined(separator: ", ") + "}")
}

/// `name  median  min  max  [extra]`.
func printMeasurement(_ m: Measurement) {
    var line = m.name.padding(toLength: Swift.max(34, m.name.count + 1), withPad: " ", startingAt: 0)
    line += [m.median, m.min, m.max].map { formatted($0).leftPadded(12) }.joined()
    if let e = m.extra { line += formatted(e).leftPadded(12) }
    print(line)
    fflush(nil)
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
