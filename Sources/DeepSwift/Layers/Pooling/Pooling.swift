/// The pooling layers' shared part: a window of `poolSize`, moved by `strides`
/// (default: the pool size) over `rank` spatial axes of channels-last input.
/// Use ``MaxPooling2D``, ``AveragePooling2D`` and their 1-D and 3-D forms.
public class BasePooling: Layer {
    /// What a window gives: its maximum or its mean.
    public enum Reduction: Sendable { case max, average }

    public let rank: Int
    public let reduction: Reduction
    public let poolSize: [Int], strides: [Int]
    public let padding: Padding

    /// - Parameters:
    ///   - rank: the number of spatial axes.
    ///   - reduction: `.max` or `.average`.
    ///   - poolSize: the window, one size or one per axis.
    ///   - strides: steps between windows (nil: the pool size, as Keras).
    ///   - padding: `.valid` (default) or `.same` (averages count only real elements).
    ///   - name: the layer's name.
    public init(rank: Int, reduction: Reduction, poolSize: SpatialSize, strides: SpatialSize? = nil,
                padding: Padding = .valid, name: String? = nil) {
        let kind = "\(reduction == .max ? "Max" : "Average")Pooling\(rank)D"
        precondition(padding != .causal, "\(kind): padding must be valid or same")
        self.rank = rank
        self.reduction = reduction
        self.poolSize = poolSize.expanded(to: rank, "poolSize", layer: kind)
        self.strides = (strides ?? poolSize).expanded(to: rank, "strides", layer: kind)
        self.padding = padding
        super.init(name: name)
        markBuilt()
    }

    /// Rank `rank + 2`.
    public override var inputSpec: InputSpec? { InputSpec(rank: rank + 2) }

    /// Floating-point, rank `rank + 2`, and a window that fits.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        floatProblem(dtypes) ?? rankProblem(shapes[0], spatial: rank)
            ?? windowProblem(shapes[0], window: poolSize, dilations: poolSize.map { _ in 1 }, padding: padding)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        switch reduction {
        case .max: return maxPool(inputs, poolSize: poolSize, strides: strides, padding: padding)
        case .average: return avgPool(inputs, poolSize: poolSize, strides: strides, padding: padding)
        }
    }
}

/// Max pooling over steps, as `keras.layers.MaxPooling1D` (pool size 2 by default).
///
/// ```swift
/// MaxPooling1D()(Tensor.ones([1, 10, 3])).shape   // (1, 5, 3)
/// ```
public final class MaxPooling1D: BasePooling {
    /// - Parameters: see ``BasePooling/init(rank:reduction:poolSize:strides:padding:name:)``.
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, padding: Padding = .valid, name: String? = nil) {
        super.init(rank: 1, reduction: .max, poolSize: poolSize, strides: strides, padding: padding, name: name)
    }
}

/// Max pooling over height and width, as `keras.layers.MaxPooling2D` (2×2 by default).
///
/// ```swift
/// MaxPooling2D()(Tensor.ones([1, 26, 26, 32])).shape   // (1, 13, 13, 32)
/// ```
public final class MaxPooling2D: BasePooling {
    /// - Parameters: see ``BasePooling/init(rank:reduction:poolSize:strides:padding:name:)``.
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, padding: Padding = .valid, name: String? = nil) {
        super.init(rank: 2, reduction: .max, poolSize: poolSize, strides: strides, padding: padding, name: name)
    }
}

/// Max pooling over depth, height and width, as `keras.layers.MaxPooling3D`.
///
/// ```swift
/// MaxPooling3D()(Tensor.ones([1, 4, 4, 4, 2])).shape   // (1, 2, 2, 2, 2)
/// ```
public final class MaxPooling3D: BasePooling {
    /// - Parameters: see ``BasePooling/init(rank:reduction:poolSize:strides:padding:name:)``.
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, padding: Padding = .valid, name: String? = nil) {
        super.init(rank: 3, reduction: .max, poolSize: poolSize, strides: strides, padding: padding, name: name)
    }
}

/// Average pooling over steps, as `keras.layers.AveragePooling1D`.
///
/// ```swift
/// AveragePooling1D(poolSize: 3, strides: 1, padding: .same)(Tensor.ones([1, 10, 3])).shape   // (1, 10, 3)
/// ```
public final class AveragePooling1D: BasePooling {
    /// - Parameters: see ``BasePooling/init(rank:reduction:poolSize:strides:padding:name:)``.
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, padding: Padding = .valid, name: String? = nil) {
        super.init(rank: 1, reduction: .average, poolSize: poolSize, strides: strides, padding: padding, name: name)
    }
}

/// Average pooling over height and width, as `keras.layers.AveragePooling2D`.
///
/// ```swift
/// AveragePooling2D()(Tensor.ones([1, 8, 8, 3])).shape   // (1, 4, 4, 3)
/// ```
public final class AveragePooling2D: BasePooling {
    /// - Parameters: see ``BasePooling/init(rank:reduction:poolSize:strides:padding:name:)``.
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, padding: Padding = .valid, name: String? = nil) {
        super.init(rank: 2, reduction: .average, poolSize: poolSize, strides: strides, padding: padding, name: name)
    }
}

/// Average pooling over depth, height and width, as `keras.layers.AveragePooling3D`.
///
/// ```swift
/// AveragePooling3D()(Tensor.ones([1, 4, 4, 4, 2])).shape   // (1, 2, 2, 2, 2)
/// ```
public final class AveragePooling3D: BasePooling {
    /// - Parameters: see ``BasePooling/init(rank:reduction:poolSize:strides:padding:name:)``.
    public init(poolSize: SpatialSize = 2, strides: SpatialSize? = nil, padding: Padding = .valid, name: String? = nil) {
        super.init(rank: 3, reduction: .average, poolSize: poolSize, strides: strides, padding: padding, name: name)
    }
}
