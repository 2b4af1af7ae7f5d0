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
        let width = 65
        let positions = [29, 55, 65]
        /// Keras's print_row: each field cut to its column, the rest carried to
        /// following lines.
        func row(_ fields: [String]) {
            var left = fields
            repeat {
                var line = ""
                for i in left.indices {
                    let start = i == 0 ? 0 : positions[i - 1]
                    let space = i == positions.count - 1 ? 0 : 2
                    let cut = positions[i] - start - space
                    if i == 0 { line += " " }
                    line += String(left[i].prefix(cut))
                    left[i] = String(left[i].dropFirst(cut))
                    line += String(repeating: " ", count: space)
                    line += String(repeating: " ", count: max(0, positions[i] - line.count))
                }
                output(line)
            } while left.contains { !$0.isEmpty }
        }
        output("Model: \"\(name)\"")
        output(String(repeating: "_", count: width))
        row(["Layer (type)", "Output Shape", "Param #"])
        output(String(repeating: "=", count: width))
        let rows = layers
        for (i, layer) in rows.enumerated() {
            let shape = layer.firstOutputShapes.map { shapes in
                shapes.count == 1 ? Model.describe(shapes[0]) : "[" + shapes.map(Model.describe).joined(separator: ", ") + "]"
            } ?? "multiple"
            row(["\(layer.name) (\(type(of: layer)))", shape, String(layer.countParams())])
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
