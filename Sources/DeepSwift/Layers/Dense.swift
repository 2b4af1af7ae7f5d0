/// A densely connected layer, `activation(matmul(x, kernel) + bias)`, as `keras.layers.Dense`.
///
/// ```swift
/// let dense = Dense(64, activation: .relu)
/// let y = dense(Tensor.ones([8, 784]))   // shape (8, 64); kernel (784, 64)
/// ```
///
/// For hypernetworks, ``kernel`` and ``bias`` can be set to tensors computed by
/// another model; the layer then uses them, and gradients flow back into that model.
public final class Dense: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let units: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    let biasRegularizer: Regularizer?
    let activityRegularizer: Regularizer?
    /// The weights, created on the first call.
    public private(set) var kernelVariable: Variable?
    public private(set) var biasVariable: Variable?
    private var kernelOverride: Tensor?
    private var biasOverride: Tensor?

    public init(_ units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform(), biasInitializer: Initializer = .zeros(),
                kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil,
                activityRegularizer: Regularizer? = nil, name: String? = nil) {
        precondition(units > 0, "Dense: units must be positive, got \(units)")
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.biasRegularizer = biasRegularizer
        self.activityRegularizer = activityRegularizer
        super.init(name: name)
    }

    public override func build(inputShape: TensorShape) {
        kernelVariable = addWeight(name: "kernel", shape: [inputShape[inputShape.rank - 1], units],
                                   initializer: kernelInitializer, regularizer: kernelRegularizer)
        if useBias {
            biasVariable = addWeight(name: "bias", shape: [units], initializer: biasInitializer, regularizer: biasRegularizer)
        }
    }

    /// At least two axes, the last of the kernel's input size (once built).
    public override var inputSpec: InputSpec? {
        guard isBuilt else { return nil }
        return InputSpec(minRank: 2, axes: [-1: kernel.shape[0]])
    }

    /// The kernel in use: the weight, or the tensor assigned to it (hypernetworks),
    /// of shape (inputDim, units).
    public var kernel: Tensor {
        get { kernelOverride ?? kernelVariable!.value }
        set { kernelOverride = newValue }
    }

    /// The bias in use: the weight, or the tensor assigned to it.
    public var bias: Tensor? {
        get { biasOverride ?? biasVariable?.value }
        set { biasOverride = newValue }
    }

    /// Goes back to the layer's own weights after ``kernel`` or ``bias`` were assigned.
    public func clearAssignedWeights() {
        kernelOverride = nil
        biasOverride = nil
    }

    /// Floating-point with at least one axis, the last the kernel's input size once built.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        let shape = shapes[0]
        // The kernel in use: the weight, or one assigned to it (a hypernetwork's).
        if let p = weightDTypeProblem(dtypes, weights: isBuilt ? kernel.dtype : dtype) { return p }
        guard shape.rank >= 1 else { return problemPrefix + "the input needs at least one axis, got shape \(shape)" }
        guard isBuilt else { return nil }
        return shape[shape.rank - 1] == kernel.shape[0] ? nil
            : problemPrefix + "input shape \(shape) does not match the kernel shape \(kernel.shape)"
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        isBuilt ? 0 : saturatingProduct([shapes[0].dimensions.last ?? 1, units]) + (useBias ? units : 0)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let k = kernel
        // Inputs of rank > 2 are flattened to 2-D around one GEMM.
        var y: Tensor
        if inputs.rank == 2 {
            y = bias.map { linear(inputs, k, $0) } ?? matmul(inputs, k)
        } else {
            let lead = Array(inputs.shape.dimensions.dropLast())
            let flat = inputs.reshaped(to: [-1, k.shape[0]])
            y = (bias.map { linear(flat, k, $0) } ?? matmul(flat, k)).reshaped(to: TensorShape(lead + [units]))
        }
        let out = activation(y)
        if let activityRegularizer { addLoss(activityRegularizer(out)) }
        return out
    }
}
