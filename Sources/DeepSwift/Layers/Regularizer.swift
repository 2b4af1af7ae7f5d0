/// A penalty on a weight or an activation, added to the layer's losses, as
/// `keras.regularizers`.
///
/// ```swift
/// Dense(64, kernelRegularizer: .l2(1e-4))
/// ```
public struct Regularizer: Sendable {
    let penalty: @Sendable (Tensor) -> Tensor
    /// The L1 and L2 factors of `.l1`, `.l2` and `.l1l2` (how a saved model
    /// writes them); nil for a regularizer made from a function.
    let factors: (l1: Double, l2: Double)?

    /// A regularizer from a function giving the penalty of a tensor.
    public init(_ penalty: @escaping @Sendable (Tensor) -> Tensor) {
        self.penalty = penalty
        factors = nil
    }

    init(l1: Double, l2: Double, _ penalty: @escaping @Sendable (Tensor) -> Tensor) {
        self.penalty = penalty
        factors = (l1, l2)
    }

    /// The penalty of `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor { penalty(x) }

    /// `factor * Σ|x|` (Keras's default factor 0.01).
    public static func l1(_ factor: Double = 0.01) -> Regularizer { Regularizer(l1: factor, l2: 0) { abs($0).sum() * factor } }
    /// `factor * Σx²` (Keras's default factor 0.01).
    public static func l2(_ factor: Double = 0.01) -> Regularizer { Regularizer(l1: 0, l2: factor) { square($0).sum() * factor } }
    /// `l1 * Σ|x| + l2 * Σx²`.
    public static func l1l2(l1: Double = 0.01, l2: Double = 0.01) -> Regularizer {
        Regularizer(l1: l1, l2: l2) { abs($0).sum() * l1 + square($0).sum() * l2 }
    }
}
