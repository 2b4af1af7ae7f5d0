/// A plain stack of layers, each feeding the next, as `keras.Sequential`.
///
/// ```swift
/// let mlp = Sequential {
///     Dense(32, activation: .relu)
///     Dense(32, activation: .relu)
///     Dense(10)
/// }
/// let logits = mlp(Tensor.ones([64, 784]))
/// ```
///
/// Given an `inputShape` (one example's shape), the model builds its weights at once.
open class Sequential: Model {
    private var stack: [Layer] = []
    let exampleShape: TensorShape?
    /// The dtype of the inputs the model is built for (integer ids for an `Embedding` first).
    let inputDType: DType

    /// A model of `layers`, built now when `inputShape` is given, for inputs of
    /// `inputDType` (`.int32` when the first layer is an `Embedding`).
    public init(_ layers: [Layer] = [], inputShape: TensorShape? = nil, inputDType: DType = .float32, name: String? = nil) {
        exampleShape = inputShape
        self.inputDType = inputDType
        super.init(name: name)
        // Built once for all the layers (add builds the whole stack each time).
        stack = layers
        invalidateTracking()
        if !layers.isEmpty { buildStack() }
    }

    /// A model of the layers listed in `content`.
    public convenience init(inputShape: TensorShape? = nil, inputDType: DType = .float32, name: String? = nil,
                            @LayerBuilder _ content: () -> [Layer]) {
        self.init(content(), inputShape: inputShape, inputDType: inputDType, name: name)
    }

    /// Appends a layer, building it now if the model's input shape is known.
    public func add(_ layer: Layer) {
        stack.append(layer)
        invalidateTracking()
        buildStack()
    }

    /// Runs an example of the input shape (when known) through the stack, building every layer.
    private func buildStack() {
        if let exampleShape {
            var example = Tensor.zeros(TensorShape([1] + exampleShape.dimensions), dtype: inputDType)
            for l in stack { example = l(example, training: false) }
            firstOutputShapes = [example.shape]
            markBuilt()
        }
    }

    /// One example of `inputShape` in a batch, when it was given; else what the
    /// first layer accepts.
    open override var inputSpec: InputSpec? {
        guard let exampleShape else { return stack.first?.inputSpec }
        return InputSpec(rank: exampleShape.rank + 1, axes: Dictionary(uniqueKeysWithValues: exampleShape.dimensions.enumerated().map { ($0 + 1, $1) }))
    }

    open override var layers: [Layer] { stack }
    override var extraSublayers: [Layer] { stack }

    open override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        var x = inputs
        for layer in stack { x = layer(x, training: training) }
        return x
    }
}

/// Lists layers in a ``Sequential`` builder block.
@resultBuilder
public enum LayerBuilder {
    public static func buildExpression(_ layer: Layer) -> [Layer] { [layer] }
    public static func buildExpression(_ layers: [Layer]) -> [Layer] { layers }
    public static func buildBlock(_ parts: [Layer]...) -> [Layer] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Layer]?) -> [Layer] { part ?? [] }
    public static func buildEither(first: [Layer]) -> [Layer] { first }
    public static func buildEither(second: [Layer]) -> [Layer] { second }
    public static func buildArray(_ parts: [[Layer]]) -> [Layer] { parts.flatMap { $0 } }
}
