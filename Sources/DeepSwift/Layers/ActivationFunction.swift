/// An activation function, as `keras.activations`, by value (`.relu`) or by Keras
/// name (`"relu"`), or built from any function of a tensor.
///
/// ```swift
/// Dense(32, activation: .relu)
/// Dense(32, activation: "gelu")
/// Dense(32, activation: ActivationFunction("swish2") { $0 * sigmoid($0 * 2) })
/// ```
public struct ActivationFunction: ExpressibleByStringLiteral, Sendable {
    /// The Keras name.
    public let name: String
    let function: @Sendable (Tensor) -> Tensor
    /// For a built-in activation, its arguments (`alpha` of `.elu(alpha:)`), which a
    /// saved model keeps; nil for one made from a closure, which cannot be saved.
    private(set) var builtInArguments: [(String, Double)]?
    /// Whether this is the built-in relu, which a convolution can apply in its own
    /// output pass.
    var isRelu: Bool { builtInArguments != nil && name == "relu" }

    /// An activation named `name` computing `function`.
    public init(_ name: String, _ function: @escaping @Sendable (Tensor) -> Tensor) {
        self.name = name
        self.function = function
    }

    /// An activation by Keras name written as a literal (`"relu"`); a misspelled
    /// literal is a programmer error and traps. Use ``init(named:)`` for names that
    /// come from data (a config file, a flag).
    public init(stringLiteral name: String) {
        do { try self.init(named: name) } catch { fatalError("\(error)") }
    }

    /// The activation Keras names `name`: relu, sigmoid, tanh, softmax, softplus,
    /// gelu, elu, leaky_relu, swish (silu), exponential, linear.
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` for an unknown name, listing the known ones.
    public init(named name: String) throws {
        switch name {
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "softmax": self = .softmax
        case "softplus": self = .softplus
        case "gelu": self = .gelu
        case "elu": self = .elu
        case "leaky_relu": self = .leakyRelu
        case "swish", "silu": self = .swish
        case "exponential": self = .exponential
        case "linear": self = .linear
        default:
            throw TrainingError.invalidConfiguration(
                "ActivationFunction: unknown name '\(name)'; known: relu, sigmoid, tanh, softmax, softplus, gelu, elu, leaky_relu, swish, exponential, linear")
        }
    }

    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) -> Tensor { function(x) }

    private static func builtIn(_ name: String, _ arguments: [(String, Double)] = [],
                                _ function: @escaping @Sendable (Tensor) -> Tensor) -> ActivationFunction {
        var a = ActivationFunction(name, function)
        a.builtInArguments = arguments
        return a
    }

    public static let relu = builtIn("relu") { TensorCore.relu($0) }
    public static let sigmoid = builtIn("sigmoid") { TensorCore.sigmoid($0) }
    public static let tanh = builtIn("tanh") { TensorCore.tanh($0) }
    public static let softmax = builtIn("softmax") { TensorCore.softmax($0, axis: -1) }
    public static let softplus = builtIn("softplus") { TensorCore.softplus($0) }
    public static let linear = builtIn("linear") { $0 }
    public static let exponential = builtIn("exponential") { TensorCore.exp($0) }
    public static let swish = builtIn("swish") { $0 * TensorCore.sigmoid($0) }
    /// x·Φ(x) with the exact normal CDF (Keras's default, `approximate=False`).
    public static let gelu = builtIn("gelu") { x in x * (erf(x * (1 / 2.0.squareRoot())) + 1) * 0.5 }
    /// x for x > 0, `alpha·(eˣ - 1)` otherwise (alpha 1).
    public static let elu = ActivationFunction.elu(alpha: 1)
    /// x for x > 0, `negativeSlope·x` otherwise (Keras 3's default slope 0.2).
    public static let leakyRelu = ActivationFunction.leakyRelu(negativeSlope: 0.2)

    /// x for x > 0, `alpha·(eˣ - 1)` otherwise.
    public static func elu(alpha: Double) -> ActivationFunction {
        builtIn("elu", [("alpha", alpha)]) { x in `where`(x .> 0, x, expm1(x) * alpha) }
    }

    /// x for x > 0, `negativeSlope·x` otherwise.
    public static func leakyRelu(negativeSlope: Double) -> ActivationFunction {
        builtIn("leaky_relu", [("negative_slope", negativeSlope)]) { x in `where`(x .> 0, x, x * negativeSlope) }
    }
}
