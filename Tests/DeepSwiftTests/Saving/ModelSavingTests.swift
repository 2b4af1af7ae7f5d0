import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// A layer outside the library, saved and loaded through the registry.
final class ScaleBy: Layer, SavableLayer {
    static let typeName = "ScaleBy"
    let factor: Double
    init(factor: Double, name: String? = nil) {
        self.factor = factor
        super.init(name: name)
    }
    var config: LayerConfig { ["factor": .double(factor)] }
    convenience init(config: LayerConfig) throws { self.init(factor: try config.double("factor"), name: config.name) }
    override func call(_ x: Tensor, training: Bool) -> Tensor { x * factor }
}

/// Whole-model saving: architecture, weights and optimizer state, in this process and another.
final class ModelSavingTests: TemporaryFolderTestCase {

    func convnet() -> Sequential {
        Sequential([
            Conv2D(4, kernelSize: 3, padding: .same, activation: .relu, kernelRegularizer: .l2(1e-3)),
            BatchNormalization(),
            MaxPooling2D(poolSize: 2),
            Conv2D(6, kernelSize: [2, 3], strides: 2),
            Flatten(),
            Dropout(0.25),
            Dense(5, activation: .softmax),
        ], inputShape: [8, 8, 1], name: "small_convnet")
    }

    func testSequentialRoundTripPredictsIdentically() throws {
        setRandomSeed(1)
        let model = convnet()
        let x = Random.normal([3, 8, 8, 1])
        // Train a little so the batch-norm statistics are not their initial values.
        model.compile(optimizer: Adam(), loss: SparseCategoricalCrossentropy())
        try model.fit(x: x, y: Tensor([0, 1, 2] as [Int32]), epochs: 2, verbose: 0)
        try model.save(to: folder + "convnet")
        let loaded = try loadModel(from: folder + "convnet")
        XCTAssertTrue(loaded is Sequential)
        XCTAssertEqual(loaded.name, "small_convnet")
        XCTAssertEqual(loaded.layers.map { "\(type(of: $0))" },
                       ["Conv2D", "BatchNormalization", "MaxPooling2D", "Conv2D", "Flatten", "Dropout", "Dense"])
        XCTAssertEqual(try loaded.predict(x), try model.predict(x))
        XCTAssertEqual(loaded.losses.count, 1, "the kernel regularizer is rebuilt")
        let config = try String(contentsOfFile: folder + "convnet/config.json", encoding: .utf8)
        XCTAssertTrue(config.contains("\"class_name\": \"Conv2D\""), config)
        XCTAssertTrue(config.contains("\"kernel_size\": [2, 3]"), config)
        XCTAssertTrue(config.contains("\"kernel_regularizer\": {\n"), config)
        XCTAssertTrue(config.contains("\"input_shape\": [8, 8, 1]"), config)
    }

    func testFunctionalGraphWithSharedLayersAndTwoOutputs() throws {
        setRandomSeed(2)
        let a = Input(shape: [4], name: "left"), b = Input(shape: [4], name: "right")
        let shared = Dense(3, activation: .tanh)
        let merged = Concatenate()(shared(a), shared(b))
        let scaled = ScaleBy(factor: 2.5)(merged)
        let first = Dense(2, name: "first")(scaled), second = Dense(1, activation: .sigmoid, name: "second")(merged)
        let model = Model(inputs: [a, b], outputs: [first, second], name: "two_towers")
        LayerRegistry.register(ScaleBy.self)
        try model.save(to: folder + "towers")
        let loaded = try loadModel(from: folder + "towers")
        let (x1, x2) = (Random.normal([5, 4]), Random.normal([5, 4]))
        let expected = model([x1, x2]), got = loaded([x1, x2])
        XCTAssertEqual(got.count, 2)
        XCTAssertEqual(got[0], expected[0])
        XCTAssertEqual(got[1], expected[1])
        XCTAssertEqual(loaded.weights.count, 6, "the shared Dense is one layer")
        // Inputs keep the model's order even when the graph reaches them the other way round.
        let p = Input(shape: [2]), q = Input(shape: [2]), unused = Input(shape: [1])
        let ordered = Model(inputs: [p, q, unused], outputs: [Subtract()(q, p)])
        try ordered.save(to: folder + "ordered")
        let reloaded = try loadModel(from: folder + "ordered")
        let (u, v, w) = (Tensor([[1, 2]] as [[Float]]), Tensor([[10, 20]] as [[Float]]), Tensor([[0]] as [[Float]]))
        XCTAssertEqual(reloaded([u, v, w])[0], ordered([u, v, w])[0])
        XCTAssertEqual(loaded.layers.map(\.name), model.layers.map(\.name))
        XCTAssertEqual(loaded.layers.map { "\(type(of: $0))" }, ["InputLayer", "Dense", "InputLayer", "Concatenate", "ScaleBy", "Dense", "Dense"])
    }

    func testEveryBuiltInLayerConfigRoundTrips() throws {
        let layers: [Layer] = [
            Dense(7, activation: .gelu, useBias: false, biasRegularizer: .l1(0.5), activityRegularizer: .l1l2(l1: 1, l2: 2)),
            Dropout(0.3, noiseShape: [nil, 1, nil]), SpatialDropout1D(0.2), SpatialDropout2D(0.4), Activation(.swish),
            Flatten(), Reshape([2, -1]), Embedding(inputDim: 11, outputDim: 3, maskZero: true), ActivityRegularization(l1: 0.1, l2: 0.2),
            BatchNormalization(axis: 1, momentum: 0.9, epsilon: 1e-5, center: false, scale: true),
            LayerNormalization(axis: 2, epsilon: 1e-6, center: true, scale: false), Normalization(axis: nil, invert: true),
            Softmax(axis: 1), ReLU(maxValue: 6, negativeSlope: 0.1, threshold: 0.5), LeakyReLU(negativeSlope: 0.2), ELU(alpha: 0.7),
            PReLU(sharedAxes: [1, 2]), Rescaling(scale: 1.0 / 255, offset: -1), RepeatVector(4), Permute([2, 1]),
            GaussianNoise(stddev: 0.1), Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum(), Concatenate(axis: 1),
            Dot(axes: [1, 2], normalize: true),
            Conv1D(3, kernelSize: 5, strides: 2, padding: .causal, dilationRate: 1, groups: 1, activation: .elu),
            Conv2D(8, kernelSize: [3, 1], strides: [1, 2], padding: .same, dilationRate: [2, 1], groups: 2, useBias: false),
            Conv3D(2, kernelSize: 2), Conv1DTranspose(4, kernelSize: 3, strides: 2, outputPadding: 1),
            Conv2DTranspose(5, kernelSize: 3, strides: 2, padding: .same), Conv3DTranspose(2, kernelSize: [1, 2, 3]),
            DepthwiseConv2D(kernelSize: 3, strides: 2, padding: .same, depthMultiplier: 2, depthwiseRegularizer: .l2(0.1)),
            SeparableConv2D(6, kernelSize: 3, depthMultiplier: 3, dilationRate: 2, activation: .relu),
            MaxPooling1D(poolSize: 3, strides: 1, padding: .same), MaxPooling2D(poolSize: [2, 3]), MaxPooling3D(),
            AveragePooling1D(poolSize: 4), AveragePooling2D(poolSize: 3, strides: 2, padding: .same), AveragePooling3D(),
            GlobalAveragePooling1D(keepDims: true), GlobalAveragePooling2D(), GlobalMaxPooling1D(), GlobalMaxPooling2D(keepDims: true),
            UpSampling2D(size: [2, 3]), ZeroPadding2D(padding: ((1, 2), (3, 4))), Cropping2D(cropping: ((0, 1), (2, 0))),
            SimpleRNN(3, activation: .relu, useBias: false, returnSequences: true), LSTM(4, recurrentActivation: .tanh, unitForgetBias: false, goBackwards: true, dropout: 0.2, recurrentDropout: 0.1, seed: 3),
            GRU(2, resetAfter: false, returnState: true),
            MultiHeadAttention(numHeads: 2, keyDim: 3, valueDim: 4, dropout: 0.1, useBias: false, outputShape: 5),
            Attention(useScale: true, scoreMode: .concat, dropout: 0.2), AdditiveAttention(useScale: false), Masking(maskValue: -1),
            Bidirectional(GRU(2, returnSequences: true), mergeMode: .ave), TimeDistributed(Dense(3, activation: .relu)),
            ConvLSTM2D(filters: 2, kernelSize: [3, 1], strides: 2, padding: .same, returnSequences: true, goBackwards: true),
        ]
        XCTAssertEqual(Set(layers.map { "\(type(of: $0))" }).count, builtInLayerTypes.count, "every built-in type is listed here")
        for layer in layers {
            layer.trainable = false
            let entry = try encodeLayer(layer)
            let copy = try decodeLayer(entry, depth: 0)
            XCTAssertEqual(copy.name, layer.name)
            XCTAssertTrue(type(of: copy) == type(of: layer))
            XCTAssertEqual(try encodeLayer(copy), entry, "\(layer.name)")
            XCTAssertFalse(copy.trainable)
        }
    }

    func testOptimizerStateIsSavedAndRestored() throws {
        setRandomSeed(3)
        let model = Sequential([Dense(4, activation: .relu), Dense(2)], inputShape: [3])
        let optimizer = Adam(learningRate: 0.01)
        model.compile(optimizer: optimizer, loss: MeanSquaredError())
        let (x, y) = (Random.normal([16, 3]), Random.normal([16, 2]))
        try model.fit(x: x, y: y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false)
        try model.save(to: folder + "with_adam", optimizer: optimizer)
        let restoredOptimizer = Adam(learningRate: 0.01)
        let loaded = try loadModel(from: folder + "with_adam", optimizer: restoredOptimizer)
        XCTAssertEqual(restoredOptimizer.iterations, 4)
        loaded.compile(optimizer: restoredOptimizer, loss: MeanSquaredError())
        try model.fit(x: x, y: y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false)
        try loaded.fit(x: x, y: y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false)
        for (a, b) in zip(loaded.weights, model.weights) {
            assertClose(a.value, b.value, tolerance: 1e-6)
        }
    }

    func testWhatCannotBeSavedOrLoadedThrows() throws {
        let lambda = Sequential([Dense(2), Lambda(name: "double") { $0 * 2 }], inputShape: [3])
        XCTAssertThrowsError(try lambda.save(to: folder + "lambda")) { error in
            XCTAssertEqual("\(error)", "cannot save the model: Lambda layer 'double' is a closure; write it as a layer that conforms to SavableLayer")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "lambda"), "nothing is left behind")
        let custom = Sequential([Dense(2, activation: ActivationFunction("mine") { $0 * 3 }, name: "odd")], inputShape: [3])
        XCTAssertThrowsError(try custom.save(to: folder + "custom")) { error in
            XCTAssertEqual("\(error)", "cannot save the model: odd: the activation 'mine' is a custom function; only Keras's named activations can be saved")
        }
        let input = Input(shape: [3])
        let math = Model(inputs: input, outputs: Dense(2)(input) * 2, name: "mathy")
        XCTAssertThrowsError(try math.save(to: folder + "math")) { error in
            XCTAssertTrue("\(error)".contains("the functional model 'mathy' computes a function of symbolic tensors"), "\(error)")
        }
        // A folder that is not a saved model is never replaced.
        try FileManager.default.createDirectory(atPath: folder + "photos", withIntermediateDirectories: true)
        let plain = Sequential([Dense(2)], inputShape: [3])
        XCTAssertThrowsError(try plain.save(to: folder + "photos")) { error in
            XCTAssertTrue("\(error)".hasSuffix("it exists and is not a saved model folder; not replacing it)"), "\(error)")
        }
        // Saving again over a saved model replaces it.
        try plain.save(to: folder + "plain")
        try plain.save(to: folder + "plain")
        let configPath = folder + "plain/config.json"
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "\"Dense\"", with: "\"Densest\"").write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: folder + "plain")) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown layer type 'Densest': register it with LayerRegistry.register(Densest.self); known: "), "\(error)")
        }
        try text.replacingOccurrences(of: "\"units\": 2", with: "\"units\": \"two\"").write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: folder + "plain")) { error in
            XCTAssertEqual(error as? SavingError, .badConfig(type: "Dense", key: "units", reason: "expected an integer"))
        }
        try "{\"format\": ".write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: folder + "plain")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(configPath): not JSON: "), "\(error)")
        }
        try text.replacingOccurrences(of: "\"units\": 2", with: "\"units\": 5").write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: folder + "plain")) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(self.folder)plain/model.safetensors: the config's layer 'dense"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("' needs 20 more weight elements than the file holds (8 left)"), "\(error)")
        }
        // Fewer weights than the file holds: the names and shapes then disagree.
        try text.replacingOccurrences(of: "\"units\": 2", with: "\"units\": 1").write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: folder + "plain")) { error in
            XCTAssertTrue(error is CheckpointError, "\(error)")
        }
    }

    /// The parent half of the child-process test: save, run the child, compare.
    func testASavedModelPredictsTheSameInAnotherProcess() throws {
        setRandomSeed(4)
        let model = convnet()
        let x = Random.normal([2, 8, 8, 1])
        try model.save(to: folder + "shared")
        try IDX.write(x, to: folder + "x.idx")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        child.arguments = ["DeepSwiftTests.ModelSavingTests/testChildProcessHalf"]
        var environment = ProcessInfo.processInfo.environment
        environment["DEEPSWIFT_CHILD_MODEL"] = folder
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0)
        XCTAssertEqual(try IDX.read(contentsOf: folder + "y.idx"), try model.predict(x))
    }

    /// Run by the test above in a fresh process; does nothing on its own.
    func testChildProcessHalf() throws {
        guard let folder = ProcessInfo.processInfo.environment["DEEPSWIFT_CHILD_MODEL"] else { return }
        let model = try loadModel(from: folder + "shared")
        try IDX.write(try model.predict(try IDX.read(contentsOf: folder + "x.idx")), to: folder + "y.idx")
    }
}
