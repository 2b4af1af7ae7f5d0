/// One step of a recurrent layer, as Keras's RNN cells (`SimpleRNNCell`,
/// `LSTMCell`, `GRUCell`): called on `[x_t] + states` it returns
/// `[output] + newStates`, so it can drive a custom loop. ``RNN`` runs it over a
/// sequence, projecting every step's input with one GEMM first.
///
/// ```swift
/// let cell = LSTMCell(8)
/// var (h, c) = (Tensor.zeros([2, 8]), Tensor.zeros([2, 8]))
/// for t in 0..<5 {
///     let out = cell([x[.all, t], h, c])
///     (h, c) = (out[1], out[2])
/// }
/// ```
open class RecurrentCell: Layer {
    /// The size of the output and of every state.
    public let units: Int
    /// How many state tensors the cell carries (LSTM: h and c).
    open var stateCount: Int { 1 }
    /// How many blocks of `units` the input projection has (LSTM: 4 gates).
    open var gateCount: Int { 1 }

    /// A cell of `units` units.
    public init(units: Int, name: String? = nil) {
        precondition(units > 0, "\(Self.self): units must be positive, got \(units)")
        self.units = units
        super.init(name: name)
    }

    /// `x_t·kernel (+ input bias)` for inputs of shape (n, features): the part of
    /// a step that does not depend on the state, done for all steps at once.
    open func projectInput(_ x: Tensor) -> Tensor { fatalError("\(type(of: self)) must override projectInput(_:)") }

    /// The output and new states from a projected input and the states.
    open func step(projected: Tensor, states: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        fatalError("\(type(of: self)) must override step(projected:states:)")
    }

    /// A step with recurrent dropout: the previous output, multiplied by one
    /// mask per gate (`gateCount` masks of (batch, units)), feeds each gate's
    /// recurrent product, as Keras's cells with `recurrent_dropout`.
    open func step(projected: Tensor, states: [Tensor], recurrentMasks: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        fatalError("\(type(of: self)) must override step(projected:states:recurrentMasks:) to support recurrent dropout")
    }

    /// The input projection with one dropout mask per gate (`gateCount` masks of
    /// the input's shape): gate `k`'s block of columns is `(x·mask_k)·kernel`.
    public func projectInput(_ x: Tensor, gateMasks: [Tensor]) -> Tensor {
        guard gateMasks.count > 1 else { return projectInput(x * gateMasks[0]) }
        return Tensor(concatenating: gateMasks.enumerated().map { k, mask in
            projectInput(x * mask)[.all, (k * units)..<((k + 1) * units)]
        }, alongAxis: 1)
    }

    /// The product of the previous output with each gate's recurrent kernel
    /// block, each with its mask: the (batch, gateCount·units) recurrent term.
    func maskedRecurrentProduct(_ h: Tensor, _ kernel: Tensor, _ masks: [Tensor], gates: Range<Int>) -> Tensor {
        Tensor(concatenating: gates.map { k in
            matmul(h * masks[k], kernel[.all, (k * units)..<((k + 1) * units)])
        }, alongAxis: 1)
    }

    /// Called on `[x_t] + states`, gives `[output] + newStates`.
    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        precondition(inputs.count == 1 + stateCount,
                     "\(type(of: self)) '\(name)' takes the input and \(stateCount) state(s), got \(inputs.count) tensors")
        let (output, states) = step(projected: projectInput(inputs[0]), states: Array(inputs.dropFirst()))
        return [output] + states
    }

    /// (batch, features) inputs of the weights' dtype, and states of (batch, units).
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard shapes.count == 1 + stateCount else {
            return problemPrefix + "takes the input and \(stateCount) state(s), got \(shapes.count) tensors"
        }
        guard shapes[0].rank == 2 else { return problemPrefix + "expects inputs of shape (batch, features), got \(shapes[0])" }
        for state in shapes.dropFirst() where state != [shapes[0][0], units] {
            return problemPrefix + "expects states of shape (\(shapes[0][0]), \(units)), got \(state)"
        }
        return weightDTypeProblem(dtypes, weights: weightDType(for: shapes))
    }

    /// Builds from the input's shape (the states' shapes follow from `units`).
    public override func build(inputShapes: [TensorShape]) { build(inputShape: inputShapes[0]) }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        isBuilt ? 0 : saturatingProduct([shapes[0].dimensions.last ?? 1, gateCount * units])
            + gateCount * units * units + gateCount * units * biasRows
    }

    /// Rows of the bias (GRU with `resetAfter` has two).
    var biasRows: Int { 1 }
}

/// The simple recurrence `h = activation(x·W + h·U + b)`, as `keras.layers.SimpleRNNCell`.
public final class SimpleRNNCell: RecurrentCell {
    /// Applied to each step's sum.
    public let activation: ActivationFunction
    /// Whether the step adds `bias`.
    public let useBias: Bool
    let kernelInitializer: Initializer, recurrentInitializer: Initializer
    /// (features, units), (units, units) and (units), once built.
    public private(set) var kernel: Variable?
    public private(set) var recurrentKernel: Variable?
    public private(set) var bias: Variable?

    /// - Parameters: as Keras's (tanh, a bias, Glorot-uniform kernel, orthogonal recurrent kernel).
    public init(_ units: Int, activation: ActivationFunction = .tanh, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform(), recurrentInitializer: Initializer = .orthogonal(),
                name: String? = nil) {
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        super.init(units: units, name: name)
    }

    public override func build(inputShape: TensorShape) {
        kernel = addWeight(name: "kernel", shape: [inputShape[inputShape.rank - 1], units], initializer: kernelInitializer)
        recurrentKernel = addWeight(name: "recurrent_kernel", shape: [units, units], initializer: recurrentInitializer)
        if useBias { bias = addWeight(name: "bias", shape: [units], initializer: .zeros()) }
    }

    override var biasRows: Int { useBias ? 1 : 0 }

    public override func projectInput(_ x: Tensor) -> Tensor {
        bias.map { linear(x, kernel!.value, $0.value) } ?? matmul(x, kernel!.value)
    }

    public override func step(projected: Tensor, states: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        let h = activation(projected + matmul(states[0], recurrentKernel!.value))
        return (h, [h])
    }

    public override func step(projected: Tensor, states: [Tensor], recurrentMasks: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        let h = activation(projected + matmul(states[0] * recurrentMasks[0], recurrentKernel!.value))
        return (h, [h])
    }
}

/// The long short-term memory cell, as `keras.layers.LSTMCell`: gates i, f, c, o
/// in that order along the kernels' last axis (Keras's layout, so its weights
/// load), `c = f·c + i·tanh(z_c)`, `h = o·tanh(c)`.
public final class LSTMCell: RecurrentCell {
    /// The candidate's and the output's activation, and the gates'.
    public let activation: ActivationFunction, recurrentActivation: ActivationFunction
    /// Whether the gates have a bias, and whether its forget part starts at 1.
    public let useBias: Bool, unitForgetBias: Bool
    let kernelInitializer: Initializer, recurrentInitializer: Initializer
    /// (features, 4·units), (units, 4·units) and (4·units), once built; gates i, f, c, o.
    public private(set) var kernel: Variable?
    public private(set) var recurrentKernel: Variable?
    public private(set) var bias: Variable?

    public override var stateCount: Int { 2 }
    public override var gateCount: Int { 4 }

    /// - Parameters: as Keras's (tanh and sigmoid, a bias whose forget part starts
    ///   at 1 with `unitForgetBias`, Glorot-uniform kernel, orthogonal recurrent kernel).
    public init(_ units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
                useBias: Bool = true, unitForgetBias: Bool = true, kernelInitializer: Initializer = .glorotUniform(),
                recurrentInitializer: Initializer = .orthogonal(), name: String? = nil) {
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.useBias = useBias
        self.unitForgetBias = unitForgetBias
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        super.init(units: units, name: name)
    }

    override var biasRows: Int { useBias ? 1 : 0 }

    public override func build(inputShape: TensorShape) {
        kernel = addWeight(name: "kernel", shape: [inputShape[inputShape.rank - 1], 4 * units], initializer: kernelInitializer)
        recurrentKernel = addWeight(name: "recurrent_kernel", shape: [units, 4 * units], initializer: recurrentInitializer)
        if useBias {
            let units = self.units, forget = unitForgetBias
            bias = addWeight(name: "bias", shape: [4 * units], initializer: Initializer { shape, dtype in
                Tensor(shape: shape, scalars: (0..<(4 * units)).map { forget && $0 >= units && $0 < 2 * units ? 1.0 : 0.0 }).cast(to: dtype)
            })
        }
    }

    public override func projectInput(_ x: Tensor) -> Tensor {
        bias.map { linear(x, kernel!.value, $0.value) } ?? matmul(x, kernel!.value)
    }

    public override func step(projected: Tensor, states: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        gates(projected + matmul(states[0], recurrentKernel!.value), states)
    }

    public override func step(projected: Tensor, states: [Tensor], recurrentMasks: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        gates(projected + maskedRecurrentProduct(states[0], recurrentKernel!.value, recurrentMasks, gates: 0..<4), states)
    }

    private func gates(_ z: Tensor, _ states: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        let u = units
        let i = recurrentActivation(z[.all, 0..<u]), f = recurrentActivation(z[.all, u..<(2 * u)])
        let g = activation(z[.all, (2 * u)..<(3 * u)]), o = recurrentActivation(z[.all, (3 * u)..<(4 * u)])
        let c = f * states[1] + i * g
        let h = o * activation(c)
        return (h, [h, c])
    }
}

/// The gated recurrent unit, as `keras.layers.GRUCell`: gates z, r, h along the
/// kernels' last axis. With `resetAfter` (Keras's default) the reset gate
/// multiplies the recurrent projection after it is computed, and the bias has
/// two rows (input, recurrent): `bias` is (2, 3·units), as Keras's.
public final class GRUCell: RecurrentCell {
    /// The candidate's activation, and the gates'.
    public let activation: ActivationFunction, recurrentActivation: ActivationFunction
    /// Whether the gates have a bias, and whether the reset gate applies after the recurrent product.
    public let useBias: Bool, resetAfter: Bool
    let kernelInitializer: Initializer, recurrentInitializer: Initializer
    /// (features, 3·units), (units, 3·units) and (2, 3·units) — (3·units) without
    /// `resetAfter` — once built; gates z, r, h.
    public private(set) var kernel: Variable?
    public private(set) var recurrentKernel: Variable?
    public private(set) var bias: Variable?

    public override var gateCount: Int { 3 }
    override var biasRows: Int { useBias ? (resetAfter ? 2 : 1) : 0 }

    /// - Parameters: as Keras's (tanh and sigmoid, a bias, `resetAfter`,
    ///   Glorot-uniform kernel, orthogonal recurrent kernel).
    public init(_ units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
                useBias: Bool = true, resetAfter: Bool = true, kernelInitializer: Initializer = .glorotUniform(),
                recurrentInitializer: Initializer = .orthogonal(), name: String? = nil) {
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.useBias = useBias
        self.resetAfter = resetAfter
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        super.init(units: units, name: name)
    }

    public override func build(inputShape: TensorShape) {
        kernel = addWeight(name: "kernel", shape: [inputShape[inputShape.rank - 1], 3 * units], initializer: kernelInitializer)
        recurrentKernel = addWeight(name: "recurrent_kernel", shape: [units, 3 * units], initializer: recurrentInitializer)
        if useBias {
            bias = addWeight(name: "bias", shape: resetAfter ? [2, 3 * units] : [3 * units], initializer: .zeros())
        }
    }

    public override func projectInput(_ x: Tensor) -> Tensor {
        guard let bias else { return matmul(x, kernel!.value) }
        return linear(x, kernel!.value, resetAfter ? bias.value[0] : bias.value)
    }

    public override func step(projected: Tensor, states: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        step(projected: projected, states: states, masks: nil)
    }

    public override func step(projected: Tensor, states: [Tensor], recurrentMasks: [Tensor]) -> (output: Tensor, states: [Tensor]) {
        step(projected: projected, states: states, masks: recurrentMasks)
    }

    /// Keras's GRU step; with `masks`, the previous output is masked per gate for
    /// the recurrent products (not in the final blend).
    private func step(projected: Tensor, states: [Tensor], masks: [Tensor]?) -> (output: Tensor, states: [Tensor]) {
        let u = units, hPrevious = states[0], w = recurrentKernel!.value
        let (xz, xr, xh) = (projected[.all, 0..<u], projected[.all, u..<(2 * u)], projected[.all, (2 * u)..<(3 * u)])
        let candidate: Tensor, z: Tensor
        if resetAfter {
            var inner = masks.map { maskedRecurrentProduct(hPrevious, w, $0, gates: 0..<3) } ?? matmul(hPrevious, w)
            if let bias { inner = inner + bias.value[1] }
            z = recurrentActivation(xz + inner[.all, 0..<u])
            let r = recurrentActivation(xr + inner[.all, u..<(2 * u)])
            candidate = activation(xh + r * inner[.all, (2 * u)..<(3 * u)])
        } else {
            let inner = masks.map { maskedRecurrentProduct(hPrevious, w, $0, gates: 0..<2) } ?? matmul(hPrevious, w[.all, 0..<(2 * u)])
            z = recurrentActivation(xz + inner[.all, 0..<u])
            let r = recurrentActivation(xr + inner[.all, u..<(2 * u)])
            let hCandidate = masks.map { hPrevious * $0[2] } ?? hPrevious
            candidate = activation(xh + matmul(r * hCandidate, w[.all, (2 * u)..<(3 * u)]))
        }
        let h = z * hPrevious + (1 - z) * candidate
        return (h, [h])
    }
}
