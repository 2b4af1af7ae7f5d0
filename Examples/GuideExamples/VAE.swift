import DeepSwift
import Foundation

/// Uses (zMean, zLogVar) to sample z, the vector encoding a digit.
public final class Sampling: Layer {
    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        let (zMean, zLogVar) = (inputs[0], inputs[1])
        let epsilon = Random.normal(zMean.shape)
        return [zMean + exp(zLogVar * 0.5) * epsilon]
    }
}

/// Maps digits to a triplet (zMean, zLogVar, z).
public final class Encoder: Layer {
    let denseProj: Dense, denseMean: Dense, denseLogVar: Dense
    let sampling = Sampling()

    public init(latentDim: Int = 32, intermediateDim: Int = 64) {
        denseProj = Dense(intermediateDim, activation: .relu)
        denseMean = Dense(latentDim)
        denseLogVar = Dense(latentDim)
        super.init()
    }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        let x = denseProj(inputs[0])
        let zMean = denseMean(x)
        let zLogVar = denseLogVar(x)
        return [zMean, zLogVar, sampling(zMean, zLogVar)]
    }
}

/// Converts z, the encoded digit vector, back into a readable digit.
public final class Decoder: Layer {
    let denseProj: Dense, denseOutput: Dense

    public init(originalDim: Int, intermediateDim: Int = 64) {
        denseProj = Dense(intermediateDim, activation: .relu)
        denseOutput = Dense(originalDim, activation: .sigmoid)
        super.init()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor { denseOutput(denseProj(inputs)) }
}

/// The encoder and decoder end to end, with the KL divergence added as a loss.
public final class VariationalAutoEncoder: Layer {
    public let encoder: Encoder
    public let decoder: Decoder

    public init(originalDim: Int, intermediateDim: Int = 64, latentDim: Int = 32) {
        encoder = Encoder(latentDim: latentDim, intermediateDim: intermediateDim)
        decoder = Decoder(originalDim: originalDim, intermediateDim: intermediateDim)
        super.init()
    }

    public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
        let encoded = encoder([inputs])
        let (zMean, zLogVar, z) = (encoded[0], encoded[1], encoded[2])
        let reconstructed = decoder(z)
        addLoss((zLogVar - square(zMean) - exp(zLogVar) + 1).mean() * -0.5)
        return reconstructed
    }
}

/// The functional VAE: its encoder, decoder and whole model. With `summedKL`
/// the KL divergence is summed over the latent axes (then averaged over the
/// batch), as Keras's VAE example, instead of the guide's mean over everything.
public func functionalVAE(originalDim: Int = 784, intermediateDim: Int = 64, latentDim: Int = 32, summedKL: Bool = false)
    -> (vae: Model, encoder: Model, decoder: Model)
{
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

    let vae = Model(inputs: originalInputs, outputs: decoder(z), name: "vae")
    let kl = zLogVar - square(zMean) - exp(zLogVar) + 1
    vae.addLoss(-0.5 * (summedKL ? kl.sum(axes: [-1]).mean() : kl.mean()))
    return (vae, encoder, decoder)
}

/// Binary cross-entropy summed over each example's pixels (then averaged over
/// the batch), the reconstruction loss of Keras's VAE example.
public final class PixelSummedBinaryCrossentropy: Loss {
    let bce = BinaryCrossentropy()
    /// The loss, averaged over the batch.
    public init() { super.init(name: "pixel_summed_binary_crossentropy", reduction: .sumOverBatchSize) }
    public override func perExample(_ yTrue: Tensor, _ yPred: Tensor) -> Tensor {
        bce.perExample(yTrue, yPred) * Double(yPred.shape[yPred.rank - 1])
    }
}

/// One training step of the subclassed VAE: MSE reconstruction + KL.
public func vaeTrainingStep(_ vae: VariationalAutoEncoder, _ x: Tensor, _ lossFn: Loss, _ optimizer: Optimizer) -> Tensor {
    let tape = GradientTape()
    let loss = tape.record { () -> Tensor in
        let reconstructed = vae(x)
        return vae.losses.reduce(lossFn(x, reconstructed), +)
    }
    optimizer.apply(tape.gradient(of: loss, wrt: vae.trainableWeights), to: vae.trainableWeights)
    return loss
}

public enum VAEExample {
    /// The subclassed VAE trained for 1,000 steps (batch 32), then the functional
    /// one with `fit` for an epoch; writes a PNG of test digits beside their
    /// reconstructions and of samples decoded from random latent vectors.
    /// Returns the running mean losses logged every 100 steps and the image's path.
    @discardableResult
    public static func run(_ o: GuideOptions) throws -> (runningLosses: [Double], fitLoss: Double, image: String) {
        let vae = VariationalAutoEncoder(originalDim: 784, intermediateDim: 64, latentDim: 32)
        let lossFn = MeanSquaredError()
        let optimizer = Adam(learningRate: 1e-3)
        let (xTrain, _) = try o.trainingData()
        let dataset = Dataset.fromTensorSlices(xTrain).shuffle(bufferSize: 1024).batch(32)
        // The guide's `@tf.function def training_step(x)`.
        let trainingStep = compiled(name: "training_step") { (x: Tensor) -> Tensor in
            vaeTrainingStep(vae, x, lossFn, optimizer)
        }
        var losses: [Double] = []
        var logged: [Double] = []
        let lastStep = o.steps ?? 1000
        for (step, x) in dataset.repeat().enumerated() {
            let loss = trainingStep(x)
            losses.append(Double(loss.scalar(as: Float.self)))
            if step % 100 == 0 || step == lastStep {
                let mean = losses.reduce(0, +) / Double(losses.count)
                logged.append(mean)
                o.log("Step: \(step) Loss: \(mean)")
            }
            if step >= lastStep { break }
        }

        // The functional VAE, trained with fit on (x, x) pairs.
        let (functional, _, decoder) = functionalVAE()
        functional.compile(optimizer: Adam(learningRate: 1e-3), loss: MeanSquaredError())
        let pairs = Dataset.fromTensorSlices((xTrain, xTrain)).shuffle(bufferSize: 1024).batch(32)
        let history = try functional.fit(o.steps.map { pairs.take($0) } ?? pairs, epochs: o.epochs ?? 1,
                                     verbose: o.steps == nil ? 1 : 0)
        o.histories?.record("functional VAE (the guide's losses)", history)

        // Test digits (top) beside their reconstructions, then samples from N(0, 1).
        let (xTest, _) = try o.testData()
        let originals = xTest[..<min(10, xTest.shape[0])]
        var (reconstructions, samples) = (vae(originals), decoder(Random.normal([10, 32])))
        if o.summedVAELosses {
            // The guide's losses make the posterior collapse on this data (every
            // reconstruction and sample the same grey shape, as in Keras). For the
            // picture, the functional VAE trained with Keras's VAE example's losses.
            let (summed, _, summedDecoder) = functionalVAE(summedKL: true)
            summed.compile(optimizer: Adam(learningRate: 1e-3), loss: PixelSummedBinaryCrossentropy())
            let epochs = o.steps == nil ? 5 : 1
            let history = try summed.fit(o.steps.map { pairs.take($0) } ?? pairs, epochs: epochs, verbose: o.steps == nil ? 1 : 0)
            o.log("bce-sum VAE: \(epochs) epoch\(epochs == 1 ? "" : "s"), final loss \(history.history["loss"]!.last!)")
            o.histories?.record("functional VAE (bce-sum)", history)
            (reconstructions, samples) = (summed(originals), summedDecoder(Random.normal([10, 32])))
        }
        let path = o.outputDirectory + "/vae.png"
        try ImageGrid.write([originals, reconstructions, samples], imageSize: 28, to: path)
        o.log("Wrote \(path): test digits, their reconstructions, and samples decoded from random latent vectors")
        return (logged, history.history["loss"]!.last!, path)
    }
}
