/// A strict JSON reader for file headers (safetensors): UTF-8 only, no byte-order
/// mark, no duplicate keys, a bounded nesting depth, and numbers kept as their
/// text so that a caller can insist on plain non-negative integers (`1e2` and
/// `-0` are numbers, but not offsets). Foundation's `JSONSerialization` accepts
/// UTF-16/32, merges duplicate keys and turns `1e2` into 100, which the
/// safetensors format forbids.
enum StrictJSON: Equatable {
    case object([(key: String, value: StrictJSON)])
    case array([StrictJSON])
    case string(String)
    /// A number as written.
    case number(String)
    case bool(Bool)
    case null

    static func == (a: StrictJSON, b: StrictJSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)), (.number(let x), .number(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// Why bytes are not strict JSON.
    struct ParseError: Error {
        let reason: String
        /// Where in the text, when it is a place.
        let offset: Int?
    }

    /// The value in `bytes`, which may be followed by spaces only.
    static func parse(_ bytes: ArraySlice<UInt8>, maxDepth: Int = 64) throws -> StrictJSON {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ParseError(reason: "the text is not UTF-8", offset: nil)
        }
        var parser = Parser(bytes: bytes, position: bytes.startIndex, maxDepth: maxDepth)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.endIndex else { throw parser.error("unexpected bytes after the JSON value") }
        return value
    }

    /// The value as a non-negative integer written with digits only, if it is one
    /// that fits `Int`.
    var plainInteger: Int? {
        guard case .number(let text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              text == "0" || !text.hasPrefix("0") else { return nil }
        return Int(text)
    }

    private struct Parser {
        let bytes: ArraySlice<UInt8>
        var position: Int
        let maxDepth: Int

        func error(_ reason: String) -> ParseError { ParseError(reason: reason, offset: position - bytes.startIndex) }

        mutating func skipWhitespace() {
            while position < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for b in literal.utf8 {
                guard position < bytes.endIndex, bytes[position] == b else { throw error("expected '\(literal)'") }
                position += 1
            }
        }

        mutating func value(depth: Int) throws -> StrictJSON {
            guard depth < maxDepth else { throw error("nested deeper than \(maxDepth) levels") }
            skipWhitespace()
            guard position < bytes.endIndex else { throw error("the text ends where a value was expected") }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(key: String, value: StrictJSON)] = []
                var keys = Set<String>()
                skipWhitespace()
                if position < bytes.endIndex, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                while true {
                    skipWhitespace()
                    guard position < bytes.endIndex, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                    let key = try string()
                    guard keys.insert(key).inserted else { throw error("duplicate key '\(key)'") }
                    skipWhitespace()
                    try expect(":")
                    members.append((key, try value(depth: depth + 1)))
                    skipWhitespace()
                    guard position < bytes.endIndex else { throw error("the text ends inside an object") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                position += 1
                var elements: [StrictJSON] = []
                skipWhitespace()
                if position < bytes.endIndex, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
                while true {
                    elements.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard position < bytes.endIndex else { throw error("the text ends inside an array") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character")
            }
        }

        /// A number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() throws -> String {
            let start = position
            func digits() -> Int {
                let s = position
                while position < bytes.endIndex, (48...57).contains(bytes[position]) { position += 1 }
                return position - s
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.endIndex, (48...57).contains(bytes[position]) else { throw error("a number without digits") }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
                if position < bytes.endIndex, (48...57).contains(bytes[position]) { throw error("a number with a leading zero") }
            } else {
                _ = digits()
            }
            if position < bytes.endIndex, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { throw error("a number without digits after '.'") }
            }
            if position < bytes.endIndex, bytes[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if position < bytes.endIndex, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard digits() > 0 else { throw error("a number without exponent digits") }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// A string at the opening quote, with JSON's escapes; raw control characters
        /// and unpaired surrogates are rejected.
        mutating func string() throws -> String {
            position += 1
            var out: [UInt8] = []
            while true {
                guard position < bytes.endIndex else { throw error("the text ends inside a string") }
                let b = bytes[position]
                position += 1
                switch b {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case 0..<0x20: throw error("a control character inside a string")
                case UInt8(ascii: "\\"):
                    guard position < bytes.endIndex else { throw error("the text ends inside an escape") }
                    let e = bytes[position]
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            try expect("\\u")
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("an unpaired surrogate escape") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("an unpaired surrogate escape") }
                        out += Array(String(Character(u)).utf8)
                    default: throw error("an unknown escape")
                    }
                default: out.append(b)
                }
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.endIndex,
                  bytes[position..<position + 4].allSatisfy({ (48...57).contains($0) || (97...102).contains($0 | 0x20) }),
                  let v = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
                throw error("a \\u escape without four hex digits")
            }
            position += 4
            return v
        }
    }
}
