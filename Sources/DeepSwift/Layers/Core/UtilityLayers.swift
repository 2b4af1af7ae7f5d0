/// Any function of the input as a layer, as `keras.layers.Lambda` (it has no weights).
///
/// ```swift
/// let double = Lambda { $0 * 2 }
/// ```
public final class Lambda: Layer {
    let function: (Tensor) -> Tensor

    public init(name: String? = nil, _ function: @escaping (Tensor) -> Tensor) {
        self.function = function
        super.init(name: name)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor { function(inputs) }
}

/// `x·scale + offset`, as `keras.layers.Rescaling` (e.g. `Rescaling(scale: 1.0 / 255)` for pixels).
public final class Rescaling: Layer {
    public let scale: Double, offset: Double

    public init(scale: Double, offset: Double = 0, name: String? = nil) {
        self.scale = scale
        self.offset = offset
        super.init(name: name)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        let y = x.dtype.isFloatingPoint ? x : x.cast(to: .float32)
        return offset == 0 ? y * scale : y * scale + offset
    }
}

/// (batch, features) repeated `n` times into (batch, n, features), as `keras.layers.RepeatVector`.
public final class RepeatVector: Layer {
    public let n: Int

    public init(_ n: Int, name: String? = nil) {
        precondition(n >= 1, "RepeatVector: n must be at least 1, got \(n)")
        self.n = n
        super.init(name: name)
    }

    /// Rank 2.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        shapes[0].rank == 2 ? nil : problemPrefix + "expects (batch, features), got \(shapes[0])"
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        return x.expandingShape(at: 1).broadcasted(to: [x.shape[0], n, x.shape[1]])
    }
}

/// The non-batch axes reordered by `dims` (a permutation of 1...rank-1, 1-based as
/// in Keras), as `keras.layers.Permute`.
public final class Permute: Layer {
    public let dims: [Int]

    public init(_ dims: [Int], name: String? = nil) {
        precondition(Set(dims) == Set(1...dims.count),
                     "Permute: dims must be a permutation of 1...\(dims.count) (the batch axis stays first), got \(dims)")
        self.dims = dims
        super.init(name: name)
    }

    /// One axis per entry of `dims`, after the batch axis.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        shapes[0].rank == dims.count + 1 ? nil : problemPrefix + "dims \(dims) need a rank-\(dims.count + 1) input, got \(shapes[0])"
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        return x.transposed(permutation: [0] + dims)
    }
}

/// Adds zero-mean normal noise of `stddev` in training, nothing at inference, as
/// `keras.layers.GaussianNoise` (a regularizer).
public final class GaussianNoise: Layer {
    public let stddev: Double

    public init(stddev: Double, name: String? = nil) {
        precondition(stddev >= 0, "GaussianNoise: stddev must be non-negative, got \(stddev)")
        self.stddev = stddev
        super.init(name: name)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        guard training, stddev > 0 else { return x }
        return x + Random.normal(x.shape, stddev: stddev, dtype: x.dtype)
    }
}
