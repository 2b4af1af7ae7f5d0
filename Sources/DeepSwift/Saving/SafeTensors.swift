import Foundation
@_spi(Autodiff) import TensorCore

/// Why a checkpoint could not be read or does not fit the model. Nothing is
/// changed when loading fails.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file is shorter than its header says, or than the data it describes.
    case truncated(file: String, reason: String)
    /// The header is not the JSON safetensors describes.
    case corruptHeader(file: String, reason: String)
    /// The file's tensors do not match the model's weights; each line is one problem.
    case mismatch(file: String, problems: [String])

    public var description: String {
        switch self {
        case .truncated(let file, let reason): return "\(file): truncated checkpoint (\(reason))"
        case .corruptHeader(let file, let reason): return "\(file): corrupt safetensors header (\(reason))"
        case .mismatch(let file, let problems):
            return "\(file) does not match the model:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }
}

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping names to `dtype`, `shape` and `data_offsets`, then the raw
/// little-endian data. Files open in every tool that reads safetensors.
public enum SafeTensors {
    static let codes: [DType: String] = [.float32: "F32", .float64: "F64", .int32: "I32", .int64: "I64",
                                         .uint8: "U8", .bool: "BOOL"]

    /// The bytes of a file holding `tensors` under their names.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * t.dtype.byteSize
            header[name] = ["dtype": codes[t.dtype]!, "shape": t.shape.dimensions, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = [UInt8](try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json
        out.reserveCapacity(out.count + offset)
        for (_, t) in tensors { t.withUnsafeData { out += UnsafeRawBufferPointer(start: $0, count: t.count * t.dtype.byteSize) } }
        return out
    }

    /// The largest header the format allows (the reference reader's limit).
    public static let maxHeaderSize = 100_000_000

    /// The tensors in a safetensors file's bytes, in file order. Validates as the
    /// reference reader does and throws on anything else: a UTF-8 JSON object
    /// of at most ``maxHeaderSize`` bytes with no duplicate keys; each entry exactly
    /// `dtype`, `shape` and `data_offsets`, written as plain non-negative integers;
    /// `__metadata__` a string-to-string object; offsets that, sorted, start at 0,
    /// touch, hold `prod(shape)·size` bytes each and end where the file ends.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>") throws -> [(name: String, tensor: Tensor)] {
        try decodeWithMetadata(bytes, file: file).tensors
    }

    /// The tensors and the `__metadata__` strings of a safetensors file's bytes.
    static func decodeWithMetadata(_ bytes: [UInt8], file: String) throws
        -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        func corrupt(_ reason: String) -> CheckpointError { .corruptHeader(file: file, reason: reason) }
        guard bytes.count >= 8 else { throw CheckpointError.truncated(file: file, reason: "\(bytes.count) bytes, less than the 8-byte header length") }
        let headerLength = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard headerLength <= UInt64(maxHeaderSize) else {
            throw corrupt("the header claims \(headerLength) bytes, more than the format's limit of \(maxHeaderSize)")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw CheckpointError.truncated(file: file, reason: "the header claims \(headerLength) bytes but the file has \(bytes.count - 8) after the length")
        }
        let dataStart = 8 + Int(headerLength)
        guard headerLength > 0, bytes[8] == UInt8(ascii: "{") else { throw corrupt("the header does not start with '{'") }
        let json: StrictJSON
        do {
            json = try StrictJSON.parse(bytes[8..<dataStart])
        } catch let e as StrictJSON.ParseError {
            throw corrupt("not valid JSON: \(e.reason)" + (e.offset.map { " at byte \($0) of the header" } ?? ""))
        }
        guard case .object(let header) = json else { throw corrupt("not a JSON object") }
        let dataSize = bytes.count - dataStart
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw corrupt("__metadata__ is not an object of strings") }
                for (key, v) in pairs {
                    guard case .string(let text) = v else { throw corrupt("__metadata__ is not an object of strings") }
                    metadata[key] = text
                }
                continue
            }
            guard case .object(let fields) = value else { throw corrupt("entry '\(name)' is not an object") }
            var code: String?, shapeValue: [StrictJSON]?, offsetValue: [StrictJSON]?
            for (key, field) in fields {
                switch (key, field) {
                case ("dtype", .string(let c)): code = c
                case ("shape", .array(let a)): shapeValue = a
                case ("data_offsets", .array(let a)): offsetValue = a
                case ("dtype", _), ("shape", _), ("data_offsets", _): throw corrupt("entry '\(name)' has a '\(key)' of the wrong type")
                default: throw corrupt("entry '\(name)' has an unknown field '\(key)'")
                }
            }
            guard let code, let shapeValue, let offsetValue else {
                throw corrupt("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = codes.first(where: { $0.value == code })?.key else {
                throw corrupt("entry '\(name)' has unsupported dtype \(code)")
            }
            let shape = shapeValue.compactMap(\.plainInteger)
            guard shape.count == shapeValue.count else {
                throw corrupt("entry '\(name)' has a shape that is not a list of non-negative integers")
            }
            let offsets = offsetValue.compactMap(\.plainInteger)
            guard offsets.count == 2, offsetValue.count == 2 else {
                throw corrupt("entry '\(name)' has data_offsets that are not two non-negative integers")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw corrupt("entry '\(name)': the shape \(shape) has more elements than fit in memory") }
                count = product
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, offsets[0] <= offsets[1], offsets[1] - offsets[0] == byteCount else {
                throw corrupt("entry '\(name)': offsets \(offsets) do not fit shape \(shape) of \(code)")
            }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var end = 0
        for e in entries {
            guard e.begin == end else {
                throw corrupt(e.begin > end ? "a hole: no tensor holds data bytes \(end)..<\(e.begin) (before '\(e.name)')"
                                            : "entry '\(e.name)' overlaps the tensor before it at byte \(e.begin)")
            }
            end = e.end
        }
        guard end <= dataSize else {
            throw CheckpointError.truncated(file: file, reason: "the tensors end at byte \(end) of data but the data has \(dataSize)")
        }
        guard end == dataSize else {
            throw corrupt("\(dataSize - end) bytes after the last tensor's data (the header describes \(end) of \(dataSize))")
        }
        let tensors = entries.map { e in
            var t = Tensor.zeros(TensorShape(e.shape), dtype: e.dtype)
            if e.end > e.begin {
                bytes.withUnsafeBytes { raw in
                    t.withUnsafeMutableData { $0.copyMemory(from: raw.baseAddress! + dataStart + e.begin, byteCount: e.end - e.begin) }
                }
            }
            return (name: e.name, tensor: t)
        }
        return (tensors, metadata)
    }
}

extension Layer {
    /// Writes every weight, under its hierarchical name, to a safetensors file,
    /// atomically. With `optimizer`, its state and step count are saved too.
    ///
    /// ```swift
    /// try model.saveWeights(to: "model.safetensors")
    /// try model.loadWeights(from: "model.safetensors")
    /// ```
    public func saveWeights(to path: String, optimizer: Optimizer? = nil) throws {
        try saveWeights(to: path, optimizer: optimizer, metadata: [:])
    }

    /// ``saveWeights(to:optimizer:)`` with more `__metadata__` strings (a backup's epoch).
    func saveWeights(to path: String, optimizer: Optimizer?, metadata: [String: String]) throws {
        var tensors = namedWeights.map { ($0.name, $0.variable.value) }
        if let optimizer {
            tensors.append(("optimizer/iterations", Tensor(Int64(optimizer.iterations))))
            for (name, v) in namedWeights {
                for (i, s) in optimizer.state(of: v).enumerated() { tensors.append(("optimizer/\(name)/\(i)", s)) }
            }
        }
        try writeAtomically(SafeTensors.encode(tensors, metadata: metadata.merging(["format": "deepswift"]) { a, _ in a }), to: path)
    }

    /// Reads weights saved by ``saveWeights(to:optimizer:)`` (or any safetensors file
    /// with the same names, shapes and dtypes), matching by hierarchical name, or,
    /// when only the automatic names differ, by order. With `optimizer`, its step
    /// count and per-variable state are restored too. Everything is checked before
    /// anything is assigned: when the file is corrupt or does not match (weights,
    /// or optimizer state of another shape, dtype or count), it throws, listing
    /// every mismatch, and the model and the optimizer are unchanged.
    public func loadWeights(from path: String, optimizer: Optimizer? = nil) throws {
        try loadWeights(from: path, optimizer: optimizer, checkingMetadata: { _ in })
    }

    /// ``loadWeights(from:optimizer:)`` that first hands the file's `__metadata__` to
    /// `check`; when it throws, nothing is assigned.
    func loadWeights(from path: String, optimizer: Optimizer?, checkingMetadata check: ([String: String]) throws -> Void) throws {
        let (entries, metadata) = try SafeTensors.decodeWithMetadata(readBytes(path), file: path)
        try check(metadata)
        var byName: [String: Tensor] = [:]
        for (n, t) in entries { byName[n] = t }
        let named = namedWeights
        // The file's name for each of the model's weights.
        var source: [String] = named.map(\.name)
        var problems: [String] = []
        for (name, v) in named {
            guard let t = byName[name] else { problems.append("missing weight '\(name)' of shape \(v.shape)"); continue }
            if t.shape != v.shape || t.dtype != v.dtype {
                problems.append("'\(name)': the file has shape \(t.shape) \(t.dtype), the model \(v.shape) \(v.dtype)")
            }
        }
        let known = Set(named.map(\.name))
        for (name, _) in entries where !known.contains(name) && !name.hasPrefix("optimizer/") {
            problems.append("unexpected weight '\(name)'")
        }
        if !problems.isEmpty {
            let weightEntries = entries.filter { !$0.name.hasPrefix("optimizer/") }
            guard weightEntries.count == named.count,
                  zip(weightEntries, named).allSatisfy({ $0.tensor.shape == $1.variable.shape && $0.tensor.dtype == $1.variable.dtype }) else {
                if weightEntries.count == named.count {
                    // The same number of weights under other names: matching by order
                    // was tried, and these shapes are why it failed.
                    for (entry, (name, v)) in zip(weightEntries, named)
                    where entry.tensor.shape != v.shape || entry.tensor.dtype != v.dtype {
                        problems.append("matched by order, '\(entry.name)' in the file has shape \(entry.tensor.shape) \(entry.tensor.dtype), the model's '\(name)' \(v.shape) \(v.dtype)")
                    }
                }
                throw CheckpointError.mismatch(file: path, problems: problems)
            }
            // Same architecture under other automatic names (a second `Dense()` is
            // `dense_1`): match by order, as Keras's load_weights does by default.
            source = weightEntries.map(\.name)
            problems.removeAll()
        }
        var states: [(Variable, [Tensor])] = []
        var iterations: Int?
        if let optimizer, let steps = byName["optimizer/iterations"] {
            guard steps.rank == 0, steps.dtype.isInteger, steps.scalar(as: Int64.self) >= 0 else {
                throw CheckpointError.mismatch(file: path, problems: [
                    "'optimizer/iterations' must be a non-negative integer scalar, the file has shape \(steps.shape) \(steps.dtype)"])
            }
            iterations = Int(steps.scalar(as: Int64.self))
            for ((name, v), file) in zip(named, source) {
                var state: [Tensor] = []
                while let s = byName["optimizer/\(file)/\(state.count)"] { state.append(s) }
                if state.isEmpty { continue }
                if let problem = optimizer.stateProblem(state, for: v, name: name) { problems.append("optimizer state: \(problem)") } else { states.append((v, state)) }
            }
            if !problems.isEmpty { throw CheckpointError.mismatch(file: path, problems: problems) }
        }
        for ((_, v), file) in zip(named, source) { v.assign(byName[file]!) }
        if let optimizer, let iterations {
            optimizer.iterations = iterations
            for (v, state) in states { optimizer.setState(state, of: v) }
        }
    }
}
