/// What a layer accepts as input once it is built, as Keras's `InputSpec`: a rank
/// (exact or minimum) and fixed sizes of some axes. `fit`, `evaluate` and
/// `predict` check their inputs against the model's spec and throw
/// ``TrainingError/incompatibleInput(_:)`` with Keras's message before any math runs.
///
/// ```swift
/// let dense = Dense(4)
/// _ = dense(Tensor.ones([2, 3]))
/// dense.inputSpec   // rank ≥ 2, axis -1 of size 3
/// ```
public struct InputSpec: Equatable, Sendable {
    /// The exact rank, if there is one.
    public var rank: Int?
    /// The least rank, if there is one.
    public var minRank: Int?
    /// Sizes that given axes must have; negative axes count from the end.
    public var axes: [Int: Int]

    /// - Parameters:
    ///   - rank: the exact rank, or nil.
    ///   - minRank: the least rank, or nil.
    ///   - axes: required sizes by axis (negative from the end).
    public init(rank: Int? = nil, minRank: Int? = nil, axes: [Int: Int] = [:]) {
        self.rank = rank
        self.minRank = minRank
        self.axes = axes
    }

    /// Why an input of `shape` does not fit, in Keras's words, or nil when it does.
    ///
    /// - Parameters:
    ///   - shape: the input's shape, batch axis included.
    ///   - layer: the layer's name, for the message.
    public func problem(with shape: TensorShape, layer: String) -> String? {
        let prefix = "Input 0 of layer \"\(layer)\" is incompatible with the layer: "
        if let rank, shape.rank != rank {
            return prefix + "expected ndim=\(rank), found ndim=\(shape.rank). Full shape received: \(shape)"
        }
        if let minRank, shape.rank < minRank {
            return prefix + "expected min_ndim=\(minRank), found ndim=\(shape.rank). Full shape received: \(shape)"
        }
        for (axis, size) in axes.sorted(by: { $0.key < $1.key }) {
            let a = axis < 0 ? shape.rank + axis : axis
            guard a >= 0, a < shape.rank, shape[a] == size else {
                return prefix + "expected axis \(axis) of input shape to have value \(size), but received input with shape \(shape)"
            }
        }
        return nil
    }
}
