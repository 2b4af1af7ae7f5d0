import Glibc
import DeepSwift

/// One timed workload: `run` performs one iteration; `extra` turns the median
/// (in microseconds) into the workload's extra figure (GFLOP/s, µs/step, ...).
struct Workload {
    let name: String
    let extra: ((Double) -> Double)?
    let setUp: () -> () -> Void

    init(_ name: String, extra: ((Double) -> Double)? = nil, _ setUp: @escaping () -> () -> Void) {
        self.name = name
        self.extra = extra
        self.setUp = setUp
    }
}

extension Workload {
    /// A workload replaying a compiled step; its extra figure is the number of
    /// intermediate results the last replay allocated (the goal: 0).
    static func compiled(_ name: String, _ setUp: @escaping () -> (CompiledFunction, () -> Void)) -> Workload {
        final class Box: @unchecked Sendable { var function: CompiledFunction? }
        let box = Box()
        return Workload(name, extra: { _ in Double(box.function?.replayAllocations ?? -1) }) {
            let (function, body) = setUp()
            box.function = function
            return body
        }
    }
}

struct Measurement {
    let name: String
    let median: Double, min: Double, max: Double
    let extra: Double?
}

/// Keeps a result alive until here, so the optimizer cannot drop the work that made it.
@inline(never) func consume<T>(_ x: T) { withExtendedLifetime(x) {} }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

/// Warms up, then takes samples of `batch` iterations each (a batch lasts at
/// least ~2 ms so that clock resolution does not matter) for about `budget`
/// microseconds, and reports per-iteration median, min and max.
func measure(_ w: Workload, budget: Double = 1_000_000) -> Measurement {
    let body = w.setUp()
    var start = now()
    body()
    var once = now() - start
    if once < 1000 { for _ in 0..<3 { body() } }   // warm caches and allocators
    start = now(); body(); once = Swift.max(now() - start, 0.001)
    let batch = Swift.max(1, Int(2000 / once))
    let sampleCount = Swift.min(200, Swift.max(5, Int(budget / (once * Double(batch)))))
    var samples: [Double] = []
    for _ in 0..<sampleCount {
        let t0 = now()
        for _ in 0..<batch { body() }
        samples.append((now() - t0) / Double(batch))
    }
    samples.sort()
    let median = samples[samples.count / 2]
    return Measurement(name: w.name, median: median, min: samples.first!, max: samples.last!,
                       extra: w.extra.map { $0(median) })
}

/// Three decimals below 10, whole numbers above.
func formatted(_ v: Double) -> String {
    v < 10 ? "\((v * 1000).rounded() / 1000)" : String(Int(v.rounded()))
}
