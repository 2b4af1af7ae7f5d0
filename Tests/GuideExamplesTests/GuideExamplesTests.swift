import XCTest
import Foundation
import CZlib
@testable import GuideExamples
import DeepSwift
import TestSupport

/// Each part of the guide on a small slice of Fashion-MNIST, asserting what the
/// example claims.
final class GuideExamplesTests: XCTestCase {
    final class Lines: @unchecked Sendable {
        var all: [String] = []
    }

    func options(steps: Int? = nil, epochs: Int? = nil, samples: Int = 512) -> (GuideOptions, Lines) {
        let lines = Lines()
        var o = GuideOptions()
        o.steps = steps
        o.epochs = epochs
        o.samples = samples
        o.outputDirectory = NSTemporaryDirectory()
        o.log = { lines.all.append($0) }
        return (o, lines)
    }

    func testBasics() {
        let (o, lines) = options()
        Basics.tensors(o)
        XCTAssertEqual(lines.all[0], "DeepSwift.Tensor(\n[[5 2]\n [1 3]], shape=(2, 2), dtype=int32)")
        XCTAssertEqual(lines.all[2...3], ["dtype: int32", "shape: (2, 2)"])
        Basics.variables(o)
        Basics.math(o)
        let (a, b, dcda, d2cda2) = Basics.gradients(o)
        assertClose(dcda, a / sqrt(square(a) + square(b)), tolerance: 1e-5)
        assertClose(d2cda2, square(b) / pow(square(a) + square(b), 1.5), tolerance: 1e-4)
    }

    func testLayerParts() {
        let (o, lines) = options()
        LayerParts.linearLayer(o)
        LayerParts.trainableWeights(o)
        XCTAssertEqual(lines.all.suffix(2), ["[2. 2.]", "[4. 4.]"])
        LayerParts.layersThatOwnLayers(o)
        LayerParts.addLoss(o)
        XCTAssertTrue(lines.all.last!.hasPrefix("[<DeepSwift.Tensor: shape=(), dtype=float32, numpy="), lines.all.last!)
        let (yTrain, yTest) = LayerParts.trainingMode(o)
        XCTAssertEqual(yTrain.shape, [2, 10])
        XCTAssertNotEqual(yTrain, yTest)
        let model = LayerParts.functionalAPI(o)
        XCTAssertEqual(model.weights.count, 4)
        XCTAssertTrue(lines.all.contains { $0.hasPrefix("Total params: 874") })
    }

    func testTrainingLoopsLearn() throws {
        // 160 batches of 64: losses are logged at steps 0 and 100.
        let (o, lines) = options(epochs: 2, samples: 10240)
        let linear = try TrainingLoops.layerGradients(o)
        XCTAssertEqual(linear.count, 2)
        XCTAssertLessThan(linear.last!, linear.first!)
        XCTAssertTrue(lines.all.contains { $0.hasPrefix("Step: 100 Loss: ") })
        let sparse = try TrainingLoops.addLossTraining(o)
        XCTAssertLessThan(sparse.last!, sparse.first!)
        let compiled = try TrainingLoops.compiledStep(o)
        XCTAssertLessThan(compiled.last!, compiled.first!)
        let accuracy = try TrainingLoops.metrics(o)
        XCTAssertEqual(accuracy.count, 2)
        XCTAssertGreaterThan(accuracy[1], 0.6)
        XCTAssertGreaterThan(accuracy[1], accuracy[0])
    }

    func testVAELearnsAndWritesItsImage() throws {
        let (o, _) = options(steps: 300, samples: 2048)
        let result = try VAEExample.run(o)
        XCTAssertLessThan(result.runningLosses.last!, result.runningLosses.first!)
        XCTAssertLessThan(result.runningLosses.last!, 0.15)
        XCTAssertLessThan(result.fitLoss, 0.2)
        let png = try Data(contentsOf: URL(fileURLWithPath: result.image))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        try? FileManager.default.removeItem(atPath: result.image)
    }

    /// `--reconstruction-loss bce-sum`: the picture's models learn with Keras's VAE
    /// example's summed losses, well below a constant grey guess (784·ln 2 ≈ 543).
    func testTheBCESumVAELearns() throws {
        var (o, lines) = options(steps: 200, samples: 4096)
        o.summedVAELosses = true
        _ = try VAEExample.run(o)
        let line = try XCTUnwrap(lines.all.first { $0.hasPrefix("bce-sum VAE: 1 epoch, final loss ") }, lines.all.joined(separator: "\n"))
        let loss = try XCTUnwrap(Double(line.dropFirst("bce-sum VAE: 1 epoch, final loss ".count)))
        XCTAssertLessThan(loss, 450)
        XCTAssertEqual(try GuideOptions(arguments: ["--reconstruction-loss", "bce-sum"]).summedVAELosses, true)
        XCTAssertEqual(try GuideOptions(arguments: []).summedVAELosses, false)
    }

    /// history.png: one 120×90 panel per fit run, each loss scaled to its panel
    /// (the highest at the top, the lowest at the bottom), and a legend.
    func testHistoryPlotDrawsAPanelPerRun() throws {
        let path = NSTemporaryDirectory() + "history-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let legend = try HistoryPlot.write([("first", [3, 2, 1]), ("second", [5])], to: path)
        XCTAssertEqual(legend, ["panel 1: first, loss per epoch 3 → 2 → 1", "panel 2: second, loss per epoch 5"])
        let png = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let size = png[16..<24].map { UInt32($0) }
        XCTAssertEqual(size[0] << 24 | size[1] << 16 | size[2] << 8 | size[3], 240)   // width: 2 panels
        XCTAssertEqual(size[4] << 24 | size[5] << 16 | size[6] << 8 | size[7], 90)
        // The panels' dots: the first epoch's at the top left, the last at the bottom right.
        let (first, last) = (HistoryPlot.dot(run: [3, 2, 1], epoch: 0), HistoryPlot.dot(run: [3, 2, 1], epoch: 2))
        XCTAssertLessThan(first.x, last.x)
        XCTAssertLessThan(first.y, last.y)
        XCTAssertEqual(HistoryPlot.dot(run: [5], epoch: 0).x, 60, "a single epoch sits in the middle")
    }

    func testHypernetworkLossFalls() throws {
        setRandomSeed(3)
        let (o, _) = options(steps: 400, samples: 2048)
        let losses = try Hypernetwork.run(o)
        XCTAssertEqual(losses.count, 5)
        XCTAssertLessThan(losses.last!, losses[1])
    }

    func testConvNetLearnsAndReportsItsTestAccuracy() throws {
        setRandomSeed(5)
        let model = ConvNetExample.makeModel()
        XCTAssertEqual(model.countParams(), 34826)  // Keras's summary for the same model
        let (o, lines) = options(epochs: 2, samples: 2048)
        let accuracy = try ConvNetExample.run(o)
        XCTAssertGreaterThan(accuracy, 0.6)  // chance is 0.1
        XCTAssertTrue(lines.all.contains { $0.hasPrefix("Total params: 34826 ") },
                      lines.all.joined(separator: "\n"))
        let last = try XCTUnwrap(lines.all.last)
        XCTAssertTrue(last.hasPrefix("Trained 2 epochs (final loss "), last)
        XCTAssertTrue(last.hasSuffix("test accuracy: \(accuracy)"), last)
    }

    func testLSTMClassifierLearnsAndReportsItsTestAccuracy() throws {
        XCTAssertEqual(LSTMClassifierExample.makeModel().countParams(), 4 * 128 * (28 + 128 + 1) + 129 * 10)   // Keras's summary: 81674
        let (o, lines) = options(epochs: 1, samples: 2048)
        let accuracy = try LSTMClassifierExample.run(o)
        XCTAssertGreaterThan(accuracy, 0.4)  // chance is 0.1
        XCTAssertEqual(lines.all.last, "Trained 1 epoch; test accuracy: \(String(format: "%.4f", accuracy))")
    }

    func testCharTransformerLearnsTheFortunesAndSamples() throws {
        let text = try CharTransformerExample.loadText()
        XCTAssertGreaterThan(text.count, 1_000_000)
        let vocabulary = CharTransformerExample.vocabulary(of: text)
        XCTAssertEqual(vocabulary, vocabulary.sorted())
        XCTAssertTrue(vocabulary.contains("%"))   // the fortunes' separator
        // 302,193 parameters for 113 characters, as Keras's summary of the same model.
        XCTAssertEqual(CharTransformerExample.makeModel(vocabularySize: 113).countParams(), 302_193)
        let (x, y) = CharTransformerExample.windows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9] + [Int32](repeating: 5, count: 200), count: 2)
        XCTAssertEqual(x.shape, [2, 64])
        XCTAssertEqual(x[0, 0..<3].scalars(as: Int32.self), [0, 1, 2])
        XCTAssertEqual(y[0, 0..<3].scalars(as: Int32.self), [1, 2, 3])
        XCTAssertEqual(y[1, 63].scalar(as: Int32.self), 5)
        let (o, lines) = options(steps: 40)
        let bits = try CharTransformerExample.run(o)
        XCTAssertLessThan(bits, log2(113.0) - 1)   // well below a uniform guess (6.8 bits)
        XCTAssertTrue(lines.all.contains("validation loss: \(String(format: "%.3f", bits)) bits per character"), lines.all.joined(separator: "\n"))
        let sample = try XCTUnwrap(lines.all.last)
        XCTAssertTrue(sample.hasPrefix("sampled at temperature 0.8:\nThe "), sample)
        XCTAssertEqual(sample.count, "sampled at temperature 0.8:\n".count + 204)
    }

    func testOptionsParsing() throws {
        let o = try GuideOptions(arguments: ["--dataset", "mnist", "--steps", "5", "--epochs", "2", "--output", "/tmp"])
        XCTAssertEqual(o.dataset, "mnist")
        XCTAssertEqual(o.steps, 5)
        XCTAssertEqual(o.epochs, 2)
        XCTAssertThrowsError(try GuideOptions(arguments: ["--dataset", "cifar"])) { error in
            XCTAssertTrue("\(error)".contains("The value 'cifar' is invalid for '--dataset <dataset>'. Please provide one of 'fashion-mnist' and 'mnist'."), "\(error)")
        }
        // Unknown or malformed flags: an error with the usage (swift-argument-parser).
        XCTAssertThrowsError(try GuideOptions(arguments: ["--fast"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("Error: Unknown option '--fast'"), "\(error)")
            XCTAssertTrue("\(error)".contains("Usage: guide_arguments [--dataset <dataset>] [--steps <steps>] [--epochs <epochs>] [--samples <samples>] [--output <output>]"), "\(error)")
        }
        XCTAssertThrowsError(try GuideOptions(arguments: ["--steps", "many"])) { error in
            XCTAssertTrue("\(error)".contains("The value 'many' is invalid for '--steps <steps>'"), "\(error)")
        }
        XCTAssertThrowsError(try GuideOptions(arguments: ["--epochs", "0"])) { error in
            XCTAssertTrue("\(error)".contains("--epochs must be positive, got 0"), "\(error)")
        }
        // --help lists every option, with its default.
        let help = GuideArguments.helpMessage()
        for line in ["--dataset <dataset>", "default: fashion-mnist)", "--steps <steps>", "--epochs <epochs>",
                     "--samples <samples>", "--output <output>", "(default: .)"] {
            XCTAssertTrue(help.contains(line), help)
        }
        // --output makes its folder at once, or fails before any training.
        let folder = NSTemporaryDirectory() + "guide-out-\(UUID().uuidString)/images"
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        XCTAssertEqual(try GuideOptions(arguments: ["--output", folder]).outputDirectory, folder)
        var isFolder: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue)
        XCTAssertThrowsError(try GuideOptions(arguments: ["--output", "/proc/version/out"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("Error: --output /proc/version/out: the folder cannot be created"), "\(error)")
        }
    }
}

/// The PNG writer's output: signature, IHDR, CRCs, and pixels that decode back.
final class PNGTests: XCTestCase {
    func testPNGStructureAndPixels() throws {
        let pixels: [UInt8] = (0..<(5 * 3)).map { UInt8($0 * 17) }
        let png = try PNG.encode(gray: pixels, width: 5, height: 3)
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8
        var chunks: [(String, [UInt8])] = []
        while offset < png.count {
            let length = Int(UInt32(png[offset]) << 24 | UInt32(png[offset + 1]) << 16 | UInt32(png[offset + 2]) << 8 | UInt32(png[offset + 3]))
            let typeAndData = Array(png[(offset + 4)..<(offset + 8 + length)])
            let stored = png[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let computed = typeAndData.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            XCTAssertEqual(stored, computed, "CRC of \(String(decoding: typeAndData.prefix(4), as: UTF8.self))")
            chunks.append((String(decoding: typeAndData.prefix(4), as: UTF8.self), Array(typeAndData.dropFirst(4))))
            offset += 12 + length
        }
        XCTAssertEqual(chunks.map(\.0), ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual(chunks[0].1, [0, 0, 0, 5, 0, 0, 0, 3, 8, 0, 0, 0, 0])
        var raw = [UInt8](repeating: 0, count: 6 * 3)
        var rawSize = UInt(raw.count)
        XCTAssertEqual(uncompress(&raw, &rawSize, chunks[1].1, UInt(chunks[1].1.count)), Z_OK)
        XCTAssertEqual(rawSize, 18)
        for row in 0..<3 {
            XCTAssertEqual(raw[row * 6], 0)
            XCTAssertEqual(Array(raw[(row * 6 + 1)..<(row * 6 + 6)]), Array(pixels[(row * 5)..<(row * 5 + 5)]))
        }
    }

    func testImageGridLayout() throws {
        let path = NSTemporaryDirectory() + "grid-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ImageGrid.write([Tensor.ones([3, 4]), Tensor.zeros([2, 4])], imageSize: 2, to: path)
        let png = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(png[16..<24]), [0, 0, 0, 6, 0, 0, 0, 4])   // 3 columns × 2 px, 2 rows × 2 px
    }
}
