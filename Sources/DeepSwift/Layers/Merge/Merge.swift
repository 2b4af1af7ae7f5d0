/// The base of the layers that combine several inputs elementwise, as Keras's
/// `Merge`: the inputs broadcast against each other (their batch axes must agree).
///
/// ```swift
/// let a = Input(shape: [16]), b = Input(shape: [16])
/// let sum = Add()([a, b])
/// ```
open class Merge: Layer {
    /// The smallest number of inputs the layer takes.
    open var minimumInputs: Int { 1 }

    /// Combines the inputs (at least ``Merge/minimumInputs`` of them).
    open func merge(_ inputs: [Tensor]) -> Tensor { fatalError("\(type(of: self)) must override merge(_:)") }

    /// The most inputs the layer takes (nil: any number).
    var maximumInputs: Int? { nil }

    /// The inputs' masks combined, as Keras's merges: a step is kept when every
    /// masked input keeps it (none when no input has a mask, or when the merge
    /// mixes the steps' axis).
    open override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) -> [Tensor?] {
        let given = masks.compactMap { $0 }
        guard let first = given.first, given.allSatisfy({ $0.shape == first.shape }), mergesStepsKept else { return [nil] }
        return [given.dropFirst().reduce(first) { logicalAnd($0, $1) }]
    }

    /// Whether the output keeps the inputs' leading (batch, steps) axes, so that a
    /// mask of them still describes it.
    var mergesStepsKept: Bool { true }

    /// At least ``minimumInputs`` inputs of one batch size and one dtype, whose
    /// shapes broadcast (the elementwise merges).
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard shapes.count >= minimumInputs else { return "\(type(of: self)) '\(name)' needs at least \(minimumInputs) inputs, got \(shapes.count)" }
        if let maximumInputs, shapes.count > maximumInputs {
            return "\(type(of: self)) '\(name)' takes exactly \(maximumInputs) inputs, got \(shapes.count)"
        }
        guard Set(shapes.compactMap { $0.rank > 0 ? $0[0] : nil }).count <= 1 else {
            return problemPrefix + "the inputs' batch sizes differ: \(shapes)"
        }
        guard Set(dtypes).count == 1 else { return problemPrefix + "the inputs' dtypes differ: \(dtypes.map { "\($0)" })" }
        return mergeProblem(shapes)
    }

    /// The problem of inputs of these shapes beyond their count and batch size.
    func mergeProblem(_ shapes: [TensorShape]) -> String? {
        broadcastShape(shapes) == nil ? problemPrefix + "the inputs' shapes do not broadcast: \(shapes)" : nil
    }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] { [merge(inputs)] }
}

/// The sum of the inputs, as `keras.layers.Add`.
public final class Add: Merge {
    public override func merge(_ inputs: [Tensor]) -> Tensor { inputs.dropFirst().reduce(inputs[0], +) }
}

/// The first input minus the second, as `keras.layers.Subtract` (exactly two inputs).
public final class Subtract: Merge {
    public override var minimumInputs: Int { 2 }
    override var maximumInputs: Int? { 2 }
    public override func merge(_ inputs: [Tensor]) -> Tensor { inputs[0] - inputs[1] }
}

/// The elementwise product of the inputs, as `keras.layers.Multiply`.
public final class Multiply: Merge {
    public override func merge(_ inputs: [Tensor]) -> Tensor { inputs.dropFirst().reduce(inputs[0], *) }
}

/// The elementwise mean of the inputs, as `keras.layers.Average`.
public final class Average: Merge {
    public override func merge(_ inputs: [Tensor]) -> Tensor {
        inputs.dropFirst().reduce(inputs[0], +) / Double(inputs.count)
    }
}

/// The elementwise maximum of the inputs, as `keras.layers.Maximum`.
public final class Maximum: Merge {
    public override func merge(_ inputs: [Tensor]) -> Tensor {
        inputs.dropFirst().reduce(inputs[0]) { TensorCore.maximum($0, $1) }
    }
}

/// The elementwise minimum of the inputs, as `keras.layers.Minimum`.
public final class Minimum: Merge {
    public override func merge(_ inputs: [Tensor]) -> Tensor {
        inputs.dropFirst().reduce(inputs[0]) { TensorCore.minimum($0, $1) }
    }
}

/// The inputs joined along `axis` (default the last), as `keras.layers.Concatenate`;
/// the other axes must agree.
public final class Concatenate: Merge {
    public let axis: Int

    /// Joined along the features (the last axis), the steps stay.
    override var mergesStepsKept: Bool { axis == -1 }

    public init(axis: Int = -1, name: String? = nil) {
        self.axis = axis
        super.init(name: name)
    }

    /// One rank, with `axis`, and equal sizes on the other axes.
    override func mergeProblem(_ shapes: [TensorShape]) -> String? {
        let rank = shapes[0].rank
        if let p = axisProblem(axis, shapes[0]) { return p }
        let a = axis < 0 ? axis + rank : axis
        func others(_ s: TensorShape) -> [Int] { s.dimensions.enumerated().filter { $0.offset != a }.map(\.element) }
        return shapes.allSatisfy({ $0.rank == rank && others($0) == others(shapes[0]) }) ? nil
            : problemPrefix + "the inputs must match on every axis but \(axis), got \(shapes)"
    }

    public override func merge(_ inputs: [Tensor]) -> Tensor { Tensor(concatenating: inputs, alongAxis: axis) }
}

/// The dot product of two inputs along `axes` for each example, as
/// `keras.layers.Dot`: for inputs (batch, n) the result is (batch, 1); for
/// (batch, m, k) and (batch, n, k) with `axes: [2, 2]` it is (batch, m, n).
/// With `normalize`, the inputs are L2-normalized along the axes first (the
/// cosine similarity).
public final class Dot: Merge {
    /// A dot product mixes the axes: no mask.
    override var mergesStepsKept: Bool { false }
    /// The axis of each input that is summed over (batch axis 0 excluded).
    public let axes: [Int]
    public let normalize: Bool

    public init(axes: Int, normalize: Bool = false, name: String? = nil) {
        self.axes = [axes, axes]
        self.normalize = normalize
        super.init(name: name)
    }

    public init(axes: [Int], normalize: Bool = false, name: String? = nil) {
        precondition(axes.count == 2, "Dot: axes must name one axis per input, got \(axes)")
        self.axes = axes
        self.normalize = normalize
        super.init(name: name)
    }

    public override var minimumInputs: Int { 2 }
    override var maximumInputs: Int? { 2 }

    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        super.inputProblem(shapes: shapes, dtypes: dtypes) ?? floatProblem(dtypes)
    }

    /// Two floating-point inputs, both rank 2 or both rank 3, whose `axes` have equal sizes.
    override func mergeProblem(_ shapes: [TensorShape]) -> String? {
        let (a, b) = (shapes[0], shapes[1])
        guard a.rank == b.rank && (a.rank == 2 || a.rank == 3) else {
            return problemPrefix + "inputs must both be rank 2 or both rank 3, got \(a) and \(b)"
        }
        let (ia, ib) = (axes[0] < 0 ? axes[0] + a.rank : axes[0], axes[1] < 0 ? axes[1] + b.rank : axes[1])
        return ia >= 1 && ia < a.rank && ib >= 1 && ib < b.rank && a[ia] == b[ib] && (a.rank == 2 || a[0] == b[0]) ? nil
            : problemPrefix + "axes \(axes) do not pair equal axes of \(a) and \(b)"
    }

    public override func merge(_ inputs: [Tensor]) -> Tensor {
        var (a, b) = (inputs[0], inputs[1])
        let (ia, ib) = (axes[0] < 0 ? axes[0] + a.rank : axes[0], axes[1] < 0 ? axes[1] + b.rank : axes[1])
        if normalize {
            a = a / sqrt(TensorCore.maximum(square(a).sum(axis: ia, keepDims: true), 1e-12))
            b = b / sqrt(TensorCore.maximum(square(b).sum(axis: ib, keepDims: true), 1e-12))
        }
        if a.rank == 2 { return (a * b).sum(axis: 1, keepDims: true) }
        // Rank 3: a batched product contracting axis ia of a with axis ib of b.
        return matmul(a, b, transposeA: ia == 1, transposeB: ib == 2)
    }
}
