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

    /// - Parameters:
    ///   - cell: the step.
    ///   - returnSequences: return every step's output, (batch, steps, units).
    ///   - returnState: return the final states after the output.
    ///   - goBackwards: run from the last step to the first.
    public init(cell: RecurrentCell, returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                name: String? = nil) {
        self.cell = cell
        self.returnSequences = returnSequences
        self.returnState = returnState
        self.goBackwards = goBackwards
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
        let x = inputs[0]
        let (batch, steps, features) = (x.shape[0], x.shape[1], x.shape[2])
        var states = inputs.count > 1 ? Array(inputs.dropFirst())
            : Array(repeating: Tensor.zeros([batch, cell.units], dtype: x.dtype), count: cell.stateCount)
        // The input projection of every step in one GEMM.
        let projected = cell.projectInput(x.reshaped(to: [batch * steps, features])).reshaped(to: [batch, steps, -1])
        var outputs: [Tensor] = []
        outputs.reserveCapacity(returnSequences ? steps : 1)
        var last = states[0]
        for t in goBackwards ? Array((0..<steps).reversed()) : Array(0..<steps) {
            (last, states) = cell.step(projected: projected[.all, t], states: states)
            if returnSequences { outputs.append(last) }
        }
        let output = returnSequences ? Tensor(stacking: outputs, alongAxis: 1) : last
        return [output] + (returnState ? states : [])
    }
}

/// A fully connected recurrence, as `keras.layers.SimpleRNN`.
public final class SimpleRNN: RNN {
    /// - Parameters: as ``SimpleRNNCell`` and ``RNN``.
    public init(_ units: Int, activation: ActivationFunction = .tanh, useBias: Bool = true, returnSequences: Bool = false,
                returnState: Bool = false, goBackwards: Bool = false, name: String? = nil) {
        super.init(cell: SimpleRNNCell(units, activation: activation, useBias: useBias), returnSequences: returnSequences,
                   returnState: returnState, goBackwards: goBackwards, name: name)
    }
}

/// Long short-term memory, as `keras.layers.LSTM` (Keras's gate order and weight
/// layout, so its weights give the same outputs here).
public final class LSTM: RNN {
    /// - Parameters: as ``LSTMCell`` and ``RNN``.
    public init(_ units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
                useBias: Bool = true, unitForgetBias: Bool = true, returnSequences: Bool = false, returnState: Bool = false,
                goBackwards: Bool = false, name: String? = nil) {
        super.init(cell: LSTMCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                  unitForgetBias: unitForgetBias),
                   returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, name: name)
    }
}

/// The gated recurrent unit, as `keras.layers.GRU` (`resetAfter` by default, bias
/// of shape (2, 3·units), as Keras's).
public final class GRU: RNN {
    /// - Parameters: as ``GRUCell`` and ``RNN``.
    public init(_ units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
                useBias: Bool = true, resetAfter: Bool = true, returnSequences: Bool = false, returnState: Bool = false,
                goBackwards: Bool = false, name: String? = nil) {
        super.init(cell: GRUCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                 resetAfter: resetAfter),
                   returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, name: name)
    }
}
