import DeepSwift

/// The guide's hypernetwork: a small network generates, for every example, the
/// weights of a larger one.
public final class Hypernetwork {
    public let inputDim = 784, classes = 10, hidden = 64
    /// The model that predicts labels, with weights it does not own.
    public let outerModel: Sequential
    public let outerDense1: Dense, outerDense2: Dense
    /// The model that generates `outerModel`'s weights.
    public let innerModel: Sequential
    public let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
    public let optimizer = Adam(learningRate: 1e-4)

    public init() {
        outerDense1 = Dense(hidden, activation: .relu)
        outerDense2 = Dense(classes)
        outerModel = Sequential([outerDense1, outerDense2])
        // It doesn't need weights of its own: mark its layers built.
        for layer in outerModel.layers { layer.markBuilt() }
        let numWeightsToGenerate = (classes * hidden + classes) + (hidden * inputDim + hidden)
        innerModel = Sequential {
            Dense(16, activation: .relu)
            Dense(numWeightsToGenerate, activation: .sigmoid)
        }
    }

    /// One step: generate the weights, run the outer model, train the inner one.
    public func trainStep(_ x: Tensor, _ y: Tensor) -> Tensor {
        let tape = GradientTape()
        let loss = tape.record { () -> Tensor in
            let weightsPred = innerModel(x)
            var start = 0
            func take(_ shape: [Int]) -> Tensor {
                let n = shape.reduce(1, *)
                defer { start += n }
                return weightsPred[.all, start..<(start + n)].reshaped(to: TensorShape(shape))
            }
            outerDense1.kernel = take([inputDim, hidden])
            outerDense1.bias = take([hidden])
            outerDense2.kernel = take([hidden, classes])
            outerDense2.bias = take([classes])
            return lossFn(y, outerModel(x))
        }
        optimizer.apply(tape.gradient(of: loss, wrt: innerModel.trainableWeights), to: innerModel.trainableWeights)
        return loss
    }

    /// 1,000 steps with batch 1; returns the running mean losses logged every 100 steps.
    @discardableResult
    public static func run(_ o: GuideOptions) throws -> [Double] {
        let net = Hypernetwork()
        let (x, y) = try o.trainingData()
        let dataset = Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 1024).batch(1)
        // The guide's `@tf.function def train_step(x, y)`.
        let trainStep = compiled(name: "train_step") { (x: Tensor, y: Tensor) -> Tensor in net.trainStep(x, y) }
        var losses: [Double] = []
        var logged: [Double] = []
        let lastStep = o.steps ?? 1000
        for (step, (x, y)) in dataset.repeat().enumerated() {
            losses.append(Double(trainStep(x, y).scalar(as: Float.self)))
            if step % 100 == 0 || step == lastStep {
                let mean = losses.reduce(0, +) / Double(losses.count)
                logged.append(mean)
                o.log("Step: \(step) Loss: \(mean)")
            }
            if step >= lastStep { break }
        }
        return logged
    }
}
