/// The global pooling layers' shared part: the maximum or mean over every
/// spatial axis, giving (batch, channels), or (batch, 1…, channels) with
/// `keepDims`. Use ``GlobalAveragePooling2D``, ``GlobalMaxPooling2D`` and the
/// 1-D forms.
public class BaseGlobalPooling: Layer {
    public let rank: Int
    public let reduction: BasePooling.Reduction
    /// Whether the pooled spatial axes stay as axes of size 1 (Keras's `keepdims`).
    public let keepDims: Bool

    /// - Parameters:
    ///   - rank: the number of spatial axes.
    ///   - reduction: `.max` or `.average`.
    ///   - keepDims: keep the spatial axes with size 1 (default false).
    ///   - name: the layer's name.
    public init(rank: Int, reduction: BasePooling.Reduction, keepDims: Bool = false, name: String? = nil) {
        self.rank = rank
        self.reduction = reduction
        self.keepDims = keepDims
        super.init(name: name)
        markBuilt()
    }

    /// Rank `rank + 2`.
    public override var inputSpec: InputSpec? { InputSpec(rank: rank + 2) }

    /// Rank `rank + 2` with non-empty spatial axes.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        rankProblem(shapes[0], spatial: rank)
            ?? (shapes[0].dimensions[1...rank].contains(0) ? problemPrefix + "the input \(shapes[0]) has an empty spatial axis" : nil)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let axes = Array(1...rank)
        switch reduction {
        case .max: return inputs.max(axes: axes, keepDims: keepDims)
        case .average: return inputs.mean(axes: axes, keepDims: keepDims)
        }
    }
}

/// The mean over steps, as `keras.layers.GlobalAveragePooling1D`.
///
/// ```swift
/// GlobalAveragePooling1D()(Tensor.ones([2, 10, 8])).shape   // (2, 8)
/// ```
public final class GlobalAveragePooling1D: BaseGlobalPooling {
    /// - Parameters:
    ///   - keepDims: keep the steps axis with size 1 (default false).
    ///   - name: the layer's name.
    public init(keepDims: Bool = false, name: String? = nil) {
        super.init(rank: 1, reduction: .average, keepDims: keepDims, name: name)
    }

    /// With a (batch, steps) mask, the mean over the unmasked steps only, as Keras.
    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) -> [Tensor] {
        guard let mask = masks[0] else { return call(inputs, training: training) }
        let x = inputs[0]
        let weights = mask.cast(to: x.dtype).expandingShape(at: 2)                  // (batch, steps, 1)
        let mean = (x * weights).sum(axes: [1], keepDims: keepDims) / weights.sum(axes: [1], keepDims: keepDims)
        return [mean]
    }
}

/// The mean over height and width, as `keras.layers.GlobalAveragePooling2D`.
///
/// ```swift
/// GlobalAveragePooling2D()(Tensor.ones([2, 7, 7, 64])).shape   // (2, 64)
/// ```
public final class GlobalAveragePooling2D: BaseGlobalPooling {
    /// - Parameters:
    ///   - keepDims: keep the spatial axes with size 1 (default false).
    ///   - name: the layer's name.
    public init(keepDims: Bool = false, name: String? = nil) {
        super.init(rank: 2, reduction: .average, keepDims: keepDims, name: name)
    }
}

/// The maximum over steps, as `keras.layers.GlobalMaxPooling1D`.
///
/// ```swift
/// GlobalMaxPooling1D()(Tensor.ones([2, 10, 8])).shape   // (2, 8)
/// ```
public final class GlobalMaxPooling1D: BaseGlobalPooling {
    /// - Parameters:
    ///   - keepDims: keep the steps axis with size 1 (default false).
    ///   - name: the layer's name.
    public init(keepDims: Bool = false, name: String? = nil) {
        super.init(rank: 1, reduction: .max, keepDims: keepDims, name: name)
    }
}

/// The maximum over height and width, as `keras.layers.GlobalMaxPooling2D`.
///
/// ```swift
/// GlobalMaxPooling2D()(Tensor.ones([2, 7, 7, 64])).shape   // (2, 64)
/// ```
public final class GlobalMaxPooling2D: BaseGlobalPooling {
    /// - Parameters:
    ///   - keepDims: keep the spatial axes with size 1 (default false).
    ///   - name: the layer's name.
    public init(keepDims: Bool = false, name: String? = nil) {
        super.init(rank: 2, reduction: .max, keepDims: keepDims, name: name)
    }
}
