import Foundation

/// A value in a saved layer configuration: what JSON can hold.
public enum ConfigValue: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
    /// JSON's null (an absent optional argument).
    case null
    /// true or false.
    case bool(Bool)
    /// A whole number.
    case int(Int)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// A list of values.
    case array([ConfigValue])
    /// Keys in the order written.
    case object([(String, ConfigValue)])

    /// Literals: `3`, `0.5`, `"same"`, `true`, `[3, 3]`.
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ConfigValue...) { self = .array(elements) }

    /// Integers as an array value.
    public init(_ values: [Int]) { self = .array(values.map(ConfigValue.int)) }

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// The arguments that rebuild a layer, as the dictionary Keras's `get_config`
/// returns, with Keras's keys (`units`, `use_bias`, `kernel_size`).
///
/// ```swift
/// final class Scale: Layer, SavableLayer {
///     static let typeName = "Scale"
///     let factor: Double
///     init(factor: Double, name: String? = nil) { self.factor = factor; super.init(name: name) }
///     var config: LayerConfig { ["factor": .double(factor)] }
///     convenience init(config: LayerConfig) throws { self.init(factor: try config.double("factor"), name: config.name) }
///     override func call(_ x: Tensor, training: Bool) -> Tensor { x * factor }
/// }
/// LayerRegistry.register(Scale.self)
/// ```
public struct LayerConfig: ExpressibleByDictionaryLiteral, Sendable {
    /// The entries in the order written.
    public private(set) var entries: [(String, ConfigValue)]
    /// The layer type the config is read for, named in errors.
    var typeName = "layer"
    /// While a saved model loads: the weight elements its file holds, which the
    /// layers rebuilt from configs may not exceed.
    var budget: WeightBudget?
    /// How deep in saved layers this config is (wrappers decode their inner layer one deeper).
    var depth = 0

    /// A config of the entries written, in order: `["units": 64, "use_bias": true]`.
    public init(dictionaryLiteral elements: (String, ConfigValue)...) { entries = elements }
    /// A config of `entries`, in order.
    public init(_ entries: [(String, ConfigValue)]) { self.entries = entries }

    /// The value at `key`; assigning nil removes it.
    public subscript(key: String) -> ConfigValue? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            if let i = entries.firstIndex(where: { $0.0 == key }) {
                if let newValue { entries[i].1 = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    /// The layer's saved name, if any.
    public var name: String? { if case .string(let s)? = self["name"] { s } else { nil } }

    func bad(_ key: String, _ expected: String) -> SavingError {
        .badConfig(type: typeName, key: key, reason: self[key] == nil ? "missing; expected \(expected)" : "expected \(expected)")
    }

    /// The integer at `key` (a whole number written as `3.0` counts).
    public func int(_ key: String) throws -> Int {
        switch self[key] {
        case .int(let v)?: return v
        case .double(let v)? where v == v.rounded() && abs(v) < 1e15: return Int(v)
        default: throw bad(key, "an integer")
        }
    }

    /// The number at `key`.
    public func double(_ key: String) throws -> Double {
        switch self[key] {
        case .int(let v)?: return Double(v)
        case .double(let v)?: return v
        default: throw bad(key, "a number")
        }
    }

    /// The boolean at `key`.
    public func bool(_ key: String) throws -> Bool {
        guard case .bool(let v)? = self[key] else { throw bad(key, "true or false") }
        return v
    }

    /// The string at `key`.
    public func string(_ key: String) throws -> String {
        guard case .string(let v)? = self[key] else { throw bad(key, "a string") }
        return v
    }

    /// The array of integers at `key`.
    public func ints(_ key: String) throws -> [Int] {
        guard case .array(let items)? = self[key] else { throw bad(key, "an array of integers") }
        return try items.map {
            switch $0 {
            case .int(let v): return v
            case .double(let v) where v == v.rounded() && abs(v) < 1e15: return Int(v)
            default: throw bad(key, "an array of integers")
            }
        }
    }

    /// `read(key)`, or nil when the key is absent or null: `try config.optional("axis", config.int)`.
    public func optional<T>(_ key: String, _ read: (String) throws -> T) throws -> T? {
        if self[key] == nil || self[key] == .null { return nil }
        return try read(key)
    }

    /// The padding named at `key` (`"valid"`, `"same"`, `"causal"`).
    public func padding(_ key: String = "padding") throws -> Padding {
        guard let p = Padding(rawValue: try string(key)) else { throw bad(key, "\"valid\", \"same\" or \"causal\"") }
        return p
    }

    /// The activation at `key`: a Keras name (`"relu"`), or `{"name": "elu", "alpha": 0.5}`
    /// for one with arguments.
    public func activation(_ key: String = "activation") throws -> ActivationFunction {
        var name: String, arguments = LayerConfig([], typeName: typeName)
        if case .object(let entries)? = self[key] {
            arguments = LayerConfig(entries, typeName: typeName)
            name = try arguments.string("name")
        } else {
            name = try string(key)
        }
        do {
            switch name {
            case "elu" where arguments["alpha"] != nil: return .elu(alpha: try arguments.double("alpha"))
            case "leaky_relu" where arguments["negative_slope"] != nil:
                return .leakyRelu(negativeSlope: try arguments.double("negative_slope"))
            default: return try ActivationFunction(named: name)
            }
        } catch let error as SavingError { throw error } catch {
            throw SavingError.badConfig(type: typeName, key: key, reason: "\(error)")
        }
    }

    /// The regularizer at `key`: null, or `{"l1": x, "l2": y}`.
    public func regularizer(_ key: String) throws -> Regularizer? {
        guard let value = self[key], value != .null else { return nil }
        guard case .object = value else { throw bad(key, "null or {\"l1\": x, \"l2\": y}") }
        let inner = LayerConfig(value.objectEntries, typeName: typeName)
        let (l1, l2) = (try inner.double("l1"), try inner.double("l2"))
        return l1 == 0 ? .l2(l2) : l2 == 0 ? .l1(l1) : .l1l2(l1: l1, l2: l2)
    }

    init(_ entries: [(String, ConfigValue)], typeName: String) {
        self.entries = entries
        self.typeName = typeName
    }
}

extension ConfigValue {
    var objectEntries: [(String, ConfigValue)] { if case .object(let e) = self { e } else { [] } }

    /// An activation by its Keras name, with its arguments when it has some; one
    /// made from a closure cannot be saved.
    static func activation(_ a: ActivationFunction, layer: String) throws -> ConfigValue {
        guard let arguments = a.builtInArguments else {
            throw SavingError.unsavable("\(layer): the activation '\(a.name)' is a custom function; only Keras's named activations can be saved")
        }
        if arguments.isEmpty { return .string(a.name) }
        return .object([("name", .string(a.name))] + arguments.map { ($0.0, .double($0.1)) })
    }

    /// A regularizer as `{"l1": x, "l2": y}`; one made from a closure cannot be saved.
    static func regularizer(_ r: Regularizer?, layer: String, _ which: String) throws -> ConfigValue {
        guard let r else { return .null }
        guard let (l1, l2) = r.factors else {
            throw SavingError.unsavable("\(layer): the \(which) regularizer is a custom function; only .l1, .l2 and .l1l2 can be saved")
        }
        return .object([("l1", .double(l1)), ("l2", .double(l2))])
    }
}

/// Why a model could not be saved or loaded.
public enum SavingError: Error, Equatable, CustomStringConvertible {
    /// A part of the model has no saved form (a closure, a layer type without
    /// ``SavableLayer`` conformance).
    case unsavable(String)
    /// A saved config names a layer type that is neither built in nor registered.
    case unknownLayerType(String, known: [String])
    /// A saved config lacks a value or holds one of the wrong kind.
    case badConfig(type: String, key: String, reason: String)
    /// The saved model's files are missing or malformed.
    case corrupt(file: String, reason: String)

    public var description: String {
        switch self {
        case .unsavable(let m): return "cannot save the model: \(m)"
        case .unknownLayerType(let t, let known):
            return "unknown layer type '\(t)': register it with LayerRegistry.register(\(t).self); known: \(known.joined(separator: ", "))"
        case .badConfig(let type, let key, let reason): return "the config of a \(type) layer: '\(key)' is \(reason)"
        case .corrupt(let file, let reason): return "\(file): \(reason)"
        }
    }
}

/// A layer that ``Model/save(to:optimizer:)`` can write and ``loadModel(from:optimizer:)``
/// can rebuild, as Keras's `get_config`/`from_config` pair. Built-in layers
/// conform; a custom layer conforms and registers with ``LayerRegistry/register(_:)``.
public protocol SavableLayer: Layer {
    /// The type's name in saved configs (Keras's class name for built-in layers).
    static var typeName: String { get }
    /// The arguments that rebuild the layer; its name is added by the saver.
    var config: LayerConfig { get throws }
    /// A layer rebuilt from `config`, named ``LayerConfig/name``.
    init(config: LayerConfig) throws
}

/// The layer types ``loadModel(from:optimizer:)`` can rebuild, by their saved names.
public enum LayerRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var custom: [String: any SavableLayer.Type] = [:]

    /// Makes `type` loadable under its ``SavableLayer/typeName``.
    public static func register(_ type: any SavableLayer.Type) {
        lock.withLock { custom[type.typeName] = type }
    }

    static func type(named name: String) throws -> any SavableLayer.Type {
        if let t = lock.withLock({ custom[name] }) ?? builtInLayerTypes[name] { return t }
        let known = Set(builtInLayerTypes.keys).union(lock.withLock { custom.keys })
        throw SavingError.unknownLayerType(name, known: known.sorted())
    }
}
