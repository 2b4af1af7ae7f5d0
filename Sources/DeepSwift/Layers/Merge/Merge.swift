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

    /// Combines the inputs (at least ``minimumInputs`` of them).
    open func merge(_ inputs: [Tensor]) -> Tensor { fatalError("\(type(of: self)) must override merge(_:)") }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        precondition(inputs.count >= minimumInputs,
                     "\(type(of: self)) '\(name)' needs at least \(minimumInputs) inputs, got \(inputs.count)")
        let batches = Set(inputs.compactMap { $0.rank > 0 ? $0.shape[0] : nil })
        precondition(batches.count <= 1,
                     "\(type(of: self)) '\(name)': the inputs' batch sizes differ: \(inputs.map(\.shape))")
        return [merge(inputs)]
    }
}

/// The sum of the inputs, as `keras.layers.Add`.
public final class Add: Merge {
    public override func merge(_ inputs: [Tensor]) -> Tensor { inputs.dropFirst().reduce(inputs[0], +) }
}

/// The first input minus the second, as `keras.layers.Subtract` (exactly two inputs).
public final class Subtract: Merge {
    public override var minimumInputs: Int { 2 }
    public override func merge(_ inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 2, "Subtract '\(name)' takes exactly 2 inputs, got \(inputs.count)")
        return inputs[0] - inputs[1]
    }
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

    public init(axis: Int = -1, name: String? = nil) {
        self.axis = axis
        super.init(name: name)
    }

    public override func merge(_ inputs: [Tensor]) -> Tensor { Tensor(concatenating: inputs, alongAxis: axis) }
}

/// The dot product of two inputs along `axes` for each example, as
/// `keras.layers.Dot`: for inputs (batch, n) the result is (batch, 1); for
/// (batch, m, k) and (batch, n, k) with `axes: [2, 2]` it is (batch, m, n).
/// With `normalize`, the inputs are L2-normalized along the axes first (the
/// cosine similarity).
public final class Dot: Merge {
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

    public override func merge(_ inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 2, "Dot '\(name)' takes exactly 2 inputs, got \(inputs.count)")
        var (a, b) = (inputs[0], inputs[1])
        precondition(a.rank == b.rank && (a.rank == 2 || a.rank == 3),
                     "Dot '\(name)': inputs must both be rank 2 or both rank 3, got \(a.shape) and \(b.shape)")
        let (ia, ib) = (axes[0] < 0 ? axes[0] + a.rank : axes[0], axes[1] < 0 ? axes[1] + b.rank : axes[1])
        precondition(ia >= 1 && ia < a.rank && ib >= 1 && ib < b.rank && a.shape[ia] == b.shape[ib],
                     "Dot '\(name)': axes \(axes) do not pair equal axes of \(a.shape) and \(b.shape)")
        if normalize {
            a = a / sqrt(TensorCore.maximum(square(a).sum(axis: ia, keepDims: true), 1e-12))
            b = b / sqrt(TensorCore.maximum(square(b).sum(axis: ib, keepDims: true), 1e-12))
        }
        if a.rank == 2 { return (a * b).sum(axis: 1, keepDims: true) }
        // Rank 3: a batched product contracting axis ia of a with axis ib of b.
        return matmul(a, b, transposeA: ia == 1, transposeB: ib == 2)
    }
}
