import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

final class LayerTests: XCTestCase {
    func testDense() {
        let dense = Dense(3, activation: .relu, kernelInitializer: .ones(), biasInitializer: .constant(-2))
        let y = dense(Tensor([[1.0, 2.0], [0.0, 1.0]]))
        XCTAssertEqual(y.array(as: [[Float]].self), [[1, 1, 1], [0, 0, 0]])
        XCTAssertEqual(dense.weights.map(\.name), ["kernel", "bias"])
        XCTAssertEqual(dense.countParams(), 9)
        let noBias = Dense(2, useBias: false)
        _ = noBias(Tensor.ones([1, 4]))
        XCTAssertEqual(noBias.weights.count, 1)
        let seq = Dense(5)
        XCTAssertEqual(seq(Tensor.ones([2, 3, 4])).shape, [2, 3, 5])
    }

    func testRegularizersProduceLosses() {
        let dense = Dense(2, kernelInitializer: .ones(), kernelRegularizer: .l2(0.5), activityRegularizer: .l1(0.1))
        _ = dense(Tensor([[1.0, -1.0, 2.0]]))
        // Activity: 0.1·Σ|y| with y = [2, 2]; kernel: 0.5·Σ1² over 6 entries.
        XCTAssertEqual(dense.losses.map { $0.scalar(as: Float.self) }, [0.4, 3], accuracy: 1e-6)
    }

    func testDropoutTrainingAndInference() {
        let x = Tensor.ones([100, 100])
        let dropout = Dropout(0.4, seed: 3)
        XCTAssertEqual(dropout(x), x)
        let y = dropout(x, training: true).scalars(as: Float.self)
        let kept = y.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 10000, 0.6, accuracy: 0.02)
        XCTAssertTrue(kept.allSatisfy { Swift.abs($0 - 1 / 0.6) < 1e-5 })
        XCTAssertNotEqual(dropout(x, training: true).scalars(as: Float.self), y, "a new mask each call")
        XCTAssertEqual(Dropout(0.4, seed: 3)(x, training: true).scalars(as: Float.self), y, "seeded")
        let shared = Dropout(0.5, noiseShape: [nil, 1], seed: 1)(Tensor.ones([4, 6]), training: true)
        for row in shared.array(as: [[Float]].self) { XCTAssertEqual(Set(row).count, 1) }
    }

    func testBatchNormalization() {
        let bn = BatchNormalization(momentum: 0.5, epsilon: 0)
        let x = Tensor([[1.0, 10], [3, 30]])
        let y = bn(x, training: true)
        assertClose(y, Tensor([[-1.0, -1], [1, 1]]), tolerance: 1e-5)
        assertClose(bn.movingMean.value, Tensor([1.0, 10]), tolerance: 1e-6)       // 0·0.5 + [2, 20]·0.5
        assertClose(bn.movingVariance.value, Tensor([1.0, 50.5]), tolerance: 1e-5) // 1·0.5 + [1, 100]·0.5
        assertClose(bn(x), (x - Tensor([1.0, 10])) / sqrt(Tensor([1.0, 50.5])), tolerance: 1e-5)
        XCTAssertEqual(bn.trainableWeights.map(\.name), ["gamma", "beta"])
        XCTAssertEqual(bn.nonTrainableWeights.map(\.name), ["moving_mean", "moving_variance"])
    }

    func testNormalizationAxisOutOfRangeIsNamed() {
        assertTraps("LayerNormalization", "axis 3 is out of range for input shape (2, 4)") {
            _ = LayerNormalization(axis: 3)(Tensor.ones([2, 4]))
        }
        assertTraps("BatchNormalization", "axis -3 is out of range for input shape (2, 4)") {
            _ = BatchNormalization(axis: -3)(Tensor.ones([2, 4]))
        }
    }

    func testLayerNormalizationAndShapeLayers() {
        let ln = LayerNormalization(epsilon: 0)
        assertClose(ln(Tensor([[1.0, 3.0], [2.0, 6.0]])), Tensor([[-1.0, 1], [-1, 1]]), tolerance: 1e-5)
        XCTAssertEqual(Flatten()(Tensor.zeros([2, 3, 4])).shape, [2, 12])
        XCTAssertEqual(Reshape([4, -1])(Tensor.zeros([2, 12])).shape, [2, 4, 3])
        XCTAssertEqual(Activation("softmax")(Tensor.zeros([1, 4])).scalars(as: Float.self), [0.25, 0.25, 0.25, 0.25])
        let embedding = Embedding(inputDim: 5, outputDim: 3, embeddingsInitializer: .ones())
        XCTAssertEqual(embedding(Tensor([[0, 4], [2, 2]])).shape, [2, 2, 3])
        let reg = ActivityRegularization(l1: 0.5, l2: 1)
        XCTAssertEqual(reg(Tensor([1.0, -2])), Tensor([1.0, -2]))
        XCTAssertEqual(reg.losses[0].scalar(as: Float.self), 6.5)
    }

    func testActivations() {
        let x = Tensor([-2.0, 0.5])
        let expected: [(ActivationFunction, [Double])] = [
            (.relu, [0, 0.5]), (.linear, [-2, 0.5]), (.elu, [exp(-2.0) - 1, 0.5]),
            (.leakyRelu, [-0.4, 0.5]), (.sigmoid, [1 / (1 + exp(2.0)), 1 / (1 + exp(-0.5))]),
            (.gelu, [-2 * 0.5 * (1 + erf(-2 / 2.0.squareRoot())), 0.5 * 0.5 * (1 + erf(0.5 / 2.0.squareRoot()))]),
            ("swish", [-2 / (1 + exp(2.0)), 0.5 / (1 + exp(-0.5))]), ("softplus", [log1p(exp(-2.0)), log1p(exp(0.5))]),
            ("tanh", [tanh(-2.0), tanh(0.5)]),
        ]
        for (f, values) in expected { assertClose(f(x), Tensor(values), tolerance: 1e-6) }
    }

    func testInitializerStatistics() {
        setRandomSeed(5)
        let w = Initializer.glorotUniform()([200, 300])
        let limit = (6.0 / 500).squareRoot()
        XCTAssertLessThanOrEqual(w.max().scalar(as: Float.self), Float(limit))
        XCTAssertGreaterThanOrEqual(w.min().scalar(as: Float.self), -Float(limit))
        XCTAssertEqual(Double(square(w).mean().scalar(as: Float.self)), limit * limit / 3, accuracy: 0.0005)
        let he = Initializer.heNormal()([400, 300])
        XCTAssertEqual(Double(square(he).mean().scalar(as: Float.self)), 2.0 / 400, accuracy: 0.0003)
        let n = Initializer("random_normal")([10000])
        XCTAssertEqual(Double(sqrt(square(n).mean()).scalar(as: Float.self)), 0.05, accuracy: 0.002)
        XCTAssertEqual(Initializer.glorotUniform(seed: 1)([3, 3]), Initializer.glorotUniform(seed: 1)([3, 3]))
    }

    func testNamesAreUniqueAndHierarchical() {
        let a = Dense(1), b = Dense(1)
        XCTAssertTrue(a.name.hasPrefix("dense"))
        XCTAssertNotEqual(a.name, b.name)
        XCTAssertEqual(LayerNames.snakeCase("BatchNormalization"), "batch_normalization")
        XCTAssertEqual(LayerNames.snakeCase("MLP"), "mlp")
        XCTAssertEqual(LayerNames.snakeCase("MLPWithDropout"), "mlp_with_dropout")
        let model = Sequential([Dense(2, name: "hidden"), Dense(1, name: "out")], inputShape: [3], name: "net")
        XCTAssertEqual(model.namedWeights.map(\.name), ["net/hidden/kernel", "net/hidden/bias", "net/out/kernel", "net/out/bias"])
    }

    func testFreezingMovesWeightsToNonTrainable() {
        let model = Sequential([Dense(2), BatchNormalization()], inputShape: [3])
        XCTAssertEqual(model.trainableWeights.count, 4)
        XCTAssertEqual(model.nonTrainableWeights.count, 2)
        model.layers[0].trainable = false
        XCTAssertEqual(model.trainableWeights.count, 2)
        XCTAssertEqual(model.nonTrainableWeights.count, 4)
        model.trainable = false
        XCTAssertEqual(model.trainableWeights.count, 0)
        XCTAssertEqual(model.weights.count, 6)
        XCTAssertEqual(model.countParams(), 8 + 8)
    }

    func testCollectionsOfLayersAreTracked() {
        final class Stack: Layer {
            let blocks: [Dense] = [Dense(4), Dense(4)]
            let named: [String: Dense] = ["head": Dense(1)]
            let optional: Dense? = Dense(2)
            override func call(_ inputs: Tensor, training: Bool) -> Tensor {
                optional!(named["head"]!(blocks[1](blocks[0](inputs))))
            }
        }
        let s = Stack()
        _ = s(Tensor.ones([1, 3]))
        XCTAssertEqual(s.sublayers.count, 4)
        XCTAssertEqual(s.weights.count, 8)
    }

    /// A block whose parts are plain stored properties, reassigned after the first call.
    final class Block: Layer {
        var inner = Dense(2)
        var extra: Variable?
        var heads: [Layer] = []
        override func call(_ x: Tensor, training: Bool) -> Tensor { inner(x) }
    }

    func testReassignedPropertiesAreSeenAfterTheFirstCall() throws {
        let block = Block()
        _ = block(Tensor.ones([1, 3]))
        XCTAssertEqual(block.weights.map(\.shape), [[3, 2], [2]])
        // A new variable in a stored property.
        block.extra = Variable(Tensor.zeros([4]), name: "extra")
        XCTAssertEqual(block.weights.map(\.shape), [[4], [3, 2], [2]])
        // A new layer replacing a sublayer (built on its first call).
        block.inner = Dense(5)
        _ = block(Tensor.ones([1, 3]))
        XCTAssertEqual(block.weights.map(\.shape), [[4], [3, 5], [5]])
        XCTAssertEqual(block.sublayers.count, 1)
        // A layer made before the first call, appended to a collection later; then
        // a property cleared: compile and fit look again.
        let head = Dense(1)
        _ = head(Tensor.ones([1, 5]))
        block.heads.append(head)
        block.extra = nil
        let model = Sequential { block }
        model.compile(optimizer: SGD(learningRate: 0.1), loss: MeanSquaredError())
        XCTAssertEqual(block.weights.map(\.shape), [[3, 5], [5], [5, 1], [1]])
        _ = try model.fit(x: Tensor.ones([4, 3]), y: Tensor.zeros([4, 5]), batchSize: 4, verbose: 0)
        XCTAssertEqual(model.trainableWeights.count, 4)
    }

    func testAddMetricTracksAMean() {
        final class Probe: Layer {
            override func call(_ inputs: Tensor, training: Bool) -> Tensor {
                addMetric(inputs.mean(), name: "activation_mean")
                return inputs
            }
        }
        let p = Probe()
        _ = p(Tensor([1.0, 3.0]))
        _ = p(Tensor([5.0, 7.0]))
        XCTAssertEqual(p.metrics.map(\.name), ["activation_mean"])
        XCTAssertEqual(p.metrics[0].result().scalar(as: Float.self), 4)
        p.resetMetrics()
        XCTAssertEqual(p.metrics[0].result().scalar(as: Float.self), 0)
    }

    /// Regression: a Sequential's layers were found twice (its stored array and
    /// its container list), so their losses and metrics counted twice, and four
    /// times in a nested Sequential.
    func testEachLayerCountsOnceHoweverItIsReached() {
        final class Penalty: Layer {
            override func call(_ inputs: Tensor, training: Bool) -> Tensor {
                addLoss(Tensor(Float(1.5)))
                addMetric(inputs.mean(), name: "seen")
                return inputs
            }
        }
        let penalty = Penalty()
        let inner = Sequential([penalty, Dense(2, kernelInitializer: .ones(), kernelRegularizer: .l2(0.5))])
        let outer = Sequential([inner, Dense(1)])
        _ = outer(Tensor.ones([1, 2]))
        // 1.5 from the layer, 0.5·(4 ones) = 2 from the regularizer.
        XCTAssertEqual(outer.losses.map { $0.scalar(as: Float.self) }, [1.5, 2])
        XCTAssertEqual(inner.losses.count, 2)
        XCTAssertEqual(outer.metrics.map { $0.name }, ["seen"])
        XCTAssertEqual(outer.sublayers.count, 2)
        XCTAssertEqual(inner.sublayers.count, 2)
        // A layer shared by two blocks of one model counts once too.
        final class Pair: Layer {
            let a: Sequential, b: Sequential
            init(_ shared: Layer) { a = Sequential([shared]); b = Sequential([shared]); super.init() }
            override func call(_ inputs: Tensor, training: Bool) -> Tensor { b(a(inputs)) }
        }
        let shared = Penalty()
        let pair = Pair(shared)
        _ = pair(Tensor.ones([1, 2]))
        XCTAssertEqual(pair.losses.map { $0.scalar(as: Float.self) }, [1.5, 1.5], "two calls, two losses, each listed once")
        XCTAssertEqual(pair.metrics.count, 1)
    }

    func testShapeErrorNamesTheLayer() {
        assertTraps("Dense", "input shape (2, 5)", "kernel shape (3, 4)") {
            let dense = Dense(4)
            _ = dense(Tensor.zeros([1, 3]))
            _ = dense(Tensor.zeros([2, 5]))
        }
        assertTraps("add", "(2, 4)", "(3,)", "in layer 'outer/inner'") {
            final class BadBias: Layer {
                override func call(_ inputs: Tensor, training: Bool) -> Tensor { inputs + Tensor.zeros([3]) }
            }
            final class Outer: Layer {
                let inner = BadBias(name: "inner")
                override func call(_ inputs: Tensor, training: Bool) -> Tensor { inner(inputs) }
            }
            _ = Outer(name: "outer")(Tensor.zeros([2, 4]))
        }
        assertTraps("Input 0 of layer \"m\" is incompatible with the layer: expected shape=(None, 16), found shape=(2, 8)") {
            let inputs = Input(shape: [16])
            _ = Model(inputs: inputs, outputs: Dense(1)(inputs), name: "m")(Tensor.zeros([2, 8]))
        }
    }

    func testSummary() {
        let model = Sequential([Dense(32, activation: .relu, name: "dense"), Dense(32, activation: .relu, name: "dense_1"),
                                Dense(10, name: "dense_2")], inputShape: [784], name: "sequential")
        var lines: [String] = []
        model.summary { lines.append($0) }
        XCTAssertEqual(lines.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }, [
            "Model: \"sequential\"",
            String(repeating: "_", count: 65),
            " Layer (type)                Output Shape              Param #",
            String(repeating: "=", count: 65),
            " dense (Dense)               (None, 32)                25120",
            "",
            " dense_1 (Dense)             (None, 32)                1056",
            "",
            " dense_2 (Dense)             (None, 10)                330",
            String(repeating: "=", count: 65),
            "Total params: 26506 (103.54 KB)",
            "Trainable params: 26506 (103.54 KB)",
            "Non-trainable params: 0 (0.00 Byte)",
            String(repeating: "_", count: 65),
        ])
        XCTAssertEqual(lines[4].count, 65)
    }

    /// Keras 2's print_summary, run in Python on the same rows: a name longer than
    /// its column is cut one character before the next column, and a graph that
    /// merges gets the "Connected to" column (98 wide), broken after `',`.
    func testSummaryOfABranchingModelAndLongNames() {
        let left = Input(shape: [3], name: "left"), right = Input(shape: [3], name: "right")
        let sum = Add(name: "add")(Dense(4, name: "a_very_long_dense_layer_name")(left), Dense(4, name: "dense_b")(right))
        let model = Model(inputs: [left, right], outputs: [sum], name: "two")
        var lines: [String] = []
        model.summary { lines.append($0) }
        let trimmed = lines.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }
        XCTAssertEqual(Array(trimmed.prefix(18)), [
            "Model: \"two\"",
            String(repeating: "_", count: 98),
            " Layer (type)                Output Shape                 Param #   Connected to",
            String(repeating: "=", count: 98),
            " left (InputLayer)           [(None, 3)]                  0         []",
            "",
            " a_very_long_dense_layer_na  (None, 4)                    16        ['left[0][0]']",
            " me (Dense)",
            "",
            " right (InputLayer)          [(None, 3)]                  0         []",
            "",
            " dense_b (Dense)             (None, 4)                    16        ['right[0][0]']",
            "",
            " add (Add)                   (None, 4)                    0         ['a_very_long_dense_layer_name",
            "                                                                    [0][0]',",
            "                                                                     'dense_b[0][0]']",
            String(repeating: "=", count: 98),
            "Total params: 32 (128.00 Byte)",
        ])
        // A chain keeps the three-column layout, with the same cut.
        let chain = Sequential([Dense(4, name: "a_very_long_dense_layer_name")], inputShape: [3], name: "chain")
        var chainLines: [String] = []
        chain.summary { chainLines.append($0) }
        XCTAssertEqual(chainLines[4].replacingOccurrences(of: " +$", with: "", options: .regularExpression),
                       " a_very_long_dense_layer_na  (None, 4)                 16")
        XCTAssertEqual(chainLines[4].count, 65)
        XCTAssertEqual(chainLines[5].replacingOccurrences(of: " +$", with: "", options: .regularExpression), " me (Dense)")
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
