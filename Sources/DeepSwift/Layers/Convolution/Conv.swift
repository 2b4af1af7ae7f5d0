@_spi(Autodiff) import TensorCore

/// The convolution layers' shared part, Keras's `BaseConv`: a kernel of shape
/// (window…, inChannels / groups, filters) and a bias of (filters), over
/// channels-last input with `rank` spatial axes. Use ``Conv1D``, ``Conv2D`` or
/// ``Conv3D``.
public class BaseConv: Layer {
    /// The number of spatial axes (1, 2 or 3).
    public let rank: Int
    /// Output channels.
    public let filters: Int
    /// Window, strides and dilation per spatial axis.
    public let kernelSize: [Int], strides: [Int], dilationRate: [Int]
    public let padding: Padding
    /// Channel groups: each group of `inChannels / groups` inputs feeds
    /// `filters / groups` outputs.
    public let groups: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    let biasRegularizer: Regularizer?
    let activityRegularizer: Regularizer?
    /// The weights, created on the first call.
    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?

    /// - Parameters:
    ///   - rank: the number of spatial axes.
    ///   - filters: output channels.
    ///   - kernelSize: the window, one size or one per axis.
    ///   - strides: steps between windows (default 1).
    ///   - padding: `.valid` (default), `.same`, or `.causal` (1-D only).
    ///   - dilationRate: steps between kernel taps (default 1).
    ///   - groups: channel groups (default 1); both channel counts must divide by it.
    ///   - activation: applied to the output (default none).
    ///   - useBias: whether a bias is added (default true).
    ///   - kernelInitializer: default Glorot uniform, as Keras.
    ///   - biasInitializer: default zeros.
    ///   - kernelRegularizer: an optional penalty on the kernel.
    ///   - biasRegularizer: an optional penalty on the bias.
    ///   - activityRegularizer: an optional penalty on the output.
    ///   - name: the layer's name (default `conv2d`, `conv2d_1`, …).
    public init(rank: Int, filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                dilationRate: SpatialSize = 1, groups: Int = 1, activation: ActivationFunction = .linear,
                useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform(),
                biasInitializer: Initializer = .zeros(), kernelRegularizer: Regularizer? = nil,
                biasRegularizer: Regularizer? = nil, activityRegularizer: Regularizer? = nil, name: String? = nil) {
        let kind = "Conv\(rank)D"
        precondition((1...3).contains(rank), "\(kind): rank must be 1, 2 or 3")
        precondition(filters > 0, "\(kind): filters must be positive, got \(filters)")
        precondition(groups > 0 && filters % groups == 0,
                     "\(kind): filters (\(filters)) must be a multiple of groups (\(groups))")
        precondition(padding != .causal || rank == 1, "\(kind): causal padding is only for Conv1D")
        self.rank = rank
        self.filters = filters
        self.kernelSize = kernelSize.expanded(to: rank, "kernelSize", layer: kind)
        self.strides = strides.expanded(to: rank, "strides", layer: kind)
        self.dilationRate = dilationRate.expanded(to: rank, "dilationRate", layer: kind)
        self.padding = padding
        self.groups = groups
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.biasRegularizer = biasRegularizer
        self.activityRegularizer = activityRegularizer
        super.init(name: name)
    }

    /// Floating-point, rank `rank + 2`, channels a multiple of `groups` (those of
    /// the built kernel), and a window that fits.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        let shape = shapes[0]
        if let p = rankProblem(shape, spatial: rank) ?? weightDTypeProblem(dtypes, weights: weightDType(for: [shape])) { return p }
        let channels = shape[rank + 1]
        if let kernel, channels != kernel.shape[rank] * groups {
            return problemPrefix + "the input has \(channels) channels but the kernel \(kernel.shape) was built for \(kernel.shape[rank] * groups); input shape \(shape)"
        }
        if channels % groups != 0 {
            return problemPrefix + "the input's \(channels) channels are not a multiple of groups (\(groups)); input shape \(shape)"
        }
        return windowProblem(shape, window: kernelSize, dilations: dilationRate, padding: padding)
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        guard kernel == nil else { return 0 }
        return saturatingProduct(kernelSize + [shapes[0][rank + 1] / groups, filters]) + (useBias ? filters : 0)
    }

    public override func build(inputShape: TensorShape) {
        let channels = inputShape[rank + 1]
        kernel = addWeight(name: "kernel", shape: TensorShape(kernelSize + [channels / groups, filters]),
                           initializer: kernelInitializer, regularizer: kernelRegularizer)
        if useBias {
            bias = addWeight(name: "bias", shape: [filters], initializer: biasInitializer, regularizer: biasRegularizer)
        }
    }

    /// Rank `rank + 2`, with the built kernel's channel count last.
    public override var inputSpec: InputSpec? {
        guard let kernel else { return InputSpec(minRank: rank + 2) }
        return InputSpec(rank: rank + 2, axes: [-1: kernel.shape[rank] * groups])
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let k = kernel!.value
        var y: Tensor
        if groups == 1 && activation.isRelu {
            // The bias and relu ride in the convolution's output pass.
            let out = conv(inputs, k, bias: bias?.value, strides: strides, padding: padding, dilations: dilationRate, relu: true)
            if let activityRegularizer { addLoss(activityRegularizer(out)) }
            return out
        }
        if groups == 1 {
            // The bias rides in the convolution's output pass.
            y = conv(inputs, k, bias: bias?.value, strides: strides, padding: padding, dilations: dilationRate)
        } else {
            y = groupedConv(inputs, k, groups: groups, strides: strides, padding: padding, dilations: dilationRate)
            if let bias { y = y + bias.value }
        }
        let out = activation(y)
        if let activityRegularizer { addLoss(activityRegularizer(out)) }
        return out
    }
}

/// A convolution whose channels split into `groups` independent convolutions
/// (the kernel holds `inChannels / groups` inputs per filter), as Keras's `groups`.
func groupedConv(_ x: Tensor, _ kernel: Tensor, groups: Int, strides: [Int], padding: Padding, dilations: [Int]) -> Tensor {
    if groups == 1 { return conv(x, kernel, strides: strides, padding: padding, dilations: dilations) }
    let d = kernel.rank - 2
    let (cin, cout) = (kernel.shape[d], kernel.shape[d + 1] / groups)
    let parts = (0..<groups).map { g in
        conv(x[.ellipsis, (g * cin)..<((g + 1) * cin)], kernel[.ellipsis, (g * cout)..<((g + 1) * cout)],
             strides: strides, padding: padding, dilations: dilations)
    }
    return Tensor(concatenating: parts, alongAxis: -1)
}

/// 1-D convolution over (batch, steps, channels), as `keras.layers.Conv1D`;
/// `padding: .causal` gives outputs that see only the past.
///
/// ```swift
/// let conv = Conv1D(16, kernelSize: 3, padding: .causal)
/// conv(Tensor.ones([4, 100, 8])).shape   // (4, 100, 16); kernel (3, 8, 16)
/// ```
public final class Conv1D: BaseConv {
    /// See ``BaseConv/init(rank:filters:kernelSize:strides:padding:dilationRate:groups:activation:useBias:kernelInitializer:biasInitializer:kernelRegularizer:biasRegularizer:activityRegularizer:name:)``.
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                dilationRate: SpatialSize = 1, groups: Int = 1, activation: ActivationFunction = .linear,
                useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform(),
                biasInitializer: Initializer = .zeros(), kernelRegularizer: Regularizer? = nil,
                biasRegularizer: Regularizer? = nil, activityRegularizer: Regularizer? = nil, name: String? = nil) {
        super.init(rank: 1, filters: filters, kernelSize: kernelSize, strides: strides, padding: padding,
                   dilationRate: dilationRate, groups: groups, activation: activation, useBias: useBias,
                   kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                   kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer,
                   activityRegularizer: activityRegularizer, name: name)
    }
}

/// 2-D convolution over (batch, height, width, channels), as `keras.layers.Conv2D`.
///
/// ```swift
/// let conv = Conv2D(32, kernelSize: 3, activation: .relu)
/// conv(Tensor.ones([128, 28, 28, 1])).shape   // (128, 26, 26, 32); 320 parameters
/// ```
public final class Conv2D: BaseConv {
    /// See ``BaseConv/init(rank:filters:kernelSize:strides:padding:dilationRate:groups:activation:useBias:kernelInitializer:biasInitializer:kernelRegularizer:biasRegularizer:activityRegularizer:name:)``.
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                dilationRate: SpatialSize = 1, groups: Int = 1, activation: ActivationFunction = .linear,
                useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform(),
                biasInitializer: Initializer = .zeros(), kernelRegularizer: Regularizer? = nil,
                biasRegularizer: Regularizer? = nil, activityRegularizer: Regularizer? = nil, name: String? = nil) {
        super.init(rank: 2, filters: filters, kernelSize: kernelSize, strides: strides, padding: padding,
                   dilationRate: dilationRate, groups: groups, activation: activation, useBias: useBias,
                   kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                   kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer,
                   activityRegularizer: activityRegularizer, name: name)
    }
}

/// 3-D convolution over (batch, depth, height, width, channels), as `keras.layers.Conv3D`.
///
/// ```swift
/// Conv3D(8, kernelSize: 3)(Tensor.ones([2, 10, 10, 10, 1])).shape   // (2, 8, 8, 8, 8)
/// ```
public final class Conv3D: BaseConv {
    /// See ``BaseConv/init(rank:filters:kernelSize:strides:padding:dilationRate:groups:activation:useBias:kernelInitializer:biasInitializer:kernelRegularizer:biasRegularizer:activityRegularizer:name:)``.
    public init(_ filters: Int, kernelSize: SpatialSize, strides: SpatialSize = 1, padding: Padding = .valid,
                dilationRate: SpatialSize = 1, groups: Int = 1, activation: ActivationFunction = .linear,
                useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform(),
                biasInitializer: Initializer = .zeros(), kernelRegularizer: Regularizer? = nil,
                biasRegularizer: Regularizer? = nil, activityRegularizer: Regularizer? = nil, name: String? = nil) {
        super.init(rank: 3, filters: filters, kernelSize: kernelSize, strides: strides, padding: padding,
                   dilationRate: dilationRate, groups: groups, activation: activation, useBias: useBias,
                   kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                   kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer,
                   activityRegularizer: activityRegularizer, name: name)
    }
}
