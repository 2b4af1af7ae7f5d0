import XCTest
import DeepSwift
import GuideExamples
import TestSupport

// The guide's VAE (subclassed and functional) and hypernetwork, from GuideExamples.

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
        let (vae, encoder, decoder) = functionalVAE()
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
        setRandomSeed(4)
        let net = Hypernetwork()
        let weightCount = (784 * 64 + 64) + (64 * 10 + 10)
        XCTAssertEqual(net.innerModel.layers.last!.countParams(), 0, "built on first call")
        XCTAssertEqual(net.outerModel.countParams(), 0, "the outer model owns no weights")
        let x = Random.uniform([1, 784]), y = Tensor([3])
        _ = net.innerModel(x)
        let before = net.innerModel.trainableWeights.map(\.value)
        XCTAssertEqual(before.count, 4)
        let loss = net.trainStep(x, y)
        XCTAssertGreaterThan(loss.scalar(as: Float.self), 0)
        XCTAssertEqual(net.innerModel.layers.last!.weights[0].shape, [16, weightCount])
        XCTAssertEqual(net.outerDense1.kernel.shape, [784, 64])
        // Every weight of the generating model moved: gradients reached all of them.
        for (old, new) in zip(before, net.innerModel.trainableWeights.map(\.value)) {
            XCTAssertGreaterThan(abs(new - old).max().scalar(as: Float.self), 0)
        }
        XCTAssertNil(net.outerDense1.kernelVariable)
    }
}
