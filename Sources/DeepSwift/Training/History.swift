/// What `fit` records: each logged value per epoch, as `keras.callbacks.History`.
///
/// ```swift
/// let history = try model.fit(x: x, y: y, epochs: 3)
/// history.history["loss"]   // [0.61, 0.32, 0.25]
/// ```
public final class History {
    /// The values of each log entry (`loss`, metrics, `val_...`), one per epoch.
    public private(set) var history: [String: [Double]] = [:]
    /// The epochs run (0-based).
    public private(set) var epochs: [Int] = []

    func record(epoch: Int, logs: Logs) {
        epochs.append(epoch)
        for (k, v) in logs.entries { history[k, default: []].append(v) }
    }
}

/// Ordered named values, as Keras's `logs` dictionary (order is kept for display).
public struct Logs: Sendable {
    public private(set) var entries: [(String, Double)] = []

    public init(_ entries: [(String, Double)] = []) { self.entries = entries }

    /// The value named `key`, if present.
    public subscript(key: String) -> Double? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            if let i = entries.firstIndex(where: { $0.0 == key }) {
                if let newValue { entries[i].1 = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
}
