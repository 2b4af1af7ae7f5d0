/// Standardizes features with a mean and variance learned from data by
/// ``adapt(_:)`` (or given), as `keras.layers.Normalization`:
/// `(x - mean) / max(sqrt(variance), 1e-7)`, or the inverse with `invert`.
/// Statistics are kept per position of `axis` (default the last: per feature) and
/// computed over every other axis.
///
/// ```swift
/// let normalizer = Normalization()
/// try normalizer.adapt(xTrain)
/// let model = Sequential { normalizer; Dense(10) }
/// ```
public final class Normalization: Layer {
    public let axis: Int?
    public let invert: Bool
    /// The statistics (non-trainable weights, so checkpoints keep them).
    public private(set) var mean: Variable?
    public private(set) var variance: Variable?

    /// - Parameters:
    ///   - axis: the axis kept (nil: one mean and variance for everything).
    ///   - mean: a mean to use instead of `adapt`'s (broadcastable to the kept axis).
    ///   - variance: a variance to use with `mean`.
    ///   - invert: map normalized values back (`x·σ + μ`).
    ///   - name: the layer's name.
    public init(axis: Int? = -1, mean: Tensor? = nil, variance: Tensor? = nil, invert: Bool = false, name: String? = nil) {
        precondition((mean == nil) == (variance == nil), "Normalization: give both mean and variance, or neither")
        self.axis = axis
        self.invert = invert
        super.init(name: name)
        if let mean, let variance {
            self.mean = Variable(mean, name: "mean", trainable: false)
            self.variance = Variable(variance, name: "variance", trainable: false)
        }
    }

    /// Learns the mean and variance of `data` (examples along the first axis), as `adapt`.
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` for empty data or a
    ///   kept axis the data lacks.
    public func adapt(_ data: Tensor) throws {
        guard data.rank >= 1, data.shape[0] > 0 else {
            throw TrainingError.invalidConfiguration("Normalization '\(name)'.adapt: needs at least one example, got \(data.shape)")
        }
        let x = data.cast(to: .float64)
        var reduce = Array(0..<x.rank)
        if let axis {
            let a = axis < 0 ? axis + x.rank : axis
            guard a >= 1 && a < x.rank else {
                throw TrainingError.invalidConfiguration("Normalization '\(name)'.adapt: axis \(axis) is not a feature axis of \(data.shape)")
            }
            reduce.removeAll { $0 == a }
        }
        let m = x.mean(axes: reduce, keepDims: true)
        let v = square(x - m).mean(axes: reduce, keepDims: true)
        // Stored with the batch axis dropped, shaped to broadcast against one example.
        let shape = TensorShape(Array(m.shape.dimensions.dropFirst()))
        let dtype: DType = data.dtype.isFloatingPoint ? data.dtype : .float32
        mean = Variable(m.reshaped(to: shape).cast(to: dtype), name: "mean", trainable: false)
        variance = Variable(v.reshaped(to: shape).cast(to: dtype), name: "variance", trainable: false)
    }

    /// Statistics (adapted or given) that broadcast to the input's shape.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard let mean, let variance else { return problemPrefix + "call adapt(_:) or give mean and variance before using the layer" }
        return broadcastShape([mean.shape, variance.shape, shapes[0]]) == shapes[0].dimensions ? nil
            : problemPrefix + "the statistics of shape \(mean.shape) do not broadcast to the input shape \(shapes[0])"
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        let (mean, variance) = (self.mean!, self.variance!)
        let input = x.dtype == mean.dtype ? x : x.cast(to: mean.dtype)
        let scale = maximum(sqrt(variance.value), 1e-7)
        return invert ? mean.value + input * scale : (input - mean.value) / scale
    }
}
