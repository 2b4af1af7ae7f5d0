@_spi(Autodiff) import TensorCore
/// Sets a fraction `rate` of its inputs to zero during training and scales the
/// rest by `1 / (1 - rate)` (inverted dropout), as `keras.layers.Dropout`; in
/// inference it passes inputs through.
///
/// ```swift
/// let dropout = Dropout(0.5)
/// dropout(x, training: true)    // about half the elements zeroed, the others doubled
/// dropout(x)                    // x itself
/// ```
public final class Dropout: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let rate: Double
    /// Axes of size 1 here share one mask value across that axis (Keras's noise_shape).
    public let noiseShape: [Int?]?
    /// The seed of the layer's own random stream (nil: the global generator's).
    public let seed: UInt64?
    private var generator: RandomGenerator?

    public init(_ rate: Double, noiseShape: [Int?]? = nil, seed: UInt64? = nil, name: String? = nil) {
        precondition(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        self.noiseShape = noiseShape
        self.seed = seed
        self.generator = seed.map(RandomGenerator.init(seed:))
        super.init(name: name)
        markBuilt()
    }

    /// A noise shape of the input's rank whose sizes are 1 or the input's.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard let noiseShape else { return nil }
        let fits = noiseShape.count == shapes[0].rank
            && zip(noiseShape, shapes[0].dimensions).allSatisfy { d, n in d == nil || d == 1 || d == n }
        return fits ? nil : problemPrefix + "noiseShape \(noiseShape.map { $0.map(String.init) ?? "nil" }) does not broadcast to the input shape \(shapes[0])"
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        guard training, rate > 0 else { return inputs }
        var shape = inputs.shape
        if let noiseShape {
            for (i, d) in noiseShape.enumerated() { if let d { shape[i] = d } }
        }
        let u: Tensor
        if generator != nil {
            // A compiled function replays the draw from this layer's own generator.
            let dtype = inputs.dtype
            u = Random.uniform(shape, dtype: dtype, using: &generator!)
                .traced("dropoutNoise", [], stateful: true, replay: { [unowned self] _ in
                    Random.uniform(shape, dtype: dtype, using: &self.generator!)
                })
        } else {
            u = Random.uniform(shape, dtype: inputs.dtype)
        }
        let mask = (u .>= Tensor(rate, dtype: inputs.dtype)).cast(to: inputs.dtype) * (1 / (1 - rate))
        return inputs * mask
    }
}
