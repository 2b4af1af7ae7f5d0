/// Softmax along `axis` (default the last), as `keras.layers.Softmax`.
public final class Softmax: Layer {
    public let axis: Int

    public init(axis: Int = -1, name: String? = nil) {
        self.axis = axis
        super.init(name: name)
    }

    /// Floating-point, with `axis`.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        floatProblem(dtypes) ?? axisProblem(axis, shapes[0])
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor { softmax(inputs, axis: axis) }
}

/// The rectified linear unit with Keras's options, as `keras.layers.ReLU`:
/// `x` from `threshold` up (capped at `maxValue`), `negativeSlope·(x - threshold)` below.
public final class ReLU: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let maxValue: Double?, negativeSlope: Double, threshold: Double

    public init(maxValue: Double? = nil, negativeSlope: Double = 0, threshold: Double = 0, name: String? = nil) {
        precondition(maxValue.map { $0 >= 0 } ?? true, "ReLU: maxValue must be non-negative, got \(maxValue!)")
        precondition(negativeSlope >= 0, "ReLU: negativeSlope must be non-negative, got \(negativeSlope)")
        self.maxValue = maxValue
        self.negativeSlope = negativeSlope
        self.threshold = threshold
        super.init(name: name)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        var y = maxValue == nil && negativeSlope == 0 && threshold == 0
            ? relu(x) : `where`(x .>= threshold, x, (x - threshold) * negativeSlope)
        if let maxValue { y = minimum(y, maxValue) }
        return y
    }
}

/// `x` for x ≥ 0, `negativeSlope·x` below, as `keras.layers.LeakyReLU` (Keras 3's default slope 0.3).
public final class LeakyReLU: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let negativeSlope: Double

    public init(negativeSlope: Double = 0.3, name: String? = nil) {
        self.negativeSlope = negativeSlope
        super.init(name: name)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor { `where`(x .>= 0, x, x * negativeSlope) }
}

/// `x` for x > 0, `alpha·(eˣ - 1)` below, as `keras.layers.ELU`.
public final class ELU: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let alpha: Double

    public init(alpha: Double = 1, name: String? = nil) {
        self.alpha = alpha
        super.init(name: name)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor { `where`(x .> 0, x, expm1(x) * alpha) }
}

/// A leaky ReLU whose slope is learned per element, as `keras.layers.PReLU`:
/// `max(0, x) + alpha·min(0, x)`. `alpha` has the input's shape without the batch
/// axis, with size 1 along `sharedAxes` (1-based, as in Keras), and starts at zero.
public final class PReLU: Layer {
    public let sharedAxes: [Int]
    let alphaInitializer: Initializer
    public private(set) var alpha: Variable?

    public init(alphaInitializer: Initializer = .zeros(), sharedAxes: [Int] = [], name: String? = nil) {
        self.alphaInitializer = alphaInitializer
        self.sharedAxes = sharedAxes
        super.init(name: name)
    }

    /// Of the weights' dtype with every shared axis, and (once built) `alpha`'s shape.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        if let p = weightDTypeProblem(dtypes, weights: weightDType(for: shapes)) { return p }
        let shape = shapes[0]
        if let axis = sharedAxes.first(where: { $0 < 1 || $0 >= shape.rank }) {
            return problemPrefix + "shared axis \(axis) is not an axis of \(shape)"
        }
        guard let alpha else { return nil }
        return broadcastShape([alpha.shape, shape]) == shape.dimensions ? nil
            : problemPrefix + "alpha \(alpha.shape) was built for another input than \(shape)"
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        guard alpha == nil else { return 0 }
        var shape = Array(shapes[0].dimensions.dropFirst())
        for axis in sharedAxes where axis >= 1 && axis <= shape.count { shape[axis - 1] = 1 }
        return saturatingProduct(shape)
    }

    public override func build(inputShape: TensorShape) {
        var shape = Array(inputShape.dimensions.dropFirst())
        for axis in sharedAxes { shape[axis - 1] = 1 }
        alpha = addWeight(name: "alpha", shape: TensorShape(shape), initializer: alphaInitializer)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        relu(x) + alpha! * minimum(x, 0)
    }
}
