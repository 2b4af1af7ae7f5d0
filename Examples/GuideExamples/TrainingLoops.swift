import DeepSwift

/// The guide's low-level training loops: layer gradients, losses from layers,
/// metrics, and the "compiled" step.
public enum TrainingLoops {
    /// `Linear(10)` trained for an epoch with SGD(1e-3); returns the logged losses.
    @discardableResult
    public static func layerGradients(_ o: GuideOptions) throws -> [Double] {
        let (x, y) = try o.trainingData()
        let dataset = Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 1024).batch(64)
        let linearLayer = Linear(10)
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        let optimizer = SGD(learningRate: 1e-3)
        var logged: [Double] = []
        for (step, (x, y)) in dataset.enumerated() {
            if let steps = o.steps, step >= steps { break }
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, linearLayer(x)) }
            let gradients = tape.gradient(of: loss, wrt: linearLayer.trainableWeights)
            optimizer.apply(gradients, to: linearLayer.trainableWeights)
            if step % 100 == 0 {
                logged.append(Double(loss.scalar(as: Float.self)))
                o.log("Step: \(step) Loss: \(Double(loss.scalar(as: Float.self)))")
            }
        }
        return logged
    }

    /// SparseMLP trained with its regularization losses added; returns the logged losses.
    @discardableResult
    public static func addLossTraining(_ o: GuideOptions) throws -> [Double] {
        let (x, y) = try o.trainingData()
        let dataset = Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 1024).batch(64)
        let mlp = SparseMLP()
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        let optimizer = SGD(learningRate: 1e-3)
        var logged: [Double] = []
        for (step, (x, y)) in dataset.enumerated() {
            if let steps = o.steps, step >= steps { break }
            let tape = GradientTape()
            let loss = tape.record { () -> Tensor in
                let logits = mlp(x)
                return mlp.losses.reduce(lossFn(y, logits), +)
            }
            optimizer.apply(tape.gradient(of: loss, wrt: mlp.trainableWeights), to: mlp.trainableWeights)
            if step % 100 == 0 {
                logged.append(Double(loss.scalar(as: Float.self)))
                o.log("Step: \(step) Loss: \(Double(loss.scalar(as: Float.self)))")
            }
        }
        return logged
    }

    /// An MLP trained for two epochs while a SparseCategoricalAccuracy metric runs;
    /// returns each epoch's final running accuracy.
    @discardableResult
    public static func metrics(_ o: GuideOptions) throws -> [Double] {
        let (x, y) = try o.trainingData()
        let dataset = Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 1024).batch(64)
        let accuracy = SparseCategoricalAccuracy()
        let model = Sequential {
            Dense(32, activation: .relu)
            Dense(32, activation: .relu)
            Dense(10)
        }
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        let optimizer = Adam(learningRate: 1e-3)
        var finals: [Double] = []
        for epoch in 0..<(o.epochs ?? 2) {
            for (step, (x, y)) in dataset.enumerated() {
                if let steps = o.steps, step >= steps { break }
                let tape = GradientTape()
                let (loss, logits) = tape.record { () -> (Tensor, Tensor) in
                    let logits = model(x)
                    return (lossFn(y, logits), logits)
                }
                accuracy.updateState(y, logits)
                optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
                if step % 200 == 0 {
                    o.log("Epoch: \(epoch) Step: \(step)")
                    o.log("Total running accuracy so far: \(String(format: "%.3f", accuracy.result().scalar(as: Float.self)))")
                }
            }
            finals.append(Double(accuracy.result().scalar(as: Float.self)))
            accuracy.resetStates()
        }
        return finals
    }

    /// The guide's `@tf.function` training step: traced on the first batch, then
    /// replayed as a planned graph (a short last batch traces once more).
    @discardableResult
    public static func compiledStep(_ o: GuideOptions) throws -> [Double] {
        let model = Sequential {
            Dense(32, activation: .relu)
            Dense(32, activation: .relu)
            Dense(10)
        }
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        let optimizer = Adam(learningRate: 1e-3)
        let trainOnBatch = compiled(name: "train_on_batch") { (x: Tensor, y: Tensor) -> Tensor in
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, model(x)) }
            optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
            return loss
        }
        let (x, y) = try o.trainingData()
        let dataset = Dataset.fromTensorSlices((x, y)).shuffle(bufferSize: 1024).batch(64)
        var logged: [Double] = []
        for (step, (x, y)) in dataset.enumerated() {
            if let steps = o.steps, step >= steps { break }
            let loss = trainOnBatch(x, y)
            if step % 100 == 0 {
                logged.append(Double(loss.scalar(as: Float.self)))
                o.log("Step: \(step) Loss: \(Double(loss.scalar(as: Float.self)))")
            }
        }
        return logged
    }
}
