/// A Swift type that can be stored in a ``Tensor``: `Float`, `Double`, `Int32`,
/// `Int64`, `UInt8` and `Bool`.
///
/// ```swift
/// let t = Tensor(shape: [2], scalars: [1.5, 2.5] as [Double])
/// t.scalars(as: Double.self)   // [1.5, 2.5]
/// ```
public protocol TensorScalar: Sendable, Equatable {
    /// The dtype a tensor of this scalar type has.
    static var dtype: DType { get }
}

extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Double: TensorScalar { public static var dtype: DType { .float64 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension Bool: TensorScalar { public static var dtype: DType { .bool } }
