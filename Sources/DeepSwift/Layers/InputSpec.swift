/// What a layer accepts as input once it is built, as Keras's `InputSpec`: a rank
/// (exact or minimum) and fixed sizes of some axes. `fit`, `evaluate` and
/// `predict` check their inputs against the model's spec and throw
/// ``TrainingError/incompatibleInput(_:)`` with Keras's message before any math runs.
///
/// ```swift
/// let dense = Dense(4)
/// _ = dense(Tensor.ones([2, 3]))
/// dense.inputSpec   // rank ≥ 2, axis -1 of size 3
/// ```
public struct InputSpec: Equatable, Sendable {
    /// The exact rank, if there is one.
    public var rank: Int?
    /// The least rank, if there is one.
    public var minRank: Int?
    /// Sizes that given axes must have; negative axes count from the end.
    public var axes: [Int: Int]

    /// - Parameters:
    ///   - rank: the exact rank, or nil.
    ///   - minRank: the least rank, or nil.
    ///   - axes: required sizes by axis (negative from the end).
    public init(rank: Int? = nil, minRank: Int? = nil, axes: [Int: Int] = [:]) {
        self.rank = rank
        self.minRank = minRank
        self.axes = axes
    }

    /// Why an input of `shape` does not fit, in Keras's words, or nil when it does.
    ///
    /// - Parameters:
    ///   - shape: the input's shape, batch axis included.
    ///   - layer: the layer's name, for the message.
    public func problem(with shape: TensorShape, layer: String) -> String? {
        let prefix = "Input 0 of layer \"\(layer)\" is incompatible with the layer: "
        if let rank, shape.rank != rank {
            return prefix + "expected ndim=\(rank), found ndim=\(shape.rank). Full shape received: \(shape)"
        }
        if let minRank, shape.rank < minRank {
            return prefix + "expected min_ndim=\(minRank), found ndim=\(shape.rank). Full shape received: \(shape)"
        }
        for (axis, size) in axes.sorted(by: { $0.key < $1.key }) {
            let a = axis < 0 ? shape.rank + axis : axis
            guard a >= 0, a < shape.rank, shape[a] == size else {
                return prefix + "expected axis \(axis) of input shape to have value \(size), but received input with shape \(shape)"
            }
        }
        return nil
    }
}

// Shared checks for ``Layer/inputProblem(shapes:dtypes:)``.
extension Layer {
    /// "Conv2D 'conv2d': ", the start of an input problem's message.
    var problemPrefix: String { "\(type(of: self)) '\(name)': " }

    /// A problem when some input is not floating-point.
    func floatProblem(_ dtypes: [DType]) -> String? {
        dtypes.allSatisfy(\.isFloatingPoint) ? nil : problemPrefix + "expects floating-point inputs, got \(dtypes.map { "\($0)" })"
    }

    /// A problem when some input is not of `weights`' dtype (the layer's own once
    /// built, else the ``dtype`` it will build them in; nil for a layer that has
    /// none and makes none: then any float input fits).
    func weightDTypeProblem(_ dtypes: [DType], weights: DType?) -> String? {
        guard let dtype = weights else { return floatProblem(dtypes) }
        return dtypes.allSatisfy { $0 == dtype } ? nil
            : problemPrefix + "expects \(dtype) inputs (the dtype of its weights), got \(dtypes.map { "\($0)" })"
    }

    /// The dtype of the weights built for inputs of `shapes`: the first one made,
    /// else ``dtype`` when building will make some, else nil.
    func weightDType(for shapes: [TensorShape]) -> DType? {
        createdWeights.first?.dtype ?? (weightCount(for: shapes) > 0 ? dtype : nil)
    }

    /// A problem when `shape` lacks `spatial + 2` axes (batch, spatial…, channels).
    func rankProblem(_ shape: TensorShape, spatial: Int) -> String? {
        guard shape.rank != spatial + 2 else { return nil }
        let axes = ["steps", "height, width", "depth, height, width"][spatial - 1]
        return problemPrefix + "expected an input of rank \(spatial + 2) (batch, \(axes), channels), got shape \(shape)"
    }

    /// A problem when a window of `window` (dilated by `dilations`) does not fit the
    /// spatial axes of `shape` with `padding`, or an axis is empty.
    func windowProblem(_ shape: TensorShape, window: [Int], dilations: [Int], padding: Padding) -> String? {
        let sizes = Array(shape.dimensions[1...window.count])
        let fits = zip(sizes, zip(window, dilations)).allSatisfy { n, w in n >= 1 && (padding != .valid || n >= (w.0 - 1) * w.1 + 1) }
        return fits ? nil : problemPrefix + "the window \(window)\(dilations.allSatisfy { $0 == 1 } ? "" : " dilated by \(dilations)") does not fit the input's spatial size \(sizes) with padding \(padding.rawValue)"
    }

    /// A problem when `axis` (negative from the end) is not an axis of `shape`.
    func axisProblem(_ axis: Int, _ shape: TensorShape) -> String? {
        let a = axis < 0 ? axis + shape.rank : axis
        return a >= 0 && a < shape.rank ? nil : problemPrefix + "axis \(axis) is out of range for input shape \(shape)"
    }
}

/// The product of `factors`, capped at Int.max / 4 so that a few such products
/// add without overflow (the weight counts of configs).
func saturatingProduct(_ factors: [Int]) -> Int {
    factors.reduce(1) { p, f in
        let (r, overflow) = p.multipliedReportingOverflow(by: f)
        return overflow || r > Int.max / 4 ? Int.max / 4 : r
    }
}

/// The shape `shapes` broadcast to, or nil when they do not broadcast.
func broadcastShape(_ shapes: [TensorShape]) -> [Int]? {
    var out: [Int] = []
    for shape in shapes {
        let d = shape.dimensions
        let rank = max(out.count, d.count)
        let a = Array(repeating: 1, count: rank - out.count) + out, b = Array(repeating: 1, count: rank - d.count) + d
        var merged: [Int] = []
        for (x, y) in zip(a, b) {
            guard x == y || x == 1 || y == 1 else { return nil }
            merged.append(x == 1 ? y : x)
        }
        out = merged
    }
    return out
}
