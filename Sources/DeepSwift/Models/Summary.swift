extension Model {
    /// Prints Keras's summary table: each layer's name and type, output shape and
    /// parameter count, then the totals.
    ///
    /// ```
    /// Model: "sequential"
    /// _________________________________________________________________
    ///  Layer (type)                Output Shape              Param #
    /// =================================================================
    ///  dense (Dense)               (None, 32)                25120
    /// ...
    /// ```
    public func summary(printTo output: (String) -> Void = { print($0) }) {
        // Keras's layouts: three columns for a chain of single-input layers, four
        // (with "Connected to") for a graph that branches or merges.
        let connections = summaryConnections()
        let width = connections == nil ? 65 : 98
        let positions = connections == nil ? [29, 55, 65] : [29, 58, 68, 98]
        /// Keras's print_row: each field cut to its column (one character short of
        /// the next column's start, except the last), broken after `),` `},` `],`
        /// `',` where one falls inside, and the rest carried to following lines.
        func row(_ fields: [String]) {
            var left = fields
            repeat {
                var line = ""
                for i in left.indices {
                    let start = i == 0 ? 0 : positions[i - 1]
                    let isLast = i == positions.count - 1
                    let space = isLast ? 0 : 2
                    var cut = positions[i] - start - space - (isLast ? 0 : 1)
                    var fit = String(left[i].prefix(cut))
                    let breaks = ["),", "},", "],", "',"].compactMap { fit.range(of: $0).map { fit.distance(from: fit.startIndex, to: $0.upperBound) } }
                    if let first = breaks.min() {
                        cut = first
                        fit = String(fit.prefix(cut))
                    }
                    if i == 0 { line += " " }
                    line += fit
                    left[i] = String(left[i].dropFirst(cut))
                    line += String(repeating: " ", count: space)
                    line += String(repeating: " ", count: max(0, positions[i] - line.count))
                }
                output(line)
            } while left.contains { !$0.isEmpty }
        }
        output("Model: \"\(name)\"")
        output(String(repeating: "_", count: width))
        row(["Layer (type)", "Output Shape", "Param #"] + (connections == nil ? [] : ["Connected to"]))
        output(String(repeating: "=", count: width))
        let rows = layers
        for (i, layer) in rows.enumerated() {
            var shape = layer.firstOutputShapes.map { shapes in
                shapes.count == 1 ? Model.describe(shapes[0]) : "[" + shapes.map(Model.describe).joined(separator: ", ") + "]"
            } ?? "multiple"
            if let input = layer as? InputLayer { shape = "[" + Model.describe(TensorShape([1] + input.exampleShape.dimensions)) + "]" }
            var fields = ["\(layer.name) (\(type(of: layer)))", shape, String(layer.countParams())]
            if let connections {
                let inbound = connections[ObjectIdentifier(layer)] ?? []
                fields.append("[" + inbound.map { "'\($0)'" }.joined(separator: ", ") + "]")
            }
            row(fields)
            output(i == rows.count - 1 ? String(repeating: "=", count: width) : String(repeating: " ", count: width))
        }
        if rows.isEmpty { output(String(repeating: "=", count: width)) }
        let trainable = trainableWeights.reduce(0) { $0 + $1.shape.elementCount }
        let frozen = nonTrainableWeights.reduce(0) { $0 + $1.shape.elementCount }
        output("Total params: \(trainable + frozen) (\(Model.readableSize(4 * (trainable + frozen))))")
        output("Trainable params: \(trainable) (\(Model.readableSize(4 * trainable)))")
        output("Non-trainable params: \(frozen) (\(Model.readableSize(4 * frozen)))")
        output(String(repeating: "_", count: width))
    }

    /// `(None, 32)`: the batch axis as None.
    static func describe(_ shape: TensorShape) -> String {
        let dims = ["None"] + shape.dimensions.dropFirst().map(String.init)
        return "(" + dims.joined(separator: ", ") + (dims.count == 1 ? ",)" : ")")
    }

    /// Keras's memory sizes: `103.54 KB`, `0.00 Byte`.
    static func readableSize(_ bytes: Int) -> String {
        var size = Double(bytes)
        for unit in ["Byte", "KB", "MB", "GB", "TB"] {
            if size / 1024 < 1 { return String(format2: size) + " " + unit }
            size /= 1024
        }
        return String(format2: size) + " PB"
    }
}

private extension String {
    /// Two decimals, as Python's `{:.2f}`.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
