import CKernels

extension Tensor {
    @usableFromInline func unary(_ op: ck_unary_op) -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        ck_unary(op, dtype.ck, storage.data, out.storage.data, count)
        return out
    }

    @usableFromInline func floatUnary(_ op: ck_unary_op, _ name: StaticString) -> Tensor {
        precondition(dtype.isFloatingPoint,
                     "\(name): expected a float32 or float64 tensor, got \(dtype); use cast(to:)\(currentScopeDescription)")
        return unary(op)
    }

    @usableFromInline func numericUnary(_ op: ck_unary_op, _ name: StaticString) -> Tensor {
        precondition(dtype != .bool, "\(name): not defined on bool tensors\(currentScopeDescription)")
        return unary(op)
    }
}

/// e raised to each element.
@inlinable public func exp(_ x: Tensor) -> Tensor { x.floatUnary(CK_EXP, "exp") }
/// The natural logarithm of each element.
@inlinable public func log(_ x: Tensor) -> Tensor { x.floatUnary(CK_LOG, "log") }
/// log(1 + x), accurate for small x.
@inlinable public func log1p(_ x: Tensor) -> Tensor { x.floatUnary(CK_LOG1P, "log1p") }
/// exp(x) - 1, accurate for small x.
@inlinable public func expm1(_ x: Tensor) -> Tensor { x.floatUnary(CK_EXPM1, "expm1") }
/// The square root of each element.
@inlinable public func sqrt(_ x: Tensor) -> Tensor { x.floatUnary(CK_SQRT, "sqrt") }
/// 1 / sqrt(x) for each element.
@inlinable public func rsqrt(_ x: Tensor) -> Tensor { x.floatUnary(CK_RSQRT, "rsqrt") }
/// 1 / x for each element.
@inlinable public func reciprocal(_ x: Tensor) -> Tensor { x.floatUnary(CK_RECIPROCAL, "reciprocal") }
/// The hyperbolic tangent of each element.
@inlinable public func tanh(_ x: Tensor) -> Tensor { x.floatUnary(CK_TANH, "tanh") }
/// The logistic function 1 / (1 + exp(-x)).
@inlinable public func sigmoid(_ x: Tensor) -> Tensor { x.floatUnary(CK_SIGMOID, "sigmoid") }
/// log(1 + exp(x)), computed without overflow.
@inlinable public func softplus(_ x: Tensor) -> Tensor { x.floatUnary(CK_SOFTPLUS, "softplus") }
/// The sine of each element.
@inlinable public func sin(_ x: Tensor) -> Tensor { x.floatUnary(CK_SIN, "sin") }
/// The cosine of each element.
@inlinable public func cos(_ x: Tensor) -> Tensor { x.floatUnary(CK_COS, "cos") }
/// The largest integer value not above each element.
@inlinable public func floor(_ x: Tensor) -> Tensor { x.floatUnary(CK_FLOOR, "floor") }
/// The smallest integer value not below each element.
@inlinable public func ceil(_ x: Tensor) -> Tensor { x.floatUnary(CK_CEIL, "ceil") }
/// Each element rounded to the nearest integer, halves to even (as `tf.round`).
@inlinable public func round(_ x: Tensor) -> Tensor { x.floatUnary(CK_ROUND, "round") }

/// Each element squared.
@inlinable public func square(_ x: Tensor) -> Tensor { x.numericUnary(CK_SQUARE, "square") }
/// The absolute value of each element.
@inlinable public func abs(_ x: Tensor) -> Tensor { x.numericUnary(CK_ABS, "abs") }
/// -1, 0 or 1 according to each element's sign.
@inlinable public func sign(_ x: Tensor) -> Tensor { x.numericUnary(CK_SIGN, "sign") }
/// max(x, 0) for each element.
@inlinable public func relu(_ x: Tensor) -> Tensor { x.numericUnary(CK_RELU, "relu") }
