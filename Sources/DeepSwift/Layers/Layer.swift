import Foundation
@_spi(Autodiff) import TensorCore
@_spi(Autodiff) import Autodiff
@_spi(Autodiff) import Compile

/// The base of every layer and model, as `keras.layers.Layer`: state (weights)
/// plus a computation (``call(_:training:)-(Tensor,_)``).
///
/// Subclasses create weights in `init` (as `Variable` stored properties) or lazily
/// in ``build(inputShape:)`` with ``addWeight(name:shape:dtype:initializer:trainable:regularizer:)``,
/// and override `call`. Variables and sublayers in stored properties (also inside
/// arrays, dictionaries and optionals) are tracked automatically.
///
/// ```swift
/// final class Linear: Layer {
///     let units: Int
///     var w: Variable!, b: Variable!
///     init(_ units: Int = 32) { self.units = units; super.init() }
///     override func build(inputShape: TensorShape) {
///         w = addWeight(name: "w", shape: [inputShape[-1], units], initializer: "random_normal")
///         b = addWeight(name: "b", shape: [units], initializer: "random_normal")
///     }
///     override func call(_ inputs: Tensor, training: Bool) -> Tensor { matmul(inputs, w) + b }
/// }
/// let y = Linear(4)(Tensor.ones([2, 2]))   // builds, then calls
/// ```
open class Layer {
    /// The layer's name, unique among layers of its kind (`dense`, `dense_1`, ...).
    public var name: String
    /// Whether the layer's weights are trained. `false` freezes all of them,
    /// including its sublayers': they move to ``nonTrainableWeights``.
    open var trainable = true
    /// Whether ``build(inputShape:)`` has run.
    public private(set) var isBuilt = false
    /// The dtype of the weights ``addWeight(name:shape:dtype:initializer:trainable:regularizer:)``
    /// creates (set before the first call; float64 is useful for gradient checks).
    public var dtype: DType = .float32

    var createdWeights: [Variable] = []
    var weightRegularizers: [(Variable, Regularizer)] = []
    var callLosses: [Tensor] = []
    var trackedMetrics: [(name: String, metric: Mean)] = []
    /// What the stored properties held at ``TrackingEpoch`` `epoch`.
    private var trackingCache: (variables: [Variable], layers: [Layer], epoch: Int)?

    /// A layer named `name`, or a unique name derived from its class (`MyBlock` → `my_block`).
    public init(name: String? = nil) {
        self.name = name ?? LayerNames.unique(for: type(of: self))
        TrackingEpoch.advance()
    }

    // MARK: to override

    /// Creates the layer's weights once the shape of its first input is known.
    /// Runs once, before the first call.
    open func build(inputShape: TensorShape) {}

    /// Creates the weights of a layer with several inputs; by default builds from
    /// the first input's shape.
    open func build(inputShapes: [TensorShape]) { build(inputShape: inputShapes[0]) }

    /// What the layer accepts once built (nil: anything), as Keras's `input_spec`;
    /// `fit`, `evaluate` and `predict` check a model's inputs against it.
    open var inputSpec: InputSpec? { nil }

    /// Why inputs of `shapes` and `dtypes` do not fit this layer, in a message
    /// naming it, or nil when they do. Every call checks it first and stops with
    /// the message; ``loadModel(from:optimizer:)`` checks it (and ``Layer/inputSpec``)
    /// before each layer of a saved model runs, and throws instead. Override it
    /// where a config and an input shape can disagree (a window larger than the
    /// input, a reshape to another size).
    ///
    /// ```swift
    /// MaxPooling2D(poolSize: 3).inputProblem(shapes: [[1, 2, 2, 1]], dtypes: [.float32])
    /// // "MaxPooling2D 'max_pooling2d': the window 3 does not fit the input's spatial size [2, 2] with padding valid"
    /// ```
    open func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? { nil }

    /// How many weight elements building the layer for inputs of `shapes` creates
    /// (0 when it holds none or is built); a loaded config is checked against its
    /// weights file with it before anything is allocated.
    func weightCount(for shapes: [TensorShape]) -> Int { 0 }

    // MARK: call arguments

    /// Runs `body` (a call of this layer) with call arguments beyond the tensors,
    /// as Keras's call keywords (`use_causal_mask`): a functional graph records
    /// them with the call, replays them and saves them. By default the layer takes
    /// none and ignores them.
    open func withCallArguments<R>(_ arguments: [String: Bool], _ body: () -> R) -> R { body() }

    // MARK: masks

    /// Whether the layer passes its input's mask on to its output (Keras's
    /// `supports_masking`): true for layers that keep the steps, such as `Dense`,
    /// `Dropout`, activations and normalizations. A layer that does not drops it.
    open var supportsMasking: Bool { false }

    /// Whether the layer may make a mask from inputs that have none
    /// (`Embedding(maskZero: true)`, ``Masking``).
    open var createsMask: Bool { false }

    /// The masks of the outputs, from the inputs and their masks (Keras's
    /// `compute_mask`). By default the first input's mask when
    /// ``Layer/supportsMasking``, else none.
    open func computeMask(_ inputs: [Tensor], masks: [Tensor?]) -> [Tensor?] {
        supportsMasking ? [masks.first ?? nil] : [nil]
    }

    /// The computation, given the inputs' masks (see ``propagatedMask(of:)``);
    /// called instead of `call(_:training:)` when an input has a mask. By default
    /// it ignores them.
    open func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) -> [Tensor] {
        call(inputs, training: training)
    }

    /// The computation of a layer with one input and one output.
    open func call(_ inputs: Tensor, training: Bool) -> Tensor {
        fatalError("\(type(of: self)) '\(name)' must override call(_:training:) (one input) or call(_:training:) taking [Tensor]")
    }

    /// The computation of a layer with several inputs or outputs. By default it
    /// forwards a single input to the one-input `call`.
    open func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        precondition(inputs.count == 1,
                     "\(type(of: self)) '\(name)' takes one input but was given \(inputs.count); override call(_:training:) taking [Tensor] to accept several")
        return [call(inputs[0], training: training)]
    }

    // MARK: calling

    /// Calls the layer on one input, building it first if needed. `training`
    /// defaults to the value of the enclosing layer call, else `false`.
    public func callAsFunction(_ inputs: Tensor, training: Bool? = nil) -> Tensor {
        let outputs = invoke([inputs], training: training)
        precondition(outputs.count == 1,
                     "\(type(of: self)) '\(name)' returns \(outputs.count) outputs; call it with an array to get them all")
        return outputs[0]
    }

    /// Calls the layer on several inputs (`sampling(zMean, zLogVar)`) for one output.
    public func callAsFunction(_ first: Tensor, _ second: Tensor, _ more: Tensor..., training: Bool? = nil) -> Tensor {
        let outputs = invoke([first, second] + more, training: training)
        precondition(outputs.count == 1,
                     "\(type(of: self)) '\(name)' returns \(outputs.count) outputs; call it with an array to get them all")
        return outputs[0]
    }

    /// Calls the layer on any number of inputs and returns all its outputs.
    public func callAsFunction(_ inputs: [Tensor], training: Bool? = nil) -> [Tensor] {
        invoke(inputs, training: training)
    }

    func invoke(_ inputs: [Tensor], training: Bool?) -> [Tensor] {
        precondition(!inputs.isEmpty, "\(type(of: self)) '\(name)' was called with no inputs")
        if let problem = inputProblem(shapes: inputs.map(\.shape), dtypes: inputs.map(\.dtype)) { fatalError(problem) }
        let context = CallContext.current
        if context.depth == 0 { clearCallLosses() }
        let mode = training ?? context.training.last ?? false
        context.depth += 1
        context.training.append(mode)
        defer {
            context.depth -= 1
            context.training.removeLast()
        }
        let masks = MaskTable.shared.masks(of: inputs)
        return withNameScope(name) {
            if !isBuilt {
                // Creating weights is set-up, not part of a compiled step: a trace must
                // not replay the initializers' random draws.
                Tracer.suspended { build(inputShapes: inputs.map(\.shape)) }
                firstInputShapes = inputs.map(\.shape)
                firstInputDTypes = inputs.map(\.dtype)
                isBuilt = true
                trackingCache = nil
                let outputs = run(inputs, masks, mode)
                firstOutputShapes = outputs.map(\.shape)
                return outputs
            }
            let outputs = run(inputs, masks, mode)
            // Layers built at init (pooling, reshapes) learn their shapes on first use.
            if firstOutputShapes == nil { firstOutputShapes = outputs.map(\.shape) }
            return outputs
        }
    }

    /// The call, with the inputs' masks when there are any, and the outputs' masks attached.
    private func run(_ inputs: [Tensor], _ masks: [Tensor?]?, _ mode: Bool) -> [Tensor] {
        let outputs = masks.map { call(inputs, masks: $0, training: mode) } ?? call(inputs, training: mode)
        if masks != nil || createsMask {
            for (output, mask) in zip(outputs, computeMask(inputs, masks: masks ?? inputs.map { _ in nil })) {
                if let mask { MaskTable.shared.set(mask, on: output) }
            }
        }
        return outputs
    }

    /// The output shapes of the first call, for ``Model/summary(printTo:)``.
    var firstOutputShapes: [TensorShape]?
    /// The input shapes the layer was built for on its first call (what a saved
    /// `Sequential` without an input shape is rebuilt from).
    var firstInputShapes: [TensorShape]?
    /// The dtypes of those inputs.
    var firstInputDTypes: [DType]?

    /// Marks the layer built (for layers whose weights exist from `init`, or that a
    /// container builds), so ``build(inputShape:)`` will not run.
    public func markBuilt() {
        isBuilt = true
        trackingCache = nil
    }

    // MARK: weights

    /// Creates a weight of this layer, as `add_weight`.
    ///
    /// ```swift
    /// let w = addWeight(name: "kernel", shape: [784, 64], initializer: .glorotUniform())
    /// ```
    @discardableResult
    public func addWeight(name: String? = nil, shape: TensorShape, dtype: DType? = nil,
                          initializer: Initializer = .glorotUniform(), trainable: Bool = true,
                          regularizer: Regularizer? = nil) -> Variable {
        let variable = Variable(initializer(shape, dtype ?? self.dtype), name: name ?? "Variable", trainable: trainable)
        createdWeights.append(variable)
        if let regularizer { weightRegularizers.append((variable, regularizer)) }
        trackingCache = nil
        return variable
    }

    /// The trainable weights, then the non-trainable ones, own before sublayers'.
    public var weights: [Variable] { trainableWeights + nonTrainableWeights }

    /// The weights that training updates, as Keras orders them.
    public var trainableWeights: [Variable] {
        guard trainable else { return [] }
        return unique(ownVariables.filter(\.trainable) + sublayers.flatMap(\.trainableWeights))
    }

    /// The weights that training does not update (statistics, frozen layers).
    public var nonTrainableWeights: [Variable] {
        guard trainable else { return unique(ownVariables + sublayers.flatMap(\.weights)) }
        return unique(ownVariables.filter { !$0.trainable } + sublayers.flatMap(\.nonTrainableWeights))
    }

    /// Every weight under its hierarchical name (`sequential/dense_1/kernel`):
    /// the keys of checkpoints.
    public var namedWeights: [(name: String, variable: Variable)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Variable)] = []
        func walk(_ layer: Layer, _ prefix: String) {
            let path = prefix.isEmpty ? layer.name : "\(prefix)/\(layer.name)"
            for v in layer.ownVariables where seen.insert(ObjectIdentifier(v)).inserted { result.append(("\(path)/\(v.name)", v)) }
            for l in layer.sublayers { walk(l, path) }
        }
        walk(self, "")
        return result
    }

    /// The number of scalars in all weights.
    public func countParams() -> Int { weights.reduce(0) { $0 + $1.shape.elementCount } }

    /// The layers held in stored properties (directly or in collections), in
    /// declaration order.
    public var sublayers: [Layer] { tracked.layers }

    var ownVariables: [Variable] { tracked.variables }

    private var tracked: (variables: [Variable], layers: [Layer]) {
        let epoch = TrackingEpoch.current
        if let cache = trackingCache, cache.epoch == epoch { return (cache.variables, cache.layers) }
        var variables = createdWeights
        var layers: [Layer] = []
        var seenVariables = Set(variables.map(ObjectIdentifier.init))
        var seenLayers = Set<ObjectIdentifier>()
        func visit(_ value: Any) {
            if let v = value as? Variable {
                if seenVariables.insert(ObjectIdentifier(v)).inserted { variables.append(v) }
            } else if let l = value as? Layer {
                if l !== self, seenLayers.insert(ObjectIdentifier(l)).inserted { layers.append(l) }
            } else {
                let mirror = Mirror(reflecting: value)
                switch mirror.displayStyle {
                case .optional, .collection, .set:
                    for child in mirror.children { visit(child.value) }
                case .dictionary:
                    for child in mirror.children { for part in Mirror(reflecting: child.value).children { visit(part.value) } }
                default: break
                }
            }
        }
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror, m.subjectType != Layer.self {
            levels.append(m)
            mirror = m.superclassMirror
        }
        // Base classes' properties first, as they were declared first.
        for level in levels.reversed() {
            for child in level.children { visit(child.value) }
        }
        for l in extraSublayers where l !== self && seenLayers.insert(ObjectIdentifier(l)).inserted { layers.append(l) }
        if isBuilt { trackingCache = (variables, layers, epoch) }
        return (variables, layers)
    }

    /// Sublayers that containers hold outside stored properties (overridden by models).
    var extraSublayers: [Layer] { [] }

    func invalidateTracking() { trackingCache = nil }

    // MARK: losses and metrics

    /// Adds a loss created during the forward pass, as `add_loss`. Losses are
    /// cleared when an outermost layer call starts.
    public func addLoss(_ loss: Tensor) {
        callLosses.append(loss)
    }

    /// The losses of this layer and its sublayers: those added during the last
    /// outermost call, then the weight regularization terms.
    /// Each layer counts once, however many paths reach it (a `Sequential`'s
    /// layers, a layer shared by two blocks), as Keras's `_flatten_layers`.
    public var losses: [Tensor] {
        flattenedLayers.flatMap { $0.callLosses + $0.weightRegularizers.map { $1($0.value) } }
    }

    /// This layer and every layer below it, each once, depth first.
    var flattenedLayers: [Layer] {
        var seen = Set<ObjectIdentifier>()
        var result: [Layer] = []
        func walk(_ layer: Layer) {
            guard seen.insert(ObjectIdentifier(layer)).inserted else { return }
            result.append(layer)
            for l in layer.sublayers { walk(l) }
        }
        walk(self)
        return result
    }

    private func clearCallLosses() {
        for l in flattenedLayers { l.callLosses.removeAll() }
    }

    /// Tracks the mean of `value` under `name`, as `add_metric`.
    public func addMetric(_ value: Tensor, name: String) {
        if let entry = trackedMetrics.first(where: { $0.name == name }) {
            entry.metric.updateState(value)
        } else {
            let metric = Mean(name: name)
            metric.updateState(value)
            trackedMetrics.append((name, metric))
        }
    }

    /// The metrics added with ``addMetric(_:name:)`` by this layer and its sublayers.
    public var metrics: [Mean] { flattenedLayers.flatMap { $0.trackedMetrics.map(\.metric) } }

    /// Resets every tracked metric, as `reset_metrics`.
    public func resetMetrics() {
        for m in metrics { m.resetState() }
    }
}

private func unique(_ variables: [Variable]) -> [Variable] {
    var seen = Set<ObjectIdentifier>()
    return variables.filter { seen.insert(ObjectIdentifier($0)).inserted }
}

/// Unique default layer names per kind, as Keras makes them (`dense`, `dense_1`, ...).
enum LayerNames {
    private static let counts = NSLock()
    nonisolated(unsafe) private static var used: [String: Int] = [:]

    static func unique(for type: Any.Type) -> String {
        let base = snakeCase(String(describing: type))
        counts.lock()
        defer { counts.unlock() }
        let n = used[base, default: 0]
        used[base] = n + 1
        return n == 0 ? base : "\(base)_\(n)"
    }

    /// `BatchNormalization` → `batch_normalization`, `MLP` → `mlp`.
    static func snakeCase(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0,
               chars[i - 1].isLowercase || (i + 1 < chars.count && chars[i + 1].isLowercase && chars[i - 1].isUppercase) {
                out.append("_")
            }
            out.append(contentsOf: c.lowercased())
        }
        return out
    }
}
