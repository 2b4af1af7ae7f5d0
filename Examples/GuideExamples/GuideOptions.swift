import DeepSwift
import Foundation

/// What the example programs take on the command line: `--dataset fashion-mnist|mnist`,
/// `--steps N`, `--epochs N`, `--samples N` (use only the first N training examples),
/// `--output DIR` (where images go).
public struct GuideOptions: Sendable {
    public var dataset = "fashion-mnist"
    public var steps: Int?
    public var epochs: Int?
    public var samples: Int?
    public var outputDirectory = "."
    /// Where printed lines go (tests capture them).
    public var log: @Sendable (String) -> Void = { print($0) }

    public init() {}

    /// Options from command-line arguments; unknown flags are an error that says what is accepted.
    public init(arguments: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw GuideError.usage("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--dataset":
                dataset = try value()
                guard ["fashion-mnist", "mnist"].contains(dataset) else { throw GuideError.usage("--dataset takes fashion-mnist or mnist") }
            case "--steps": steps = try Int(value()).orThrow(GuideError.usage("--steps takes a number"))
            case "--epochs": epochs = try Int(value()).orThrow(GuideError.usage("--epochs takes a number"))
            case "--samples": samples = try Int(value()).orThrow(GuideError.usage("--samples takes a number"))
            case "--output":
                // Made now, so that a bad folder fails before training, not after it.
                outputDirectory = try value()
                do {
                    try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
                } catch {
                    throw GuideError.usage("--output \(outputDirectory): the folder cannot be created (\(error.localizedDescription))")
                }
            default: throw GuideError.usage("unknown argument \(arguments[i])")
            }
            i += 1
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
    case usage(String)
    public var description: String {
        switch self {
        case .usage(let message):
            return "\(message)\nusage: [--dataset fashion-mnist|mnist] [--steps N] [--epochs N] [--samples N] [--output DIR]"
        }
    }
}

extension Optional {
    func orThrow(_ error: Error) throws -> Wrapped {
        guard let value = self else { throw error }
        return value
    }
}

/// Runs an example program's body with its command-line options, printing errors
/// and exiting non-zero on failure.
public func runExample(_ body: (GuideOptions) throws -> Void) {
    do {
        try body(GuideOptions(arguments: Array(CommandLine.arguments.dropFirst())))
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}
