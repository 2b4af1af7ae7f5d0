/// Applies an activation function, as `keras.layers.Activation`.
public final class Activation: Layer {
    /// Passes the input's mask on (the steps are kept).
    public override var supportsMasking: Bool { true }
    public let activation: ActivationFunction

    public init(_ activation: ActivationFunction, name: String? = nil) {
        self.activation = activation
        super.init(name: name)
        markBuilt()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor { activation(inputs) }
}

/// Flattens every example to one axis: (batch, a, b, ...) → (batch, a·b·...).
public final class Flatten: Layer {
    public override init(name: String? = nil) {
        super.init(name: name)
        markBuilt()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        inputs.reshaped(to: [inputs.rank == 0 ? 1 : inputs.shape[0], -1])
    }
}

/// Reshapes every example to `targetShape` (one entry may be -1), keeping the batch axis.
public final class Reshape: Layer {
    public let targetShape: [Int]

    public init(_ targetShape: [Int], name: String? = nil) {
        self.targetShape = targetShape
        super.init(name: name)
        markBuilt()
    }

    /// A batch axis and as many elements per example as `targetShape` holds.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        let shape = shapes[0]
        guard shape.rank >= 1 else { return problemPrefix + "the input needs a batch axis, got shape \(shape)" }
        let count = shape.dimensions.dropFirst().reduce(1, *), known = saturatingProduct(targetShape.filter { $0 != -1 })
        let fits = targetShape.contains(-1) ? known > 0 && count % known == 0 : known == count
        return fits ? nil : problemPrefix + "cannot reshape examples of shape \(Array(shape.dimensions.dropFirst())) (\(count) elements) to \(targetShape)"
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        inputs.reshaped(to: TensorShape([inputs.shape[0]] + targetShape))
    }
}

/// Maps integer ids to learned vectors, as `keras.layers.Embedding`:
/// (batch, ...) ids → (batch, ..., outputDim).
///
/// With `maskZero`, id 0 is padding: the output carries a mask (ids ≠ 0) that
/// recurrent layers, attention, pooling and losses honour (see
/// ``propagatedMask(of:)``).
public final class Embedding: Layer {
    public let inputDim: Int
    public let outputDim: Int
    /// Whether id 0 marks padding that the layers after it skip.
    public let maskZero: Bool
    public private(set) var embeddings: Variable!

    /// - Parameters:
    ///   - inputDim: the number of ids.
    ///   - outputDim: the size of each vector.
    ///   - embeddingsInitializer: uniform in ±0.05 by default, as Keras.
    ///   - maskZero: whether id 0 is padding, masked for the layers after.
    ///   - name: the layer's name.
    public init(inputDim: Int, outputDim: Int, embeddingsInitializer: Initializer = .randomUniform(), maskZero: Bool = false,
                name: String? = nil) {
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.maskZero = maskZero
        super.init(name: name)
        embeddings = addWeight(name: "embeddings", shape: [inputDim, outputDim], initializer: embeddingsInitializer)
        markBuilt()
    }

    /// Integer ids.
    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        dtypes[0] == .int32 || dtypes[0] == .int64 ? nil : problemPrefix + "ids must be int32 or int64, got \(dtypes[0])"
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        embeddings.value.gathering(atIndices: inputs)
    }

    public override var createsMask: Bool { maskZero }

    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) -> [Tensor?] {
        [maskZero ? inputs[0] .!= Tensor(0, dtype: inputs[0].dtype) : nil]
    }
}

/// Passes its input through and adds `l1·Σ|x| + l2·Σx²` of it to the losses,
/// as `keras.layers.ActivityRegularization`.
public final class ActivityRegularization: Layer {
    public let l1: Double
    public let l2: Double

    public init(l1: Double = 0, l2: Double = 0, name: String? = nil) {
        self.l1 = l1
        self.l2 = l2
        super.init(name: name)
        markBuilt()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        addLoss(abs(inputs).sum() * l1 + square(inputs).sum() * l2)
        return inputs
    }
}
