import CKernels

extension Tensor {
    @usableFromInline func unary(_ op: ck_unary_op) -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        ck_unary(op, dtype.ck, storage.data, out.storage.data, count)
        return out
    }

    func floatUnary(_ op: ck_unary_op, _ name: StaticString, _ diff: DifferentiableOp) -> Tensor {
        precondition(dtype.isFloatingPoint,
                     "\(name): expected a float32 or float64 tensor, got \(dtype); use cast(to:)\(currentScopeDescription)")
        return unary(op).recorded(diff, [self])
    }

    func numericUnary(_ op: ck_unary_op, _ name: StaticString, _ diff: DifferentiableOp) -> Tensor {
        precondition(dtype != .bool, "\(name): not defined on bool tensors\(currentScopeDescription)")
        return unary(op).recorded(diff, [self])
    }
}

/// e raised to each element.
public func exp(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_EXP, "exp", .exp) }
/// The natural logarithm of each element.
public func log(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_LOG, "log", .log) }
/// log(1 + x), accurate for small x.
public func log1p(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_LOG1P, "log1p", .log1p) }
/// exp(x) - 1, accurate for small x.
public func expm1(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_EXPM1, "expm1", .expm1) }
/// The square root of each element.
public func sqrt(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_SQRT, "sqrt", .sqrt) }
/// 1 / sqrt(x) for each element.
public func rsqrt(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_RSQRT, "rsqrt", .rsqrt) }
/// 1 / x for each element.
public func reciprocal(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_RECIPROCAL, "reciprocal", .reciprocal) }
/// The hyperbolic tangent of each element.
public func tanh(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_TANH, "tanh", .tanh) }
/// The logistic function 1 / (1 + exp(-x)).
public func sigmoid(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_SIGMOID, "sigmoid", .sigmoid) }
/// log(1 + exp(x)), computed without overflow.
public func softplus(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_SOFTPLUS, "softplus", .softplus) }
/// The sine of each element.
public func sin(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_SIN, "sin", .sin) }
/// The cosine of each element.
public func cos(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_COS, "cos", .cos) }
/// The Gauss error function of each element.
public func erf(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_ERF, "erf", .erf) }
/// The largest integer value not above each element.
public func floor(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_FLOOR, "floor", .piecewiseConstant("floor")) }
/// The smallest integer value not below each element.
public func ceil(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_CEIL, "ceil", .piecewiseConstant("ceil")) }
/// Each element rounded to the nearest integer, halves to even (as `tf.round`).
public func round(_ x: some TensorConvertible) -> Tensor { x.tensor.floatUnary(CK_ROUND, "round", .piecewiseConstant("round")) }

/// Each element squared.
public func square(_ x: some TensorConvertible) -> Tensor { x.tensor.numericUnary(CK_SQUARE, "square", .square) }
/// The absolute value of each element.
public func abs(_ x: some TensorConvertible) -> Tensor { x.tensor.numericUnary(CK_ABS, "abs", .abs) }
/// -1, 0 or 1 according to each element's sign.
public func sign(_ x: some TensorConvertible) -> Tensor { x.tensor.numericUnary(CK_SIGN, "sign", .piecewiseConstant("sign")) }
/// max(x, 0) for each element.
public func relu(_ x: some TensorConvertible) -> Tensor { x.tensor.numericUnary(CK_RELU, "relu", .relu) }
