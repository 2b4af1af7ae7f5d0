/// Depthwise 2-D convolution, as `keras.layers.DepthwiseConv2D`: each input
/// channel is convolved with its own `depthMultiplier` filters; kernel
/// (kh, kw, inChannels, depthMultiplier), bias (inChannels·depthMultiplier).
///
/// ```swift
/// DepthwiseConv2D(kernelSize: 3, padding: .same)(Tensor.ones([1, 8, 8, 16])).shape   // (1, 8, 8, 16)
/// ```
///
/// It runs as a grouped convolution with one group per channel (one small
/// GEMM per channel), not yet with a direct depthwise kernel.
public final class DepthwiseConv2D: Layer {
    public let kernelSize: [Int], strides: [Int], dilationRate: [Int]
    public let padding: Padding
    /// Filters per input channel.
    public let depthMultiplier: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    let depthwiseInitializer: Initializer
    let biasInitializer: Initializer
    let depthwiseRegularizer: Regularizer?
    /// The weights, created on the first call.
    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?

    /// - Parameters:
    ///   - kernelSize: the window, one size or two.
    ///   - strides: steps between windows (default 1).
    ///   - padding: `.valid` (default) or `.same`.
    ///   - depthMultiplier: filters per input channel (default 1).
    ///   - dilationRate: steps between kernel taps (default 1).
    ///   - activation: applied to the output (default none).
    ///   - useBias: whether a bias is added (default true).
    ///   - depthwiseInitializer: default Glorot uniform, as Keras.
    ///   - biasInitializer: default zeros.
    ///   - depthwiseRegularizer: an optional penalty on the kernel.
    ///   - name: the layer's name (default `depthwise_conv2d`, …).
    public init(kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid, depthMultiplier: Int = 1,
                dilationRate: SpatialSize = 1, activation: ActivationFunction = .linear, useBias: Bool = true,
                depthwiseInitializer: Initializer = .glorotUniform(), biasInitializer: Initializer = .zeros(),
                depthwiseRegularizer: Regularizer? = nil, name: String? = nil) {
        precondition(depthMultiplier > 0, "DepthwiseConv2D: depthMultiplier must be positive, got \(depthMultiplier)")
        precondition(padding != .causal, "DepthwiseConv2D: padding must be valid or same")
        self.kernelSize = kernelSize.expanded(to: 2, "kernelSize", layer: "DepthwiseConv2D")
        self.strides = strides.expanded(to: 2, "strides", layer: "DepthwiseConv2D")
        self.dilationRate = dilationRate.expanded(to: 2, "dilationRate", layer: "DepthwiseConv2D")
        self.padding = padding
        self.depthMultiplier = depthMultiplier
        self.activation = activation
        self.useBias = useBias
        self.depthwiseInitializer = depthwiseInitializer
        self.biasInitializer = biasInitializer
        self.depthwiseRegularizer = depthwiseRegularizer
        super.init(name: name)
    }

    public override func build(inputShape: TensorShape) {
        let channels = inputShape[3]
        kernel = addWeight(name: "kernel", shape: TensorShape(kernelSize + [channels, depthMultiplier]),
                           initializer: depthwiseInitializer, regularizer: depthwiseRegularizer)
        if useBias { bias = addWeight(name: "bias", shape: [channels * depthMultiplier], initializer: biasInitializer) }
    }

    /// Rank 4 with the built kernel's channels last.
    public override var inputSpec: InputSpec? {
        guard let kernel else { return InputSpec(minRank: 4) }
        return InputSpec(rank: 4, axes: [-1: kernel.shape[2]])
    }

    /// Floating-point, rank 4, the built kernel's channels, and a window that fits.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        depthwiseProblem(shapes[0], dtypes, kernel: kernel, window: kernelSize, dilations: dilationRate, padding: padding)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        kernel == nil ? saturatingProduct(kernelSize + [shapes[0][3], depthMultiplier]) + (useBias ? shapes[0][3] * depthMultiplier : 0) : 0
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let k = kernel!.value
        var y = depthwiseConv2D(inputs, k, strides: strides, padding: padding, dilations: dilationRate)
        if let bias { y = y + bias.value }
        return activation(y)
    }
}

/// Depthwise convolution of `x` (N, H, W, C) with `kernel` (kh, kw, C, M), as
/// `tf.nn.depthwise_conv2d`: output channel `c·M + m` is channel c convolved
/// with filter (c, m). Differentiable to any order.
public func depthwiseConv2D(_ x: Tensor, _ kernel: Tensor, strides: [Int] = [1, 1], padding: Padding = .valid,
                            dilations: [Int] = [1, 1]) -> Tensor {
    precondition(kernel.rank == 4 && x.rank == 4 && x.shape[3] == kernel.shape[2],
                 "depthwiseConv2D: expected x (N, H, W, C) and a kernel (kh, kw, C, multiplier), got \(x.shape) and \(kernel.shape)\(currentNameScopes.isEmpty ? "" : " in layer '\(currentNameScopes.joined(separator: "/"))'")")
    let (c, m) = (kernel.shape[2], kernel.shape[3])
    // The grouped layout (kh, kw, 1, C·M) orders output channels c·M + m, as TF's.
    let grouped = kernel.reshaped(to: [kernel.shape[0], kernel.shape[1], 1, c * m])
    return groupedConv(x, grouped, groups: c, strides: strides, padding: padding, dilations: dilations)
}

/// Depthwise-separable 2-D convolution, as `keras.layers.SeparableConv2D`: a
/// depthwise convolution, then a 1×1 convolution to `filters` channels. Weights
/// `depthwise_kernel` (kh, kw, C, depthMultiplier), `pointwise_kernel`
/// (1, 1, C·depthMultiplier, filters) and `bias` (filters).
///
/// ```swift
/// SeparableConv2D(32, kernelSize: 3)(Tensor.ones([1, 10, 10, 8])).shape   // (1, 8, 8, 32)
/// ```
public final class SeparableConv2D: Layer {
    public let filters: Int
    public let kernelSize: [Int], strides: [Int], dilationRate: [Int]
    public let padding: Padding
    public let depthMultiplier: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    let depthwiseInitializer: Initializer
    let pointwiseInitializer: Initializer
    let biasInitializer: Initializer
    /// The weights, created on the first call.
    public private(set) var depthwiseKernel: Variable?
    public private(set) var pointwiseKernel: Variable?
    public private(set) var bias: Variable?

    /// - Parameters:
    ///   - filters: output channels.
    ///   - kernelSize: the depthwise window, one size or two.
    ///   - strides: steps between windows (default 1).
    ///   - padding: `.valid` (default) or `.same`.
    ///   - depthMultiplier: depthwise filters per input channel (default 1).
    ///   - dilationRate: steps between kernel taps (default 1).
    ///   - activation: applied to the output (default none).
    ///   - useBias: whether a bias is added (default true).
    ///   - depthwiseInitializer: default Glorot uniform, as Keras.
    ///   - pointwiseInitializer: default Glorot uniform, as Keras.
    ///   - biasInitializer: default zeros.
    ///   - name: the layer's name (default `separable_conv2d`, …).
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                depthMultiplier: Int = 1, dilationRate: SpatialSize = 1, activation: ActivationFunction = .linear,
                useBias: Bool = true, depthwiseInitializer: Initializer = .glorotUniform(),
                pointwiseInitializer: Initializer = .glorotUniform(), biasInitializer: Initializer = .zeros(),
                name: String? = nil) {
        precondition(filters > 0 && depthMultiplier > 0, "SeparableConv2D: filters and depthMultiplier must be positive")
        precondition(padding != .causal, "SeparableConv2D: padding must be valid or same")
        self.filters = filters
        self.kernelSize = kernelSize.expanded(to: 2, "kernelSize", layer: "SeparableConv2D")
        self.strides = strides.expanded(to: 2, "strides", layer: "SeparableConv2D")
        self.dilationRate = dilationRate.expanded(to: 2, "dilationRate", layer: "SeparableConv2D")
        self.padding = padding
        self.depthMultiplier = depthMultiplier
        self.activation = activation
        self.useBias = useBias
        self.depthwiseInitializer = depthwiseInitializer
        self.pointwiseInitializer = pointwiseInitializer
        self.biasInitializer = biasInitializer
        super.init(name: name)
    }

    public override func build(inputShape: TensorShape) {
        let channels = inputShape[3]
        depthwiseKernel = addWeight(name: "depthwise_kernel", shape: TensorShape(kernelSize + [channels, depthMultiplier]),
                                    initializer: depthwiseInitializer)
        pointwiseKernel = addWeight(name: "pointwise_kernel", shape: [1, 1, channels * depthMultiplier, filters],
                                    initializer: pointwiseInitializer)
        if useBias { bias = addWeight(name: "bias", shape: [filters], initializer: biasInitializer) }
    }

    /// Rank 4 with the built kernel's channels last.
    public override var inputSpec: InputSpec? {
        guard let depthwiseKernel else { return InputSpec(minRank: 4) }
        return InputSpec(rank: 4, axes: [-1: depthwiseKernel.shape[2]])
    }

    /// Floating-point, rank 4, the built kernel's channels, and a window that fits.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        depthwiseProblem(shapes[0], dtypes, kernel: depthwiseKernel, window: kernelSize, dilations: dilationRate, padding: padding)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        guard depthwiseKernel == nil else { return 0 }
        let c = shapes[0][3]
        return saturatingProduct(kernelSize + [c, depthMultiplier]) + saturatingProduct([c, depthMultiplier, filters]) + (useBias ? filters : 0)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let k = depthwiseKernel!.value
        let depthwise = depthwiseConv2D(inputs, k, strides: strides, padding: padding, dilations: dilationRate)
        var y = conv(depthwise, pointwiseKernel!.value)
        if let bias { y = y + bias.value }
        return activation(y)
    }
}

extension Layer {
    /// The input problem of a depthwise convolution with `kernel` (kh, kw, C, M) once built.
    func depthwiseProblem(_ shape: TensorShape, _ dtypes: [DType], kernel: Variable?, window: [Int], dilations: [Int],
                          padding: Padding) -> String? {
        if let p = rankProblem(shape, spatial: 2) ?? weightDTypeProblem(dtypes, weights: weightDType(for: [shape])) { return p }
        if let kernel, shape[3] != kernel.shape[2] {
            return problemPrefix + "the input has \(shape[3]) channels but the kernel \(kernel.shape) was built for \(kernel.shape[2]); input shape \(shape)"
        }
        return windowProblem(shape, window: window, dilations: dilations, padding: padding)
    }
}
