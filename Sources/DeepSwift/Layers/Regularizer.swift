/// A penalty on a weight or an activation, added to the layer's losses, as
/// `keras.regularizers`.
///
/// ```swift
/// Dense(64, kernelRegularizer: .l2(1e-4))
/// ```
public struct Regularizer: Sendable {
    let penalty: @Sendable (Tensor) -> Tensor

    /// A regularizer from a function giving the penalty of a tensor.
    public init(_ penalty: @escaping @Sendable (Tensor) -> Tensor) { self.penalty = penalty }

    /// The penalty of `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor { penalty(x) }

    /// `factor * Σ|x|` (Keras's default factor 0.01).
    public static func l1(_ factor: Double = 0.01) -> Regularizer { Regularizer { abs($0).sum() * factor } }
    /// `factor * Σx²` (Keras's default factor 0.01).
    public static func l2(_ factor: Double = 0.01) -> Regularizer { Regularizer { square($0).sum() * factor } }
    /// `l1 * Σ|x| + l2 * Σx²`.
    public static func l1l2(l1: Double = 0.01, l2: Double = 0.01) -> Regularizer {
        Regularizer { abs($0).sum() * l1 + square($0).sum() * l2 }
    }
}
