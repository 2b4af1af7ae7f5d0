import DeepSwift
import Foundation

/// The `fit` runs of a `Guide` run, kept for `history.png`.
public final class FitHistories: @unchecked Sendable {
    /// Each run's name and its per-epoch losses.
    public private(set) var runs: [(name: String, losses: [Double])] = []
    private let lock = NSLock()

    /// No runs yet.
    public init() {}

    /// Keeps `history`'s training loss under `name`.
    public func record(_ name: String, _ history: History) {
        guard let losses = history.history["loss"], !losses.isEmpty else { return }
        lock.withLock { runs.append((name, losses)) }
    }
}

/// `history.png`: one panel per fit run, left to right, each its loss per
/// epoch scaled to the panel (a line through the epochs, a dot on each), drawn
/// with the project's PNG writer. The PNG has no text; `legend` says which
/// panel is which, with the first and last losses.
public enum HistoryPlot {
    static let (panelWidth, panelHeight, margin) = (120, 90, 8)

    /// Where epoch `epoch`'s dot of a run's losses lies in its panel (pixels from
    /// the panel's top left).
    static func dot(run losses: [Double], epoch i: Int) -> (x: Int, y: Int) {
        let (left, right, top, bottom) = (margin, panelWidth - margin, margin, panelHeight - margin)
        let (lo, hi) = (losses.min()!, losses.max()!)
        let span = hi > lo ? hi - lo : 1
        let x = losses.count == 1 ? (left + right) / 2 : left + 4 + (right - left - 8) * i / (losses.count - 1)
        return (x, bottom - 4 - Int(Double(bottom - top - 8) * (losses[i] - lo) / span))
    }

    /// Writes the panels to `path` and returns one legend line per panel.
    @discardableResult
    public static func write(_ runs: [(name: String, losses: [Double])], to path: String) throws -> [String] {
        let (w, h) = (Swift.max(1, runs.count) * panelWidth, panelHeight)
        var pixels = [UInt8](repeating: 255, count: w * h)
        func set(_ x: Int, _ y: Int, _ v: UInt8) { if (0..<w).contains(x) && (0..<h).contains(y) { pixels[y * w + x] = v } }
        for (p, run) in runs.enumerated() {
            let left = p * panelWidth + margin, right = (p + 1) * panelWidth - margin
            let top = margin, bottom = panelHeight - margin
            // Axes: the left and bottom edges of the panel.
            for y in top...bottom { set(left, y, 0) }
            for x in left...right { set(x, bottom, 0) }
            func point(_ i: Int) -> (Int, Int) {
                let d = dot(run: run.losses, epoch: i)
                return (p * panelWidth + d.x, d.y)
            }
            for i in run.losses.indices {
                let (x, y) = point(i)
                for dx in -1...1 { for dy in -1...1 { set(x + dx, y + dy, 0) } }
                if i > 0 {
                    let (x0, y0) = point(i - 1)
                    let steps = Swift.max(abs(x - x0), abs(y - y0), 1)
                    for s in 0...steps { set(x0 + (x - x0) * s / steps, y0 + (y - y0) * s / steps, 96) }
                }
            }
        }
        try PNG.write(gray: pixels, width: w, height: h, to: path)
        return runs.enumerated().map { p, run in
            "panel \(p + 1): \(run.name), loss per epoch \(run.losses.map { String(format: "%.4g", $0) }.joined(separator: " → "))"
        }
    }
}
