// Data-parallel training on Fashion-MNIST over MPI processes, each training on
// its part of every global batch of 128 (DeepSwiftDistributed's DataParallel):
//
//   mpirun -np 2 swift run -c release DistributedMNIST [--epochs N] [--model convnet|mlp] [--samples N]
//
// In a container as root, add `--allow-run-as-root --oversubscribe` to mpirun.
// Without mpirun it trains as one process. Rank 0 prints the progress and, at
// the end, `test accuracy: 0.xxxx`.
import ArgumentParser
import DeepSwift
import DeepSwiftDistributed
import Foundation
import GuideExamples

/// The global batch, as the ConvNet example's single process uses.
let globalBatch = 128

/// `DistributedMNIST [--model convnet|mlp]` and the examples' options.
struct DistributedMNIST: ParsableCommand {
    enum ModelName: String, ExpressibleByArgument, CaseIterable { case convnet, mlp }

    static let configuration = CommandConfiguration(
        commandName: "DistributedMNIST", abstract: "Data-parallel Fashion-MNIST training over MPI processes (run it under mpirun).")

    @Option(help: "The model: the Keras MNIST convnet, or the guide's MLP.")
    var model: ModelName = .convnet
    @OptionGroup var guide: GuideArguments

    func run() throws {
        let options = guide.options
        let strategy = try DataParallel()
        let (rank, size) = (Distributed.rank, Distributed.size)
        guard globalBatch % size == 0 else {
            throw ValidationError("the global batch of \(globalBatch) does not split over \(size) processes")
        }
        let (xTrain, yTrain) = try options.trainingData()
        let (xTest, yTest) = try options.testData()
        setRandomSeed(42)
        let network: Sequential
        let (images, testImages): (Tensor, Tensor)
        if model == .convnet {
            network = ConvNetExample.makeModel()
            (images, testImages) = (xTrain.reshaped(to: [-1, 28, 28, 1]), xTest.reshaped(to: [-1, 28, 28, 1]))
        } else {
            // The guide's MLP.
            network = Sequential([Dense(64, activation: .relu), Dense(64, activation: .relu), Dense(10)], inputShape: [784], name: "mlp")
            (images, testImages) = (xTrain, xTest)
        }
        // The same global batch as one process: the learning rate stays. (With a fixed
        // per-process batch instead, scale it by `size`.)
        network.compile(optimizer: Adam(learningRate: 1e-3), loss: SparseCategoricalCrossentropy(fromLogits: true),
                        metrics: [SparseCategoricalAccuracy()])
        if rank == 0 {
            print("\(model.rawValue) on \(size) process\(size == 1 ? "" : "es"): batches of \(globalBatch / size) per process, \(globalBatch) in all")
        }
        try network.fit(x: images, y: yTrain, batchSize: globalBatch / size, epochs: options.epochs ?? 3,
                        verbose: options.steps == nil ? 1 : 0, distribution: strategy)
        if rank == 0 {
            let logs = try network.evaluate(x: testImages, y: yTest, batchSize: globalBatch)
            print("test accuracy: \(String(format: "%.4f", logs["sparse_categorical_accuracy"] ?? .nan))")
        }
        Distributed.finalize()
    }
}

DistributedMNIST.main()
