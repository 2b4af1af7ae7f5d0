// `swift run -c release Benchmarks [--filter SUBSTRING | --only NAME,NAME] [--threads N] [--json] [--crossover]`
// prints `name  median_us  min_us  max_us  [extra]` per workload (see BENCHMARKS.md).
import Foundation
import DeepSwift

let arguments = CommandLine.arguments.dropFirst()
// A rank of the 2-process job the runner launches for the distributed workloads.
if let i = arguments.firstIndex(of: "--mpi-worker"), arguments.index(after: i) < arguments.endIndex {
    try distributedWorker(arguments[arguments.index(after: i)].split(separator: ",").map(String.init))
    exit(0)
}
var filter: String? = nil
if let i = arguments.firstIndex(of: "--filter"), arguments.index(after: i) < arguments.endIndex {
    filter = arguments[arguments.index(after: i)]
}
let json = arguments.contains("--json")
// `--threads 1` keeps every op on one thread (Threading.intraOpThreads).
if let i = arguments.firstIndex(of: "--threads"), arguments.index(after: i) < arguments.endIndex,
   let count = Int(arguments[arguments.index(after: i)]) {
    Threading.intraOpThreads = count
}

var workloads = tensorWorkloads() + autodiffWorkloads() + dataWorkloads() + modelWorkloads() + visionWorkloads() + mathWorkloads() + sequenceWorkloads()
if arguments.contains("--crossover") { workloads = crossoverWorkloads() }
if let filter { workloads = workloads.filter { $0.name.contains(filter) } }
if let i = arguments.firstIndex(of: "--only"), arguments.index(after: i) < arguments.endIndex {
    let names = Set(arguments[arguments.index(after: i)].split(separator: ",").map(String.init))
    workloads = workloads.filter { names.contains($0.name) }
}

var distributed = distributedWorkloadNames
if arguments.contains("--crossover") { distributed = [] }
if let filter { distributed = distributed.filter { $0.contains(filter) } }
if let i = arguments.firstIndex(of: "--only"), arguments.index(after: i) < arguments.endIndex {
    let names = Set(arguments[arguments.index(after: i)].split(separator: ",").map(String.init))
    distributed = distributed.filter { names.contains($0) }
}

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
