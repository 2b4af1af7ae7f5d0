/// A layer with the conveniences of a whole model, as `keras.Model`: either a
/// functional model (a graph of layers from ``Input(shape:dtype:name:)`` to outputs)
/// or a subclass that overrides `call`.
///
/// ```swift
/// let inputs = Input(shape: [16])
/// let x = Dense(32, activation: .relu)(inputs)
/// let model = Model(inputs: inputs, outputs: Dense(10)(x))
/// model.weights.count        // 4, before any call
/// model(Tensor.ones([2, 16])).shape   // (2, 10)
/// ```
open class Model: Layer {
    var graph: FunctionalGraph?
    /// The optimizer, loss and metrics given to `compile(optimizer:loss:metrics:)`.
    public internal(set) var optimizer: Optimizer?
    public internal(set) var compiledLoss: Loss?
    public internal(set) var compiledMetrics: [any Metric] = []
    let lossTracker = Mean(name: "loss")
    /// The per-output losses, weights and metrics of ``compile(optimizer:losses:lossWeights:metrics:runEagerly:)``.
    var outputConfig: OutputConfig?
    /// Whether ``trainStep(_:_:sampleWeight:)`` runs eagerly instead of as a
    /// compiled function (set by `compile(..., runEagerly:)`).
    public internal(set) var runEagerly = false
    /// The compiled differentiable part of the default training step, one per
    /// combination of a target and sample weights being present.
    var compiledTrainSteps: [Int: CompiledFunction] = [:]
    /// The compiled forward pass and loss of the default evaluation step.
    var compiledTestSteps: [Int: CompiledFunction] = [:]
    /// The compiled forward pass of `predict`.
    var compiledPredictStep: CompiledFunction?
    /// Set by callbacks to end `fit` after the current epoch.
    public var stopTraining = false
    /// Whether `fit` makes the next batches on a background thread while a step
    /// trains, as Keras's `fit` prefetches its tf.data input. The batches and
    /// their order are the same either way. By default (nil) a `Dataset` is
    /// prefetched, and in-memory tensors are not: their batch is a gather of rows
    /// (about 10 µs for 64 MNIST rows), cheaper than handing it over between
    /// threads, and on 2 cores the producer thread takes time from the step's
    /// (the guide's MLP epoch measured 1.13–1.29× the in-memory loop with it,
    /// 1.08–1.11× without).
    public var prefetchingBatches: Bool?
    /// The epoch a callback's `onTrainBegin` resumes `fit` at (``BackupAndRestore``),
    /// as Keras's `model._initial_epoch`; `fit` reads and clears it.
    var resumeEpoch = 0
    /// An error a callback's `onTrainBegin` hit, which `fit` throws before training.
    var callbackError: Error?

    /// A model to subclass: override `call`.
    public override init(name: String? = nil) {
        super.init(name: name)
    }

    /// A functional model computing `outputs` from `inputs`. Its layers already
    /// have their weights.
    public init(inputs: [SymbolicTensor], outputs: [SymbolicTensor], name: String? = nil) {
        graph = FunctionalGraph(inputs: inputs, outputs: outputs)
        super.init(name: name)
        markBuilt()
        firstOutputShapes = outputs.map(\.example.shape)
    }

    /// A functional model with one input and one output.
    public convenience init(inputs: SymbolicTensor, outputs: SymbolicTensor, name: String? = nil) {
        self.init(inputs: [inputs], outputs: [outputs], name: name)
    }

    /// A functional model with one input and several outputs.
    public convenience init(inputs: SymbolicTensor, outputs: [SymbolicTensor], name: String? = nil) {
        self.init(inputs: [inputs], outputs: outputs, name: name)
    }

    open override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        guard let graph else { return super.call(inputs, training: training) }
        let (outputs, losses) = graph.run(inputs, training: training, model: name)
        for loss in losses { addLoss(loss) }
        return outputs
    }

    /// One training step on a batch (forward under a tape, gradients, optimizer
    /// update, metric updates), returning the running logs. Override for custom
    /// training logic, as Keras's `train_step`.
    @discardableResult
    open func trainStep(_ x: Tensor, _ y: Tensor?, sampleWeight: Tensor? = nil) -> Logs {
        guard let optimizer else { fatalError("Model '\(name)': call compile(optimizer:loss:metrics:) before training") }
        let (loss, yPred): (Tensor, Tensor)
        if runEagerly {
            (loss, yPred) = differentiableStep(x, y, sampleWeight, optimizer)
        } else {
            // As Keras compiles `train_step` unless `run_eagerly`: forward, loss,
            // gradients and the optimizer update replay as one planned graph; the
            // metrics (any Swift code) update eagerly from its results.
            let key = (y == nil ? 0 : 1) + (sampleWeight == nil ? 0 : 2)
            let step = compiledTrainSteps[key] ?? CompiledFunction(name: "\(name).train_step") { [unowned self] args in
                let (loss, yPred) = differentiableStep(args[0], key & 1 != 0 ? args[1] : nil,
                                                       key & 2 != 0 ? args[args.count - 1] : nil, optimizer)
                return [loss, yPred]
            }
            compiledTrainSteps[key] = step
            let results = step([x] + (y.map { [$0] } ?? []) + (sampleWeight.map { [$0] } ?? []))
            (loss, yPred) = (results[0], results[1])
        }
        return updateMetrics(loss: loss, y, yPred, sampleWeight: sampleWeight)
    }

    /// The forward pass under a tape, the loss, and the optimizer update.
    private func differentiableStep(_ x: Tensor, _ y: Tensor?, _ sampleWeight: Tensor?,
                                    _ optimizer: Optimizer) -> (loss: Tensor, yPred: Tensor) {
        let tape = GradientTape()
        let (loss, yPred) = tape.record { () -> (Tensor, Tensor) in
            let yPred = self(x, training: true)
            return (computeLoss(y, yPred, sampleWeight: sampleWeight), yPred)
        }
        // Read after the forward pass: the first call builds the weights.
        let weights = trainableWeights
        optimizer.apply(tape.gradient(of: loss, wrt: weights), to: weights)
        return (loss, yPred)
    }

    /// One evaluation step on a batch (inference mode), returning the running logs.
    @discardableResult
    open func testStep(_ x: Tensor, _ y: Tensor?, sampleWeight: Tensor? = nil) -> Logs {
        let (loss, yPred): (Tensor, Tensor)
        if runEagerly || optimizer == nil {
            yPred = self(x, training: false)
            loss = computeLoss(y, yPred, sampleWeight: sampleWeight)
        } else {
            let key = (y == nil ? 0 : 1) + (sampleWeight == nil ? 0 : 2)
            let step = compiledTestSteps[key] ?? CompiledFunction(name: "\(name).test_step") { [unowned self] args in
                let yPred = self(args[0], training: false)
                let loss = computeLoss(key & 1 != 0 ? args[1] : nil, yPred, sampleWeight: key & 2 != 0 ? args[args.count - 1] : nil)
                return [loss, yPred]
            }
            compiledTestSteps[key] = step
            let results = step([x] + (y.map { [$0] } ?? []) + (sampleWeight.map { [$0] } ?? []))
            (loss, yPred) = (results[0], results[1])
        }
        return updateMetrics(loss: loss, y, yPred, sampleWeight: sampleWeight)
    }

    /// Why `inputs` cannot be this model's inputs (their count, ranks or shapes),
    /// or nil: the functional graph's `Input` shapes, else the model's
    /// ``Layer/inputSpec``.
    func inputProblem(_ inputs: [Tensor]) -> String? {
        if graph != nil { return inputProblem(shapes: inputs.map(\.shape), dtypes: inputs.map(\.dtype)) }
        guard inputs.count == 1 else { return nil }
        return inputSpec?.problem(with: inputs[0].shape, layer: name)
    }

    /// A functional model's inputs: as many as its `Input`s, of their shapes.
    open override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard let graph else { return nil }
        guard shapes.count == graph.inputs.count else {
            return "Model '\(name)' takes \(graph.inputs.count) inputs but was given \(shapes.count)"
        }
        for (i, (input, shape)) in zip(graph.inputs, shapes).enumerated() {
            let expected = Array(input.example.shape.dimensions.dropFirst())
            if Array(shape.dimensions.dropFirst()) != expected || shape.rank != expected.count + 1 {
                return "Input \(i) of layer \"\(name)\" is incompatible with the layer: expected shape=(None, \(expected.map(String.init).joined(separator: ", "))), found shape=\(shape)"
            }
        }
        return nil
    }

    /// Adds a loss computed from the model's symbolic tensors; it is recomputed on
    /// every call (the guide's `vae.add_loss(kl_loss)`).
    public func addLoss(_ loss: SymbolicTensor) {
        precondition(graph != nil, "Model '\(name)': symbolic losses need a functional model")
        graph!.addLoss(loss)
    }

    /// The model's layers: for a functional model its graph's layers (inputs
    /// first), for a subclassed one the layers in its stored properties.
    open var layers: [Layer] { graph?.layers ?? sublayers }

    /// The layer named `name` among ``layers``, as Keras's `get_layer(name=)`.
    ///
    /// ```swift
    /// let dense = try model.getLayer(name: "dense_1")
    /// ```
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` naming the layers there are.
    public func getLayer(name: String) throws -> Layer {
        if let layer = layers.first(where: { $0.name == name }) { return layer }
        throw TrainingError.invalidConfiguration(
            "Model '\(self.name)' has no layer named '\(name)'; its layers: \(layers.map(\.name).joined(separator: ", "))")
    }

    override var extraSublayers: [Layer] { graph?.layers.filter { !($0 is InputLayer) } ?? [] }

    /// For a functional model whose graph branches or merges (Keras's test: a
    /// layer with several inputs, or a tensor used twice), each layer's inbound
    /// connections as Keras prints them, `name[node][tensor]`; nil for a chain
    /// (and for Sequential and subclassed models).
    func summaryConnections() -> [ObjectIdentifier: [String]]? {
        guard let graph else { return nil }
        var uses: [ObjectIdentifier: Int] = [:]
        var chain = true
        for node in graph.order {
            if node.inputs.count > 1 { chain = false }
            for input in node.inputs {
                uses[ObjectIdentifier(input.node), default: 0] += 1
                if uses[ObjectIdentifier(input.node)]! > 1 { chain = false }
            }
        }
        if chain { return nil }
        // The node index of each call: how many earlier calls its layer had.
        var callIndex: [ObjectIdentifier: Int] = [:], callsSoFar: [ObjectIdentifier: Int] = [:]
        func layerOf(_ node: GraphNode) -> Layer? {
            switch node.operation {
            case .input(let l): return l
            case .layer(let l): return l
            case .function: return nil
            }
        }
        for node in graph.order {
            guard let layer = layerOf(node) else { continue }
            let key = ObjectIdentifier(layer)
            callIndex[ObjectIdentifier(node)] = callsSoFar[key, default: 0]
            callsSoFar[key, default: 0] += 1
        }
        var result: [ObjectIdentifier: [String]] = [:]
        for node in graph.order {
            guard let layer = layerOf(node), !(layer is InputLayer) else { continue }
            for input in node.inputs {
                let source = layerOf(input.node)?.name ?? "lambda"
                let index = callIndex[ObjectIdentifier(input.node)] ?? 0
                result[ObjectIdentifier(layer), default: []].append("\(source)[\(index)][\(input.index)]")
            }
        }
        return result
    }
}

/// The graph of a functional model, in an order where every node follows its inputs.
struct FunctionalGraph {
    let inputs: [SymbolicTensor]
    let outputs: [SymbolicTensor]
    private(set) var losses: [SymbolicTensor] = []
    private(set) var order: [GraphNode] = []

    init(inputs: [SymbolicTensor], outputs: [SymbolicTensor]) {
        for input in inputs {
            guard case .input = input.node.operation else {
                fatalError("Model: inputs must come from Input(shape:), not from a layer's output")
            }
        }
        self.inputs = inputs
        self.outputs = outputs
        order = FunctionalGraph.sort(outputs, inputs: inputs)
    }

    mutating func addLoss(_ loss: SymbolicTensor) {
        losses.append(loss)
        order = FunctionalGraph.sort(outputs + losses, inputs: inputs)
    }

    /// Depth-first post-order from the outputs; reaching an input placeholder that
    /// is not one of the model's inputs is an error.
    static func sort(_ targets: [SymbolicTensor], inputs: [SymbolicTensor]) -> [GraphNode] {
        let inputNodes = Set(inputs.map { ObjectIdentifier($0.node) })
        var visited = Set<ObjectIdentifier>()
        var order: [GraphNode] = []
        // An explicit stack of (node, next input to visit), so a graph of any depth
        // (a loaded config of thousands of layers) cannot overflow the call stack.
        var stack: [(node: GraphNode, next: Int)] = []
        for t in targets where !visited.contains(ObjectIdentifier(t.node)) {
            visited.insert(ObjectIdentifier(t.node))
            stack.append((t.node, 0))
            while let (node, next) = stack.last {
                if next == 0, case .input(let layer) = node.operation {
                    precondition(inputNodes.contains(ObjectIdentifier(node)),
                                 "Model: the outputs depend on Input '\(layer.name)', which is not among the model's inputs")
                }
                if next < node.inputs.count {
                    stack[stack.count - 1].next += 1
                    let child = node.inputs[next].node
                    if visited.insert(ObjectIdentifier(child)).inserted { stack.append((child, 0)) }
                } else {
                    stack.removeLast()
                    order.append(node)
                }
            }
        }
        return order
    }

    /// The layers in graph order, inputs first, each once.
    var layers: [Layer] {
        var seen = Set<ObjectIdentifier>()
        var result: [Layer] = []
        for node in order {
            let layer: Layer
            switch node.operation {
            case .input(let l): layer = l
            case .layer(let l): layer = l
            case .function: continue
            }
            if seen.insert(ObjectIdentifier(layer)).inserted { result.append(layer) }
        }
        return result
    }

    /// The outputs and the symbolic losses for real inputs.
    func run(_ values: [Tensor], training: Bool, model: String) -> ([Tensor], [Tensor]) {
        precondition(values.count == inputs.count,
                     "Model '\(model)' takes \(inputs.count) inputs but was given \(values.count)")
        var computed: [ObjectIdentifier: [Tensor]] = [:]
        for (input, value) in zip(inputs, values) {
            // The shapes were checked by Model.inputProblem before the call.
            computed[ObjectIdentifier(input.node)] = [value]
        }
        for node in order where computed[ObjectIdentifier(node)] == nil {
            let args = node.inputs.map { computed[ObjectIdentifier($0.node)]![$0.index] }
            switch node.operation {
            case .input: fatalError("Model '\(model)': an input has no value")
            case .layer(let layer):
                let mode = node.training ?? training
                computed[ObjectIdentifier(node)] = node.arguments.isEmpty ? layer(args, training: mode)
                    : layer.withCallArguments(node.arguments) { layer(args, training: mode) }
            case .function(let f): computed[ObjectIdentifier(node)] = f(args)
            }
        }
        func value(_ t: SymbolicTensor) -> Tensor { computed[ObjectIdentifier(t.node)]![t.index] }
        return (outputs.map(value), losses.map(value))
    }

    func inputName(_ t: SymbolicTensor) -> String {
        if case .input(let layer) = t.node.operation { return layer.name }
        return "?"
    }
}
