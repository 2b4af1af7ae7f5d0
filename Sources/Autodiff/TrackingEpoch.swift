import Synchronization

/// A process-wide count of the variables and layers ever created: a layer caches
/// which variables and sublayers its stored properties hold (finding them by
/// reflection costs ~16 µs a layer), and trusts that cache only while the count
/// is unchanged. A property reassigned to a new variable or layer is therefore seen
/// on the next `weights` access; `compile` and `fit` start a new epoch too.
@_spi(Autodiff)
public enum TrackingEpoch {
    private static let counter = Atomic<Int>(0)

    /// The current epoch.
    @inline(__always) public static var current: Int { counter.load(ordering: .relaxed) }

    /// Starts a new epoch: every layer looks at its stored properties again.
    public static func advance() { counter.add(1, ordering: .relaxed) }
}
