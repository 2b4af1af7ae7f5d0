import CKernels

/// The element type of a ``Tensor``, chosen at run time as in TensorFlow and NumPy.
///
/// ```swift
/// let x = Tensor([[5, 2], [1, 3]])
/// print("dtype:", x.dtype)   // dtype: int32
/// ```
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float64, int32, int64, uint8, bool

    /// Bytes per element.
    @inlinable public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8, .bool: return 1
        }
    }

    /// Whether the dtype is `float32` or `float64`: the dtypes that gradients flow through.
    @inlinable public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// Whether the dtype is a signed or unsigned integer type (not `bool`).
    @inlinable public var isInteger: Bool { self == .int32 || self == .int64 || self == .uint8 }

    public var description: String { rawValue }

    @usableFromInline var ck: ck_dtype {
        switch self {
        case .float32: return CK_F32
        case .float64: return CK_F64
        case .int32: return CK_I32
        case .int64: return CK_I64
        case .uint8: return CK_U8
        case .bool: return CK_BOOL
        }
    }
}

@_spi(Autodiff)
extension DType {
    /// The kernels' code for this dtype, for modules that call CKernels directly.
    public var kernelType: ck_dtype { ck }
}
