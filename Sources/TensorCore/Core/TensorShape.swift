/// The dimensions of a ``Tensor``, printed as TensorFlow prints them: `(2, 2)`, `(3,)`, `()`.
///
/// ```swift
/// let x = Tensor.ones([2, 1])
/// print("shape:", x.shape)   // shape: (2, 1)
/// x.shape == [2, 1]          // true
/// ```
public struct TensorShape: Sendable, Hashable, RandomAccessCollection, MutableCollection,
    ExpressibleByArrayLiteral, CustomStringConvertible
{
    /// The size of each axis, outermost first.
    public var dimensions: [Int]

    @inlinable public init(_ dimensions: [Int]) { self.dimensions = dimensions }
    @inlinable public init(arrayLiteral elements: Int...) { self.dimensions = elements }

    /// The number of axes.
    @inlinable public var rank: Int { dimensions.count }

    /// The number of elements a tensor of this shape holds (1 for a scalar).
    @inlinable public var elementCount: Int {
        var n = 1
        for d in dimensions { n &*= d }
        return n
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { dimensions.count }
    /// The size of axis `i`; negative axes count from the end, as in Python
    /// (`inputShape[-1]` is the last axis).
    @inlinable public subscript(i: Int) -> Int {
        get { dimensions[axisIndex(i)] }
        set { dimensions[axisIndex(i)] = newValue }
    }

    @inlinable func axisIndex(_ i: Int) -> Int {
        let a = i < 0 ? i + dimensions.count : i
        precondition(a >= 0 && a < dimensions.count, "TensorShape: axis \(i) is out of range for shape \(self) of rank \(dimensions.count)")
        return a
    }

    public var description: String {
        if dimensions.count == 1 { return "(\(dimensions[0]),)" }
        return "(" + dimensions.map(String.init).joined(separator: ", ") + ")"
    }

    /// Row-major strides in elements.
    @usableFromInline var contiguousStrides: [Int] {
        var strides = [Int](repeating: 1, count: dimensions.count)
        var s = 1
        for i in stride(from: dimensions.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= dimensions[i]
        }
        return strides
    }

    /// Resolves a possibly negative axis against this rank, trapping with `op` named.
    @usableFromInline func normalizedAxis(_ axis: Int, op: String, rankOffset: Int = 0) -> Int {
        let r = rank + rankOffset
        precondition(axis >= -r && axis < r,
                     "\(op): axis \(axis) is out of range for a tensor of rank \(rank) (shape \(self))")
        return axis < 0 ? axis + r : axis
    }
}
