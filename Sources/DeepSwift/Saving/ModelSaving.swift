import Foundation

// A saved model is a folder holding two files:
// - `config.json`: the architecture, every layer as {"class_name", "name",
//   "trainable", "config"}, Sequential models as their list of layers, functional
//   models as their graph of layer calls;
// - `model.safetensors`: the weights (and optionally the optimizer's state), as
//   `saveWeights` writes them, readable by any safetensors tool.
// A folder rather than a zip: both files stay readable with standard tools, the
// weights can be read without unpacking, and nothing needs a zip writer. The folder
// is written beside the target and renamed into place, so a failed save leaves
// the previous one whole.

extension Model {
    /// Saves the whole model, as Keras's `model.save`: the architecture (a JSON
    /// config of every layer and of the Sequential or functional graph) and the
    /// weights, with `optimizer`'s state when one is given, in the folder `path`.
    /// ``loadModel(from:optimizer:)`` rebuilds it in any process.
    ///
    /// ```swift
    /// try model.save(to: "classifier.model", optimizer: model.optimizer)
    /// let restored = try loadModel(from: "classifier.model")
    /// ```
    ///
    /// - Throws: ``SavingError/unsavable(_:)`` naming the part that has no saved
    ///   form (a `Lambda`, math on symbolic tensors, a custom activation or
    ///   regularizer, a custom layer without ``SavableLayer``); ``DataError`` when
    ///   the files cannot be written. A folder at `path` that is not a saved model
    ///   is never replaced.
    public func save(to path: String, optimizer: Optimizer? = nil) throws {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let entry = try encodeLayer(self)
        let config = ConfigValue.object([("format", "deepswift-model"), ("version", 1), ("model", entry)])
        if let key = config.nonFiniteKey() {
            throw SavingError.unsavable("the config value at \(key) is not a finite number; JSON cannot hold it")
        }
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        let exists = manager.fileExists(atPath: path, isDirectory: &isFolder)
        let previous = (try? readBytes((path as NSString).appendingPathComponent("config.json"), maxBytes: 1 << 28)).map { String(decoding: $0, as: UTF8.self) }
        if exists && !(isFolder.boolValue && previous?.contains("\"format\": \"deepswift-model\"") == true) {
            throw DataError.unwritable(file: path, reason: "it exists and is not a saved model folder; not replacing it")
        }
        let staging = path + ".saving-\(getpid())-\(UInt64.random(in: 0 ... .max))"
        do {
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw DataError.unwritable(file: staging, reason: "create: \(error.localizedDescription)")
        }
        do {
            try writeAtomically(Array(config.json().utf8), to: (staging as NSString).appendingPathComponent("config.json"))
            try saveWeights(to: (staging as NSString).appendingPathComponent("model.safetensors"), optimizer: optimizer)
            if exists {
                try replaceFolder(path, with: staging)
            } else {
                guard rename(staging, path) == 0 else { throw DataError.unwritable(file: path, reason: "rename: \(String(cString: strerror(errno)))") }
            }
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
    }
}

/// Puts the folder `staging` at `path` in place of the folder there. Where the
/// kernel can (`renameat2` with `RENAME_EXCHANGE`, Linux 3.15+ on most file
/// systems), the two swap in one step, so `path` is never missing; elsewhere the
/// old folder is renamed aside first and put back if the second rename fails.
private func replaceFolder(_ path: String, with staging: String) throws {
    typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    let renameExchange: UInt32 = 2   // RENAME_EXCHANGE, <linux/fs.h>
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") {
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        if renameat2(AT_FDCWD, staging, AT_FDCWD, path, renameExchange) == 0 {
            try? FileManager.default.removeItem(atPath: staging)   // now the old folder
            return
        }
        guard errno == EINVAL || errno == ENOSYS || errno == ENOTSUP else {
            throw DataError.unwritable(file: path, reason: "rename: \(String(cString: strerror(errno)))")
        }
    }
    let old = path + ".replaced-\(getpid())-\(UInt64.random(in: 0 ... .max))"
    guard rename(path, old) == 0 else { throw DataError.unwritable(file: path, reason: "rename: \(String(cString: strerror(errno)))") }
    guard rename(staging, path) == 0 else {
        let reason = String(cString: strerror(errno))
        _ = rename(old, path)
        throw DataError.unwritable(file: path, reason: "rename: \(reason)")
    }
    try? FileManager.default.removeItem(atPath: old)
}

/// A model saved by ``Model/save(to:optimizer:)``, rebuilt from its config with
/// its weights, as `keras.models.load_model`. With `optimizer` (of the kind that
/// was saved), its state is restored too. Custom layers must be registered first
/// (``LayerRegistry/register(_:)``).
///
/// ```swift
/// let model = try loadModel(from: "classifier.model")
/// let logits = try model.predict(x)
/// ```
///
/// - Throws: ``SavingError`` for a missing, malformed or unknown config,
///   ``CheckpointError`` when the weights do not fit the architecture, ``DataError``
///   when a file cannot be read. Nothing half-built is returned.
public func loadModel(from path: String, optimizer: Optimizer? = nil) throws -> Model {
    let configPath = (path as NSString).appendingPathComponent("config.json")
    let bytes = try readBytes(configPath, maxBytes: 1 << 28)
    let json: StrictJSON
    do { json = try StrictJSON.parse(bytes[...]) } catch let e as StrictJSON.ParseError {
        throw SavingError.corrupt(file: configPath, reason: "not JSON: \(e.reason)\(e.offset.map { " at byte \($0)" } ?? "")")
    }
    guard case .object(let top) = ConfigValue(json), top.first(where: { $0.0 == "format" })?.1 == "deepswift-model",
          let entry = top.first(where: { $0.0 == "model" })?.1
    else { throw SavingError.corrupt(file: configPath, reason: "not a DeepSwift model config (no \"format\": \"deepswift-model\" and \"model\")") }
    // The weights are read first: the config may not describe more than they hold.
    let weightsPath = (path as NSString).appendingPathComponent("model.safetensors")
    let weights = try SafeTensors.decode(readBytes(weightsPath), file: weightsPath)
    let budget = WeightBudget(weights.filter { !$0.name.hasPrefix("optimizer/") }.reduce(0) { $0 + $1.tensor.count }, file: weightsPath)
    guard let model = try decodeLayer(entry, depth: 0, budget: budget) as? Model else {
        throw SavingError.corrupt(file: configPath, reason: "the saved top layer is not a model")
    }
    try model.loadWeights(from: weightsPath, optimizer: optimizer)
    return model
}

// MARK: - encoding

func encodeLayer(_ layer: Layer) throws -> ConfigValue {
    let className: String
    let config: LayerConfig
    if let model = layer as? Model, let graph = model.graph {
        (className, config) = ("Functional", try encodeGraph(graph, model: model.name))
    } else if let sequential = layer as? Sequential {
        let shape = sequential.exampleShape?.dimensions ?? sequential.firstInputShapes?.first.map { Array($0.dimensions.dropFirst()) }
        if shape == nil && !sequential.weights.isEmpty {
            throw SavingError.unsavable("Sequential '\(sequential.name)' has weights but no known input shape")
        }
        let dtype = sequential.exampleShape != nil ? sequential.inputDType : sequential.firstInputDTypes?.first ?? sequential.inputDType
        (className, config) = ("Sequential", [
            "layers": .array(try sequential.layers.map(encodeLayer)),
            "input_shape": shape.map(ConfigValue.init) ?? .null,
            "input_dtype": .string("\(dtype)"),
        ])
    } else if let savable = layer as? any SavableLayer {
        className = type(of: savable).typeName
        config = try savable.config
    } else if layer is Lambda {
        throw SavingError.unsavable("Lambda layer '\(layer.name)' is a closure; write it as a layer that conforms to SavableLayer")
    } else {
        throw SavingError.unsavable("layer '\(layer.name)' of type \(type(of: layer)) does not conform to SavableLayer")
    }
    return .object([("class_name", .string(className)), ("name", .string(layer.name)), ("trainable", .bool(layer.trainable)),
                    ("dtype", .string("\(layer.dtype)")), ("config", .object(config.entries))])
}

private func encodeGraph(_ graph: FunctionalGraph, model: String) throws -> LayerConfig {
    var nodeIndex: [ObjectIdentifier: Int] = [:]
    var layerIndex: [ObjectIdentifier: Int] = [:]
    var layers: [ConfigValue] = [], nodes: [ConfigValue] = [], inputs: [ConfigValue] = []
    func reference(_ t: SymbolicTensor) -> ConfigValue { ConfigValue([nodeIndex[ObjectIdentifier(t.node)]!, t.index]) }
    // The inputs first, in the model's order (also those no output uses).
    for t in graph.inputs where nodeIndex[ObjectIdentifier(t.node)] == nil {
        guard case .input(let input) = t.node.operation else { continue }
        nodes.append(.object([("input", .int(inputs.count))]))
        inputs.append(.object([("name", .string(input.name)), ("shape", ConfigValue(input.exampleShape.dimensions)),
                               ("dtype", .string("\(input.dtype)"))]))
        nodeIndex[ObjectIdentifier(t.node)] = nodes.count - 1
    }
    for node in graph.order where nodeIndex[ObjectIdentifier(node)] == nil {
        switch node.operation {
        case .input(let input):
            throw SavingError.unsavable("Input '\(input.name)' is not among the model's inputs")
        case .layer(let layer):
            let id = ObjectIdentifier(layer)
            if layerIndex[id] == nil {
                layerIndex[id] = layers.count
                layers.append(try encodeLayer(layer))
            }
            var entry: [(String, ConfigValue)] = [("layer", .int(layerIndex[id]!)), ("inputs", .array(node.inputs.map(reference))),
                                                  ("training", node.training.map(ConfigValue.bool) ?? .null)]
            if !node.arguments.isEmpty {
                entry.append(("arguments", .object(node.arguments.sorted { $0.key < $1.key }.map { ($0.key, .bool($0.value)) })))
            }
            nodes.append(.object(entry))
        case .function:
            throw SavingError.unsavable(
                "the functional model '\(model)' computes a function of symbolic tensors (math on symbolic tensors or SymbolicTensor.lambda); compute it in a layer that conforms to SavableLayer")
        }
        nodeIndex[ObjectIdentifier(node)] = nodes.count - 1
    }
    let inputOrder = graph.inputs.map { t -> ConfigValue in reference(t) }
    return ["inputs": .array(inputs), "input_nodes": .array(inputOrder), "layers": .array(layers), "nodes": .array(nodes),
            "outputs": .array(graph.outputs.map(reference)), "losses": .array(graph.losses.map(reference))]
}

// MARK: - decoding

/// The weight elements a saved model's weights file holds, spent as layers are
/// rebuilt from its config, so that a config describing more weights than the
/// file holds (a malformed or mismatched one) throws before they are allocated.
final class WeightBudget: @unchecked Sendable {   // used by the one thread that loads
    private(set) var remaining: Int
    /// The elements all the rebuilt layers' example outputs may still hold.
    private(set) var exampleElements = 1 << 30
    let file: String

    init(_ elements: Int, file: String) {
        remaining = elements
        self.file = file
    }

    /// Takes `count` elements for `layer`, or throws when the file lacks them.
    func spend(_ count: Int, layer: String) throws {
        guard count <= remaining else {
            throw SavingError.corrupt(file: file, reason: "the config's layer '\(layer)' needs \(count) more weight elements than the file holds (\(remaining) left)")
        }
        remaining -= count
    }

    /// Takes `count` elements of example outputs, or throws past 2³⁰ in all.
    func spendExample(_ count: Int, layer: String) throws {
        guard count <= exampleElements else {
            throw SavingError.badConfig(type: "model", key: "layers",
                                        reason: "outputs whose examples hold at most 2^30 elements in all; '\(layer)' would exceed it")
        }
        exampleElements -= count
    }
}

/// The most nodes, layers (of one model) or symbolic losses a saved config may hold.
let maxSavedGraphSize = 1 << 16

/// The largest example (elements, batch of 1) a saved config may describe: 2²⁸.
let maxSavedExampleElements = 1 << 28

/// Checks that `layer` may run on inputs of `shapes` and `dtypes` as a saved
/// model is rebuilt: their number, kinds and shapes fit it, its weights fit in
/// the file, its output is not too large. A config whose layers do not fit
/// together throws here instead of stopping in the layer.
func checkedRebuild(_ layer: Layer, _ shapes: [TensorShape], _ dtypes: [DType], budget: WeightBudget?) throws {
    let type = "\(type(of: layer))"
    func refuse(_ reason: String) -> SavingError { .badConfig(type: type, key: "nodes", reason: "the layers do not fit together: \(reason)") }
    let builtIn = builtInLayerTypes[type] != nil
    if (builtIn && !(layer is Merge) && !(layer is RNN) && !(layer is MultiHeadAttention) && !(layer is Attention)) || layer is Sequential,
       shapes.count != 1 {
        throw SavingError.badConfig(type: type, key: "nodes", reason: "\(shapes.count) inputs for '\(layer.name)', which takes one")
    }
    if builtIn, let problem = savedDTypeProblem(layer, dtypes) { throw refuse(problem) }
    if let model = layer as? Model, let graph = model.graph {
        for (input, dtype) in zip(graph.inputs, dtypes) where input.example.dtype != dtype {
            throw refuse("model '\(model.name)' takes \(input.example.dtype) inputs, got \(dtype)")
        }
    } else if let sequential = layer as? Sequential {
        if let shape = sequential.exampleShape {
            guard Array(shapes[0].dimensions.dropFirst()) == shape.dimensions, dtypes[0] == sequential.inputDType else {
                throw refuse("Sequential '\(sequential.name)' takes \(sequential.inputDType) examples of shape \(shape), got \(dtypes[0]) \(shapes[0])")
            }
        } else {
            // Built by this call: its layers are checked one by one.
            _ = try rebuildStack(sequential.layers, Tensor.zeros(shapes[0], dtype: dtypes[0]), budget: budget, model: sequential.name)
        }
    }
    if let problem = layer.inputProblem(shapes: shapes, dtypes: dtypes)
        ?? (shapes.count == 1 ? layer.inputSpec?.problem(with: shapes[0], layer: layer.name) : nil) {
        throw refuse(problem)
    }
    try budget?.spend(layer.weightCount(for: shapes), layer: layer.name)
    if let elements = outputElementEstimate(layer, shapes), elements > maxSavedExampleElements {
        throw SavingError.badConfig(type: type, key: "nodes",
                                    reason: "an output of about \(elements) elements per example from '\(layer.name)', more than \(maxSavedExampleElements)")
    }
}

/// Runs `example` through `layers` as a saved Sequential is rebuilt, each layer
/// checked against what reaches it; returns the last output.
func rebuildStack(_ layers: [Layer], _ example: Tensor, budget: WeightBudget?, model: String) throws -> Tensor {
    var example = example
    for layer in layers {
        if let graph = (layer as? Model)?.graph, graph.outputs.count != 1 {
            throw SavingError.badConfig(type: "Sequential", key: "layers",
                                        reason: "layers with one output; '\(layer.name)' in '\(model)' has \(graph.outputs.count)")
        }
        try checkedRebuild(layer, [example.shape], [example.dtype], budget: budget)
        example = layer(example)
        try budget?.spendExample(example.count, layer: layer.name)
    }
    return example
}

/// Why a built-in layer cannot take inputs of `dtypes`: shape layers take
/// numbers (not bool or uint8), embeddings check their own ids, models their
/// inputs; the rest compute in floating point.
private func savedDTypeProblem(_ layer: Layer, _ dtypes: [DType]) -> String? {
    switch layer {
    case is Embedding, is Model: return nil
    case let attention as MultiHeadAttention:   // a fourth input is the bool attention mask
        return attention.floatProblem(Array(dtypes.prefix(3)))
    case is Flatten, is Reshape, is Permute, is RepeatVector, is Cropping2D, is ZeroPadding2D, is UpSampling2D, is Concatenate:
        return dtypes.allSatisfy({ [.float32, .float64, .int32, .int64].contains($0) }) ? nil
            : layer.problemPrefix + "expects number inputs, got \(dtypes.map { "\($0)" })"
    default: return layer.floatProblem(dtypes)
    }
}

/// About how many elements one example's output of `layer` holds, for the
/// built-in layers whose output can outgrow their input (nil for the others,
/// whose outputs are at most as large as an input).
private func outputElementEstimate(_ layer: Layer, _ shapes: [TensorShape]) -> Int? {
    let shape = shapes[0], dims = shape.dimensions
    let count = saturatingProduct(dims), spatialCount = saturatingProduct(Array(dims.dropFirst().dropLast()))
    let batch = dims.first ?? 1
    switch layer {
    case let dense as Dense: return saturatingProduct(Array(dims.dropLast()) + [dense.units])
    case let embedding as Embedding: return saturatingProduct([count, embedding.outputDim])
    case let up as UpSampling2D: return saturatingProduct([count] + up.size)
    case let pad as ZeroPadding2D:
        guard shape.rank == 4 else { return nil }
        return saturatingProduct([dims[0], dims[1] + pad.padding.0.0 + pad.padding.0.1, dims[2] + pad.padding.1.0 + pad.padding.1.1, dims[3]])
    case let repeatVector as RepeatVector: return saturatingProduct([count, repeatVector.n])
    case let conv as BaseConv: return saturatingProduct([batch, spatialCount, conv.filters])
    case let conv as BaseConvTranspose:
        guard shape.rank == conv.rank + 2 else { return nil }
        var sizes: [Int] = []
        for i in 0..<conv.rank {
            let stretched: Int = dims[i + 1] * conv.strides[i], span: Int = conv.kernelSize[i] * conv.dilationRate[i]
            sizes.append(stretched + span)
        }
        return saturatingProduct([batch] + sizes + [conv.filters])
    case let conv as DepthwiseConv2D: return saturatingProduct([count, conv.depthMultiplier])
    case let conv as SeparableConv2D: return max(saturatingProduct([count, conv.depthMultiplier]), saturatingProduct([batch, spatialCount, conv.filters]))
    case is Dot:
        guard shapes.count == 2, shape.rank == 3, shapes[1].rank == 3 else { return nil }
        return saturatingProduct([batch, dims[1], shapes[1][1], shapes[1][2]])
    case let rnn as RNN:
        guard shape.rank == 3 else { return nil }
        return saturatingProduct([batch, rnn.returnSequences ? dims[1] : 1, rnn.cell.units])
    case is Concatenate: return shapes.reduce(0) { $0 + min(saturatingProduct($1.dimensions), Int.max / 2 / max(shapes.count, 1)) }
    case is Merge: return broadcastShape(shapes).map(saturatingProduct)
    default: return nil
    }
}

func decodeLayer(_ entry: ConfigValue, depth: Int, budget: WeightBudget? = nil) throws -> Layer {
    guard depth < 64 else { throw SavingError.badConfig(type: "model", key: "layers", reason: "nested more than 64 deep") }
    let fields = LayerConfig(entry.objectEntries, typeName: "saved")
    let className = try fields.string("class_name")
    guard case .object(var entries)? = fields["config"] else { throw fields.bad("config", "an object") }
    if let name = fields["name"], !entries.contains(where: { $0.0 == "name" }) { entries.append(("name", name)) }
    var config = LayerConfig(entries, typeName: className)
    config.budget = budget
    config.depth = depth
    let layer: Layer
    switch className {
    case "Sequential":
        guard case .array(let items)? = config["layers"] else { throw config.bad("layers", "an array of layers") }
        let sublayers = try items.map { try decodeLayer($0, depth: depth + 1, budget: budget) }
        let shape = try config.optional("input_shape", config.exampleShape)
        let dtype = try config.optional("input_dtype", config.dtype) ?? .float32
        guard sublayers.count <= maxSavedGraphSize else { throw config.bad("layers", "at most \(maxSavedGraphSize) layers") }
        if let shape {
            // Built layer by layer, each checked against what reaches it.
            _ = try rebuildStack(sublayers, Tensor.zeros(TensorShape([1] + shape), dtype: dtype), budget: budget, model: config.name ?? "sequential")
        }
        layer = Sequential(sublayers, inputShape: shape.map(TensorShape.init), inputDType: dtype, name: config.name)
    case "Functional":
        layer = try decodeGraph(config, depth: depth, budget: budget)
    default:
        layer = try LayerRegistry.type(named: className).init(config: config)
    }
    if let dtype = try fields.optional("dtype", fields.dtype) {
        guard dtype.isFloatingPoint else { throw fields.bad("dtype", "a floating-point dtype for the layer's weights") }
        layer.dtype = dtype
    }
    if case .bool(let trainable)? = fields["trainable"] { layer.trainable = trainable }
    return layer
}

extension LayerConfig {
    /// One example's shape at `key`: positive sizes, at most 2²⁸ elements.
    func exampleShape(_ key: String) throws -> [Int] {
        let shape = try ints(key)
        guard shape.count <= 8, shape.allSatisfy({ $0 > 0 && $0 <= maxSavedExampleElements }),
              shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) <= maxSavedExampleElements
        else { throw bad(key, "at most 8 positive sizes of at most \(maxSavedExampleElements) elements in all") }
        return shape
    }

    /// The dtype named at `key`, by its Swift spelling (`float32`).
    func dtype(_ key: String) throws -> DType {
        guard let dtype = DType.allCases.first(where: { "\($0)" == (try? string(key)) }) else {
            throw bad(key, "a dtype (\(DType.allCases.map { "\($0)" }.joined(separator: ", ")))")
        }
        return dtype
    }
}

private func decodeGraph(_ config: LayerConfig, depth: Int, budget: WeightBudget?) throws -> Model {
    func array(_ key: String) throws -> [ConfigValue] {
        guard case .array(let items)? = config[key] else { throw config.bad(key, "an array") }
        return items
    }
    let inputSpecs = try array("inputs"), nodes = try array("nodes"), losses = try array("losses")
    for (key, items, limit) in [("inputs", inputSpecs, maxSavedGraphSize), ("nodes", nodes, maxSavedGraphSize), ("losses", losses, 64)]
    where items.count > limit {
        throw config.bad(key, "at most \(limit) entries")
    }
    let layers = try array("layers").map { try decodeLayer($0, depth: depth + 1, budget: budget) }
    var outputs: [[SymbolicTensor]] = []
    var inputs: [SymbolicTensor?] = Array(repeating: nil, count: inputSpecs.count)
    func tensor(_ reference: ConfigValue, before node: Int) throws -> SymbolicTensor {
        let r = try LayerConfig([("r", reference)], typeName: "Functional").ints("r")
        guard r.count == 2, r[0] >= 0, r[0] < node, r[1] >= 0, r[1] < outputs[r[0]].count else {
            throw config.bad("nodes", "references [node, output] to earlier nodes")
        }
        return outputs[r[0]][r[1]]
    }
    for (i, node) in nodes.enumerated() {
        let n = LayerConfig(node.objectEntries, typeName: "Functional node")
        if n["input"] != nil {
            let k = try n.int("input")
            guard k >= 0, k < inputSpecs.count, inputs[k] == nil else { throw config.bad("nodes", "each input used once") }
            let spec = LayerConfig(inputSpecs[k].objectEntries, typeName: "Input")
            let shape = try spec.exampleShape("shape")
            let dtype = try spec.dtype("dtype")
            try budget?.spendExample(saturatingProduct(shape), layer: spec.name ?? "input")
            let input = Input(shape: TensorShape(shape), dtype: dtype, name: spec.name)
            inputs[k] = input
            outputs.append([input])
        } else {
            let k = try n.int("layer")
            guard k >= 0, k < layers.count else { throw config.bad("nodes", "layer indices below \(layers.count)") }
            guard case .array(let refs)? = n["inputs"], !refs.isEmpty, refs.count <= 1024 else { throw n.bad("inputs", "an array of 1 to 1024 references") }
            let args = try refs.map { try tensor($0, before: i) }
            var arguments: [String: Bool] = [:]
            if let saved = n["arguments"] {
                guard case .object(let entries) = saved, entries.count <= 16 else { throw n.bad("arguments", "an object of at most 16 booleans") }
                for (key, value) in entries {
                    guard case .bool(let flag) = value else { throw n.bad("arguments", "an object of booleans") }
                    arguments[key] = flag
                }
            }
            try layers[k].withCallArguments(arguments) {
                Result { try checkedRebuild(layers[k], args.map(\.example.shape), args.map(\.example.dtype), budget: budget) }
            }.get()
            let results = layers[k].symbolicCall(args, training: try n.optional("training", n.bool), arguments: arguments)
            for result in results { try budget?.spendExample(result.example.count, layer: layers[k].name) }
            outputs.append(results)
        }
    }
    let resolved = try inputs.map { (t: SymbolicTensor?) throws -> SymbolicTensor in
        guard let t else { throw config.bad("nodes", "a node for every input") }
        return t
    }
    let outs = try array("outputs").map { try tensor($0, before: outputs.count) }
    guard !outs.isEmpty else { throw config.bad("outputs", "at least one output") }
    let model = Model(inputs: resolved, outputs: outs, name: config.name)
    for loss in losses { model.addLoss(try tensor(loss, before: outputs.count)) }
    return model
}

// MARK: - JSON

extension ConfigValue {
    init(_ json: StrictJSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        case .number(let text):
            if let i = Int(text) { self = .int(i) } else { self = .double(Double(text) ?? .nan) }
        case .array(let items): self = .array(items.map(ConfigValue.init))
        case .object(let entries): self = .object(entries.map { ($0.key, ConfigValue($0.value)) })
        }
    }

    /// The path of the first number that is infinite or NaN (`model.config.layers[2].config.rate`), or nil.
    func nonFiniteKey(_ path: String = "") -> String? {
        switch self {
        case .double(let d): return d.isFinite ? nil : path
        case .array(let items):
            for (i, item) in items.enumerated() { if let p = item.nonFiniteKey("\(path)[\(i)]") { return p } }
            return nil
        case .object(let entries):
            for (k, v) in entries { if let p = v.nonFiniteKey(path.isEmpty ? k : "\(path).\(k)") { return p } }
            return nil
        default: return nil
        }
    }

    /// The value as JSON text, one key per line at the top levels.
    func json(indent: String = "") -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            precondition(d.isFinite, "ConfigValue.json: \(d) has no JSON form; check nonFiniteKey() first")
            return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        case .string(let s): return ConfigValue.quoted(s)
        case .array(let items):
            if items.allSatisfy({ if case .object = $0 { false } else if case .array = $0 { false } else { true } }) {
                return "[" + items.map { $0.json() }.joined(separator: ", ") + "]"
            }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.json(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let entries):
            if entries.isEmpty { return "{}" }
            let inner = indent + "  "
            return "{\n" + entries.map { inner + ConfigValue.quoted($0.0) + ": " + $0.1.json(indent: inner) }.joined(separator: ",\n")
                + "\n\(indent)}"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
