/// How a weight's initial value is drawn, as `keras.initializers`: by value
/// (`.glorotUniform()`, `.zeros()`) or by Keras's name (`"random_normal"`).
///
/// Draws come from the global generator unless a seed is given, so
/// `setRandomSeed(_:)` makes them reproducible.
public struct Initializer: ExpressibleByStringLiteral, Sendable {
    let make: @Sendable (TensorShape, DType) -> Tensor

    /// An initializer from a function of the shape and dtype.
    public init(_ make: @escaping @Sendable (TensorShape, DType) -> Tensor) { self.make = make }

    /// An initializer by Keras name: `zeros`, `ones`, `random_normal`,
    /// `random_uniform`, `truncated_normal`, `glorot_uniform`, `glorot_normal`,
    /// `he_uniform`, `he_normal`, `lecun_uniform`, `lecun_normal`.
    public init(stringLiteral name: String) {
        switch name {
        case "zeros": self = .zeros()
        case "ones": self = .ones()
        case "random_normal": self = .randomNormal()
        case "random_uniform": self = .randomUniform()
        case "truncated_normal": self = .truncatedNormal()
        case "glorot_uniform": self = .glorotUniform()
        case "glorot_normal": self = .glorotNormal()
        case "he_uniform": self = .heUniform()
        case "he_normal": self = .heNormal()
        case "lecun_uniform": self = .lecunUniform()
        case "lecun_normal": self = .lecunNormal()
        default:
            fatalError("Initializer: unknown name '\(name)'; known: zeros, ones, random_normal, random_uniform, truncated_normal, glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal")
        }
    }

    /// The initial value for a weight of `shape` and `dtype`.
    public func callAsFunction(_ shape: TensorShape, _ dtype: DType = .float32) -> Tensor { make(shape, dtype) }

    /// All zeros (Keras's default for biases).
    public static func zeros() -> Initializer { Initializer { Tensor.zeros($0, dtype: $1) } }
    /// All ones.
    public static func ones() -> Initializer { Initializer { Tensor.ones($0, dtype: $1) } }
    public static func constant(_ value: Double) -> Initializer { Initializer { Tensor.full($0, value: value, dtype: $1) } }

    /// Keras's defaults: mean 0, standard deviation 0.05.
    public static func randomNormal(mean: Double = 0, stddev: Double = 0.05, seed: UInt64? = nil) -> Initializer {
        Initializer { shape, dtype in draw(seed) { Random.normal(shape, mean: mean, stddev: stddev, dtype: dtype, using: &$0) } }
    }

    /// Keras's defaults: [-0.05, 0.05).
    public static func randomUniform(min: Double = -0.05, max: Double = 0.05, seed: UInt64? = nil) -> Initializer {
        Initializer { shape, dtype in draw(seed) { Random.uniform(shape, min: min, max: max, dtype: dtype, using: &$0) } }
    }

    public static func truncatedNormal(mean: Double = 0, stddev: Double = 0.05, seed: UInt64? = nil) -> Initializer {
        Initializer { shape, dtype in draw(seed) { Random.truncatedNormal(shape, mean: mean, stddev: stddev, dtype: dtype, using: &$0) } }
    }

    /// Uniform in ±sqrt(6 / (fanIn + fanOut)): Keras's default for `Dense` kernels.
    public static func glorotUniform(seed: UInt64? = nil) -> Initializer { varianceScaling(1, .fanAvg, uniform: true, seed: seed) }
    public static func glorotNormal(seed: UInt64? = nil) -> Initializer { varianceScaling(1, .fanAvg, uniform: false, seed: seed) }
    public static func heUniform(seed: UInt64? = nil) -> Initializer { varianceScaling(2, .fanIn, uniform: true, seed: seed) }
    public static func heNormal(seed: UInt64? = nil) -> Initializer { varianceScaling(2, .fanIn, uniform: false, seed: seed) }
    public static func lecunUniform(seed: UInt64? = nil) -> Initializer { varianceScaling(1, .fanIn, uniform: true, seed: seed) }
    public static func lecunNormal(seed: UInt64? = nil) -> Initializer { varianceScaling(1, .fanIn, uniform: false, seed: seed) }

    /// A (semi-)orthogonal matrix times `gain`, as Keras's `Orthogonal` (the
    /// recurrent kernels' default): the Q of a normal matrix's QR, with R's
    /// diagonal signs applied; shapes of rank above 2 are flattened to
    /// (all but the last axis, last axis).
    public static func orthogonal(gain: Double = 1, seed: UInt64? = nil) -> Initializer {
        Initializer { shape, dtype in
            precondition(shape.rank >= 2, "Initializer.orthogonal: needs a shape of rank 2 or more, got \(shape)")
            let cols = shape[shape.rank - 1], rows = shape.elementCount / Swift.max(cols, 1)
            let normal = draw(seed) { g in Random.normal([Swift.max(rows, cols), Swift.min(rows, cols)], dtype: .float64, using: &g) }
            let (q, r) = qr(normal)
            let signs = sign((r * Tensor.eye(Swift.min(rows, cols), dtype: .float64)).sum(axis: 1))
            var matrix = q * signs
            if rows < cols { matrix = matrix.transposed() }
            return (matrix * gain).reshaped(to: shape).cast(to: dtype)
        }
    }

    enum FanMode: Sendable { case fanIn, fanOut, fanAvg }

    /// Keras's VarianceScaling: variance `scale / fan`, uniform or truncated normal.
    static func varianceScaling(_ scale: Double, _ mode: FanMode, uniform: Bool, seed: UInt64?) -> Initializer {
        Initializer { shape, dtype in
            let (fanIn, fanOut) = fans(shape)
            let fan = mode == .fanIn ? fanIn : mode == .fanOut ? fanOut : (fanIn + fanOut) / 2
            let variance = scale / Swift.max(1, fan)
            return draw(seed) { g in
                if uniform {
                    let limit = (3 * variance).squareRoot()
                    return Random.uniform(shape, min: -limit, max: limit, dtype: dtype, using: &g)
                }
                // Keras divides by the standard deviation of a unit normal truncated at ±2.
                let stddev = variance.squareRoot() / 0.87962566103423978
                return Random.truncatedNormal(shape, stddev: stddev, dtype: dtype, using: &g)
            }
        }
    }

    /// Fan-in and fan-out as Keras computes them (the receptive field multiplies
    /// both for kernels of rank above 2).
    static func fans(_ shape: TensorShape) -> (Double, Double) {
        switch shape.rank {
        case 0: return (1, 1)
        case 1: return (Double(shape[0]), Double(shape[0]))
        case 2: return (Double(shape[0]), Double(shape[1]))
        default:
            let receptive = Double(shape.dimensions.dropLast(2).reduce(1, *))
            return (Double(shape[shape.rank - 2]) * receptive, Double(shape[shape.rank - 1]) * receptive)
        }
    }

    private static func draw(_ seed: UInt64?, _ body: (inout RandomGenerator) -> Tensor) -> Tensor {
        var generator = RandomGenerator(seed: seed ?? UInt64(Random.uniform([1], min: 0, max: 0x1p52, dtype: .int64).scalar(as: Int64.self)))
        return body(&generator)
    }
}
