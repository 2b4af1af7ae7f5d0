import XCTest
import Foundation
import DeepSwift
import DeepSwiftDistributed
import TestSupport

/// The README's Swift snippets, verbatim and in order, compiled and run here;
/// `testReadmeSnippetsAreTheseLines` checks that the README still shows exactly
/// these lines.
final class ReadmeSnippetTests: XCTestCase {
    func testReadmeWalkthroughRuns() throws {
        let x = Tensor([[5, 2], [1, 3]])
        print(x)
        // DeepSwift.Tensor(
        // [[5 2]
        //  [1 3]], shape=(2, 2), dtype=int32)
        print("dtype:", x.dtype)
        print("shape:", x.shape)
        let values = x.array(as: [[Int32]].self)
        let ones = Tensor.ones([2, 1])
        let zeros = Tensor.zeros([2, 1])
        let normal = Random.normal([2, 2], mean: 0, stddev: 1)
        let integers = Random.uniform([2, 2], min: 0, max: 10, dtype: .int32)

        let a = Variable(Random.normal([2, 2]))
        let newValue = Random.normal([2, 2])
        a.assign(newValue)
        let addedValue = Random.normal([2, 2])
        a.assignAdd(addedValue)
        for i in 0..<2 { for j in 0..<2 { precondition(a[i, j] == newValue[i, j] + addedValue[i, j]) } }

        let c = a + Random.normal([2, 2])
        let d = square(c)
        let e = exp(d)
        let m = matmul(c, d, transposeB: true)
        let columnSums = c.sum(axis: 0)
        let probabilities = softmax(c, axis: -1)

        let b = Random.normal([2, 2])
        let outerTape = GradientTape()
        let dcda = outerTape.record {
            let tape = GradientTape()
            return tape.record {
                let c = sqrt(square(a) + square(b))
                return tape.gradient(of: c, wrt: a)!
            }
        }
        let d2cda2 = outerTape.gradient(of: dcda, wrt: a)!

        final class Linear: Layer {
            let units: Int
            var w: Variable!
            var b: Variable!

            init(_ units: Int = 32) {
                self.units = units
                super.init()
            }

            override func build(inputShape: TensorShape) {
                w = addWeight(shape: [inputShape[inputShape.rank - 1], units], initializer: "random_normal")
                b = addWeight(shape: [units], initializer: "random_normal")
            }

            override func call(_ inputs: Tensor, training: Bool) -> Tensor {
                matmul(inputs, w) + b
            }
        }

        let linearLayer = Linear(4)
        let y = linearLayer(Tensor.ones([2, 2]))
        precondition(linearLayer.weights.count == 2)

        let (xTrain, yTrain) = (Random.uniform([256, 784]), Random.uniform([256], min: 0, max: 10, dtype: .int32))
        let dataset = Dataset.fromTensorSlices((xTrain, yTrain)).shuffle(bufferSize: 1024).batch(64)
        let model = Sequential {
            Dense(32, activation: .relu)
            Dense(32, activation: .relu)
            Dense(10)
        }
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true)
        let optimizer = Adam(learningRate: 1e-3)
        let accuracy = SparseCategoricalAccuracy()
        for (step, (x, y)) in dataset.enumerated() {
            let tape = GradientTape()
            let (loss, logits) = tape.record { () -> (Tensor, Tensor) in
                let logits = model(x)
                return (lossFn(y, logits), logits)
            }
            accuracy.updateState(y, logits)
            optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
            if step % 100 == 0 { print("Step:", step, "Loss:", loss.scalar(as: Float.self)) }
        }

        let trainOnBatch = compiled { (x: Tensor, y: Tensor) -> Tensor in
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, model(x)) }
            optimizer.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
            return loss
        }
        var lastLoss: Float = 0
        for (x, y) in dataset {
            lastLoss = trainOnBatch(x, y).scalar(as: Float.self)   // traced once, then replayed
        }
        XCTAssertEqual(trainOnBatch.traceCount, 1)
        XCTAssertTrue(lastLoss.isFinite)

        let tape = GradientTape()
        let loss = tape.record { lossFn(yTrain, model(xTrain)) }
        final class SignSGD: Optimizer {
            override func updateStep(gradient: Tensor, variable: Variable, state: inout [Tensor],
                                     learningRate: Double) {
                variable.assignSub(sign(gradient) * learningRate)
            }
        }
        let signSGD = SignSGD(learningRate: 0.01, clipValue: 1)
        signSGD.apply(tape.gradient(of: loss, wrt: model.trainableWeights), to: model.trainableWeights)
        XCTAssertEqual(signSGD.iterations, 1)

        Threading.intraOpThreads = 1   // every op on the calling thread
        let onOneThread = exp(Tensor.ones([100_000]))
        Threading.intraOpThreads = 0   // back to the default: every core
        XCTAssertEqual(onOneThread.scalars(as: Float.self), exp(Tensor.ones([100_000])).scalars(as: Float.self))
        XCTAssertEqual(Threading.intraOpThreads, min(ProcessInfo.processInfo.activeProcessorCount, 16))

        let inputs = Input(shape: [784])
        let hidden = Dense(64, activation: .relu)(inputs)
        let outputs = Dense(10)(hidden)
        let classifier = Model(inputs: inputs, outputs: outputs)
        classifier.compile(optimizer: Adam(learningRate: 1e-3),
                           loss: SparseCategoricalCrossentropy(fromLogits: true),
                           metrics: [SparseCategoricalAccuracy()])
        let history = try classifier.fit(x: xTrain, y: yTrain, batchSize: 32, epochs: 2, verbose: 0, validationSplit: 0.2)
        let lossPerEpoch = history.history["loss"]!
        try classifier.saveWeights(to: NSTemporaryDirectory() + "classifier.safetensors")
        let savedPath = NSTemporaryDirectory() + "classifier.model"
        try classifier.save(to: savedPath)
        let restored = try loadModel(from: savedPath)
        XCTAssertEqual(try restored.predict(xTrain), try classifier.predict(xTrain))

        let convnet = Sequential([
            Conv2D(32, kernelSize: 3, activation: .relu),
            MaxPooling2D(poolSize: 2),
            Conv2D(64, kernelSize: 3, activation: .relu),
            MaxPooling2D(poolSize: 2),
            Flatten(),
            Dropout(0.5),
            Dense(10),
        ], inputShape: [28, 28, 1])
        convnet.compile(optimizer: Adam(learningRate: 1e-3),
                        loss: SparseCategoricalCrossentropy(fromLogits: true),
                        metrics: [SparseCategoricalAccuracy()])
        let images = xTrain.reshaped(to: [-1, 28, 28, 1])   // NHWC, as Keras
        try convnet.fit(x: images, y: yTrain, batchSize: 128, epochs: 1, verbose: 0)
        let testLogs = try convnet.evaluate(x: images, y: yTrain, batchSize: 128)
        print("test accuracy:", testLogs["sparse_categorical_accuracy"]!)

        let mats = Random.normal([4, 3, 3], dtype: .float64)
        let spd = matmul(mats, mats, transposeB: true) + Tensor.eye(3, dtype: .float64)
        let l = cholesky(spd)                                  // spd = l·lᵀ
        let (detSign, logAbsDet) = logDeterminant(spd)         // detSign·exp(logAbsDet) = det
        let (s, u, v) = svd(mats)                              // mats = u·diag(s)·vᵀ
        let scores = einsum("bij,bkj->bik", mats, mats)        // mats·matsᵀ, batched
        assertClose(matmul(l, l, transposeB: true), spd, tolerance: 1e-12)
        assertClose(detSign * exp(logAbsDet), determinant(spd), tolerance: 1e-12)
        assertClose(matmul(u * s.reshaped(to: [4, 1, 3]), v, transposeB: true), mats, tolerance: 1e-12)
        assertClose(scores, spd - Tensor.eye(3, dtype: .float64), tolerance: 1e-12)

        // Without mpirun: a world of one.
        let (pixels, digits) = (xTrain[..<256], yTrain[..<256])
        let strategy = try DataParallel()   // rank and size from mpirun; a world of one without it
        let worker = Sequential([Dense(64, activation: .relu), Dense(10)], inputShape: [784])
        worker.compile(optimizer: Adam(learningRate: 1e-3), loss: SparseCategoricalCrossentropy(fromLogits: true))
        try worker.fit(x: pixels, y: digits, batchSize: 64, epochs: 1, verbose: 0, distribution: strategy)

        let averaging = DistributedOptimizer(wrapping: SGD(learningRate: .constant(0.01 * Double(Distributed.size))))
        Distributed.broadcastVariables(worker.weights)   // every process starts from rank 0's weights
        let myPart = Dataset.fromTensorSlices((pixels, digits)).shard(count: Distributed.size, index: Distributed.rank)
        XCTAssertEqual(worker.optimizer!.iterations, 4)
        XCTAssertTrue(averaging.gradientAggregator is FusedGradientAverage)
        XCTAssertEqual(myPart.cardinality, 256)

        XCTAssertEqual(values, [[5, 2], [1, 3]])
        XCTAssertEqual(y.shape, [2, 4])
        XCTAssertEqual(d2cda2.shape, [2, 2])
        XCTAssertEqual(lossPerEpoch.count, 2)
        XCTAssertEqual(convnet.countParams(), 34826)
        XCTAssertEqual(testLogs.entries.map(\.0), ["loss", "sparse_categorical_accuracy"])
        _ = (ones, zeros, normal, integers, e, m, columnSums, probabilities, outputs)
    }

    func testReadmeSnippetsAreTheseLines() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let sourceLines = source.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let blocks = readme.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        XCTAssertGreaterThanOrEqual(blocks.count, 7)
        for block in blocks where !block.hasPrefix("// Package.swift") {
            let lines = block.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let found = sourceLines.indices.contains { start in
                var i = start
                for line in lines {
                    while i < sourceLines.count && sourceLines[i].isEmpty { i += 1 }
                    guard i < sourceLines.count, sourceLines[i] == line else { return false }
                    i += 1
                }
                return true
            }
            XCTAssertTrue(found, "README snippet not in the compiled tests:\n\(block)")
        }
    }
}
