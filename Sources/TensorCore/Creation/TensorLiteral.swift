/// Swift values a ``Tensor`` can be made from: numbers, `Bool`, and rectangular
/// nested arrays of them. As in TensorFlow, Swift integers become `int32` and
/// floating-point numbers `float32` unless a dtype is given. The scalars are kept
/// at full precision until the dtype is chosen, so `Tensor([0.1], dtype: .float64)`
/// holds the `Double` 0.1, not 0.1 rounded through `Float`.
public protocol TensorLiteral {
    /// The type the scalars are collected in (the widest of their kind).
    associatedtype LiteralScalar: TensorScalar
    /// The dtype of a tensor made without an explicit dtype.
    static var literalDefaultDType: DType { get }
    /// The shape the value describes.
    var literalShape: [Int] { get }
    /// Appends the scalars in row-major order.
    func appendScalars(to buffer: inout [LiteralScalar])
}

extension TensorLiteral {
    public static var literalDefaultDType: DType { LiteralScalar.dtype }
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
    public static var literalDefaultDType: DType { .float32 }
}

extension Int: TensorLiteral {
    public static var literalDefaultDType: DType { .int32 }
    public var literalShape: [Int] { [] }
    public func appendScalars(to buffer: inout [Int64]) { buffer.append(Int64(self)) }
}

extension Array: TensorLiteral where Element: TensorLiteral {
    public typealias LiteralScalar = Element.LiteralScalar
    public static var literalDefaultDType: DType { Element.literalDefaultDType }
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
        let target = dtype ?? L.literalDefaultDType
        if L.LiteralScalar.self == Int64.self, dtype == nil, target == .int32 {
            for s in scalars as! [Int64] where s < Int64(Int32.min) || s > Int64(Int32.max) {
                preconditionFailure("Tensor: the integer \(s) does not fit int32; pass Int64 values or dtype: .int64 for an int64 tensor")
            }
        }
        let t = Tensor(shape: TensorShape(value.literalShape), scalars: scalars)
        self = t.dtype == target ? t : t.cast(to: target)
    }
}
