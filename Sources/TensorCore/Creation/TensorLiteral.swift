/// Swift values a ``Tensor`` can be made from: numbers, `Bool`, and rectangular
/// nested arrays of them. As in TensorFlow, Swift integers become `int32` and
/// floating-point numbers `float32` unless a dtype is given.
public protocol TensorLiteral {
    associatedtype LiteralScalar: TensorScalar
    /// The shape the value describes.
    var literalShape: [Int] { get }
    /// Appends the scalars in row-major order.
    func appendScalars(to buffer: inout [LiteralScalar])
}

extension TensorLiteral where Self: TensorScalar, LiteralScalar == Self {
    public var literalShape: [Int] { [] }
    public func appendScalars(to buffer: inout [Self]) { buffer.append(self) }
}

extension Float: TensorLiteral {}
extension Int32: TensorLiteral {}
extension Int64: TensorLiteral {}
extension UInt8: TensorLiteral {}
extension Bool: TensorLiteral {}

extension Double: TensorLiteral {
    public var literalShape: [Int] { [] }
    public func appendScalars(to buffer: inout [Float]) { buffer.append(Float(self)) }
}

extension Int: TensorLiteral {
    public var literalShape: [Int] { [] }
    public func appendScalars(to buffer: inout [Int32]) {
        precondition(self >= Int(Int32.min) && self <= Int(Int32.max),
                     "Tensor: the integer \(self) does not fit int32; pass Int64 values for an int64 tensor")
        buffer.append(Int32(self))
    }
}

extension Array: TensorLiteral where Element: TensorLiteral {
    public typealias LiteralScalar = Element.LiteralScalar
    public var literalShape: [Int] {
        guard let first else { return [0] }
        return [count] + first.literalShape
    }
    public func appendScalars(to buffer: inout [Element.LiteralScalar]) {
        let inner = first?.literalShape
        for element in self {
            precondition(element.literalShape == inner!,
                         "Tensor: nested arrays are not rectangular: found an element of shape \(TensorShape(element.literalShape)) beside one of shape \(TensorShape(inner!))")
            element.appendScalars(to: &buffer)
        }
    }
}

extension Tensor {
    /// A tensor holding a Swift value or nested arrays, as `tf.constant` does.
    ///
    /// ```swift
    /// let x = Tensor([[5, 2], [1, 3]])            // int32, shape (2, 2)
    /// let y = Tensor([1.5, 2.5])                  // float32
    /// let z = Tensor([1.5, 2.5], dtype: .float64) // float64
    /// ```
    public init<L: TensorLiteral>(_ value: L, dtype: DType? = nil) {
        var scalars: [L.LiteralScalar] = []
        value.appendScalars(to: &scalars)
        let t = Tensor(shape: TensorShape(value.literalShape), scalars: scalars)
        self = dtype.map { t.cast(to: $0) } ?? t
    }
}
