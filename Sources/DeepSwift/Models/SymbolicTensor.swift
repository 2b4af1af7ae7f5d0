/// A placeholder for the tensors a functional model will compute, as Keras's
/// symbolic `KerasTensor`: calling layers on it, or doing math with it, records
/// a graph that `Model(inputs:outputs:)` turns into a model.
///
/// ```swift
/// let inputs = Input(shape: [16])
/// let x = Dense(32, activation: .relu)(inputs)
/// let outputs = Dense(10)(x)
/// let model = Model(inputs: inputs, outputs: outputs)
/// ```
///
/// Each symbolic tensor carries an example value with a batch of one, computed as
/// the graph is built: that is how output shapes are known and how layers create
/// their weights before the model is ever called.
public final class SymbolicTensor {
    /// A `var` only so that ``GraphNode``'s deinit can take it apart.
    var node: GraphNode
    let index: Int
    /// A value of the tensor for a batch of one example.
    let example: Tensor

    init(node: GraphNode, index: Int, example: Tensor) {
        self.node = node
        self.index = index
        self.example = example
    }

    /// The shape, with `nil` for the batch axis.
    public var shape: [Int?] { [nil] + example.shape.dimensions.dropFirst().map { Optional($0) } }
    /// The element type.
    public var dtype: DType { example.dtype }

    /// A symbolic tensor computed from `inputs` by `function` (any tensor code).
    ///
    /// ```swift
    /// let klLoss = SymbolicTensor.lambda([zMean, zLogVar]) { t in
    ///     (t[1] - square(t[0]) - exp(t[1]) + 1).mean() * -0.5
    /// }
    /// ```
    public static func lambda(_ inputs: [SymbolicTensor], _ function: @escaping ([Tensor]) -> Tensor) -> SymbolicTensor {
        let node = GraphNode(operation: .function { [function($0)] }, inputs: inputs, training: nil)
        return SymbolicTensor(node: node, index: 0, example: function(inputs.map(\.example)))
    }
}

/// One step of a functional graph: an input, a layer call, or a function of tensors.
final class GraphNode {
    enum Operation {
        case input(InputLayer)
        case layer(Layer)
        case function(([Tensor]) -> [Tensor])
    }

    let operation: Operation
    /// A `var` only so that deinit can take a chain apart.
    private(set) var inputs: [SymbolicTensor]
    /// A `training` value fixed when the layer was called on symbolic tensors.
    let training: Bool?
    /// The call's arguments beyond the tensors (``Layer/withCallArguments(_:_:)``).
    let arguments: [String: Bool]

    init(operation: Operation, inputs: [SymbolicTensor], training: Bool?, arguments: [String: Bool] = [:]) {
        self.operation = operation
        self.inputs = inputs
        self.training = training
        self.arguments = arguments
    }

    // Releasing a node releases its inputs, whose nodes release theirs: a graph
    // tens of thousands of layers deep would free itself by a recursion as deep
    // and overflow the stack. Instead, the inputs that this release would free
    // hand their own inputs to one loop here before they go.
    deinit {
        var pending = inputs
        inputs = []
        while var t = pending.popLast() {
            guard isKnownUniquelyReferenced(&t), isKnownUniquelyReferenced(&t.node) else { continue }
            pending.append(contentsOf: t.node.inputs)
            t.node.inputs = []
        }
    }
}

/// The placeholder layer behind ``Input(shape:dtype:name:)``, listed first in a
/// functional model's layers as Keras lists it.
public final class InputLayer: Layer {
    /// The shape of one example (without the batch axis).
    public let exampleShape: TensorShape

    init(shape: TensorShape, dtype: DType, name: String?) {
        self.exampleShape = shape
        super.init(name: name)
        self.dtype = dtype
        markBuilt()
        firstOutputShapes = [TensorShape([1] + shape.dimensions)]
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor { inputs }
}

/// A symbolic input of a functional model: examples of `shape` (the batch axis is
/// left out), as `keras.Input`.
public func Input(shape: TensorShape, dtype: DType = .float32, name: String? = nil) -> SymbolicTensor {
    let layer = InputLayer(shape: shape, dtype: dtype, name: name)
    let node = GraphNode(operation: .input(layer), inputs: [], training: nil)
    return SymbolicTensor(node: node, index: 0, example: Tensor.zeros(TensorShape([1] + shape.dimensions), dtype: dtype))
}

extension Layer {
    /// Records a call of this layer in a functional graph (building the layer).
    public func callAsFunction(_ inputs: SymbolicTensor, training: Bool? = nil) -> SymbolicTensor {
        let outputs = symbolicCall([inputs], training: training)
        precondition(outputs.count == 1,
                     "\(type(of: self)) '\(name)' returns \(outputs.count) outputs; call it with an array to get them all")
        return outputs[0]
    }

    /// Records a call of this layer on several symbolic inputs, for one output.
    public func callAsFunction(_ first: SymbolicTensor, _ second: SymbolicTensor, _ more: SymbolicTensor...,
                               training: Bool? = nil) -> SymbolicTensor {
        let outputs = symbolicCall([first, second] + more, training: training)
        precondition(outputs.count == 1,
                     "\(type(of: self)) '\(name)' returns \(outputs.count) outputs; call it with an array to get them all")
        return outputs[0]
    }

    /// Records a call of this layer on any number of symbolic inputs.
    public func callAsFunction(_ inputs: [SymbolicTensor], training: Bool? = nil) -> [SymbolicTensor] {
        symbolicCall(inputs, training: training)
    }

    func symbolicCall(_ inputs: [SymbolicTensor], training: Bool?, arguments: [String: Bool] = [:]) -> [SymbolicTensor] {
        let examples = withCallArguments(arguments) { invoke(inputs.map(\.example), training: training ?? false) }
        let node = GraphNode(operation: .layer(self), inputs: inputs, training: training, arguments: arguments)
        return examples.enumerated().map { SymbolicTensor(node: node, index: $0.offset, example: $0.element) }
    }
}
