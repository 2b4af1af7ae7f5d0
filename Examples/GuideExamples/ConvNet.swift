import DeepSwift

/// An extra part after the guide: the Keras MNIST convnet
/// (keras.io/examples/vision/mnist_convnet) on Fashion-MNIST, trained with `fit`.
public enum ConvNetExample {
    /// Conv2D(32, 3, relu) → MaxPooling2D(2) → Conv2D(64, 3, relu) →
    /// MaxPooling2D(2) → Flatten → Dropout(0.5) → Dense(10) logits, for 28×28×1 images.
    public static func makeModel() -> Sequential {
        Sequential([
            Conv2D(32, kernelSize: 3, activation: .relu),
            MaxPooling2D(poolSize: 2),
            Conv2D(64, kernelSize: 3, activation: .relu),
            MaxPooling2D(poolSize: 2),
            Flatten(),
            Dropout(0.5),
            Dense(10),
        ], inputShape: [28, 28, 1], name: "convnet")
    }

    /// Trains for `--epochs` (default 3) epochs of batches of 128 with Adam(1e-3)
    /// and prints the test accuracy from `evaluate`; returns it.
    @discardableResult
    public static func run(_ o: GuideOptions) throws -> Double {
        let (xTrain, yTrain) = try o.trainingData()
        let (xTest, yTest) = try o.testData()
        let images = xTrain.reshaped(to: [-1, 28, 28, 1]), testImages = xTest.reshaped(to: [-1, 28, 28, 1])
        let model = makeModel()
        model.summary { o.log($0) }
        model.compile(optimizer: Adam(learningRate: 1e-3), loss: SparseCategoricalCrossentropy(fromLogits: true),
                      metrics: [SparseCategoricalAccuracy()])
        let epochs = o.epochs ?? 3
        let history = try model.fit(x: images, y: yTrain, batchSize: 128, epochs: epochs, verbose: o.steps == nil ? 1 : 0)
        o.histories?.record("ConvNet", history)
        let logs = try model.evaluate(x: testImages, y: yTest, batchSize: 128)
        let accuracy = logs["sparse_categorical_accuracy"] ?? logs["accuracy"] ?? .nan
        o.log("Trained \(epochs) epochs (final loss \(history.history["loss"]!.last!)); test accuracy: \(accuracy)")
        return accuracy
    }
}
