// The saved configs of the built-in layers, with Keras's class names and keys.
// Initializers are not saved: a loaded layer's weights come from the file.

/// The built-in layer types by their saved names.
let builtInLayerTypes: [String: any SavableLayer.Type] = Dictionary(uniqueKeysWithValues: ([
    Dense.self, Dropout.self, SpatialDropout1D.self, SpatialDropout2D.self, Activation.self, Flatten.self,
    Reshape.self, Embedding.self, ActivityRegularization.self, BatchNormalization.self, LayerNormalization.self,
    Normalization.self, Softmax.self, ReLU.self, LeakyReLU.self, ELU.self, PReLU.self, Rescaling.self,
    RepeatVector.self, Permute.self, GaussianNoise.self, Add.self, Subtract.self, Multiply.self, Average.self,
    Maximum.self, Minimum.self, Concatenate.self, Dot.self, Conv1D.self, Conv2D.self, Conv3D.self,
    Conv1DTranspose.self, Conv2DTranspose.self, Conv3DTranspose.self, DepthwiseConv2D.self, SeparableConv2D.self,
    MaxPooling1D.self, MaxPooling2D.self, MaxPooling3D.self, AveragePooling1D.self, AveragePooling2D.self,
    AveragePooling3D.self, GlobalAveragePooling1D.self, GlobalAveragePooling2D.self, GlobalMaxPooling1D.self,
    GlobalMaxPooling2D.self, UpSampling2D.self, ZeroPadding2D.self, Cropping2D.self, SimpleRNN.self, LSTM.self, GRU.self,
    MultiHeadAttention.self, Attention.self, AdditiveAttention.self, Masking.self, Bidirectional.self, TimeDistributed.self,
    ConvLSTM2D.self,
] as [any SavableLayer.Type]).map { ($0.typeName, $0) })

// Every value is checked as the layer's init would check it, so that a malformed
// config throws ``SavingError/badConfig(type:key:reason:)`` instead of stopping.
// Sizes are bounded (2²⁴ units or filters, 2¹⁶ per spatial axis) so that none
// can ask for more memory than a real model.

/// The most units, filters, channels or ids a saved config may give.
private let maxSavedCount = 1 << 24
/// The most a saved window, stride, dilation, padding or factor may be per axis.
private let maxSavedAxisSize = 1 << 16

extension LayerConfig {
    /// A positive integer of at most `max`.
    fileprivate func count(_ key: String, max: Int = maxSavedCount) throws -> Int {
        let v = try int(key)
        guard v >= 1 && v <= max else { throw bad(key, "an integer from 1 to \(max)") }
        return v
    }

    /// A number from `low` (included) to `high` (excluded).
    fileprivate func double(_ key: String, from low: Double, below high: Double = .infinity) throws -> Double {
        let v = try double(key)
        guard v >= low && v < high else { throw bad(key, high.isFinite ? "a number in [\(low), \(high))" : "a finite number >= \(low)") }
        return v
    }

    /// A finite number.
    fileprivate func finite(_ key: String) throws -> Double {
        let v = try double(key)
        guard v.isFinite else { throw bad(key, "a finite number") }
        return v
    }

    /// One size for every one of `rank` axes or one per axis, each from `low` to 2¹⁶.
    fileprivate func size(_ key: String, rank: Int, low: Int = 1) throws -> SpatialSize {
        let v = try ints(key)
        guard v.count == 1 || v.count == rank, v.allSatisfy({ $0 >= low && $0 <= maxSavedAxisSize }) else {
            throw bad(key, "1 or \(rank) integers from \(low) to \(maxSavedAxisSize)")
        }
        return SpatialSize(v)
    }

    /// `"valid"` or `"same"`, or also `"causal"` when `causal`.
    fileprivate func padding(causal: Bool) throws -> Padding {
        let p = try padding()
        guard causal || p != .causal else { throw bad("padding", "\"valid\" or \"same\"") }
        return p
    }

    fileprivate func pairs(_ key: String) throws -> ((Int, Int), (Int, Int)) {
        let v = try ints(key)
        guard v.count == 4, v.allSatisfy({ $0 >= 0 && $0 <= maxSavedAxisSize }) else {
            throw bad(key, "[[top, bottom], [left, right]] as 4 integers from 0 to \(maxSavedAxisSize)")
        }
        return ((v[0], v[1]), (v[2], v[3]))
    }

    /// An axis index that fits a tensor of rank at most 8.
    fileprivate func axis(_ key: String) throws -> Int {
        let v = try int(key)
        guard (-8...8).contains(v) else { throw bad(key, "an axis from -8 to 8") }
        return v
    }

    fileprivate func dotAxes() throws -> [Int] {
        let axes = try ints("axes")
        guard axes.count == 2, axes.allSatisfy({ (-3...2).contains($0) }) else { throw bad("axes", "two axes from -3 to 2") }
        return axes
    }

    /// A convolution's filters, window, strides, padding and dilation for `rank` axes.
    fileprivate func conv(rank: Int, causal: Bool) throws -> (Int, SpatialSize, SpatialSize, Padding, SpatialSize) {
        (try count("filters"), try size("kernel_size", rank: rank), try size("strides", rank: rank), try padding(causal: causal),
         try size("dilation_rate", rank: rank))
    }

    /// Groups that divide `filters`.
    fileprivate func groups(filters: Int) throws -> Int {
        let g = try count("groups")
        guard filters % g == 0 else { throw bad("groups", "a divisor of filters (\(filters))") }
        return g
    }
}

/// A seed as JSON's (signed) integer, bit for bit.
private func seedValue(_ seed: UInt64?) -> ConfigValue { seed.map { .int(Int(truncatingIfNeeded: $0)) } ?? .null }

extension LayerConfig {
    fileprivate func seed() throws -> UInt64? { try optional("seed", int).map { UInt64(truncatingIfNeeded: $0) } }
}

private func pairsValue(_ p: ((Int, Int), (Int, Int))) -> ConfigValue { ConfigValue([p.0.0, p.0.1, p.1.0, p.1.1]) }

extension Dense: SavableLayer {
    public static let typeName = "Dense"
    public var config: LayerConfig {
        get throws {
            ["units": .int(units), "activation": try .activation(activation, layer: name), "use_bias": .bool(useBias),
             "kernel_regularizer": try .regularizer(kernelRegularizer, layer: name, "kernel"),
             "bias_regularizer": try .regularizer(biasRegularizer, layer: name, "bias"),
             "activity_regularizer": try .regularizer(activityRegularizer, layer: name, "activity")]
        }
    }
    public convenience init(config c: LayerConfig) throws {
        self.init(try c.count("units"), activation: try c.activation(), useBias: try c.bool("use_bias"),
                  kernelRegularizer: try c.regularizer("kernel_regularizer"), biasRegularizer: try c.regularizer("bias_regularizer"),
                  activityRegularizer: try c.regularizer("activity_regularizer"), name: c.name)
    }
}

extension Dropout: SavableLayer {
    public static let typeName = "Dropout"
    public var config: LayerConfig {
        ["rate": .double(rate), "noise_shape": noiseShape.map { .array($0.map { $0.map(ConfigValue.int) ?? .null }) } ?? .null,
         "seed": seedValue(seed)]
    }
    public convenience init(config c: LayerConfig) throws {
        var shape: [Int?]?
        if case .array(let items)? = c["noise_shape"] {
            shape = try items.map {
                switch $0 {
                case .null: return nil
                case .int(let v) where v >= 1 && v <= maxSavedCount: return v
                default: throw c.bad("noise_shape", "null or an array of positive integers and nulls")
                }
            }
        }
        self.init(try c.double("rate", from: 0, below: 1), noiseShape: shape, seed: try c.seed(), name: c.name)
    }
}

extension SpatialDropout1D: SavableLayer {
    public static let typeName = "SpatialDropout1D"
    public var config: LayerConfig { ["rate": .double(rate), "seed": seedValue(seed)] }
    public convenience init(config c: LayerConfig) throws { self.init(try c.double("rate", from: 0, below: 1), seed: try c.seed(), name: c.name) }
}

extension SpatialDropout2D: SavableLayer {
    public static let typeName = "SpatialDropout2D"
    public var config: LayerConfig { ["rate": .double(rate), "seed": seedValue(seed)] }
    public convenience init(config c: LayerConfig) throws { self.init(try c.double("rate", from: 0, below: 1), seed: try c.seed(), name: c.name) }
}

extension Activation: SavableLayer {
    public static let typeName = "Activation"
    public var config: LayerConfig { get throws { ["activation": try .activation(activation, layer: name)] } }
    public convenience init(config c: LayerConfig) throws { self.init(try c.activation(), name: c.name) }
}

extension Flatten: SavableLayer {
    public static let typeName = "Flatten"
    public var config: LayerConfig { [:] }
    public convenience init(config c: LayerConfig) throws { self.init(name: c.name) }
}

extension Reshape: SavableLayer {
    public static let typeName = "Reshape"
    public var config: LayerConfig { ["target_shape": ConfigValue(targetShape)] }
    public convenience init(config c: LayerConfig) throws {
        let shape = try c.ints("target_shape")
        guard shape.count <= 8, shape.allSatisfy({ $0 == -1 || ($0 >= 1 && $0 <= maxSavedCount) }), shape.filter({ $0 == -1 }).count <= 1 else {
            throw c.bad("target_shape", "at most 8 positive sizes, one of which may be -1")
        }
        self.init(shape, name: c.name)
    }
}

extension Embedding: SavableLayer {
    public static let typeName = "Embedding"
    public var config: LayerConfig { ["input_dim": .int(inputDim), "output_dim": .int(outputDim), "mask_zero": .bool(maskZero)] }
    public convenience init(config c: LayerConfig) throws {
        let (inputDim, outputDim) = (try c.count("input_dim"), try c.count("output_dim", max: maxSavedAxisSize))
        // Configs saved before masking have no "mask_zero".
        let maskZero = c["mask_zero"] == nil ? false : try c.bool("mask_zero")
        try c.budget?.spend(inputDim * outputDim, layer: c.name ?? "embedding")
        self.init(inputDim: inputDim, outputDim: outputDim, maskZero: maskZero, name: c.name)
    }
}

extension Masking: SavableLayer {
    public static let typeName = "Masking"
    public var config: LayerConfig { ["mask_value": .double(maskValue)] }
    public convenience init(config c: LayerConfig) throws { self.init(maskValue: try c.finite("mask_value"), name: c.name) }
}

extension ActivityRegularization: SavableLayer {
    public static let typeName = "ActivityRegularization"
    public var config: LayerConfig { ["l1": .double(l1), "l2": .double(l2)] }
    public convenience init(config c: LayerConfig) throws { self.init(l1: try c.finite("l1"), l2: try c.finite("l2"), name: c.name) }
}

extension BatchNormalization: SavableLayer {
    public static let typeName = "BatchNormalization"
    public var config: LayerConfig {
        ["axis": .int(axis), "momentum": .double(momentum), "epsilon": .double(epsilon), "center": .bool(center), "scale": .bool(scale)]
    }
    public convenience init(config c: LayerConfig) throws {
        self.init(axis: try c.axis("axis"), momentum: try c.finite("momentum"), epsilon: try c.double("epsilon", from: 0),
                  center: try c.bool("center"), scale: try c.bool("scale"), name: c.name)
    }
}

extension LayerNormalization: SavableLayer {
    public static let typeName = "LayerNormalization"
    public var config: LayerConfig { ["axis": .int(axis), "epsilon": .double(epsilon), "center": .bool(center), "scale": .bool(scale)] }
    public convenience init(config c: LayerConfig) throws {
        self.init(axis: try c.axis("axis"), epsilon: try c.double("epsilon", from: 0), center: try c.bool("center"), scale: try c.bool("scale"),
                  name: c.name)
    }
}

extension Normalization: SavableLayer {
    public static let typeName = "Normalization"
    /// With the statistics' shape and dtype when it has them (adapted or given), so
    /// the loaded layer has weights for the file's values.
    public var config: LayerConfig {
        ["axis": axis.map(ConfigValue.int) ?? .null, "invert": .bool(invert),
         "statistics_shape": mean.map { ConfigValue($0.shape.dimensions) } ?? .null,
         "statistics_dtype": mean.map { .string("\($0.dtype)") } ?? .null]
    }
    public convenience init(config c: LayerConfig) throws {
        let axis = try c.optional("axis", c.axis), invert = try c.bool("invert")
        if let shape = try c.optional("statistics_shape", c.ints) {
            guard shape.allSatisfy({ $0 >= 1 && $0 <= maxSavedCount }), shape.count <= 8 else {
                throw c.bad("statistics_shape", "at most 8 positive sizes")
            }
            guard saturatingProduct(shape) <= maxSavedCount else { throw c.bad("statistics_shape", "at most \(maxSavedCount) elements") }
            try c.budget?.spend(2 * saturatingProduct(shape), layer: c.name ?? "normalization")
            let dtype = try c.dtype("statistics_dtype")
            guard dtype.isFloatingPoint else { throw c.bad("statistics_dtype", "a floating-point dtype") }
            // Placeholders: the weights file holds the values.
            self.init(axis: axis, mean: Tensor.zeros(TensorShape(shape), dtype: dtype), variance: Tensor.ones(TensorShape(shape), dtype: dtype),
                      invert: invert, name: c.name)
        } else {
            self.init(axis: axis, invert: invert, name: c.name)
        }
    }
}

extension Softmax: SavableLayer {
    public static let typeName = "Softmax"
    public var config: LayerConfig { ["axis": .int(axis)] }
    public convenience init(config c: LayerConfig) throws { self.init(axis: try c.axis("axis"), name: c.name) }
}

extension ReLU: SavableLayer {
    public static let typeName = "ReLU"
    public var config: LayerConfig {
        ["max_value": maxValue.map(ConfigValue.double) ?? .null, "negative_slope": .double(negativeSlope), "threshold": .double(threshold)]
    }
    public convenience init(config c: LayerConfig) throws {
        self.init(maxValue: try c.optional("max_value", { try c.double($0, from: 0) }), negativeSlope: try c.double("negative_slope", from: 0),
                  threshold: try c.finite("threshold"), name: c.name)
    }
}

extension LeakyReLU: SavableLayer {
    public static let typeName = "LeakyReLU"
    public var config: LayerConfig { ["negative_slope": .double(negativeSlope)] }
    public convenience init(config c: LayerConfig) throws { self.init(negativeSlope: try c.finite("negative_slope"), name: c.name) }
}

extension ELU: SavableLayer {
    public static let typeName = "ELU"
    public var config: LayerConfig { ["alpha": .double(alpha)] }
    public convenience init(config c: LayerConfig) throws { self.init(alpha: try c.finite("alpha"), name: c.name) }
}

extension PReLU: SavableLayer {
    public static let typeName = "PReLU"
    public var config: LayerConfig { ["shared_axes": ConfigValue(sharedAxes)] }
    public convenience init(config c: LayerConfig) throws {
        let axes = try c.ints("shared_axes")
        guard axes.allSatisfy({ (1...8).contains($0) }) else { throw c.bad("shared_axes", "axes from 1 to 8") }
        self.init(sharedAxes: axes, name: c.name)
    }
}

extension Rescaling: SavableLayer {
    public static let typeName = "Rescaling"
    public var config: LayerConfig { ["scale": .double(scale), "offset": .double(offset)] }
    public convenience init(config c: LayerConfig) throws { self.init(scale: try c.finite("scale"), offset: try c.finite("offset"), name: c.name) }
}

extension RepeatVector: SavableLayer {
    public static let typeName = "RepeatVector"
    public var config: LayerConfig { ["n": .int(n)] }
    public convenience init(config c: LayerConfig) throws { self.init(try c.count("n", max: maxSavedAxisSize), name: c.name) }
}

extension Permute: SavableLayer {
    public static let typeName = "Permute"
    public var config: LayerConfig { ["dims": ConfigValue(dims)] }
    public convenience init(config c: LayerConfig) throws {
        let dims = try c.ints("dims")
        guard !dims.isEmpty, dims.count <= 8, Set(dims) == Set(1...dims.count) else { throw c.bad("dims", "a permutation of 1...n") }
        self.init(dims, name: c.name)
    }
}

extension GaussianNoise: SavableLayer {
    public static let typeName = "GaussianNoise"
    public var config: LayerConfig { ["stddev": .double(stddev)] }
    public convenience init(config c: LayerConfig) throws { self.init(stddev: try c.double("stddev", from: 0), name: c.name) }
}

extension Add: SavableLayer {
    public static let typeName = "Add"
    public var config: LayerConfig { [:] }
    public convenience init(config c: LayerConfig) throws { self.init(name: c.name) }
}

extension Subtract: SavableLayer {
    public static let typeName = "Subtract"
    public var config: LayerConfig { [:] }
    public convenience init(config c: LayerConfig) throws { self.init(name: c.name) }
}

extension Multiply: SavableLayer {
    public static let typeName = "Multiply"
    public var config: LayerConfig { [:] }
    public convenience init(config c: LayerConfig) throws { self.init(name: c.name) }
}

extension Average: SavableLayer {
    public static let typeName = "Average"
    public var config: LayerConfig { [:] }
    public convenience init(config c: LayerConfig) throws { self.init(name: c.name) }
}

extension Maximum: SavableLayer {
    public static let typeName = "Maximum"
    public var config: LayerConfig { [:] }
    public convenience init(config c: LayerConfig) throws { self.init(name: c.name) }
}

extension Minimum: SavableLayer {
    public static let typeName = "Minimum"
    public var config: LayerConfig { [:] }
    public convenience init(config c: LayerConfig) throws { self.init(name: c.name) }
}

extension Concatenate: SavableLayer {
    public static let typeName = "Concatenate"
    public var config: LayerConfig { ["axis": .int(axis)] }
    public convenience init(config c: LayerConfig) throws { self.init(axis: try c.axis("axis"), name: c.name) }
}

extension Dot: SavableLayer {
    public static let typeName = "Dot"
    public var config: LayerConfig { ["axes": ConfigValue(axes), "normalize": .bool(normalize)] }
    public convenience init(config c: LayerConfig) throws { self.init(axes: try c.dotAxes(), normalize: try c.bool("normalize"), name: c.name) }
}

extension BaseConv {
    var convConfig: LayerConfig {
        get throws {
            ["filters": .int(filters), "kernel_size": ConfigValue(kernelSize), "strides": ConfigValue(strides),
             "padding": .string(padding.rawValue), "dilation_rate": ConfigValue(dilationRate), "groups": .int(groups),
             "activation": try .activation(activation, layer: name), "use_bias": .bool(useBias),
             "kernel_regularizer": try .regularizer(kernelRegularizer, layer: name, "kernel"),
             "bias_regularizer": try .regularizer(biasRegularizer, layer: name, "bias"),
             "activity_regularizer": try .regularizer(activityRegularizer, layer: name, "activity")]
        }
    }
}

extension Conv1D: SavableLayer {
    public static let typeName = "Conv1D"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        let (filters, kernel, strides, padding, dilation) = try c.conv(rank: 1, causal: true)
        self.init(filters, kernelSize: kernel, strides: strides, padding: padding,
                  dilationRate: dilation, groups: try c.groups(filters: filters), activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), activityRegularizer: try c.regularizer("activity_regularizer"),
                  name: c.name)
    }
}

extension Conv2D: SavableLayer {
    public static let typeName = "Conv2D"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        let (filters, kernel, strides, padding, dilation) = try c.conv(rank: 2, causal: false)
        self.init(filters, kernelSize: kernel, strides: strides, padding: padding,
                  dilationRate: dilation, groups: try c.groups(filters: filters), activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), activityRegularizer: try c.regularizer("activity_regularizer"),
                  name: c.name)
    }
}

extension Conv3D: SavableLayer {
    public static let typeName = "Conv3D"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        let (filters, kernel, strides, padding, dilation) = try c.conv(rank: 3, causal: false)
        self.init(filters, kernelSize: kernel, strides: strides, padding: padding,
                  dilationRate: dilation, groups: try c.groups(filters: filters), activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), activityRegularizer: try c.regularizer("activity_regularizer"),
                  name: c.name)
    }
}

extension BaseConvTranspose {
    var convConfig: LayerConfig {
        get throws {
            ["filters": .int(filters), "kernel_size": ConfigValue(kernelSize), "strides": ConfigValue(strides),
             "padding": .string(padding.rawValue), "output_padding": outputPadding.map(ConfigValue.init) ?? .null,
             "dilation_rate": ConfigValue(dilationRate), "activation": try .activation(activation, layer: name),
             "use_bias": .bool(useBias), "kernel_regularizer": try .regularizer(kernelRegularizer, layer: name, "kernel"),
             "bias_regularizer": try .regularizer(biasRegularizer, layer: name, "bias")]
        }
    }
}

extension LayerConfig {
    /// Null, or per axis at least 0 and less than the stride.
    fileprivate func outputPadding(rank: Int, strides: SpatialSize) throws -> SpatialSize? {
        guard let v = try optional("output_padding", { try size($0, rank: rank, low: 0) }) else { return nil }
        let s = strides.values.count == 1 ? Array(repeating: strides.values[0], count: rank) : strides.values
        let p = v.values.count == 1 ? Array(repeating: v.values[0], count: rank) : v.values
        guard zip(p, s).allSatisfy({ $0 < $1 }) else { throw bad("output_padding", "less than the strides \(s) on every axis") }
        return v
    }
}

extension Conv1DTranspose: SavableLayer {
    public static let typeName = "Conv1DTranspose"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        let (filters, kernel, strides, padding, dilation) = try c.conv(rank: 1, causal: false)
        self.init(filters, kernelSize: kernel, strides: strides, padding: padding,
                  outputPadding: try c.outputPadding(rank: 1, strides: strides), dilationRate: dilation, activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), name: c.name)
    }
}

extension Conv2DTranspose: SavableLayer {
    public static let typeName = "Conv2DTranspose"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        let (filters, kernel, strides, padding, dilation) = try c.conv(rank: 2, causal: false)
        self.init(filters, kernelSize: kernel, strides: strides, padding: padding,
                  outputPadding: try c.outputPadding(rank: 2, strides: strides), dilationRate: dilation, activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), name: c.name)
    }
}

extension Conv3DTranspose: SavableLayer {
    public static let typeName = "Conv3DTranspose"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        let (filters, kernel, strides, padding, dilation) = try c.conv(rank: 3, causal: false)
        self.init(filters, kernelSize: kernel, strides: strides, padding: padding,
                  outputPadding: try c.outputPadding(rank: 3, strides: strides), dilationRate: dilation, activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), name: c.name)
    }
}

extension DepthwiseConv2D: SavableLayer {
    public static let typeName = "DepthwiseConv2D"
    public var config: LayerConfig {
        get throws {
            ["kernel_size": ConfigValue(kernelSize), "strides": ConfigValue(strides), "padding": .string(padding.rawValue),
             "depth_multiplier": .int(depthMultiplier), "dilation_rate": ConfigValue(dilationRate),
             "activation": try .activation(activation, layer: name), "use_bias": .bool(useBias),
             "depthwise_regularizer": try .regularizer(depthwiseRegularizer, layer: name, "depthwise")]
        }
    }
    public convenience init(config c: LayerConfig) throws {
        self.init(kernelSize: try c.size("kernel_size", rank: 2), strides: try c.size("strides", rank: 2), padding: try c.padding(causal: false),
                  depthMultiplier: try c.count("depth_multiplier", max: maxSavedAxisSize), dilationRate: try c.size("dilation_rate", rank: 2),
                  activation: try c.activation(), useBias: try c.bool("use_bias"),
                  depthwiseRegularizer: try c.regularizer("depthwise_regularizer"), name: c.name)
    }
}

extension SeparableConv2D: SavableLayer {
    public static let typeName = "SeparableConv2D"
    public var config: LayerConfig {
        get throws {
            ["filters": .int(filters), "kernel_size": ConfigValue(kernelSize), "strides": ConfigValue(strides),
             "padding": .string(padding.rawValue), "depth_multiplier": .int(depthMultiplier),
             "dilation_rate": ConfigValue(dilationRate), "activation": try .activation(activation, layer: name), "use_bias": .bool(useBias)]
        }
    }
    public convenience init(config c: LayerConfig) throws {
        let (filters, kernel, strides, padding, dilation) = try c.conv(rank: 2, causal: false)
        self.init(filters, kernelSize: kernel, strides: strides, padding: padding,
                  depthMultiplier: try c.count("depth_multiplier", max: maxSavedAxisSize), dilationRate: dilation,
                  activation: try c.activation(), useBias: try c.bool("use_bias"), name: c.name)
    }
}

extension BasePooling {
    var poolingConfig: LayerConfig { ["pool_size": ConfigValue(poolSize), "strides": ConfigValue(strides), "padding": .string(padding.rawValue)] }
}

extension LayerConfig {
    fileprivate func pooling(rank: Int) throws -> (SpatialSize, SpatialSize, Padding) {
        (try size("pool_size", rank: rank), try size("strides", rank: rank), try padding(causal: false))
    }
}

extension MaxPooling1D: SavableLayer {
    public static let typeName = "MaxPooling1D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling(rank: 1)
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension MaxPooling2D: SavableLayer {
    public static let typeName = "MaxPooling2D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling(rank: 2)
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension MaxPooling3D: SavableLayer {
    public static let typeName = "MaxPooling3D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling(rank: 3)
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension AveragePooling1D: SavableLayer {
    public static let typeName = "AveragePooling1D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling(rank: 1)
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension AveragePooling2D: SavableLayer {
    public static let typeName = "AveragePooling2D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling(rank: 2)
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension AveragePooling3D: SavableLayer {
    public static let typeName = "AveragePooling3D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling(rank: 3)
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension GlobalAveragePooling1D: SavableLayer {
    public static let typeName = "GlobalAveragePooling1D"
    public var config: LayerConfig { ["keepdims": .bool(keepDims)] }
    public convenience init(config c: LayerConfig) throws { self.init(keepDims: try c.bool("keepdims"), name: c.name) }
}

extension GlobalAveragePooling2D: SavableLayer {
    public static let typeName = "GlobalAveragePooling2D"
    public var config: LayerConfig { ["keepdims": .bool(keepDims)] }
    public convenience init(config c: LayerConfig) throws { self.init(keepDims: try c.bool("keepdims"), name: c.name) }
}

extension GlobalMaxPooling1D: SavableLayer {
    public static let typeName = "GlobalMaxPooling1D"
    public var config: LayerConfig { ["keepdims": .bool(keepDims)] }
    public convenience init(config c: LayerConfig) throws { self.init(keepDims: try c.bool("keepdims"), name: c.name) }
}

extension GlobalMaxPooling2D: SavableLayer {
    public static let typeName = "GlobalMaxPooling2D"
    public var config: LayerConfig { ["keepdims": .bool(keepDims)] }
    public convenience init(config c: LayerConfig) throws { self.init(keepDims: try c.bool("keepdims"), name: c.name) }
}

extension UpSampling2D: SavableLayer {
    public static let typeName = "UpSampling2D"
    public var config: LayerConfig { ["size": ConfigValue(size)] }
    public convenience init(config c: LayerConfig) throws { self.init(size: try c.size("size", rank: 2), name: c.name) }
}

extension ZeroPadding2D: SavableLayer {
    public static let typeName = "ZeroPadding2D"
    public var config: LayerConfig { ["padding": pairsValue(padding)] }
    public convenience init(config c: LayerConfig) throws { self.init(padding: try c.pairs("padding"), name: c.name) }
}

extension Cropping2D: SavableLayer {
    public static let typeName = "Cropping2D"
    public var config: LayerConfig { ["cropping": pairsValue(cropping)] }
    public convenience init(config c: LayerConfig) throws { self.init(cropping: try c.pairs("cropping"), name: c.name) }
}

extension RNN {
    /// The arguments every recurrent layer saves (`recurrent_activation` where the cell has one).
    func recurrentConfig(activation: ActivationFunction, recurrentActivation: ActivationFunction?, useBias: Bool) throws -> LayerConfig {
        var c: LayerConfig = ["units": .int(cell.units), "activation": try .activation(activation, layer: name)]
        if let recurrentActivation { c["recurrent_activation"] = try .activation(recurrentActivation, layer: name) }
        c["use_bias"] = .bool(useBias)
        c["return_sequences"] = .bool(returnSequences)
        c["return_state"] = .bool(returnState)
        c["go_backwards"] = .bool(goBackwards)
        c["dropout"] = .double(dropout)
        c["recurrent_dropout"] = .double(recurrentDropout)
        c["seed"] = seedValue(seed)
        return c
    }
}

/// What every recurrent layer's config holds.
private struct RecurrentArguments {
    let units: Int, activation: ActivationFunction, recurrentActivation: ActivationFunction
    let useBias: Bool, sequences: Bool, state: Bool, backwards: Bool
    let dropout: Double, recurrentDropout: Double, seed: UInt64?
}

extension LayerConfig {
    fileprivate func recurrent() throws -> RecurrentArguments {
        RecurrentArguments(units: try count("units", max: maxSavedAxisSize), activation: try activation(),
                           recurrentActivation: self["recurrent_activation"] == nil ? .sigmoid : try activation("recurrent_activation"),
                           useBias: try bool("use_bias"), sequences: try bool("return_sequences"), state: try bool("return_state"),
                           backwards: try bool("go_backwards"),
                           // Configs saved before dropout was supported have none.
                           dropout: self["dropout"] == nil ? 0 : try double("dropout", from: 0, below: 1),
                           recurrentDropout: self["recurrent_dropout"] == nil ? 0 : try double("recurrent_dropout", from: 0, below: 1),
                           seed: try seed())
    }
}

extension SimpleRNN: SavableLayer {
    public static let typeName = "SimpleRNN"
    public var config: LayerConfig {
        get throws {
            let cell = self.cell as! SimpleRNNCell
            return try recurrentConfig(activation: cell.activation, recurrentActivation: nil, useBias: cell.useBias)
        }
    }
    public convenience init(config c: LayerConfig) throws {
        let r = try c.recurrent()
        self.init(r.units, activation: r.activation, useBias: r.useBias, returnSequences: r.sequences, returnState: r.state,
                  goBackwards: r.backwards, dropout: r.dropout, recurrentDropout: r.recurrentDropout, seed: r.seed, name: c.name)
    }
}

extension LSTM: SavableLayer {
    public static let typeName = "LSTM"
    public var config: LayerConfig {
        get throws {
            let cell = self.cell as! LSTMCell
            var c = try recurrentConfig(activation: cell.activation, recurrentActivation: cell.recurrentActivation, useBias: cell.useBias)
            c["unit_forget_bias"] = .bool(cell.unitForgetBias)
            return c
        }
    }
    public convenience init(config c: LayerConfig) throws {
        let r = try c.recurrent()
        self.init(r.units, activation: r.activation, recurrentActivation: r.recurrentActivation, useBias: r.useBias,
                  unitForgetBias: try c.bool("unit_forget_bias"), returnSequences: r.sequences, returnState: r.state,
                  goBackwards: r.backwards, dropout: r.dropout, recurrentDropout: r.recurrentDropout, seed: r.seed, name: c.name)
    }
}

extension GRU: SavableLayer {
    public static let typeName = "GRU"
    public var config: LayerConfig {
        get throws {
            let cell = self.cell as! GRUCell
            var c = try recurrentConfig(activation: cell.activation, recurrentActivation: cell.recurrentActivation, useBias: cell.useBias)
            c["reset_after"] = .bool(cell.resetAfter)
            return c
        }
    }
    public convenience init(config c: LayerConfig) throws {
        let r = try c.recurrent()
        self.init(r.units, activation: r.activation, recurrentActivation: r.recurrentActivation, useBias: r.useBias,
                  resetAfter: try c.bool("reset_after"), returnSequences: r.sequences, returnState: r.state,
                  goBackwards: r.backwards, dropout: r.dropout, recurrentDropout: r.recurrentDropout, seed: r.seed, name: c.name)
    }
}

extension LayerConfig {
    /// A positive integer of at most 2²⁴, or null.
    fileprivate func optionalCount(_ key: String) throws -> Int? {
        if case .null? = self[key] { return nil }
        return try count(key)
    }
}

extension MultiHeadAttention: SavableLayer {
    public static let typeName = "MultiHeadAttention"
    public var config: LayerConfig {
        ["num_heads": .int(numHeads), "key_dim": .int(keyDim), "value_dim": .int(valueDim), "dropout": .double(dropout),
         "use_bias": .bool(useBias), "output_shape": outputShape.map(ConfigValue.int) ?? .null]
    }
    public convenience init(config c: LayerConfig) throws {
        self.init(numHeads: try c.count("num_heads"), keyDim: try c.count("key_dim"), valueDim: try c.count("value_dim"),
                  dropout: try c.double("dropout", from: 0, below: 1), useBias: try c.bool("use_bias"),
                  outputShape: try c.optionalCount("output_shape"), name: c.name)
    }
}

// Attention and AdditiveAttention keep their saved forms in their class bodies
// (a subclass overrides them); the conformance is declared here.
extension Attention: SavableLayer {}

extension LayerConfig {
    /// The saved layer at `key`, decoded one level deeper.
    fileprivate func layer(_ key: String) throws -> Layer {
        guard let entry = self[key] else { throw bad(key, "a saved layer") }
        return try decodeLayer(entry, depth: depth + 1, budget: budget)
    }
}

extension Bidirectional: SavableLayer {
    public static let typeName = "Bidirectional"
    public var config: LayerConfig {
        get throws {
            ["layer": try encodeLayer(forwardLayer), "backward_layer": try encodeLayer(backwardLayer),
             "merge_mode": .string(mergeMode.rawValue)]
        }
    }
    public convenience init(config c: LayerConfig) throws {
        guard let forward = try c.layer("layer") as? RNN else { throw c.bad("layer", "a recurrent layer") }
        guard let backward = try c.layer("backward_layer") as? RNN else { throw c.bad("backward_layer", "a recurrent layer") }
        guard backward.goBackwards != forward.goBackwards, backward.returnSequences == forward.returnSequences,
              backward.returnState == forward.returnState else {
            throw c.bad("backward_layer", "a layer running the other way that returns what the forward layer returns")
        }
        guard let mode = MergeMode(rawValue: try c.string("merge_mode")) else { throw c.bad("merge_mode", "concat, sum, ave or mul") }
        self.init(forward, mergeMode: mode, backwardLayer: backward, name: c.name)
    }
}

extension TimeDistributed: SavableLayer {
    public static let typeName = "TimeDistributed"
    public var config: LayerConfig { get throws { ["layer": try encodeLayer(layer)] } }
    public convenience init(config c: LayerConfig) throws { self.init(try c.layer("layer"), name: c.name) }
}

extension ConvLSTM2D: SavableLayer {
    public static let typeName = "ConvLSTM2D"
    public var config: LayerConfig {
        get throws {
            ["filters": .int(filters), "kernel_size": ConfigValue(kernelSize), "strides": ConfigValue(strides),
             "padding": .string(padding.rawValue), "dilation_rate": ConfigValue(dilationRate),
             "activation": try .activation(activation, layer: name),
             "recurrent_activation": try .activation(recurrentActivation, layer: name), "use_bias": .bool(useBias),
             "unit_forget_bias": .bool(unitForgetBias), "return_sequences": .bool(returnSequences),
             "return_state": .bool(returnState), "go_backwards": .bool(goBackwards)]
        }
    }
    public convenience init(config c: LayerConfig) throws {
        let padding = try c.padding(causal: false)
        self.init(filters: try c.count("filters"), kernelSize: try c.size("kernel_size", rank: 2), strides: try c.size("strides", rank: 2),
                  padding: padding, dilationRate: try c.size("dilation_rate", rank: 2), activation: try c.activation(),
                  recurrentActivation: try c.activation("recurrent_activation"), useBias: try c.bool("use_bias"),
                  unitForgetBias: try c.bool("unit_forget_bias"), returnSequences: try c.bool("return_sequences"),
                  returnState: try c.bool("return_state"), goBackwards: try c.bool("go_backwards"), name: c.name)
    }
}
