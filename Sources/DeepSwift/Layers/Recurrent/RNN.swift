/// A recurrent layer: a ``RecurrentCell`` run over the steps of (batch, steps,
/// features) inputs, as `keras.layers.RNN`. Every step's input projection is
/// one GEMM over the whole sequence; then each step is the cell's recurrent part.
/// Called on `[x] + initialStates` (zeros when not given), it returns the last
/// output, or all of them with `returnSequences`, followed by the final states
/// with `returnState`.
///
/// ```swift
/// let lstm = LSTM(16, returnSequences: true)
/// let y = lstm(Tensor.ones([2, 10, 8]))   // (2, 10, 16)
/// ```
open class RNN: Layer {
    /// The step.
    public let cell: RecurrentCell
    /// Whether every step's output is returned (else the last one's).
    public let returnSequences: Bool
    /// Whether the final states follow the output.
    public let returnState: Bool
    /// Whether the steps run from the last to the first (the outputs then come in that order, as Keras's).
    public let goBackwards: Bool
    /// The fraction of the input's features dropped in training: one mask per
    /// sequence, the same at every step (one per gate with `recurrentDropout`).
    public let dropout: Double
    /// The fraction of the previous output's units dropped for the recurrent
    /// products in training: one mask per gate and sequence, the same at every step.
    public let recurrentDropout: Double
    /// The seed of the dropout masks (nil: the global generator).
    public let seed: UInt64?
    /// Draws the masks, so that compiled steps replay them as `Dropout` does.
    let inputDropout: Dropout?, stateDropout: Dropout?

    /// - Parameters:
    ///   - cell: the step.
    ///   - returnSequences: return every step's output, (batch, steps, units).
    ///   - returnState: return the final states after the output.
    ///   - goBackwards: run from the last step to the first.
    ///   - dropout: the fraction of input features dropped in training.
    ///   - recurrentDropout: the fraction of the previous output dropped for the
    ///     recurrent products in training.
    ///   - seed: the seed of the dropout masks.
    ///   - name: the layer's name.
    public init(cell: RecurrentCell, returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                dropout: Double = 0, recurrentDropout: Double = 0, seed: UInt64? = nil, name: String? = nil) {
        precondition((0..<1).contains(dropout) && (0..<1).contains(recurrentDropout),
                     "\(Self.self): dropout (\(dropout)) and recurrentDropout (\(recurrentDropout)) must be in [0, 1)")
        self.cell = cell
        self.returnSequences = returnSequences
        self.returnState = returnState
        self.goBackwards = goBackwards
        self.dropout = dropout
        self.recurrentDropout = recurrentDropout
        self.seed = seed
        inputDropout = dropout > 0 ? Dropout(dropout, seed: seed) : nil
        stateDropout = recurrentDropout > 0 ? Dropout(recurrentDropout, seed: seed.map { $0 &+ 1 }) : nil
        super.init(name: name)
    }

    public override func build(inputShapes: [TensorShape]) {
        cell.dtype = dtype
        cell.build(inputShape: [inputShapes[0][0], inputShapes[0][2]])
        cell.markBuilt()
    }

    /// (batch, steps ≥ 1, features) of the weights' dtype, and optionally every
    /// initial state as (batch, units).
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        let x = shapes[0]
        guard x.rank == 3, x[1] >= 1 else { return problemPrefix + "expects inputs of shape (batch, steps ≥ 1, features), got \(x)" }
        guard shapes.count == 1 || shapes.count == 1 + cell.stateCount else {
            return problemPrefix + "takes the input and, optionally, \(cell.stateCount) initial state(s); got \(shapes.count) tensors"
        }
        for state in shapes.dropFirst() where state != [x[0], cell.units] {
            return problemPrefix + "expects initial states of shape (\(x[0]), \(cell.units)), got \(state)"
        }
        if let kernel = cell.createdWeights.first, kernel.shape[0] != x[2] {
            return problemPrefix + "the input has \(x[2]) features but the layer was built for \(kernel.shape[0])"
        }
        return weightDTypeProblem(dtypes, weights: cell.createdWeights.first?.dtype ?? dtype)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        cell.isBuilt ? 0 : cell.weightCount(for: [[shapes[0][0], shapes[0][2]]])
    }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        run(inputs, mask: nil, training: training)
    }

    /// With a (batch, steps) mask on the input, as Keras: a masked step keeps
    /// the states (the last output is the last unmasked step's), and with
    /// `returnSequences` its output is zeros.
    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) -> [Tensor] {
        guard let mask = masks[0] else { return run(inputs, mask: nil, training: training) }
        precondition(mask.dtype == .bool && mask.shape == [inputs[0].shape[0], inputs[0].shape[1]],
                     problemPrefix + "the input's mask must be bool (batch, steps) = \(Array(inputs[0].shape.dimensions.prefix(2))), got \(mask.dtype) \(mask.shape)")
        return run(inputs, mask: mask, training: training)
    }

    /// The sequence output keeps the input's mask; the last output and the states have none.
    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) -> [Tensor?] {
        [returnSequences ? masks.first ?? nil : nil]
    }

    private func run(_ inputs: [Tensor], mask: Tensor?, training: Bool) -> [Tensor] {
        let x = inputs[0]
        let (batch, steps, features) = (x.shape[0], x.shape[1], x.shape[2])
        var states = inputs.count > 1 ? Array(inputs.dropFirst())
            : Array(repeating: Tensor.zeros([batch, cell.units], dtype: x.dtype), count: cell.stateCount)
        // The input projection of every step in one GEMM (one per gate with a
        // dropout mask per gate).
        let flat = x.reshaped(to: [batch * steps, features])
        let projected: Tensor
        let gateMasks = recurrentDropout > 0 ? cell.gateCount : 1
        if training, let inputDropout {
            // One mask per sequence, repeated over its steps.
            let masks = (0..<gateMasks).map { _ in
                inputDropout(Tensor.ones([batch, 1, features], dtype: x.dtype), training: true)
                    .broadcasted(to: [batch, steps, features]).reshaped(to: [batch * steps, features])
            }
            projected = cell.projectInput(flat, gateMasks: masks).reshaped(to: [batch, steps, -1])
        } else {
            projected = cell.projectInput(flat).reshaped(to: [batch, steps, -1])
        }
        let recurrentMasks = training ? stateDropout.map { dropout in
            (0..<cell.gateCount).map { _ in dropout(Tensor.ones([batch, cell.units], dtype: x.dtype), training: true) }
        } : nil
        var outputs: [Tensor] = []
        outputs.reserveCapacity(returnSequences ? steps : 1)
        var last = states[0]
        let keep = mask.map { m in (0..<steps).map { m[.all, $0].expandingShape(at: 1) } }   // (batch, 1) per step
        for t in goBackwards ? Array((0..<steps).reversed()) : Array(0..<steps) {
            let (output, next): (Tensor, [Tensor])
            if let recurrentMasks {
                (output, next) = cell.step(projected: projected[.all, t], states: states, recurrentMasks: recurrentMasks)
            } else {
                (output, next) = cell.step(projected: projected[.all, t], states: states)
            }
            if let keep {
                let k = keep[t]
                states = zip(next, states).map { `where`(k, $0, $1) }
                last = `where`(k, output, last)
                if returnSequences { outputs.append(`where`(k, output, Tensor(0, dtype: output.dtype))) }
            } else {
                (last, states) = (output, next)
                if returnSequences { outputs.append(output) }
            }
        }
        let output = returnSequences ? Tensor(stacking: outputs, alongAxis: 1) : last
        return [output] + (returnState ? states : [])
    }
}

/// A fully connected recurrence, as `keras.layers.SimpleRNN`.
public final class SimpleRNN: RNN {
    /// - Parameters: as ``SimpleRNNCell`` and ``RNN``.
    public init(_ units: Int, activation: ActivationFunction = .tanh, useBias: Bool = true, returnSequences: Bool = false,
                returnState: Bool = false, goBackwards: Bool = false, dropout: Double = 0, recurrentDropout: Double = 0,
                seed: UInt64? = nil, name: String? = nil) {
        super.init(cell: SimpleRNNCell(units, activation: activation, useBias: useBias), returnSequences: returnSequences,
                   returnState: returnState, goBackwards: goBackwards, dropout: dropout, recurrentDropout: recurrentDropout,
                   seed: seed, name: name)
    }
}

/// Long short-term memory, as `keras.layers.LSTM` (Keras's gate order and weight
/// layout, so its weights give the same outputs here).
public final class LSTM: RNN {
    /// - Parameters: as ``LSTMCell`` and ``RNN``.
    public init(_ units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
                useBias: Bool = true, unitForgetBias: Bool = true, returnSequences: Bool = false, returnState: Bool = false,
                goBackwards: Bool = false, dropout: Double = 0, recurrentDropout: Double = 0, seed: UInt64? = nil,
                name: String? = nil) {
        super.init(cell: LSTMCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                  unitForgetBias: unitForgetBias),
                   returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, dropout: dropout,
                   recurrentDropout: recurrentDropout, seed: seed, name: name)
    }
}

/// The gated recurrent unit, as `keras.layers.GRU` (`resetAfter` by default, bias
/// of shape (2, 3·units), as Keras's).
public final class GRU: RNN {
    /// - Parameters: as ``GRUCell`` and ``RNN``.
    public init(_ units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
                useBias: Bool = true, resetAfter: Bool = true, returnSequences: Bool = false, returnState: Bool = false,
                goBackwards: Bool = false, dropout: Double = 0, recurrentDropout: Double = 0, seed: UInt64? = nil,
                name: String? = nil) {
        super.init(cell: GRUCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                 resetAfter: resetAfter),
                   returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, dropout: dropout,
                   recurrentDropout: recurrentDropout, seed: seed, name: name)
    }
}
