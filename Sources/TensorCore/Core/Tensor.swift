import CKernels

/// An N-dimensional array with value semantics and a run-time ``DType``.
///
/// Copies share memory until one of them changes (copy-on-write). Arithmetic
/// broadcasts as in NumPy; mixing dtypes traps (use ``cast(to:)``).
///
/// ```swift
/// let x = Tensor([[5, 2], [1, 3]])
/// print(x)
/// // DeepSwift.Tensor(
/// // [[5 2]
/// //  [1 3]], shape=(2, 2), dtype=int32)
/// ```
public struct Tensor: @unchecked Sendable, Identifiable {
    @usableFromInline var storage: TensorStorage
    /// The size of each axis.
    public internal(set) var shape: TensorShape
    /// The identity of this value, which gradient tapes follow through the ops.
    /// Copies share it; every op result, reshape or mutation gets a new one.
    public internal(set) var id: UInt64

    /// A new value (with a new identity) over existing memory.
    @usableFromInline init(storage: TensorStorage, shape: TensorShape) {
        self.storage = storage
        self.shape = shape
        self.id = ck_next_id()
    }

    /// A tensor whose elements are not yet written; every kernel fills it completely.
    @usableFromInline init(uninitializedShape shape: TensorShape, dtype: DType) {
        self.storage = TensorStorage.allocate(count: shape.elementCount, dtype: dtype)
        self.shape = shape
        self.id = ck_next_id()
    }

    /// The element type.
    @inlinable public var dtype: DType { storage.dtype }
    /// The number of axes.
    @inlinable public var rank: Int { shape.rank }
    /// The number of elements.
    @inlinable public var count: Int { storage.count }

    /// A tensor of the given shape holding `scalars` in row-major order.
    ///
    /// ```swift
    /// let t = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4] as [Float])
    /// ```
    public init<S: TensorScalar>(shape: TensorShape, scalars: [S]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:scalars:): negative dimension in shape \(shape)")
        precondition(scalars.count == shape.elementCount,
                     "Tensor(shape:scalars:): shape \(shape) holds \(shape.elementCount) elements but \(scalars.count) scalars were given")
        self.init(uninitializedShape: shape, dtype: S.dtype)
        scalars.withUnsafeBytes { storage.data.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// The elements in row-major order, converted to `S` if the dtype differs.
    public func scalars<S: TensorScalar>(as type: S.Type) -> [S] {
        let t = dtype == S.dtype ? self : cast(to: S.dtype)
        return [S](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
                    from: t.storage.data, byteCount: count * S.dtype.byteSize)
            }
            initialized = count
        }
    }

    /// The single element of a tensor with one element, converted to `S`.
    public func scalar<S: TensorScalar>(as type: S.Type) -> S {
        precondition(count == 1, "scalar(as:): the tensor has shape \(shape) and \(count) elements, not 1")
        return scalars(as: type)[0]
    }

    /// The elements as nested Swift arrays, as NumPy's `tolist()` gives them.
    ///
    /// ```swift
    /// Tensor([[5, 2], [1, 3]]).array(as: [[Int32]].self)   // [[5, 2], [1, 3]]
    /// ```
    public func array<A: NestedScalarArray>(as type: A.Type) -> A {
        precondition(A.depth == rank, "array(as:): \(A.self) has \(A.depth) levels but the tensor has rank \(rank)")
        let flat = scalars(as: A.Scalar.self)
        var offset = 0
        return A.make(from: flat, shape: shape.dimensions[...], offset: &offset)
    }

    /// Reads the memory as a typed buffer; the dtype must match `S`.
    @inlinable public func withUnsafeBufferPointer<S: TensorScalar, R>(
        as type: S.Type, _ body: (UnsafeBufferPointer<S>) throws -> R
    ) rethrows -> R {
        precondition(dtype == S.dtype, "withUnsafeBufferPointer: the tensor is \(dtype), not \(S.dtype)")
        return try body(UnsafeBufferPointer(start: storage.data.assumingMemoryBound(to: S.self), count: count))
    }

    /// Writes the memory in place (copying it first if it is shared); the dtype must match `S`.
    @inlinable public mutating func withUnsafeMutableBufferPointer<S: TensorScalar, R>(
        as type: S.Type, _ body: (UnsafeMutableBufferPointer<S>) throws -> R
    ) rethrows -> R {
        precondition(dtype == S.dtype, "withUnsafeMutableBufferPointer: the tensor is \(dtype), not \(S.dtype)")
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.data.assumingMemoryBound(to: S.self), count: count))
    }

    /// Prepares for writing: copies shared memory and takes a new identity,
    /// since the value is about to change.
    @usableFromInline mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        id = ck_next_id()
    }
}

extension Tensor: Equatable {
    /// Whether both tensors have the same dtype, the same shape and equal elements
    /// (NaN is unequal to everything, as in IEEE arithmetic). For an elementwise
    /// comparison use `.==`.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.dtype == rhs.dtype, lhs.shape == rhs.shape else { return false }
        return (lhs .== rhs).all()
    }
}

/// Nested Swift arrays of one ``TensorScalar`` type: `Float`, `[Float]`, `[[Float]]`, ...
public protocol NestedScalarArray {
    associatedtype Scalar: TensorScalar
    /// How many array levels wrap the scalars.
    static var depth: Int { get }
    /// Builds a value from row-major scalars, advancing `offset`.
    static func make(from scalars: [Scalar], shape: ArraySlice<Int>, offset: inout Int) -> Self
}

extension NestedScalarArray where Self: TensorScalar {
    public static var depth: Int { 0 }
    public static func make(from scalars: [Self], shape: ArraySlice<Int>, offset: inout Int) -> Self {
        defer { offset += 1 }
        return scalars[offset]
    }
}

extension Float: NestedScalarArray { public typealias Scalar = Float }
extension Double: NestedScalarArray { public typealias Scalar = Double }
extension Int32: NestedScalarArray { public typealias Scalar = Int32 }
extension Int64: NestedScalarArray { public typealias Scalar = Int64 }
extension UInt8: NestedScalarArray { public typealias Scalar = UInt8 }
extension Bool: NestedScalarArray { public typealias Scalar = Bool }

extension Array: NestedScalarArray where Element: NestedScalarArray {
    public typealias Scalar = Element.Scalar
    public static var depth: Int { Element.depth + 1 }
    public static func make(from scalars: [Scalar], shape: ArraySlice<Int>, offset: inout Int) -> [Element] {
        let rest = shape.dropFirst()
        return (0..<shape.first!).map { _ in Element.make(from: scalars, shape: rest, offset: &offset) }
    }
}
