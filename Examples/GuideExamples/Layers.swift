import DeepSwift

/// y = w·x + b, weights created in `init` (the guide's first `Linear`).
public final class EagerLinear: Layer {
    public let w: Variable
    public let b: Variable

    public init(units: Int = 32, inputDim: Int = 32) {
        w = Variable(Initializer.randomNormal()([inputDim, units]))
        b = Variable(Tensor.zeros([units]))
        super.init()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor { matmul(inputs, w) + b }
}

/// y = w·x + b, weights created in `build` once the input size is known.
public final class Linear: Layer {
    public let units: Int
    public private(set) var w: Variable!
    public private(set) var b: Variable!

    public init(_ units: Int = 32) {
        self.units = units
        super.init()
    }

    public override func build(inputShape: TensorShape) {
        w = addWeight(shape: [inputShape[inputShape.rank - 1], units], initializer: "random_normal", trainable: true)
        b = addWeight(shape: [units], initializer: "random_normal", trainable: true)
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor { matmul(inputs, w) + b }
}

/// Returns the running sum of its inputs, kept in a non-trainable weight.
public final class ComputeSum: Layer {
    public let total: Variable

    public init(inputDim: Int) {
        total = Variable(Tensor.zeros([inputDim]), trainable: false)
        super.init()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        total.assignAdd(inputs.sum(axis: 0))
        return total.value
    }
}

/// A simple stack of Linear layers.
public final class MLP: Layer {
    let linear1 = Linear(32), linear2 = Linear(32), linear3 = Linear(10)

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        var x = relu(linear1(inputs))
        x = relu(linear2(x))
        return linear3(x)
    }
}

/// The guide's own activity regularization: adds `rate · Σ inputs` to the losses.
public final class RateActivityRegularization: Layer {
    public let rate: Double

    public init(_ rate: Double = 1e-2) {
        self.rate = rate
        super.init()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        addLoss(inputs.sum() * rate)
        return inputs
    }
}

/// Linear layers with a sparsity regularization loss between them.
public final class SparseMLP: Layer {
    let linear1 = Linear(32), regularization = RateActivityRegularization(1e-2), linear3 = Linear(10)

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        linear3(regularization(relu(linear1(inputs))))
    }
}

/// The guide's own dropout layer: active only when training.
public final class GuideDropout: Layer {
    public let rate: Double

    public init(_ rate: Double) {
        self.rate = rate
        super.init()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        guard training else { return inputs }
        let keep = (Random.uniform(inputs.shape) .>= Tensor(Float(rate))).cast(to: inputs.dtype)
        return inputs * keep / (1 - rate)
    }
}

public final class MLPWithDropout: Layer {
    let linear1 = Linear(32), dropout = GuideDropout(0.5), linear3 = Linear(10)

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        linear3(dropout(relu(linear1(inputs)), training: training))
    }
}

/// The guide's sections on layers: creation, weights, nesting, losses, training mode.
public enum LayerParts {
    public static func linearLayer(_ o: GuideOptions) {
        let eager = EagerLinear(units: 4, inputDim: 2)
        let y = eager(Tensor.ones([2, 2]))
        precondition(y.shape == [2, 4])
        precondition(eager.weights.elementsEqual([eager.w, eager.b], by: ===))
        let lazy = Linear(4)
        let z = lazy(Tensor.ones([2, 2]))
        o.log("Linear(4) on ones((2, 2)): shape \(z.shape), weights \(lazy.weights.map(\.shape))")
    }

    public static func trainableWeights(_ o: GuideOptions) {
        let mySum = ComputeSum(inputDim: 2)
        let x = Tensor.ones([2, 2])
        o.log(mySum(x).valuesDescription)   // [2. 2.]
        o.log(mySum(x).valuesDescription)   // [4. 4.]
        precondition(mySum.weights.elementsEqual([mySum.total], by: ===))
        precondition(mySum.nonTrainableWeights.elementsEqual([mySum.total], by: ===))
        precondition(mySum.trainableWeights.isEmpty)
    }

    public static func layersThatOwnLayers(_ o: GuideOptions) {
        let mlp = MLP()
        _ = mlp(Tensor.ones([3, 64]))
        precondition(mlp.weights.count == 6)
        let sequential = Sequential {
            Dense(32, activation: .relu)
            Dense(32, activation: .relu)
            Dense(10)
        }
        _ = sequential(Tensor.ones([3, 64]))
        o.log("MLP weights: \(mlp.weights.count); the same as Sequential: \(sequential.weights.count)")
    }

    public static func addLoss(_ o: GuideOptions) {
        let mlp = SparseMLP()
        _ = mlp(Tensor.ones([10, 10]))
        o.log("\(mlp.losses)")
        precondition(mlp.losses.count == 1)
        _ = mlp(Tensor.ones([10, 10]))
        precondition(mlp.losses.count == 1, "no accumulation")
    }

    @discardableResult
    public static func trainingMode(_ o: GuideOptions) -> (Tensor, Tensor) {
        let mlp = MLPWithDropout()
        let yTrain = mlp(Tensor.ones([2, 2]), training: true)
        let yTest = mlp(Tensor.ones([2, 2]), training: false)
        o.log("training: \(yTrain.valuesDescription)\ninference: \(yTest.valuesDescription)")
        return (yTrain, yTest)
    }

    /// The functional model of the guide; returns it for checks.
    @discardableResult
    public static func functionalAPI(_ o: GuideOptions) -> Model {
        let inputs = Input(shape: [16], dtype: .float32)
        var x = Linear(32)(inputs)
        x = GuideDropout(0.5)(x)
        let outputs = Linear(10)(x)
        let model = Model(inputs: inputs, outputs: outputs)
        precondition(model.weights.count == 4, "a functional model has its weights before any call")
        let y = model(Tensor.ones([2, 16]))
        precondition(y.shape == [2, 10])
        _ = model(Tensor.ones([2, 16]), training: true)
        model.summary(printTo: o.log)
        return model
    }
}
