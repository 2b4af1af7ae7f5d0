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

    /// The tensors in a safetensors file's bytes, in file order; throws on any
    /// inconsistency instead of reading past the data.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>") throws -> [(name: String, tensor: Tensor)] {
        guard bytes.count >= 8 else { throw CheckpointError.truncated(file: file, reason: "\(bytes.count) bytes, less than the 8-byte header length") }
        let headerLength = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw CheckpointError.truncated(file: file, reason: "the header claims \(headerLength) bytes but the file has \(bytes.count - 8) after the length")
        }
        let dataStart = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        } catch {
            throw CheckpointError.corruptHeader(file: file, reason: "not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw CheckpointError.corruptHeader(file: file, reason: "not a JSON object") }
        let dataSize = bytes.count - dataStart
        var entries: [(name: String, tensor: Tensor, begin: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let code = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError.corruptHeader(file: file, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = codes.first(where: { $0.value == code })?.key else {
                throw CheckpointError.corruptHeader(file: file, reason: "entry '\(name)' has unsupported dtype \(code)")
            }
            guard shape.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else {
                throw CheckpointError.corruptHeader(file: file, reason: "entry '\(name)' has an invalid shape \(shape)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            let count = shape.reduce(1, *)
            guard begin >= 0, begin <= end, end - begin == count * dtype.byteSize else {
                throw CheckpointError.corruptHeader(file: file, reason: "entry '\(name)': offsets \(offsets) do not fit shape \(shape) of \(code)")
            }
            guard end <= dataSize else {
                throw CheckpointError.truncated(file: file, reason: "entry '\(name)' ends at byte \(end) of data but the data has \(dataSize)")
            }
            var t = Tensor.zeros(TensorShape(shape), dtype: dtype)
            if end > begin {
                bytes.withUnsafeBytes { raw in
                    t.withUnsafeMutableData { $0.copyMemory(from: raw.baseAddress! + dataStart + begin, byteCount: end - begin) }
                }
            }
            entries.append((name, t, begin))
        }
        return entries.sorted { $0.begin < $1.begin }.map { ($0.name, $0.tensor) }
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
        var tensors = namedWeights.map { ($0.name, $0.variable.value) }
        if let optimizer {
            tensors.append(("optimizer/iterations", Tensor(Int64(optimizer.iterations))))
            for (name, v) in namedWeights {
                for (i, s) in optimizer.state(of: v).enumerated() { tensors.append(("optimizer/\(name)/\(i)", s)) }
            }
        }
        try writeAtomically(SafeTensors.encode(tensors, metadata: ["format": "deepswift"]), to: path)
    }

    /// Reads weights saved by ``saveWeights(to:optimizer:)`` (or any safetensors file
    /// with the same names, shapes and dtypes), matching by hierarchical name, or,
    /// when only the automatic names differ, by order. Throws, changing nothing,
    /// when the file is corrupt or does not match; the error lists every mismatch.
    public func loadWeights(from path: String, optimizer: Optimizer? = nil) throws {
        let entries = try SafeTensors.decode(readBytes(path), file: path)
        var byName: [String: Tensor] = [:]
        for (n, t) in entries { byName[n] = t }
        var problems: [String] = []
        let named = namedWeights
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
        let weightEntries = entries.filter { !$0.name.hasPrefix("optimizer/") }
        if problems.isEmpty {
            for (name, v) in named { v.assign(byName[name]!) }
        } else if weightEntries.count == named.count,
                  zip(weightEntries, named).allSatisfy({ $0.tensor.shape == $1.variable.shape && $0.tensor.dtype == $1.variable.dtype }) {
            // Same architecture under other automatic names (a second `Dense()` is
            // `dense_1`): match by order, as Keras's load_weights does by default.
            for (entry, (name, v)) in zip(weightEntries, named) {
                v.assign(entry.tensor)
                byName[name] = entry.tensor
                if let i = entries.firstIndex(where: { $0.name == entry.name }) {
                    for suffix in 0... {
                        guard let s = byName["optimizer/\(entries[i].name)/\(suffix)"] else { break }
                        byName["optimizer/\(name)/\(suffix)"] = s
                    }
                }
            }
        } else {
            throw CheckpointError.mismatch(file: path, problems: problems)
        }
        if let optimizer, let steps = byName["optimizer/iterations"] {
            optimizer.iterations = Int(steps.scalar(as: Int64.self))
            for (name, v) in named {
                var state: [Tensor] = []
                while let s = byName["optimizer/\(name)/\(state.count)"] { state.append(s) }
                if !state.isEmpty { optimizer.setState(state, of: v) }
            }
        }
    }
}
