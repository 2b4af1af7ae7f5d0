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
        let entry = try encodeLayer(self)
        let config = ConfigValue.object([("format", "deepswift-model"), ("version", 1), ("model", entry)])
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
                let old = path + ".replaced-\(getpid())-\(UInt64.random(in: 0 ... .max))"
                guard rename(path, old) == 0 else { throw DataError.unwritable(file: path, reason: "rename: \(String(cString: strerror(errno)))") }
                guard rename(staging, path) == 0 else {
                    let reason = String(cString: strerror(errno))
                    _ = rename(old, path)
                    throw DataError.unwritable(file: path, reason: "rename: \(reason)")
                }
                try? manager.removeItem(atPath: old)
            } else {
                guard rename(staging, path) == 0 else { throw DataError.unwritable(file: path, reason: "rename: \(String(cString: strerror(errno)))") }
            }
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
    }
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
    guard let model = try decodeLayer(entry, depth: 0) as? Model else {
        throw SavingError.corrupt(file: configPath, reason: "the saved top layer is not a model")
    }
    try model.loadWeights(from: (path as NSString).appendingPathComponent("model.safetensors"), optimizer: optimizer)
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
        (className, config) = ("Sequential", [
            "layers": .array(try sequential.layers.map(encodeLayer)),
            "input_shape": shape.map(ConfigValue.init) ?? .null,
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
                    ("config", .object(config.entries))])
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
            nodes.append(.object([("layer", .int(layerIndex[id]!)), ("inputs", .array(node.inputs.map(reference))),
                                  ("training", node.training.map(ConfigValue.bool) ?? .null)]))
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

func decodeLayer(_ entry: ConfigValue, depth: Int) throws -> Layer {
    guard depth < 64 else { throw SavingError.badConfig(type: "model", key: "layers", reason: "nested more than 64 deep") }
    let fields = LayerConfig(entry.objectEntries, typeName: "saved")
    let className = try fields.string("class_name")
    guard case .object(var entries)? = fields["config"] else { throw fields.bad("config", "an object") }
    if let name = fields["name"], !entries.contains(where: { $0.0 == "name" }) { entries.append(("name", name)) }
    let config = LayerConfig(entries, typeName: className)
    let layer: Layer
    switch className {
    case "Sequential":
        guard case .array(let items)? = config["layers"] else { throw config.bad("layers", "an array of layers") }
        let sublayers = try items.map { try decodeLayer($0, depth: depth + 1) }
        let shape = try config.optional("input_shape", config.ints)
        guard shape?.allSatisfy({ $0 > 0 }) ?? true else { throw config.bad("input_shape", "positive sizes") }
        layer = Sequential(sublayers, inputShape: shape.map(TensorShape.init), name: config.name)
    case "Functional":
        layer = try decodeGraph(config, depth: depth)
    default:
        layer = try LayerRegistry.type(named: className).init(config: config)
    }
    if case .bool(let trainable)? = fields["trainable"] { layer.trainable = trainable }
    return layer
}

private func decodeGraph(_ config: LayerConfig, depth: Int) throws -> Model {
    func array(_ key: String) throws -> [ConfigValue] {
        guard case .array(let items)? = config[key] else { throw config.bad(key, "an array") }
        return items
    }
    let inputSpecs = try array("inputs")
    let layers = try array("layers").map { try decodeLayer($0, depth: depth + 1) }
    var outputs: [[SymbolicTensor]] = []
    var inputs: [SymbolicTensor?] = Array(repeating: nil, count: inputSpecs.count)
    func tensor(_ reference: ConfigValue, before node: Int) throws -> SymbolicTensor {
        let r = try LayerConfig([("r", reference)], typeName: "Functional").ints("r")
        guard r.count == 2, r[0] >= 0, r[0] < node, r[1] >= 0, r[1] < outputs[r[0]].count else {
            throw config.bad("nodes", "references [node, output] to earlier nodes")
        }
        return outputs[r[0]][r[1]]
    }
    for (i, node) in try array("nodes").enumerated() {
        let n = LayerConfig(node.objectEntries, typeName: "Functional node")
        if n["input"] != nil {
            let k = try n.int("input")
            guard k >= 0, k < inputSpecs.count, inputs[k] == nil else { throw config.bad("nodes", "each input used once") }
            let spec = LayerConfig(inputSpecs[k].objectEntries, typeName: "Input")
            let shape = try spec.ints("shape")
            guard shape.allSatisfy({ $0 >= 0 }), let dtype = DType.allCases.first(where: { "\($0)" == (try? spec.string("dtype")) }) else {
                throw spec.bad("shape", "non-negative sizes and a known dtype")
            }
            let input = Input(shape: TensorShape(shape), dtype: dtype, name: spec.name)
            inputs[k] = input
            outputs.append([input])
        } else {
            let k = try n.int("layer")
            guard k >= 0, k < layers.count else { throw config.bad("nodes", "layer indices below \(layers.count)") }
            guard case .array(let refs)? = n["inputs"], !refs.isEmpty else { throw n.bad("inputs", "a non-empty array") }
            let args = try refs.map { try tensor($0, before: i) }
            outputs.append(layers[k].symbolicCall(args, training: try n.optional("training", n.bool)))
        }
    }
    let resolved = try inputs.map { (t: SymbolicTensor?) throws -> SymbolicTensor in
        guard let t else { throw config.bad("nodes", "a node for every input") }
        return t
    }
    let outs = try array("outputs").map { try tensor($0, before: outputs.count) }
    let model = Model(inputs: resolved, outputs: outs, name: config.name)
    for loss in try array("losses") { model.addLoss(try tensor(loss, before: outputs.count)) }
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

    /// The value as JSON text, one key per line at the top levels.
    func json(indent: String = "") -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)") : "null"
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
