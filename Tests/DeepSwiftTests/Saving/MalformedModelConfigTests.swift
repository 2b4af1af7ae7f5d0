import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

/// A saved model whose config.json was edited or damaged throws a SavingError
/// naming what is wrong; loading never stops the process.
final class MalformedModelConfigTests: TemporaryFolderTestCase {

    /// A functional model touching most kinds of layer argument: windows, strides,
    /// axes, rates, permutations, repeats, merges and an embedding.
    func sampleModel() -> Model {
        setRandomSeed(9)
        let image = Input(shape: [8, 8, 2], name: "image"), ids = Input(shape: [3], dtype: .int32, name: "ids")
        var x = Conv2D(4, kernelSize: 3, padding: .same, activation: .relu, name: "conv")(image)
        x = MaxPooling2D(poolSize: 2, name: "pool")(x)
        x = DepthwiseConv2D(kernelSize: 2, depthMultiplier: 2)(x)
        x = Cropping2D(cropping: ((1, 0), (0, 1)))(x)
        x = Conv2DTranspose(3, kernelSize: 2, strides: 2, outputPadding: 1)(x)
        x = Reshape([-1, 3], name: "reshape")(x)
        x = Conv1D(2, kernelSize: 2, padding: .causal, dilationRate: 2)(x)
        x = AveragePooling1D(poolSize: 2)(x)
        x = Permute([2, 1])(x)
        x = BatchNormalization(axis: 1)(x)
        let image1 = Flatten()(x)
        var t = Embedding(inputDim: 6, outputDim: 4, name: "embed")(ids)
        t = LayerNormalization()(t)
        t = Dropout(0.2, noiseShape: [nil, 1, nil])(t)
        t = GlobalMaxPooling1D()(t)
        t = RepeatVector(2)(t)
        t = Flatten()(t)
        let both = Concatenate()(Dense(5)(image1), Dense(5, activation: .elu(alpha: 0.5))(t))
        let scores = Dot(axes: 1)(both, Dense(10, name: "wide")(both))
        let out = Softmax()(Add()(Dense(3)(both), scores))
        return Model(inputs: [image, ids], outputs: [out], name: "sample")
    }

    /// Saves the sample, then loads it after `edit` rewrote its config.json.
    func load(after edit: (String) -> String) throws -> Model {
        let path = folder + "m"
        try sampleModel().save(to: path)
        let configPath = path + "/config.json"
        try edit(try String(contentsOfFile: configPath, encoding: .utf8)).write(toFile: configPath, atomically: true, encoding: .utf8)
        return try loadModel(from: path)
    }

    func assertRefused(_ from: String, _ to: String, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try load { text in
            XCTAssertTrue(text.contains(from), "the sample's config lacks \(from)", line: line)
            return text.replacingOccurrences(of: from, with: to)
        }, line: line) { error in
            XCTAssertTrue(error is SavingError, "\(error)", line: line)
            XCTAssertEqual("\(error)", expected, line: line)
        }
    }

    func testTheSampleLoads() throws {
        let loaded = try load { $0 }
        let x = [Random.normal([2, 8, 8, 2]), Tensor([[1, 2, 3], [5, 0, 4]] as [[Int32]])]
        XCTAssertEqual(loaded(x)[0].shape, [2, 3])
    }

    func testValuesALayerWouldRefuse() {
        assertRefused("\"units\": 10", "\"units\": 0", "the config of a Dense layer: 'units' is expected an integer from 1 to 16777216")
        assertRefused("\"padding\": \"causal\"", "\"padding\": \"bogus\"",
                      "the config of a Conv1D layer: 'padding' is expected \"valid\", \"same\" or \"causal\"")
        assertRefused("\"kernel_size\": [3, 3]", "\"kernel_size\": [3, 3, 3]",
                      "the config of a Conv2D layer: 'kernel_size' is expected 1 or 2 integers from 1 to 65536")
        assertRefused("\"rate\": 0.2", "\"rate\": 1.0", "the config of a Dropout layer: 'rate' is expected a number in [0.0, 1.0)")
        assertRefused("\"axes\": [1, 1]", "\"axes\": [1]", "the config of a Dot layer: 'axes' is expected two axes from -3 to 2")
        assertRefused("\"cropping\": [1, 0, 0, 1]", "\"cropping\": [1, 0, -2, 1]",
                      "the config of a Cropping2D layer: 'cropping' is expected [[top, bottom], [left, right]] as 4 integers from 0 to 65536")
        assertRefused("\"dims\": [2, 1]", "\"dims\": [2, 2]", "the config of a Permute layer: 'dims' is expected a permutation of 1...n")
        assertRefused("\"n\": 2", "\"n\": 0", "the config of a RepeatVector layer: 'n' is expected an integer from 1 to 65536")
        assertRefused("\"output_padding\": [1, 1]", "\"output_padding\": [2, 1]",
                      "the config of a Conv2DTranspose layer: 'output_padding' is expected less than the strides [2, 2] on every axis")
        assertRefused("\"groups\": 1", "\"groups\": 3", "the config of a Conv2D layer: 'groups' is expected a divisor of filters (4)")
        assertRefused("\"alpha\": 0.5", "\"alpha\": \"x\"", "the config of a Dense layer: 'alpha' is expected a number")
    }

    func testLayersThatNoLongerFitTogether() {
        // A larger window than what reaches the layer.
        assertRefused("\"pool_size\": [2, 2]", "\"pool_size\": [9, 9]",
                      "the config of a MaxPooling2D layer: 'nodes' is the layers do not fit together: MaxPooling2D 'pool': the window [9, 9] does not fit the input's spatial size [8, 8] with padding valid")
        // A reshape to another size.
        assertRefused("\"target_shape\": [-1, 3]", "\"target_shape\": [-1, 7]",
                      "the config of a Reshape layer: 'nodes' is the layers do not fit together: Reshape 'reshape': cannot reshape examples of shape [5, 5, 3] (75 elements) to [-1, 7]")
        // Ids fed as floats to the embedding.
        assertRefused("\"dtype\": \"int32\"", "\"dtype\": \"float32\"",
                      "the config of a Embedding layer: 'nodes' is the layers do not fit together: Embedding 'embed': ids must be int32 or int64, got float32")
    }

    func testAConfigDescribingMoreWeightsThanTheFileHolds() {
        let weights = folder + "m/model.safetensors"
        assertRefused("\"input_dim\": 6", "\"input_dim\": 16000000",
                      "\(weights): the config's layer 'embed' needs 64000000 more weight elements than the file holds (582 left)")
        assertRefused("\"units\": 10", "\"units\": 16000000",
                      "\(weights): the config's layer 'wide' needs 176000000 more weight elements than the file holds (110 left)")
    }

    /// Every number and string in the config replaced, one at a time, by values a
    /// damaged file could hold: loading throws or gives a model that runs.
    func assertEverySingleValueEditThrowsOrLoads(_ model: Model, refusedAtLeast: Int, loadedAtLeast: Int, line: UInt = #line) throws {
        let path = folder + "edited"
        try model.save(to: path)
        let configPath = path + "/config.json"
        let original = ConfigValue(try StrictJSON.parse(readBytes(configPath)[...]))
        let numbers: [ConfigValue] = [0, -1, 1, 3, .int(1 << 40), 0.5, .null, "same"]
        let strings: [ConfigValue] = ["causal", "int32", "bool", "Dense", "", 2, .null]
        var loaded = 0, refused = 0
        for variant in original.singleEdits(numbers: numbers, strings: strings) {
            try variant.json().write(toFile: configPath, atomically: true, encoding: .utf8)
            do {
                let model = try loadModel(from: path)
                loaded += 1
                if let graph = model.graph {
                    _ = model(graph.inputs.map { Tensor.zeros($0.example.shape, dtype: $0.example.dtype) })
                } else if let sequential = model as? Sequential, let shape = sequential.exampleShape {
                    _ = model(Tensor.zeros(TensorShape([2] + shape.dimensions), dtype: sequential.inputDType))
                }
            } catch is SavingError {
                refused += 1
            } catch is CheckpointError {
                refused += 1
            }
        }
        // Counted when written: 1549 refused and 295 loaded for the functional sample, 213 and 73 for the Sequential one.
        XCTAssertGreaterThanOrEqual(refused, refusedAtLeast, line: line)
        XCTAssertGreaterThanOrEqual(loaded, loadedAtLeast, "edits that keep the model meaningful (names, an equal size) still load", line: line)
    }

    /// A functional model holding a Sequential and a functional model as layers.
    func nestedModel() -> Model {
        setRandomSeed(10)
        let inner = Input(shape: [4], name: "inner_in")
        let tower = Model(inputs: inner, outputs: Dense(3, activation: .tanh, name: "tower_dense")(inner), name: "tower")
        let stack = Sequential([Dense(5, name: "stack_dense"), Reshape([5], name: "stack_reshape"), Dense(3, name: "stack_out")], name: "stack")
        let x = Input(shape: [4], name: "x")
        return Model(inputs: x, outputs: Add()(tower(x), stack(x)), name: "nested")
    }

    func testNestedModelsAreCheckedLayerByLayer() throws {
        let x = Random.normal([2, 4])
        let path = folder + "nested"
        let nested = nestedModel()
        try nested.save(to: path)
        XCTAssertEqual(try loadModel(from: path).predict(x), try nested.predict(x))
        let configPath = path + "/config.json"
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        func refused(_ from: String, _ to: String, _ expected: String, line: UInt = #line) throws {
            XCTAssertTrue(text.contains(from), "no \(from)", line: line)
            try text.replacingOccurrences(of: from, with: to).write(toFile: configPath, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try loadModel(from: path), line: line) { error in
                XCTAssertTrue(error is SavingError, "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
            }
        }
        // A nested Sequential built by its call: each of its layers is checked.
        try refused("\"target_shape\": [5]", "\"target_shape\": [7]",
                    "Reshape 'stack_reshape': cannot reshape examples of shape [5] (5 elements) to [7]")
        try text.replacingOccurrences(of: "\"input_shape\": [4]", with: "\"input_shape\": null")
            .replacingOccurrences(of: "\"target_shape\": [5]", with: "\"target_shape\": [7]")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: path)) { error in
            XCTAssertTrue("\(error)".contains("Reshape 'stack_reshape': cannot reshape examples of shape [5] (5 elements) to [7]"), "\(error)")
        }
        try refused("\"units\": 5", "\"units\": 6", "Reshape 'stack_reshape': cannot reshape examples of shape [6]")
        // The nested functional model's input of another dtype than its layers' weights.
        let inner = try XCTUnwrap(text.range(of: "\"inner_in\""))
        let dtype = try XCTUnwrap(text.range(of: "\"float32\"", range: inner.upperBound..<text.endIndex))
        try text.replacingCharacters(in: dtype, with: "\"float64\"").write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: path)) { error in
            XCTAssertTrue("\(error)".contains("Dense 'tower_dense': expects float32 inputs (the dtype of its weights), got [\"float64\"]"), "\(error)")
        }
    }

    func testGrowthAndKindsARealModelCannotHave() throws {
        setRandomSeed(12)
        let model = Sequential([UpSampling2D(size: 2, name: "up"), Activation(.sigmoid, name: "squash")], inputShape: [4, 4, 1])
        try model.save(to: folder + "grow")
        let configPath = folder + "grow/config.json"
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "\"size\": [2, 2]", with: "\"size\": [65536, 65536]").write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: folder + "grow")) { error in
            XCTAssertEqual("\(error)", "the config of a UpSampling2D layer: 'nodes' is an output of about 68719476736 elements per example from 'up', more than 268435456")
        }
        try text.replacingOccurrences(of: "\"input_dtype\": \"float32\"", with: "\"input_dtype\": \"bool\"").write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadModel(from: folder + "grow")) { error in
            XCTAssertEqual("\(error)", "the config of a UpSampling2D layer: 'nodes' is the layers do not fit together: UpSampling2D 'up': expects number inputs, got [\"bool\"]")
        }
    }

    func testLayersWithFewerWeightsThanTheirKindUsuallyHasLoad() throws {
        setRandomSeed(13)
        let model = Sequential([BatchNormalization(center: false), LayerNormalization(center: false, scale: false), Dense(4),
                                PReLU(sharedAxes: [1]), BatchNormalization(axis: 1, scale: false)], inputShape: [3, 2])
        let x = Random.normal([2, 3, 2])
        try model.save(to: folder + "lean")
        XCTAssertEqual(try loadModel(from: folder + "lean").predict(x), try model.predict(x))
    }

    func testAGraphThousandsOfLayersDeepLoads() throws {
        let input = Input(shape: [2])
        var x = input
        for _ in 0..<5000 { x = Activation(.tanh)(x) }
        let deep = Model(inputs: input, outputs: x)
        try deep.save(to: folder + "deep")
        let loaded = try loadModel(from: folder + "deep")
        XCTAssertEqual(loaded.layers.count, 5001)
        let v = Tensor([[0.5, -2]] as [[Float]])
        XCTAssertEqual(loaded(v), deep(v))
    }

    func testEverySingleValueEditOfAFunctionalModelThrowsOrLoads() throws {
        try assertEverySingleValueEditThrowsOrLoads(sampleModel(), refusedAtLeast: 1500, loadedAtLeast: 250)
    }

    func testEverySingleValueEditOfANestedModelThrowsOrLoads() throws {
        try assertEverySingleValueEditThrowsOrLoads(nestedModel(), refusedAtLeast: 1, loadedAtLeast: 1)
    }

    func testEverySingleValueEditOfAnAttentionModelThrowsOrLoads() throws {
        let tokens = Input(shape: [4, 6]), memory = Input(shape: [3, 5])
        let mixed = MultiHeadAttention(numHeads: 2, keyDim: 3, valueDim: 2, outputShape: 4)(tokens, memory)
        let scored = Attention(useScale: true)(mixed, memory, Dense(4)(memory))
        let model = Model(inputs: [tokens, memory], outputs: [AdditiveAttention()(scored, scored)])
        try assertEverySingleValueEditThrowsOrLoads(model, refusedAtLeast: 50, loadedAtLeast: 10)
    }

    func testEverySingleValueEditOfAWrappedRecurrentModelThrowsOrLoads() throws {
        let model = Sequential([
            Bidirectional(LSTM(3, returnSequences: true), mergeMode: .sum), TimeDistributed(Dense(2)),
            Bidirectional(GRU(2)),
        ], inputShape: [4, 5])
        try assertEverySingleValueEditThrowsOrLoads(model, refusedAtLeast: 50, loadedAtLeast: 10)
        let convolutional = Sequential([
            ConvLSTM2D(filters: 2, kernelSize: 2, padding: .same, returnSequences: true), ConvLSTM2D(filters: 1, kernelSize: [2, 1], strides: 2),
        ], inputShape: [3, 4, 4, 1])
        try assertEverySingleValueEditThrowsOrLoads(convolutional, refusedAtLeast: 30, loadedAtLeast: 10)
    }

    func testEverySingleValueEditOfASequentialModelThrowsOrLoads() throws {
        let model = Sequential([
            Embedding(inputDim: 7, outputDim: 3), Conv1D(4, kernelSize: 3, padding: .same, dilationRate: 2), MaxPooling1D(),
            Flatten(), Dense(2, activation: .leakyRelu), PReLU(),
        ], inputShape: [6], inputDType: .int32)
        try assertEverySingleValueEditThrowsOrLoads(model, refusedAtLeast: 200, loadedAtLeast: 60)
    }
}

extension ConfigValue {
    /// Copies of the value with one leaf replaced: numbers by each of `numbers`,
    /// strings by each of `strings`.
    func singleEdits(numbers: [ConfigValue], strings: [ConfigValue]) -> [ConfigValue] {
        switch self {
        case .int, .double: return numbers.filter { $0 != self }
        case .string: return strings.filter { $0 != self }
        case .array(let items):
            return items.indices.flatMap { i in
                items[i].singleEdits(numbers: numbers, strings: strings).map { edit in
                    var copy = items
                    copy[i] = edit
                    return ConfigValue.array(copy)
                }
            }
        case .object(let entries):
            return entries.indices.flatMap { i in
                entries[i].1.singleEdits(numbers: numbers, strings: strings).map { edit in
                    var copy = entries
                    copy[i].1 = edit
                    return ConfigValue.object(copy)
                }
            }
        default: return []
        }
    }
}
