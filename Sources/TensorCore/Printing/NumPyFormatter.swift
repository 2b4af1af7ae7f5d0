import Glibc

/// Formats tensors exactly as NumPy's `str(array)` does (and so as TensorFlow
/// prints them): shortest round-trip digits up to 8 decimals, columns padded
/// alike, scientific notation when magnitudes call for it, lines wrapped at 75
/// characters, and arrays of over 1,000 elements summarised with `...`.
struct NumPyFormatter {
    static let lineWidth = 75
    static let threshold = 1000
    static let edgeItems = 3
    static let precision = 8

    /// The text of `str(array)`; for rank 0, the scalar's `str`.
    static func string(_ t: Tensor) -> String {
        if t.rank == 0 { return scalarString(t) }
        if t.count == 0 { return "[]" }
        return layout(t, separator: " ", indent: " ", lineWidth: lineWidth)
    }

    /// The text of `repr(array)`: `array([[1., 2.],\n       [3., 4.]], dtype=float32)`.
    /// NumPy 2's rules: the dtype is named unless implied (float64, int64, bool),
    /// the shape of summarised or empty arrays too, on a new line if the last does
    /// not have room.
    static func repr(_ t: Tensor) -> String {
        let body = t.rank == 0 ? scalarString(t)
            : t.count == 0 ? "[]"
            : layout(t, separator: ", ", indent: String(repeating: " ", count: 7), lineWidth: lineWidth - 1)
        var extras: [String] = []
        if (t.count == 0 && t.shape != [0]) || t.count > threshold { extras.append("shape=\(t.shape)") }
        if !(t.dtype == .float64 || t.dtype == .int64 || t.dtype == .bool) || t.count == 0 {
            extras.append("dtype=\(t.dtype)")
        }
        if extras.isEmpty { return "array(\(body))" }
        let head = "array(\(body),"
        let extra = extras.joined(separator: ", ") + ")"
        let lastLine = head.count - ((head.lastIndex(of: "\n").map { head.distance(from: head.startIndex, to: $0) + 1 }) ?? 0)
        let spacer = lastLine + extra.count + 1 > lineWidth ? "\n" + String(repeating: " ", count: 6) : " "
        return head + spacer + extra
    }

    static func layout(_ t: Tensor, separator: String, indent: String, lineWidth: Int) -> String {
        let summarize = t.count > threshold
        let dims = t.shape.dimensions
        // The elements that get printed decide the column widths.
        let shown: [[Int]] = dims.map { d in
            summarize && d > 2 * edgeItems ? Array(0..<edgeItems) + Array((d - edgeItems)..<d) : Array(0..<d)
        }
        let strides = t.shape.contiguousStrides
        var positions: [Int] = [0]
        for axis in 0..<dims.count {
            positions = positions.flatMap { p in shown[axis].map { p + $0 * strides[axis] } }
        }
        let format = elementFormatter(t, positions: positions)
        return formatArray(dims: dims, strides: strides, summarize: summarize, separator: separator,
                           indent: indent, lineWidth: lineWidth, format: format)
    }

    static func scalarString(_ t: Tensor) -> String {
        switch t.dtype {
        case .float32: return t.scalar(as: Float.self).description
        case .float64: return t.scalar(as: Double.self).description
        case .bool: return t.scalar(as: Bool.self) ? "True" : "False"
        default: return String(t.scalar(as: Int64.self))
        }
    }

    // MARK: element formats

    static func elementFormatter(_ t: Tensor, positions: [Int]) -> (Int) -> String {
        switch t.dtype {
        case .bool:
            let values = t.scalars(as: Bool.self)
            return { values[$0] ? " True" : "False" }
        case .float32:
            let values = t.scalars(as: Float.self)
            let f = FloatFormat(positions.map { Double(values[$0]) }, digits: { shortestDigits(Float($0).description) })
            return { f.format(Double(values[$0]), shortestDigits(values[$0].description)) }
        case .float64:
            let values = t.scalars(as: Double.self)
            let f = FloatFormat(positions.map { values[$0] }, digits: { shortestDigits($0.description) })
            return { f.format(values[$0], shortestDigits(values[$0].description)) }
        default:
            let values = t.scalars(as: Int64.self)
            let width = positions.map { String(values[$0]).count }.max() ?? 0
            return { leftPad(String(values[$0]), width) }
        }
    }

    /// The shortest round-trip decimal digits of a finite number, from Swift's
    /// description: value = 0.DIGITS × 10^point.
    struct Digits {
        var negative: Bool
        var digits: [UInt8]   // ASCII, no leading zeros ("0" for zero)
        var point: Int
    }

    static func shortestDigits(_ description: String) -> Digits {
        var s = Substring(description)
        let negative = s.first == "-"
        if negative { s = s.dropFirst() }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(s[s.index(after: e)...])!
            s = s[..<e]
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = Array(parts[0].utf8), fracPart = parts.count > 1 ? Array(parts[1].utf8) : []
        var digits = intPart + fracPart
        var point = intPart.count + exponent
        while digits.count > 1 && digits.first == UInt8(ascii: "0") { digits.removeFirst(); point -= 1 }
        while digits.count > 1 && digits.last == UInt8(ascii: "0") { digits.removeLast() }
        if digits == [UInt8(ascii: "0")] { point = 1 }
        return Digits(negative: negative, digits: digits, point: point)
    }

    /// NumPy's FloatingFormat for one array in its default mode ("maxprec").
    struct FloatFormat {
        var scientific = false
        var padLeft = 0, padRight = 0, precision = 0, expSize = 0

        init(_ values: [Double], digits: (Double) -> Digits) {
            let finite = values.filter { $0.isFinite }
            let nonZero = finite.filter { $0 != 0 }.map { Swift.abs($0) }
            if let maxV = nonZero.max(), let minV = nonZero.min() {
                scientific = maxV >= 1e8 || minV < 1e-4 || maxV / minV > 1e3
            }
            if !finite.isEmpty {
                let strs = finite.map { v in
                    scientific ? FloatFormat.scientificParts(v, digits(v)) : FloatFormat.positionalParts(v, digits(v))
                }
                padLeft = strs.map { $0.int.count }.max()!
                if scientific {
                    precision = strs.map { $0.frac.count }.max()!
                    expSize = strs.map { $0.exp.count }.max()! - 1
                    padRight = expSize + 2 + precision
                } else {
                    padRight = strs.map { $0.frac.count }.max()!
                }
            }
            if finite.count != values.count {
                let negInf = values.contains { $0.isInfinite && $0 < 0 }
                let offset = padRight + 1
                padLeft = Swift.max(padLeft, 3 - offset, 3 + (negInf ? 1 : 0) - offset)
            }
        }

        func format(_ v: Double, _ d: @autoclosure () -> Digits) -> String {
            guard v.isFinite else {
                let s = v.isNaN ? "nan" : (v < 0 ? "-inf" : "inf")
                return leftPad(s, padLeft + padRight + 1)
            }
            if scientific {
                // NumPy pads every mantissa to the widest one with further digits of
                // the exact value (dragon4's min_digits), which printf gives.
                let parts = cFormat(Swift.abs(v), "e", precision).split(separator: "e")
                let exponent = Int(parts[1])!
                let expDigits = String(Swift.abs(exponent))
                let exp = String(repeating: "0", count: Swift.max(0, expSize - expDigits.count)) + expDigits
                let mantissa = (v.sign == .minus ? "-" : "") + parts[0]
                let dot = mantissa.firstIndex(of: ".") ?? mantissa.endIndex
                let intPart = String(mantissa[..<dot])
                let frac = dot == mantissa.endIndex ? "" : String(mantissa[mantissa.index(after: dot)...])
                return leftPad(intPart, padLeft) + "." + frac + "e" + (exponent < 0 ? "-" : "+") + exp
            }
            let p = FloatFormat.positionalParts(v, d())
            return leftPad(p.int, padLeft) + "." + p.frac + String(repeating: " ", count: padRight - p.frac.count)
        }

        /// Integer and fraction digits of v in positional form, at most 8 decimals.
        static func positionalParts(_ v: Double, _ d: Digits) -> (int: String, frac: String, exp: String) {
            let sign = d.negative ? "-" : ""
            let fracCount = Swift.max(0, d.digits.count - d.point)
            if fracCount > NumPyFormatter.precision {
                let s = cFormat(v, "f", NumPyFormatter.precision)
                let parts = s.split(separator: ".", omittingEmptySubsequences: false)
                var frac = String(parts[1])
                while frac.last == "0" { frac.removeLast() }
                return (String(parts[0]), frac, "")
            }
            let digits = String(decoding: d.digits, as: UTF8.self)
            if d.point <= 0 {
                return (sign + "0", String(repeating: "0", count: -d.point) + digits, "")
            }
            if d.point >= d.digits.count {
                return (sign + digits + String(repeating: "0", count: d.point - d.digits.count), "", "")
            }
            let cut = digits.index(digits.startIndex, offsetBy: d.point)
            return (sign + String(digits[..<cut]), String(digits[cut...]), "")
        }

        /// Mantissa and exponent digits of v in scientific form, at most 8 decimals.
        static func scientificParts(_ v: Double, _ d: Digits) -> (int: String, frac: String, exp: String) {
            var mantissaInt: String, frac: String, exponent: Int
            if d.digits.count - 1 > NumPyFormatter.precision {
                let s = cFormat(Swift.abs(v), "e", NumPyFormatter.precision)
                let halves = s.split(separator: "e")
                let parts = halves[0].split(separator: ".")
                mantissaInt = String(parts[0])
                frac = String(parts[1])
                while frac.last == "0" { frac.removeLast() }
                exponent = Int(halves[1])!
            } else {
                let digits = String(decoding: d.digits, as: UTF8.self)
                mantissaInt = String(digits.prefix(1))
                frac = String(digits.dropFirst())
                exponent = v == 0 ? 0 : d.point - 1
            }
            // With its sign, as NumPy counts it: "+09" and "-05" both pad to two digits.
            let expText = (exponent < 0 ? "-" : "+") + (Swift.abs(exponent) < 10 ? "0" : "") + String(Swift.abs(exponent))
            return ((d.negative ? "-" : "") + mantissaInt, frac, expText)
        }
    }

    /// printf-style formatting of one double ("%.<precision>f" or "e").
    static func cFormat(_ v: Double, _ style: Character, _ precision: Int) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let fmt = "%.\(precision)\(style)"
        let n = withVaList([v]) { args in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, $0.count, fmt, args) }
        }
        return String(decoding: buffer[..<Int(n)], as: UTF8.self)
    }

    // MARK: layout (NumPy's _formatArray)

    static func formatArray(dims: [Int], strides: [Int], summarize: Bool, separator: String, indent: String,
                            lineWidth: Int, format: (Int) -> String) -> String {
        let trimmedSeparator = separator == " " ? "" : ","
        func extendLine(_ s: inout String, _ line: inout String, _ word: String, _ width: Int, _ prefix: String) {
            var needsWrap = line.count + word.count > width
            if line.count <= prefix.count { needsWrap = false }
            if needsWrap {
                while line.last == " " { line.removeLast() }
                s += line + "\n"
                line = prefix
            }
            line += word
        }
        func recurse(_ axis: Int, _ offset: Int, _ hangingIndent: String, _ currentWidth: Int) -> String {
            if axis == dims.count { return format(offset) }
            let nextIndent = hangingIndent + " "
            let nextWidth = currentWidth - 1
            let n = dims[axis]
            let showSummary = summarize && 2 * edgeItems < n
            let leading = showSummary ? edgeItems : 0
            let trailing = showSummary ? edgeItems : n
            var s = ""
            if dims.count - axis == 1 {
                let elemWidth = currentWidth - 1
                var line = hangingIndent
                for i in 0..<leading {
                    extendLine(&s, &line, recurse(axis + 1, offset + i * strides[axis], nextIndent, nextWidth), elemWidth, hangingIndent)
                    line += separator
                }
                if showSummary {
                    extendLine(&s, &line, "...", elemWidth, hangingIndent)
                    line += separator
                }
                for i in stride(from: trailing, to: 1, by: -1) {
                    extendLine(&s, &line, recurse(axis + 1, offset + (n - i) * strides[axis], nextIndent, nextWidth), elemWidth, hangingIndent)
                    line += separator
                }
                if n > 0 {
                    extendLine(&s, &line, recurse(axis + 1, offset + (n - 1) * strides[axis], nextIndent, nextWidth), elemWidth, hangingIndent)
                }
                s += line
            } else {
                let lineSep = trimmedSeparator + String(repeating: "\n", count: dims.count - axis - 1)
                for i in 0..<leading {
                    s += hangingIndent + recurse(axis + 1, offset + i * strides[axis], nextIndent, nextWidth) + lineSep
                }
                if showSummary { s += hangingIndent + "..." + lineSep }
                for i in stride(from: trailing, to: 1, by: -1) {
                    s += hangingIndent + recurse(axis + 1, offset + (n - i) * strides[axis], nextIndent, nextWidth) + lineSep
                }
                if n > 0 {
                    s += hangingIndent + recurse(axis + 1, offset + (n - 1) * strides[axis], nextIndent, nextWidth)
                }
            }
            return "[" + String(s.dropFirst(hangingIndent.count)) + "]"
        }
        return recurse(0, 0, indent, lineWidth)
    }
}

@inline(__always) func leftPad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The values, shape and dtype, laid out as `print(tf_tensor)` shows them.
    public var description: String {
        var values = NumPyFormatter.string(self)
        if values.contains("\n") { values = "\n" + values }
        return "DeepSwift.Tensor(\(values), shape=\(shape), dtype=\(dtype))"
    }

    /// TensorFlow's `repr`: `<DeepSwift.Tensor: shape=(), dtype=float32, numpy=0.16569461>`
    /// (what an array of tensors prints).
    public var debugDescription: String {
        var values = rank == 0 ? NumPyFormatter.scalarString(self) : NumPyFormatter.repr(self)
        if values.contains("\n") { values = "\n" + values }
        return "<DeepSwift.Tensor: shape=\(shape), dtype=\(dtype), numpy=\(values)>"
    }

    /// The values alone, as NumPy's `str(array)` prints them (`[[5 2]\n [1 3]]`).
    public var valuesDescription: String { NumPyFormatter.string(self) }

    /// The values as NumPy's `repr(array)` prints them (`array([[5, 2],\n       [1, 3]], dtype=int32)`).
    public var numpyDescription: String { NumPyFormatter.repr(self) }
}
