import CKernels

extension Tensor {
    @usableFromInline func unary(_ op: ck_unary_op) -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        ck_unary(op, dtype.ck, storage.data, out.storage.data, count)
        return out
    }
}

/// e raised to each element.
public func exp(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.exp) }
/// The natural logarithm of each element.
public func log(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.log) }
/// log(1 + x), accurate for small x.
public func log1p(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.log1p) }
/// exp(x) - 1, accurate for small x.
public func expm1(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.expm1) }
/// The square root of each element.
public func sqrt(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.sqrt) }
/// 1 / sqrt(x) for each element.
public func rsqrt(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.rsqrt) }
/// 1 / x for each element.
public func reciprocal(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.reciprocal) }
/// The hyperbolic tangent of each element.
public func tanh(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.tanh) }
/// The logistic function 1 / (1 + exp(-x)).
public func sigmoid(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.sigmoid) }
/// log(1 + exp(x)), computed without overflow.
public func softplus(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.softplus) }
/// The sine of each element.
public func sin(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.sin) }
/// The cosine of each element.
public func cos(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.cos) }
/// The Gauss error function of each element.
public func erf(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.erf) }
/// The largest integer value not above each element.
public func floor(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.floor) }
/// The smallest integer value not below each element.
public func ceil(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.ceil) }
/// Each element rounded to the nearest integer, halves to even (as `tf.round`).
public func round(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.round) }

/// Each element squared.
public func square(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.square) }
/// The absolute value of each element.
public func abs(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.abs) }
/// -1, 0 or 1 according to each element's sign.
public func sign(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.sign) }
/// max(x, 0) for each element.
public func relu(_ x: some TensorConvertible) -> Tensor { x.tensor.applying(.relu) }
