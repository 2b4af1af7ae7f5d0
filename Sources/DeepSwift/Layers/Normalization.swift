/// Normalizes each feature with the batch's mean and variance during training and
/// with moving averages of them in inference, then scales by `gamma` and shifts by
/// `beta`, as `keras.layers.BatchNormalization`. The moving statistics are
/// non-trainable weights, updated as `moving = moving·momentum + batch·(1 - momentum)`.
public final class BatchNormalization: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let axis: Int
    public let momentum: Double
    public let epsilon: Double
    public let center: Bool
    public let scale: Bool
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?
    public private(set) var movingMean: Variable!
    public private(set) var movingVariance: Variable!

    public init(axis: Int = -1, momentum: Double = 0.99, epsilon: Double = 1e-3,
                center: Bool = true, scale: Bool = true, name: String? = nil) {
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        super.init(name: name)
    }

    /// Floating-point, with `axis` (of the built size).
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        featureProblem(self, axis: axis, shapes[0], dtypes, built: gamma ?? beta ?? movingMean, hasScaleOrShift: scale || center)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        isBuilt ? 0 : ((scale ? 1 : 0) + (center ? 1 : 0) + 2) * featureShape(self, axis: axis, inputShape: shapes[0])[0]
    }

    public override func build(inputShape: TensorShape) {
        let features = featureShape(self, axis: axis, inputShape: inputShape)
        (gamma, beta) = scaleAndShift(self, features: features, scale: scale, center: center)
        movingMean = addWeight(name: "moving_mean", shape: features, initializer: .zeros(), trainable: false)
        movingVariance = addWeight(name: "moving_variance", shape: features, initializer: .ones(), trainable: false)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let a = axis < 0 ? axis + inputs.rank : axis
        let reduced = (0..<inputs.rank).filter { $0 != a }
        var broadcastShape = [Int](repeating: 1, count: inputs.rank)
        broadcastShape[a] = inputs.shape[a]
        let target = TensorShape(broadcastShape)
        let mean: Tensor, variance: Tensor
        if training {
            mean = inputs.mean(axes: reduced, keepDims: true)
            variance = square(inputs - mean).mean(axes: reduced, keepDims: true)
            let m = stopGradient(mean).reshaped(to: movingMean.shape).cast(to: movingMean.dtype)
            let v = stopGradient(variance).reshaped(to: movingVariance.shape).cast(to: movingVariance.dtype)
            movingMean.assign(movingMean.value * momentum + m * (1 - momentum))
            movingVariance.assign(movingVariance.value * momentum + v * (1 - momentum))
        } else {
            mean = movingMean.value.reshaped(to: target).cast(to: inputs.dtype)
            variance = movingVariance.value.reshaped(to: target).cast(to: inputs.dtype)
        }
        return normalize(inputs, mean: mean, variance: variance, epsilon: epsilon, gamma: gamma, beta: beta, shape: target)
    }
}

/// Normalizes each example over its last axis (or `axis`), then scales and
/// shifts, as `keras.layers.LayerNormalization`.
public final class LayerNormalization: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let axis: Int
    public let epsilon: Double
    public let center: Bool
    public let scale: Bool
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?

    public init(axis: Int = -1, epsilon: Double = 1e-3, center: Bool = true, scale: Bool = true, name: String? = nil) {
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        super.init(name: name)
    }

    /// Floating-point, with `axis` (of the built size).
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        featureProblem(self, axis: axis, shapes[0], dtypes, built: gamma ?? beta, hasScaleOrShift: scale || center)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        isBuilt ? 0 : ((scale ? 1 : 0) + (center ? 1 : 0)) * featureShape(self, axis: axis, inputShape: shapes[0])[0]
    }

    public override func build(inputShape: TensorShape) {
        let features = featureShape(self, axis: axis, inputShape: inputShape)
        (gamma, beta) = scaleAndShift(self, features: features, scale: scale, center: center)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let a = axis < 0 ? axis + inputs.rank : axis
        var shape = [Int](repeating: 1, count: inputs.rank)
        shape[a] = inputs.shape[a]
        let mean = inputs.mean(axis: a, keepDims: true)
        let variance = square(inputs - mean).mean(axis: a, keepDims: true)
        return normalize(inputs, mean: mean, variance: variance, epsilon: epsilon, gamma: gamma, beta: beta,
                         shape: TensorShape(shape))
    }
}

/// The shape of the per-feature parameters: the size of the normalized axis,
/// which must exist in `inputShape`.
private func featureShape(_ layer: Layer, axis: Int, inputShape: TensorShape) -> TensorShape {
    let a = axis < 0 ? axis + inputShape.rank : axis
    precondition(a >= 0 && a < inputShape.rank,
                 "\(type(of: layer)) '\(layer.name)': axis \(axis) is out of range for input shape \(inputShape)")
    return [inputShape[a]]
}

/// A problem when the input is not floating-point, lacks `axis`, or (once a
/// per-feature weight exists) has another number of features.
private func featureProblem(_ layer: Layer, axis: Int, _ shape: TensorShape, _ dtypes: [DType], built: Variable?,
                            hasScaleOrShift: Bool) -> String? {
    if let p = layer.axisProblem(axis, shape) { return p }
    // Only the scale and shift must match the input's dtype (moving statistics are cast).
    if let p = layer.weightDTypeProblem(dtypes, weights: hasScaleOrShift ? (built?.dtype ?? layer.dtype) : nil) { return p }
    guard let built else { return nil }
    let size = shape[axis < 0 ? axis + shape.rank : axis]
    return size == built.shape[0] ? nil
        : layer.problemPrefix + "axis \(axis) of the input \(shape) has \(size) features but the layer was built for \(built.shape[0])"
}

/// The optional scale (`gamma`, ones) and shift (`beta`, zeros) weights.
private func scaleAndShift(_ layer: Layer, features: TensorShape, scale: Bool, center: Bool) -> (Variable?, Variable?) {
    (scale ? layer.addWeight(name: "gamma", shape: features, initializer: .ones()) : nil,
     center ? layer.addWeight(name: "beta", shape: features, initializer: .zeros()) : nil)
}

/// `(x - mean) / sqrt(variance + epsilon) · gamma + beta`, the per-feature
/// parameters reshaped to `shape` to broadcast along the normalized axis.
private func normalize(_ x: Tensor, mean: Tensor, variance: Tensor, epsilon: Double,
                       gamma: Variable?, beta: Variable?, shape: TensorShape) -> Tensor {
    var y = (x - mean) * rsqrt(variance + epsilon)
    if let gamma { y = y * gamma.value.reshaped(to: shape) }
    if let beta { y = y + beta.value.reshaped(to: shape) }
    return y
}
