/// A recurrent layer run forwards and, as a copy with `goBackwards` flipped,
/// backwards, its two outputs merged, as `keras.layers.Bidirectional`. With
/// `returnSequences` the backward outputs are put back in time order first; with
/// `returnState` the forward states, then the backward ones, follow the output.
///
/// ```swift
/// let encoder = Bidirectional(LSTM(16, returnSequences: true))
/// encoder(Tensor.ones([2, 10, 8])).shape   // (2, 10, 32)
/// ```
public final class Bidirectional: Layer {
    /// How the two directions' outputs combine.
    public enum MergeMode: String, Sendable {
        /// Joined along the last axis (Keras's default).
        case concat
        /// Their sum.
        case sum
        /// Their mean.
        case ave
        /// Their product.
        case mul
    }

    /// The layer run from the first step.
    public let forwardLayer: RNN
    /// The layer run from the last step.
    public let backwardLayer: RNN
    /// How the two outputs combine.
    public let mergeMode: MergeMode

    /// - Parameters:
    ///   - layer: the forward layer (`SimpleRNN`, `LSTM` or `GRU`).
    ///   - mergeMode: `.concat` (default), `.sum`, `.ave` or `.mul`.
    ///   - backwardLayer: the backward layer (default: a copy of `layer` with
    ///     `goBackwards` flipped); a custom `RNN` needs one.
    ///   - name: the layer's name.
    public init(_ layer: RNN, mergeMode: MergeMode = .concat, backwardLayer: RNN? = nil, name: String? = nil) {
        forwardLayer = layer
        if let backwardLayer {
            precondition(backwardLayer.goBackwards != layer.goBackwards && backwardLayer.returnSequences == layer.returnSequences
                         && backwardLayer.returnState == layer.returnState,
                         "Bidirectional: backwardLayer must run the other way and return what the forward layer returns")
            self.backwardLayer = backwardLayer
        } else {
            self.backwardLayer = Bidirectional.reversedCopy(of: layer)
        }
        self.mergeMode = mergeMode
        super.init(name: name)
    }

    /// A fresh layer of `layer`'s kind and arguments running the other way.
    private static func reversedCopy(of layer: RNN) -> RNN {
        let (s, r, b) = (layer.returnSequences, layer.returnState, !layer.goBackwards)
        // Keras's copy keeps the dropout rates; its masks come from another seed.
        let (d, rd, seed) = (layer.dropout, layer.recurrentDropout, layer.seed.map { $0 &+ 2 })
        switch layer.cell {
        case let c as LSTMCell:
            return LSTM(c.units, activation: c.activation, recurrentActivation: c.recurrentActivation, useBias: c.useBias,
                        unitForgetBias: c.unitForgetBias, returnSequences: s, returnState: r, goBackwards: b,
                        dropout: d, recurrentDropout: rd, seed: seed)
        case let c as GRUCell:
            return GRU(c.units, activation: c.activation, recurrentActivation: c.recurrentActivation, useBias: c.useBias,
                       resetAfter: c.resetAfter, returnSequences: s, returnState: r, goBackwards: b,
                       dropout: d, recurrentDropout: rd, seed: seed)
        case let c as SimpleRNNCell:
            return SimpleRNN(c.units, activation: c.activation, useBias: c.useBias, returnSequences: s, returnState: r, goBackwards: b,
                             dropout: d, recurrentDropout: rd, seed: seed)
        default:
            preconditionFailure("Bidirectional: give a backwardLayer for a custom cell (\(type(of: layer.cell)))")
        }
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        let (f, b) = (forwardLayer.weightCount(for: shapes), backwardLayer.weightCount(for: shapes))
        return f.addingReportingOverflow(b).overflow ? Int.max : f + b
    }

    /// What both layers accept; merged by sum, mean or product, their units must agree.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        if mergeMode != .concat, forwardLayer.cell.units != backwardLayer.cell.units {
            return problemPrefix + "merge mode \(mergeMode.rawValue) needs layers of equal units, got \(forwardLayer.cell.units) and \(backwardLayer.cell.units)"
        }
        return forwardLayer.inputProblem(shapes: shapes, dtypes: dtypes) ?? backwardLayer.inputProblem(shapes: shapes, dtypes: dtypes)
    }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        let forward = forwardLayer(inputs, training: training)
        var backward = backwardLayer(inputs, training: training)
        if backwardLayer.returnSequences { backward[0] = backward[0][.all, .range(nil, nil, stride: -1)] }
        let (a, b) = (forward[0], backward[0])
        let merged: Tensor
        switch mergeMode {
        case .concat: merged = Tensor(concatenating: [a, b], alongAxis: a.rank - 1)
        case .sum: merged = a + b
        case .ave: merged = (a + b) * 0.5
        case .mul: merged = a * b
        }
        return [merged] + forward.dropFirst() + backward.dropFirst()
    }
}

/// A layer applied to every step of (batch, steps, ...) inputs, as
/// `keras.layers.TimeDistributed`: the steps are folded into the batch axis
/// around one call.
///
/// ```swift
/// TimeDistributed(Dense(3))(Tensor.ones([2, 10, 8])).shape   // (2, 10, 3)
/// ```
public final class TimeDistributed: Layer {
    /// Passes the input's (batch, steps) mask on: the steps are kept.
    public override var supportsMasking: Bool { true }
    /// The layer applied to each step.
    public let layer: Layer

    /// `layer` applied to each step.
    public init(_ layer: Layer, name: String? = nil) {
        self.layer = layer
        super.init(name: name)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        guard shapes.count == 1, shapes[0].rank >= 3 else { return 0 }
        let d = shapes[0].dimensions
        return layer.weightCount(for: [TensorShape([d[0] * d[1]] + d.dropFirst(2))])
    }

    /// (batch, steps, ...), and what the inner layer accepts for one step.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard shapes.count == 1, shapes[0].rank >= 3 else {
            return problemPrefix + "expects one input of shape (batch, steps, ...), got \(shapes)"
        }
        let d = shapes[0].dimensions
        return layer.inputProblem(shapes: [TensorShape([d[0] * d[1]] + d.dropFirst(2))], dtypes: dtypes)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        let d = x.shape.dimensions
        let y = layer(x.reshaped(to: TensorShape([d[0] * d[1]] + d.dropFirst(2))), training: training)
        return y.reshaped(to: TensorShape([d[0], d[1]] + y.shape.dimensions.dropFirst()))
    }
}
