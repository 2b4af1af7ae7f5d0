/// A size per spatial axis (kernel size, strides, dilation, pool size), written
/// as one integer for every axis or as a list, as Keras accepts `3` or `(3, 5)`.
///
/// ```swift
/// Conv2D(32, kernelSize: 3)          // 3×3
/// Conv2D(32, kernelSize: [3, 5])     // 3×5
/// ```
public struct SpatialSize: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
                           CustomStringConvertible {
    /// The sizes given: one (for every axis) or one per axis.
    public let values: [Int]

    /// The same size on every axis.
    public init(integerLiteral value: Int) { values = [value] }
    /// One size per axis.
    public init(arrayLiteral elements: Int...) { values = elements }
    /// One size per axis, or one for all.
    public init(_ values: [Int]) { self.values = values }

    /// The sizes for `rank` axes; a mismatched count stops with a message naming `what`.
    func expanded(to rank: Int, _ what: String, layer: String) -> [Int] {
        let out = values.count == 1 ? Array(repeating: values[0], count: rank) : values
        precondition(out.count == rank && out.allSatisfy { $0 > 0 },
                     "\(layer): \(what) \(values) must be one positive integer or \(rank) of them")
        return out
    }

    /// `3` or `[3, 5]`.
    public var description: String { values.count == 1 ? "\(values[0])" : "\(values)" }
}
