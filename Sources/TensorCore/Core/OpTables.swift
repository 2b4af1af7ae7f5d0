import CKernels

/// The elementwise unary ops, each named once with its kernel. The forward
/// functions (`exp`, `relu`, ...), the gradient table, a compiled graph's replay
/// and its elementwise fusion all switch over this enum exhaustively, so a new
/// case is a compile error wherever it still lacks a rule.
public enum UnaryOp: String, CaseIterable, Sendable {
    case negate, exp, log, log1p, expm1, sqrt, rsqrt, reciprocal, tanh, sigmoid, softplus, sin, cos, erf
    case square, abs, relu
    /// Gradient zero almost everywhere.
    case floor, ceil, round, sign

    /// The C kernel, the same in eager mode and inside a fused chain.
    @usableFromInline var kernel: ck_unary_op {
        switch self {
        case .negate: return CK_NEG
        case .exp: return CK_EXP
        case .log: return CK_LOG
        case .log1p: return CK_LOG1P
        case .expm1: return CK_EXPM1
        case .sqrt: return CK_SQRT
        case .rsqrt: return CK_RSQRT
        case .reciprocal: return CK_RECIPROCAL
        case .tanh: return CK_TANH
        case .sigmoid: return CK_SIGMOID
        case .softplus: return CK_SOFTPLUS
        case .sin: return CK_SIN
        case .cos: return CK_COS
        case .erf: return CK_ERF
        case .square: return CK_SQUARE
        case .abs: return CK_ABS
        case .relu: return CK_RELU
        case .floor: return CK_FLOOR
        case .ceil: return CK_CEIL
        case .round: return CK_ROUND
        case .sign: return CK_SIGN
        }
    }

    /// Which dtypes the op accepts: float only, or every number type (not bool).
    public var acceptsIntegers: Bool {
        switch self {
        case .negate, .square, .abs, .relu, .sign: return true
        case .exp, .log, .log1p, .expm1, .sqrt, .rsqrt, .reciprocal, .tanh, .sigmoid, .softplus, .sin, .cos, .erf,
             .floor, .ceil, .round: return false
        }
    }

    /// The name errors and traces use.
    public var name: String { rawValue }
}

/// The elementwise binary arithmetic ops (with broadcasting), each named once with
/// its kernel; see ``UnaryOp``.
public enum BinaryOp: String, CaseIterable, Sendable {
    case add, subtract, multiply, divide, pow, maximum, minimum

    @usableFromInline var kernel: ck_binary_op {
        switch self {
        case .add: return CK_ADD
        case .subtract: return CK_SUB
        case .multiply: return CK_MUL
        case .divide: return CK_DIV
        case .pow: return CK_POW
        case .maximum: return CK_MAX
        case .minimum: return CK_MIN
        }
    }

    /// The name errors and traces use.
    public var name: String { rawValue }
}

@_spi(Autodiff)
extension UnaryOp {
    /// The kernel, for a fused chain in another module.
    public var fusionKernel: ck_unary_op { kernel }
}

@_spi(Autodiff)
extension BinaryOp {
    /// The kernel, for a fused chain in another module.
    public var fusionKernel: ck_binary_op { kernel }
}

extension Tensor {
    /// `op` applied to each element, recorded for tapes and tracers.
    public func applying(_ op: UnaryOp) -> Tensor {
        if op.acceptsIntegers {
            precondition(dtype != .bool, "\(op.name): not defined on bool tensors\(currentScopeDescription)")
        } else {
            precondition(dtype.isFloatingPoint,
                         "\(op.name): expected a float32 or float64 tensor, got \(dtype); use cast(to:)\(currentScopeDescription)")
        }
        return unary(op.kernel).recorded(.unary(op), OpInputs(self))
    }

    /// `op` applied elementwise to `lhs` and `rhs` with broadcasting, recorded for
    /// tapes and tracers.
    public static func applying(_ op: BinaryOp, _ lhs: Tensor, _ rhs: Tensor) -> Tensor {
        precondition(lhs.dtype != .bool,
                     "\(op.name): arithmetic is not defined on bool tensors; cast(to:) a number type first\(currentScopeDescription)")
        return binary(op.kernel, lhs, rhs, op.name).recorded(.binary(op), OpInputs(lhs, rhs))
    }
}
