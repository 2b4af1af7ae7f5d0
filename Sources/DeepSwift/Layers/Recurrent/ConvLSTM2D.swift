/// A convolutional LSTM over sequences of images, as `keras.layers.ConvLSTM2D`:
/// an LSTM whose input and recurrent products are 2-D convolutions, on
/// (batch, steps, height, width, channels) inputs (channels last).
///
/// ```swift
/// let layer = ConvLSTM2D(filters: 4, kernelSize: 3, padding: .same, returnSequences: true)
/// let frames = Random.normal([2, 5, 8, 8, 1])   // (batch, steps, height, width, channels)
/// layer(frames).shape                           // (2, 5, 8, 8, 4)
/// ```
///
/// The input convolution has the layer's strides, padding and dilation; the
/// recurrent one keeps the state's size (stride 1, `"same"`). The weights have
/// Keras's shapes and gate order (i, f, c, o): kernel (kh, kw, channels,
/// 4·filters), recurrent kernel (kh, kw, filters, 4·filters), bias (4·filters).
/// Every step's input convolution is one convolution over all the steps.
public final class ConvLSTM2D: Layer {
    /// The state's channels.
    public let filters: Int
    /// The window, and the input convolution's strides and dilation, per axis.
    public let kernelSize: [Int], strides: [Int], dilationRate: [Int]
    /// The input convolution's padding.
    public let padding: Padding
    /// The candidate's and output's activation, and the gates'.
    public let activation: ActivationFunction, recurrentActivation: ActivationFunction
    /// Whether the gates have a bias, and whether its forget part starts at 1.
    public let useBias: Bool, unitForgetBias: Bool
    /// What the layer returns, and in which direction it runs.
    public let returnSequences: Bool, returnState: Bool, goBackwards: Bool
    let kernelInitializer: Initializer, recurrentInitializer: Initializer
    /// The weights, once built.
    public private(set) var kernel: Variable?, recurrentKernel: Variable?, bias: Variable?

    /// - Parameters:
    ///   - filters: the number of output channels of the state.
    ///   - kernelSize: the convolutions' window.
    ///   - strides: the input convolution's strides.
    ///   - padding: the input convolution's padding (`.valid` or `.same`).
    ///   - dilationRate: the input convolution's dilation.
    ///   - activation: the candidate's and the output's activation (tanh).
    ///   - recurrentActivation: the gates' activation (sigmoid).
    ///   - useBias: whether the gates have a bias.
    ///   - unitForgetBias: whether the forget gate's bias starts at 1.
    ///   - returnSequences: return every step's state, (batch, steps, h, w, filters).
    ///   - returnState: return the final state and carry after the output.
    ///   - goBackwards: run from the last step to the first.
    ///   - kernelInitializer: Glorot-uniform by default.
    ///   - recurrentInitializer: orthogonal by default, as Keras's.
    ///   - name: the layer's name.
    public init(filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                dilationRate: SpatialSize = 1, activation: ActivationFunction = .tanh,
                recurrentActivation: ActivationFunction = .sigmoid, useBias: Bool = true, unitForgetBias: Bool = true,
                returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                kernelInitializer: Initializer = .glorotUniform(), recurrentInitializer: Initializer = .orthogonal(),
                name: String? = nil) {
        precondition(filters > 0, "ConvLSTM2D: filters must be positive, got \(filters)")
        precondition(padding == .valid || padding == .same, "ConvLSTM2D: padding must be valid or same, got \(padding)")
        self.filters = filters
        self.kernelSize = kernelSize.expanded(to: 2, "kernelSize", layer: "ConvLSTM2D")
        self.strides = strides.expanded(to: 2, "strides", layer: "ConvLSTM2D")
        self.dilationRate = dilationRate.expanded(to: 2, "dilationRate", layer: "ConvLSTM2D")
        self.padding = padding
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.useBias = useBias
        self.unitForgetBias = unitForgetBias
        self.returnSequences = returnSequences
        self.returnState = returnState
        self.goBackwards = goBackwards
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        super.init(name: name)
    }

    public override func build(inputShape: TensorShape) {
        let (kh, kw, channels) = (kernelSize[0], kernelSize[1], inputShape[4])
        kernel = addWeight(name: "kernel", shape: [kh, kw, channels, 4 * filters], initializer: kernelInitializer)
        // Orthogonal over the (kh·kw·filters, 4·filters) matrix, as Keras's initializers read a kernel.
        let recurrent = Initializer { [recurrentInitializer] shape, dtype in
            recurrentInitializer([shape[0] * shape[1] * shape[2], shape[3]], dtype).reshaped(to: shape)
        }
        recurrentKernel = addWeight(name: "recurrent_kernel", shape: [kh, kw, filters, 4 * filters], initializer: recurrent)
        if useBias {
            let f = filters, forget = unitForgetBias
            bias = addWeight(name: "bias", shape: [4 * f], initializer: Initializer { shape, dtype in
                Tensor(shape: shape, scalars: (0..<(4 * f)).map { forget && $0 / f == 1 ? 1.0 : 0.0 }).cast(to: dtype)
            })
        }
    }

    /// (batch, steps ≥ 1, height, width, channels), large enough for the window.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        let x = shapes[0]
        guard shapes.count == 1, x.rank == 5, x[1] >= 1 else {
            return problemPrefix + "expects one input of shape (batch, steps ≥ 1, height, width, channels), got \(shapes)"
        }
        for a in 0..<2 where padding == .valid && x[2 + a] < dilationRate[a] * (kernelSize[a] - 1) + 1 {
            return problemPrefix + "the input's spatial size \(Array(x.dimensions[2...3])) is smaller than the window \(kernelSize) (dilation \(dilationRate))"
        }
        if let kernel, kernel.shape[2] != x[4] {
            return problemPrefix + "the input has \(x[4]) channels but the layer was built for \(kernel.shape[2])"
        }
        return weightDTypeProblem(dtypes, weights: kernel?.dtype ?? dtype)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        guard !isBuilt, shapes.count == 1, shapes[0].rank == 5 else { return 0 }
        let window = saturatingProduct(kernelSize)
        return saturatingProduct([window, shapes[0][4] + filters, 4 * filters]) + (useBias ? 4 * filters : 0)
    }

    public override func call(_ x: Tensor, training: Bool) -> Tensor {
        let outputs = run(x)
        precondition(outputs.count == 1, problemPrefix + "returns its states too (returnState); call it with an array")
        return outputs[0]
    }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] { run(inputs[0]) }

    private func run(_ x: Tensor) -> [Tensor] {
        let (batch, steps) = (x.shape[0], x.shape[1])
        let frames = x.reshaped(to: TensorShape([batch * steps] + Array(x.shape.dimensions[2...])))
        // Every step's input convolution at once: (batch·steps, h, w, 4·filters).
        let projected = conv(frames, kernel!.value, bias: bias?.value, strides: strides, padding: padding, dilations: dilationRate)
        let (h, w) = (projected.shape[1], projected.shape[2])
        let sequence = projected.reshaped(to: [batch, steps, h, w, 4 * filters])
        var state = Tensor.zeros([batch, h, w, filters], dtype: x.dtype), carry = state
        var outputs: [Tensor] = []
        let f = filters, u = recurrentKernel!.value
        for t in goBackwards ? Array((0..<steps).reversed()) : Array(0..<steps) {
            let z = sequence[.all, t] + conv(state, u, padding: .same)
            let gate = { (k: Int) in z[.all, .all, .all, (k * f)..<((k + 1) * f)] }
            let i = recurrentActivation(gate(0)), forget = recurrentActivation(gate(1))
            carry = forget * carry + i * activation(gate(2))
            state = recurrentActivation(gate(3)) * activation(carry)
            if returnSequences { outputs.append(state) }
        }
        let output = returnSequences ? Tensor(stacking: outputs, alongAxis: 1) : state
        return [output] + (returnState ? [state, carry] : [])
    }
}
