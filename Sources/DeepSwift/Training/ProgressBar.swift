import Foundation

/// Keras's progress bar, as `keras.utils.Progbar`, for `fit` and custom loops.
///
/// On a terminal (`verbose: 1`) it redraws one line in place:
/// `  32/1875 [..............................] - ETA: 30s - loss: 0.5123`, and ends
/// with `1875/1875 [==============================] - 2s 999us/step - loss: 0.0838`.
/// Elsewhere (or with `verbose: 2`) it prints only that final line.
///
/// ```swift
/// let bar = ProgressBar(target: steps)
/// for step in 1...steps { bar.update(step, values: [("loss", lossValue)]) }   // after each step's work
/// ```
public final class ProgressBar {
    /// The number of steps, when known (the first epoch over a dataset does not know it).
    public let target: Int?
    public let width = 30
    public let verbose: Int
    private let interactive: Bool
    private let clock: () -> Double
    private let write: (String) -> Void
    private let start: Double
    private var lastUpdate = -Double.infinity
    private var totalWidth = 0
    private var finished = false

    /// A bar for `target` steps. `interactive` defaults to whether standard output
    /// is a terminal; `clock` (seconds) and `write` are there for tests and logs.
    public init(target: Int?, verbose: Int = 1, interactive: Bool? = nil,
                clock: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime },
                write: @escaping (String) -> Void = { print($0, terminator: ""); fflush(nil) }) {
        self.target = target
        self.verbose = verbose
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) == 1)
        self.clock = clock
        self.write = write
        self.start = clock()
    }

    /// Shows progress at `current` steps done, with the latest values (already
    /// averaged, as `fit`'s running means are).
    public func update(_ current: Int, values: [(String, Double)] = [], finalize: Bool = false) {
        guard verbose > 0, !finished else { return }
        let now = clock()
        let finalize = finalize || target.map { current >= $0 } ?? false
        let elapsed = now - start
        let perStep = current > 0 ? elapsed / Double(current) : 0
        let valueText = values.map { " - \($0.0): \(ProgressBar.format($0.1))" }.joined()
        if finalize { finished = true }
        if verbose == 1 && interactive {
            guard finalize || now - lastUpdate >= 0.05 else { return }
            lastUpdate = now
            let previous = totalWidth
            var line = "\r" + bar(current)
            let info = finalize || target == nil ? " - \(Int(elapsed.rounded(.down)))s\(ProgressBar.formatStep(perStep))"
                : " - ETA: \(ProgressBar.formatETA(perStep * Double(target! - current)))"
            line += info + valueText
            totalWidth = line.count - 1
            if previous > totalWidth { line += String(repeating: " ", count: previous - totalWidth) }
            write(finalize ? line + "\n" : line)
        } else if finalize {
            let prefix = verbose == 1 ? bar(current) : counter(current)
            write(prefix + " - \(Int(elapsed.rounded(.down)))s\(ProgressBar.formatStep(perStep))" + valueText + "\n")
        }
    }

    private func counter(_ current: Int) -> String {
        guard let target else { return String(repeating: " ", count: max(0, 7 - String(current).count)) + "\(current)/Unknown" }
        let digits = String(target).count
        return String(repeating: " ", count: max(0, digits - String(current).count)) + "\(current)/\(target)"
    }

    private func bar(_ current: Int) -> String {
        guard let target else { return counter(current) }
        var text = counter(current) + " ["
        let filled = target > 0 ? Int(Double(width) * Double(current) / Double(target)) : width
        if filled > 0 {
            text += String(repeating: "=", count: filled - 1) + (current < target ? ">" : "=")
        }
        text += String(repeating: ".", count: max(0, width - filled)) + "]"
        return text
    }

    /// `0.0838`, or `1.2340e-04` for magnitudes up to 1e-3, as Keras formats values.
    static func format(_ v: Double) -> String {
        if Swift.abs(v) > 1e-3 || v.isNaN || v.isInfinite { return String(format: "%.4f", v) }
        return String(format: "%.4e", v)
    }

    /// ` 999us/step`, ` 12ms/step`, ` 2s/step`.
    static func formatStep(_ seconds: Double) -> String {
        if seconds >= 1 || seconds == 0 { return String(format: " %.0fs/step", seconds) }
        if seconds >= 1e-3 { return String(format: " %.0fms/step", seconds * 1e3) }
        return String(format: " %.0fus/step", seconds * 1e6)
    }

    static func formatETA(_ seconds: Double) -> String {
        let s = Int(seconds)
        if seconds > 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60) }
        if seconds > 60 { return String(format: "%d:%02d", s / 60, s % 60) }
        return "\(s)s"
    }
}
