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
    GlobalMaxPooling2D.self, UpSampling2D.self, ZeroPadding2D.self, Cropping2D.self,
] as [any SavableLayer.Type]).map { ($0.typeName, $0) })

extension LayerConfig {
    fileprivate func size(_ key: String) throws -> SpatialSize { SpatialSize(try ints(key)) }
    fileprivate func pairs(_ key: String) throws -> ((Int, Int), (Int, Int)) {
        let v = try ints(key)
        guard v.count == 4 else { throw bad(key, "[[top, bottom], [left, right]] as 4 integers") }
        return ((v[0], v[1]), (v[2], v[3]))
    }
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
        self.init(try c.int("units"), activation: try c.activation(), useBias: try c.bool("use_bias"),
                  kernelRegularizer: try c.regularizer("kernel_regularizer"), biasRegularizer: try c.regularizer("bias_regularizer"),
                  activityRegularizer: try c.regularizer("activity_regularizer"), name: c.name)
    }
}

extension Dropout: SavableLayer {
    public static let typeName = "Dropout"
    public var config: LayerConfig {
        ["rate": .double(rate), "noise_shape": noiseShape.map { .array($0.map { $0.map(ConfigValue.int) ?? .null }) } ?? .null]
    }
    public convenience init(config c: LayerConfig) throws {
        var shape: [Int?]?
        if case .array(let items)? = c["noise_shape"] {
            shape = try items.map {
                switch $0 {
                case .null: return nil
                case .int(let v): return v
                default: throw c.bad("noise_shape", "null or an array of integers and nulls")
                }
            }
        }
        self.init(try c.double("rate"), noiseShape: shape, name: c.name)
    }
}

extension SpatialDropout1D: SavableLayer {
    public static let typeName = "SpatialDropout1D"
    public var config: LayerConfig { ["rate": .double(rate)] }
    public convenience init(config c: LayerConfig) throws { self.init(try c.double("rate"), name: c.name) }
}

extension SpatialDropout2D: SavableLayer {
    public static let typeName = "SpatialDropout2D"
    public var config: LayerConfig { ["rate": .double(rate)] }
    public convenience init(config c: LayerConfig) throws { self.init(try c.double("rate"), name: c.name) }
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
    public convenience init(config c: LayerConfig) throws { self.init(try c.ints("target_shape"), name: c.name) }
}

extension Embedding: SavableLayer {
    public static let typeName = "Embedding"
    public var config: LayerConfig { ["input_dim": .int(inputDim), "output_dim": .int(outputDim)] }
    public convenience init(config c: LayerConfig) throws {
        self.init(inputDim: try c.int("input_dim"), outputDim: try c.int("output_dim"), name: c.name)
    }
}

extension ActivityRegularization: SavableLayer {
    public static let typeName = "ActivityRegularization"
    public var config: LayerConfig { ["l1": .double(l1), "l2": .double(l2)] }
    public convenience init(config c: LayerConfig) throws { self.init(l1: try c.double("l1"), l2: try c.double("l2"), name: c.name) }
}

extension BatchNormalization: SavableLayer {
    public static let typeName = "BatchNormalization"
    public var config: LayerConfig {
        ["axis": .int(axis), "momentum": .double(momentum), "epsilon": .double(epsilon), "center": .bool(center), "scale": .bool(scale)]
    }
    public convenience init(config c: LayerConfig) throws {
        self.init(axis: try c.int("axis"), momentum: try c.double("momentum"), epsilon: try c.double("epsilon"),
                  center: try c.bool("center"), scale: try c.bool("scale"), name: c.name)
    }
}

extension LayerNormalization: SavableLayer {
    public static let typeName = "LayerNormalization"
    public var config: LayerConfig { ["axis": .int(axis), "epsilon": .double(epsilon), "center": .bool(center), "scale": .bool(scale)] }
    public convenience init(config c: LayerConfig) throws {
        self.init(axis: try c.int("axis"), epsilon: try c.double("epsilon"), center: try c.bool("center"), scale: try c.bool("scale"),
                  name: c.name)
    }
}

extension Normalization: SavableLayer {
    public static let typeName = "Normalization"
    public var config: LayerConfig { ["axis": axis.map(ConfigValue.int) ?? .null, "invert": .bool(invert)] }
    public convenience init(config c: LayerConfig) throws {
        self.init(axis: try c.optional("axis", c.int), invert: try c.bool("invert"), name: c.name)
    }
}

extension Softmax: SavableLayer {
    public static let typeName = "Softmax"
    public var config: LayerConfig { ["axis": .int(axis)] }
    public convenience init(config c: LayerConfig) throws { self.init(axis: try c.int("axis"), name: c.name) }
}

extension ReLU: SavableLayer {
    public static let typeName = "ReLU"
    public var config: LayerConfig {
        ["max_value": maxValue.map(ConfigValue.double) ?? .null, "negative_slope": .double(negativeSlope), "threshold": .double(threshold)]
    }
    public convenience init(config c: LayerConfig) throws {
        self.init(maxValue: try c.optional("max_value", c.double), negativeSlope: try c.double("negative_slope"),
                  threshold: try c.double("threshold"), name: c.name)
    }
}

extension LeakyReLU: SavableLayer {
    public static let typeName = "LeakyReLU"
    public var config: LayerConfig { ["negative_slope": .double(negativeSlope)] }
    public convenience init(config c: LayerConfig) throws { self.init(negativeSlope: try c.double("negative_slope"), name: c.name) }
}

extension ELU: SavableLayer {
    public static let typeName = "ELU"
    public var config: LayerConfig { ["alpha": .double(alpha)] }
    public convenience init(config c: LayerConfig) throws { self.init(alpha: try c.double("alpha"), name: c.name) }
}

extension PReLU: SavableLayer {
    public static let typeName = "PReLU"
    public var config: LayerConfig { ["shared_axes": ConfigValue(sharedAxes)] }
    public convenience init(config c: LayerConfig) throws { self.init(sharedAxes: try c.ints("shared_axes"), name: c.name) }
}

extension Rescaling: SavableLayer {
    public static let typeName = "Rescaling"
    public var config: LayerConfig { ["scale": .double(scale), "offset": .double(offset)] }
    public convenience init(config c: LayerConfig) throws { self.init(scale: try c.double("scale"), offset: try c.double("offset"), name: c.name) }
}

extension RepeatVector: SavableLayer {
    public static let typeName = "RepeatVector"
    public var config: LayerConfig { ["n": .int(n)] }
    public convenience init(config c: LayerConfig) throws { self.init(try c.int("n"), name: c.name) }
}

extension Permute: SavableLayer {
    public static let typeName = "Permute"
    public var config: LayerConfig { ["dims": ConfigValue(dims)] }
    public convenience init(config c: LayerConfig) throws { self.init(try c.ints("dims"), name: c.name) }
}

extension GaussianNoise: SavableLayer {
    public static let typeName = "GaussianNoise"
    public var config: LayerConfig { ["stddev": .double(stddev)] }
    public convenience init(config c: LayerConfig) throws { self.init(stddev: try c.double("stddev"), name: c.name) }
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
    public convenience init(config c: LayerConfig) throws { self.init(axis: try c.int("axis"), name: c.name) }
}

extension Dot: SavableLayer {
    public static let typeName = "Dot"
    public var config: LayerConfig { ["axes": ConfigValue(axes), "normalize": .bool(normalize)] }
    public convenience init(config c: LayerConfig) throws { self.init(axes: try c.ints("axes"), normalize: try c.bool("normalize"), name: c.name) }
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
        self.init(try c.int("filters"), kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  dilationRate: try c.size("dilation_rate"), groups: try c.int("groups"), activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), activityRegularizer: try c.regularizer("activity_regularizer"),
                  name: c.name)
    }
}

extension Conv2D: SavableLayer {
    public static let typeName = "Conv2D"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        self.init(try c.int("filters"), kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  dilationRate: try c.size("dilation_rate"), groups: try c.int("groups"), activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), activityRegularizer: try c.regularizer("activity_regularizer"),
                  name: c.name)
    }
}

extension Conv3D: SavableLayer {
    public static let typeName = "Conv3D"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        self.init(try c.int("filters"), kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  dilationRate: try c.size("dilation_rate"), groups: try c.int("groups"), activation: try c.activation(),
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
    fileprivate func outputPadding() throws -> SpatialSize? { try optional("output_padding", ints).map(SpatialSize.init) }
}

extension Conv1DTranspose: SavableLayer {
    public static let typeName = "Conv1DTranspose"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        self.init(try c.int("filters"), kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  outputPadding: try c.outputPadding(), dilationRate: try c.size("dilation_rate"), activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), name: c.name)
    }
}

extension Conv2DTranspose: SavableLayer {
    public static let typeName = "Conv2DTranspose"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        self.init(try c.int("filters"), kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  outputPadding: try c.outputPadding(), dilationRate: try c.size("dilation_rate"), activation: try c.activation(),
                  useBias: try c.bool("use_bias"), kernelRegularizer: try c.regularizer("kernel_regularizer"),
                  biasRegularizer: try c.regularizer("bias_regularizer"), name: c.name)
    }
}

extension Conv3DTranspose: SavableLayer {
    public static let typeName = "Conv3DTranspose"
    public var config: LayerConfig { get throws { try convConfig } }
    public convenience init(config c: LayerConfig) throws {
        self.init(try c.int("filters"), kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  outputPadding: try c.outputPadding(), dilationRate: try c.size("dilation_rate"), activation: try c.activation(),
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
        self.init(kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  depthMultiplier: try c.int("depth_multiplier"), dilationRate: try c.size("dilation_rate"),
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
        self.init(try c.int("filters"), kernelSize: try c.size("kernel_size"), strides: try c.size("strides"), padding: try c.padding(),
                  depthMultiplier: try c.int("depth_multiplier"), dilationRate: try c.size("dilation_rate"),
                  activation: try c.activation(), useBias: try c.bool("use_bias"), name: c.name)
    }
}

extension BasePooling {
    var poolingConfig: LayerConfig { ["pool_size": ConfigValue(poolSize), "strides": ConfigValue(strides), "padding": .string(padding.rawValue)] }
}

extension LayerConfig {
    fileprivate func pooling() throws -> (SpatialSize, SpatialSize, Padding) { (try size("pool_size"), try size("strides"), try padding()) }
}

extension MaxPooling1D: SavableLayer {
    public static let typeName = "MaxPooling1D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling()
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension MaxPooling2D: SavableLayer {
    public static let typeName = "MaxPooling2D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling()
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension MaxPooling3D: SavableLayer {
    public static let typeName = "MaxPooling3D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling()
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension AveragePooling1D: SavableLayer {
    public static let typeName = "AveragePooling1D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling()
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension AveragePooling2D: SavableLayer {
    public static let typeName = "AveragePooling2D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling()
        self.init(poolSize: p, strides: s, padding: pad, name: c.name)
    }
}

extension AveragePooling3D: SavableLayer {
    public static let typeName = "AveragePooling3D"
    public var config: LayerConfig { poolingConfig }
    public convenience init(config c: LayerConfig) throws {
        let (p, s, pad) = try c.pooling()
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
    public convenience init(config c: LayerConfig) throws { self.init(size: try c.size("size"), name: c.name) }
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
