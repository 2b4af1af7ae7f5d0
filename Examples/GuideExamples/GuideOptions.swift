import ArgumentParser
import DeepSwift
import Foundation

/// The command-line options every example program takes, parsed by
/// swift-argument-parser (`--help` lists them with their defaults).
public struct GuideArguments: ParsableArguments {
    /// The datasets the examples train on.
    public enum DatasetName: String, ExpressibleByArgument, CaseIterable, Sendable {
        case fashionMNIST = "fashion-mnist", mnist
    }

    /// The dataset to train on.
    @Option(help: "The dataset: fashion-mnist (Debian's package, offline) or mnist ($DEEPSWIFT_DATA/mnist or ~/.deepswift/datasets/mnist).")
    public var dataset: DatasetName = .fashionMNIST
    /// Steps of the custom loops; each example's default when nil.
    @Option(help: "Training steps of the custom loops (each example's own default when omitted).")
    public var steps: Int?
    /// Epochs of the fit runs; each example's default when nil.
    @Option(help: "Epochs of the fit runs (each example's own default when omitted).")
    public var epochs: Int?
    /// Examples used from each split; all when nil.
    @Option(help: "Use only the first N examples of each split (all when omitted).")
    public var samples: Int?
    /// The folder the pictures go to.
    @Option(help: "The folder for the pictures, made when missing.")
    public var output: String = "."
    /// How the VAE picture's models measure reconstruction.
    public enum ReconstructionLoss: String, ExpressibleByArgument, CaseIterable, Sendable {
        case mse, bceSum = "bce-sum"
    }
    /// The VAE picture's loss.
    @Option(help: "The VAE picture's loss: mse (the guide's, whose posterior collapses on this data) or bce-sum (Keras's VAE example: binary cross-entropy summed over pixels, KL summed over the latent axes).")
    public var reconstructionLoss: ReconstructionLoss = .mse

    /// The defaults.
    public init() {}

    /// Refuses non-positive counts and makes the output folder (or fails, before any training).
    public mutating func validate() throws {
        for (name, value) in [("--steps", steps), ("--epochs", epochs), ("--samples", samples)] {
            if let value, value <= 0 { throw ValidationError("\(name) must be positive, got \(value)") }
        }
        // Made now, so that a bad folder fails before training, not after it.
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("--output \(output): the folder cannot be created (\(error.localizedDescription))")
        }
    }

    /// The options the examples run with.
    public var options: GuideOptions {
        var o = GuideOptions()
        (o.dataset, o.steps, o.epochs, o.samples, o.outputDirectory) = (dataset.rawValue, steps, epochs, samples, output)
        o.summedVAELosses = reconstructionLoss == .bceSum
        return o
    }
}

/// What the example programs take on the command line: `--dataset fashion-mnist|mnist`,
/// `--steps N`, `--epochs N`, `--samples N` (use only the first N training examples),
/// `--output DIR` (where images go).
public struct GuideOptions: Sendable {
    public var dataset = "fashion-mnist"
    public var steps: Int?
    public var epochs: Int?
    public var samples: Int?
    public var outputDirectory = "."
    /// Whether the VAE's picture comes from models trained with Keras's VAE
    /// example's summed losses (`--reconstruction-loss bce-sum`).
    public var summedVAELosses = false
    /// Where the parts' `fit` runs are kept for `history.png` (the `Guide` runner's).
    public var histories: FitHistories?
    /// Where printed lines go (tests capture them).
    public var log: @Sendable (String) -> Void = { print($0) }

    public init() {}

    /// Options from command-line arguments (``GuideArguments``); an unknown or
    /// malformed flag throws ``GuideError/usage(_:)`` with the parser's message
    /// and the usage text.
    public init(arguments: [String]) throws {
        do {
            self = try GuideArguments.parse(arguments).options
        } catch {
            throw GuideError.usage(GuideArguments.fullMessage(for: error))
        }
    }

    /// The training images as float32 (N, 784) in [0, 1] and the labels.
    public func trainingData() throws -> (x: Tensor, y: Tensor) { prepare(try load().train) }

    /// The test images, prepared the same way.
    public func testData() throws -> (x: Tensor, y: Tensor) { prepare(try load().test) }

    private func load() throws -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor)) {
        dataset == "mnist" ? try MNIST.loadData() : try FashionMNIST.loadData()
    }

    private func prepare(_ data: (x: Tensor, y: Tensor)) -> (x: Tensor, y: Tensor) {
        let n = min(samples ?? data.x.shape[0], data.x.shape[0])
        let images = data.x[..<n].reshaped(to: [n, 784]).cast(to: DType.float32) / 255
        return (images, data.y[..<n])
    }
}

public enum GuideError: Error, CustomStringConvertible {
    /// A bad command line, with the parser's message and the usage text.
    case usage(String)
    public var description: String {
        switch self {
        case .usage(let message): return message
        }
    }
}

extension Optional {
    func orThrow(_ error: Error) throws -> Wrapped {
        guard let value = self else { throw error }
        return value
    }
}

/// Runs an example program's body with its command-line options: `--help`
/// prints them with their defaults; a bad flag prints the error and the usage
/// and exits with status 64; a failure of the body prints it and exits with 1.
public func runExample(_ body: (GuideOptions) throws -> Void) {
    let options = ExampleCommand.parseOrExit().arguments.options
    do {
        try body(options)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

/// An example program's command line under the program's own name (for the
/// usage and help texts).
struct ExampleCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent)
    }
    @OptionGroup var arguments: GuideArguments
}
