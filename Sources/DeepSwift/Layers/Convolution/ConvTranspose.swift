/// The transposed convolution layers' shared part, Keras's `BaseConvTranspose`:
/// a kernel of shape (window…, filters, inChannels) and a bias of (filters).
/// Use ``Conv1DTranspose``, ``Conv2DTranspose`` or ``Conv3DTranspose``.
public class BaseConvTranspose: Layer {
    /// The number of spatial axes (1, 2 or 3).
    public let rank: Int
    /// Output channels.
    public let filters: Int
    /// Window, strides (the upsampling factors) and dilation per spatial axis.
    public let kernelSize: [Int], strides: [Int], dilationRate: [Int]
    public let padding: Padding
    /// Extra positions at the end of each axis, each less than its stride (nil: none).
    public let outputPadding: [Int]?
    public let activation: ActivationFunction
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    let biasRegularizer: Regularizer?
    /// The weights, created on the first call.
    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?

    /// - Parameters:
    ///   - rank: the number of spatial axes.
    ///   - filters: output channels.
    ///   - kernelSize: the window, one size or one per axis.
    ///   - strides: the upsampling factors (default 1).
    ///   - padding: `.valid` (default): `size·stride + max(window - stride, 0)`
    ///     positions per axis; `.same`: `size·stride`.
    ///   - outputPadding: Keras's `output_padding` (nil: none).
    ///   - dilationRate: steps between kernel taps (default 1).
    ///   - activation: applied to the output (default none).
    ///   - useBias: whether a bias is added (default true).
    ///   - kernelInitializer: default Glorot uniform, as Keras.
    ///   - biasInitializer: default zeros.
    ///   - kernelRegularizer: an optional penalty on the kernel.
    ///   - biasRegularizer: an optional penalty on the bias.
    ///   - name: the layer's name (default `conv2d_transpose`, …).
    public init(rank: Int, filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                outputPadding: SpatialSize? = nil, dilationRate: SpatialSize = 1,
                activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform(), biasInitializer: Initializer = .zeros(),
                kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil, name: String? = nil) {
        let kind = "Conv\(rank)DTranspose"
        precondition((1...3).contains(rank), "\(kind): rank must be 1, 2 or 3")
        precondition(filters > 0, "\(kind): filters must be positive, got \(filters)")
        precondition(padding != .causal, "\(kind): padding must be valid or same")
        self.rank = rank
        self.filters = filters
        self.kernelSize = kernelSize.expanded(to: rank, "kernelSize", layer: kind)
        self.strides = strides.expanded(to: rank, "strides", layer: kind)
        self.dilationRate = dilationRate.expanded(to: rank, "dilationRate", layer: kind)
        self.padding = padding
        self.outputPadding = outputPadding.map {
            $0.values.count == 1 ? Array(repeating: $0.values[0], count: rank) : $0.values
        }
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.biasRegularizer = biasRegularizer
        super.init(name: name)
    }

    /// Floating-point, rank `rank + 2`, the built kernel's channels, and a
    /// non-empty output.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        let shape = shapes[0]
        if let p = rankProblem(shape, spatial: rank) ?? weightDTypeProblem(dtypes, weights: weightDType(for: [shape])) { return p }
        if let kernel, shape[rank + 1] != kernel.shape[rank + 1] {
            return problemPrefix + "the input has \(shape[rank + 1]) channels but the kernel \(kernel.shape) was built for \(kernel.shape[rank + 1]); input shape \(shape)"
        }
        for i in 0..<rank {
            let n = shape[i + 1], span = (kernelSize[i] - 1) * dilationRate[i] + 1
            let size = outputPadding.map { (n - 1) * strides[i] + span - 2 * (padding == .same ? span / 2 : 0) + $0[i] } ?? n
            if n < 1 || size < 1 { return problemPrefix + "the input \(shape) gives an empty output" }
        }
        return nil
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        guard kernel == nil else { return 0 }
        return saturatingProduct(kernelSize + [shapes[0][rank + 1], filters]) + (useBias ? filters : 0)
    }

    public override func build(inputShape: TensorShape) {
        kernel = addWeight(name: "kernel", shape: TensorShape(kernelSize + [filters, inputShape[rank + 1]]),
                           initializer: kernelInitializer, regularizer: kernelRegularizer)
        if useBias {
            bias = addWeight(name: "bias", shape: [filters], initializer: biasInitializer, regularizer: biasRegularizer)
        }
    }

    /// Rank `rank + 2`, with the built kernel's input channels last.
    public override var inputSpec: InputSpec? {
        guard let kernel else { return InputSpec(minRank: rank + 2) }
        return InputSpec(rank: rank + 2, axes: [-1: kernel.shape[rank + 1]])
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let k = kernel!.value
        var y = convTranspose(inputs, k, strides: strides, padding: padding, dilations: dilationRate,
                              outputPadding: outputPadding)
        if let bias { y = y + bias.value }
        return activation(y)
    }
}

/// 1-D transposed convolution, as `keras.layers.Conv1DTranspose`.
///
/// ```swift
/// Conv1DTranspose(4, kernelSize: 3, strides: 2, padding: .same)(Tensor.ones([1, 10, 8])).shape   // (1, 20, 4)
/// ```
public final class Conv1DTranspose: BaseConvTranspose {
    /// See ``BaseConvTranspose/init(rank:filters:kernelSize:strides:padding:outputPadding:dilationRate:activation:useBias:kernelInitializer:biasInitializer:kernelRegularizer:biasRegularizer:name:)``.
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                outputPadding: SpatialSize? = nil, dilationRate: SpatialSize = 1,
                activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform(), biasInitializer: Initializer = .zeros(),
                kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil, name: String? = nil) {
        super.init(rank: 1, filters: filters, kernelSize: kernelSize, strides: strides, padding: padding,
                   outputPadding: outputPadding, dilationRate: dilationRate, activation: activation, useBias: useBias,
                   kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                   kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer, name: name)
    }
}

/// 2-D transposed convolution, as `keras.layers.Conv2DTranspose` (the VAE
/// decoders' upsampling layer).
///
/// ```swift
/// Conv2DTranspose(32, kernelSize: 3, strides: 2, padding: .same)(Tensor.ones([1, 7, 7, 64])).shape   // (1, 14, 14, 32)
/// ```
public final class Conv2DTranspose: BaseConvTranspose {
    /// See ``BaseConvTranspose/init(rank:filters:kernelSize:strides:padding:outputPadding:dilationRate:activation:useBias:kernelInitializer:biasInitializer:kernelRegularizer:biasRegularizer:name:)``.
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                outputPadding: SpatialSize? = nil, dilationRate: SpatialSize = 1,
                activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform(), biasInitializer: Initializer = .zeros(),
                kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil, name: String? = nil) {
        super.init(rank: 2, filters: filters, kernelSize: kernelSize, strides: strides, padding: padding,
                   outputPadding: outputPadding, dilationRate: dilationRate, activation: activation, useBias: useBias,
                   kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                   kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer, name: name)
    }
}

/// 3-D transposed convolution, as `keras.layers.Conv3DTranspose`.
///
/// ```swift
/// Conv3DTranspose(2, kernelSize: 2, strides: 2)(Tensor.ones([1, 4, 4, 4, 3])).shape   // (1, 8, 8, 8, 2)
/// ```
public final class Conv3DTranspose: BaseConvTranspose {
    /// See ``BaseConvTranspose/init(rank:filters:kernelSize:strides:padding:outputPadding:dilationRate:activation:useBias:kernelInitializer:biasInitializer:kernelRegularizer:biasRegularizer:name:)``.
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                outputPadding: SpatialSize? = nil, dilationRate: SpatialSize = 1,
                activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform(), biasInitializer: Initializer = .zeros(),
                kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil, name: String? = nil) {
        super.init(rank: 3, filters: filters, kernelSize: kernelSize, strides: strides, padding: padding,
                   outputPadding: outputPadding, dilationRate: dilationRate, activation: activation, useBias: useBias,
                   kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                   kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer, name: name)
    }
}
