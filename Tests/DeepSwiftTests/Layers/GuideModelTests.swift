import XCTest
import DeepSwift
import TestSupport

// The guide's VAE (subclassed and functional) and hypernetwork, as layers.

final class Sampling: Layer {
    override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        let (zMean, zLogVar) = (inputs[0], inputs[1])
        let epsilon = Random.normal(zMean.shape)
        return [zMean + exp(zLogVar * 0.5) * epsilon]
    }
}

final class Encoder: Layer {
    let denseProj: Dense, denseMean: Dense, denseLogVar: Dense
    let sampling = Sampling()
    init(latentDim: Int = 32, intermediateDim: Int = 64) {
        denseProj = Dense(intermediateDim, activation: .relu)
        denseMean = Dense(latentDim)
        denseLogVar = Dense(latentDim)
        super.init()
    }
    override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        let x = denseProj(inputs[0])
        let zMean = denseMean(x), zLogVar = denseLogVar(x)
        return [zMean, zLogVar, sampling(zMean, zLogVar)]
    }
}

final class Decoder: Layer {
    let denseProj: Dense, denseOutput: Dense
    init(originalDim: Int, intermediateDim: Int = 64) {
        denseProj = Dense(intermediateDim, activation: .relu)
        denseOutput = Dense(originalDim, activation: .sigmoid)
        super.init()
    }
    override func call(_ inputs: Tensor, training: Bool) -> Tensor { denseOutput(denseProj(inputs)) }
}

final class VariationalAutoEncoder: Layer {
    let encoder: Encoder, decoder: Decoder
    init(originalDim: Int, intermediateDim: Int = 64, latentDim: Int = 32) {
        encoder = Encoder(latentDim: latentDim, intermediateDim: intermediateDim)
        decoder = Decoder(originalDim: originalDim, intermediateDim: intermediateDim)
        super.init()
    }
    override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let encoded = encoder([inputs])
        let (zMean, zLogVar, z) = (encoded[0], encoded[1], encoded[2])
        let reconstructed = decoder(z)
        addLoss((zLogVar - square(zMean) - exp(zLogVar) + 1).mean() * -0.5)
        return reconstructed
    }
}

final class GuideModelTests: XCTestCase {
    func testSubclassedVAE() {
        let vae = VariationalAutoEncoder(originalDim: 784, intermediateDim: 64, latentDim: 32)
        let x = Random.uniform([8, 784])
        let tape = GradientTape()
        let loss = tape.record { () -> Tensor in
            let reconstructed = vae(x)
            XCTAssertEqual(reconstructed.shape, [8, 784])
            XCTAssertEqual(vae.losses.count, 1)
            return square(reconstructed - x).mean() + vae.losses[0]
        }
        XCTAssertEqual(vae.trainableWeights.count, 10)
        let grads = tape.gradient(of: loss, wrt: vae.trainableWeights)
        XCTAssertTrue(grads.allSatisfy { $0 != nil })
        XCTAssertEqual(grads.map { $0!.shape }, vae.trainableWeights.map(\.shape))
    }

    func testFunctionalVAEWithSymbolicLoss() {
        let originalDim = 784, intermediateDim = 64, latentDim = 32
        let originalInputs = Input(shape: [originalDim], name: "encoder_input")
        let x = Dense(intermediateDim, activation: .relu)(originalInputs)
        let zMean = Dense(latentDim, name: "z_mean")(x)
        let zLogVar = Dense(latentDim, name: "z_log_var")(x)
        let z = Sampling()(zMean, zLogVar)
        let encoder = Model(inputs: originalInputs, outputs: z, name: "encoder")

        let latentInputs = Input(shape: [latentDim], name: "z_sampling")
        let h = Dense(intermediateDim, activation: .relu)(latentInputs)
        let outputs = Dense(originalDim, activation: .sigmoid)(h)
        let decoder = Model(inputs: latentInputs, outputs: outputs, name: "decoder")

        let vaeOutputs = decoder(z)
        let vae = Model(inputs: originalInputs, outputs: vaeOutputs, name: "vae")
        let klLoss = -0.5 * (zLogVar - square(zMean) - exp(zLogVar) + 1).mean()
        vae.addLoss(klLoss)

        XCTAssertEqual(encoder.weights.count, 6)
        XCTAssertEqual(decoder.weights.count, 4)
        XCTAssertEqual(vae.weights.count, 10)
        let batch = Random.uniform([4, 784])
        let y = vae(batch)
        XCTAssertEqual(y.shape, [4, 784])
        XCTAssertEqual(vae.losses.count, 1)
        let first = vae.losses[0].scalar(as: Float.self)
        _ = vae(Random.uniform([4, 784]) * 3)
        XCTAssertEqual(vae.losses.count, 1, "recomputed, not accumulated")
        XCTAssertNotEqual(vae.losses[0].scalar(as: Float.self), first, "recomputed from the new inputs")
        XCTAssertGreaterThan(first, 0)
    }

    func testFunctionalModelWithSeveralInputsAndOutputs() {
        let image = Input(shape: [4], name: "image"), meta = Input(shape: [2], name: "meta")
        let features = Dense(3, activation: .relu)(image)
        let joined = SymbolicTensor.lambda([features, meta]) { Tensor(concatenating: $0, alongAxis: 1) }
        let score = Dense(1, name: "score")(joined)
        let classes = Dense(5, name: "classes")(joined)
        let model = Model(inputs: [image, meta], outputs: [score, classes], name: "two_headed")
        let outputs = model([Tensor.ones([6, 4]), Tensor.zeros([6, 2])])
        XCTAssertEqual(outputs.map(\.shape), [[6, 1], [6, 5]])
        XCTAssertEqual(model.weights.count, 6)
        // The whole model nests inside another functional model.
        let a = Input(shape: [4]), b = Input(shape: [2])
        let inner = model([a, b])
        let outer = Model(inputs: [a, b], outputs: [inner[0] + 1])
        XCTAssertEqual(outer([Tensor.ones([2, 4]), Tensor.ones([2, 2])])[0].shape, [2, 1])
        XCTAssertEqual(outer.weights.count, 6)
    }

    func testHypernetworkGradientsReachTheGeneratingModel() {
        let inputDim = 784, classes = 10, hidden = 64
        let outerDense1 = Dense(hidden, activation: .relu), outerDense2 = Dense(classes)
        let outerModel = Sequential([outerDense1, outerDense2])
        // Build the outer layers so their weight counts are known.
        _ = outerModel(Tensor.zeros([1, inputDim]))
        let weightCount = (inputDim * hidden + hidden) + (hidden * classes + classes)
        XCTAssertEqual(outerModel.countParams(), weightCount)
        let innerModel = Sequential {
            Dense(16, activation: .relu)
            Dense(weightCount, activation: .sigmoid)
        }
        let x = Random.uniform([1, inputDim])
        let y = Tensor([3])
        let tape = GradientTape(persistent: true)
        let loss = tape.record { () -> Tensor in
            let weights = innerModel(x)
            var start = 0
            func take(_ shape: [Int]) -> Tensor {
                let n = shape.reduce(1, *)
                defer { start += n }
                return weights[.all, start..<(start + n)].reshaped(to: TensorShape(shape))
            }
            outerDense1.kernel = take([inputDim, hidden])
            outerDense1.bias = take([hidden])
            outerDense2.kernel = take([hidden, classes])
            outerDense2.bias = take([classes])
            let logits = outerModel(x)
            return -(logSoftmax(logits) * oneHot(y, depth: classes)).sum()
        }
        let grads = tape.gradient(of: loss, wrt: innerModel.trainableWeights)
        XCTAssertEqual(grads.count, 4)
        XCTAssertTrue(grads.allSatisfy { $0 != nil && $0!.abs().max().scalar(as: Float.self) > 0 })
        // The outer model's own weights were not used.
        XCTAssertNil(tape.gradient(of: loss, wrt: [outerDense1.kernelVariable!])[0] ?? nil)
    }
}

private extension Tensor {
    func abs() -> Tensor { DeepSwift.abs(self) }
}
