import XCTest
@testable import DeepSwift
import TestSupport

/// Merge, activation and utility layers against Keras 3 (JAX backend, float32
/// layers) on the same inputs.
final class MergeAndUtilityLayerTests: XCTestCase {
    let a = Tensor([[0.5, -1.0, 2.0], [-0.25, 0.75, -3.0]] as [[Float]])
    let b = Tensor([[1.5, 0.5, -2.0], [2.0, -0.5, 1.0]] as [[Float]])
    let c = Tensor([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]] as [[Float]])

    func assertValues(_ t: Tensor, _ expected: [Double], shape: TensorShape? = nil, _ message: String = "",
                      file: StaticString = #filePath, line: UInt = #line) {
        if let shape { XCTAssertEqual(t.shape, shape, message, file: file, line: line) }
        let values = t.cast(to: .float64).scalars(as: Double.self)
        XCTAssertEqual(values.count, expected.count, message, file: file, line: line)
        for (v, e) in zip(values, expected) { XCTAssertEqual(v, e, accuracy: 1e-6, message, file: file, line: line) }
    }

    func testMergeLayersMatchKeras() {
        assertValues(Add()([a, b, c])[0], [2.1, -0.3, 0.3, 1.35, 0.75, -2.6], shape: [2, 3])
        assertValues(Subtract()([a, b])[0], [-1, -1.5, 4, -2.25, 1.25, -4])
        assertValues(Multiply()([a, b, c])[0], [0.075, -0.1, -1.2, 0.2, -0.1875, 1.8])
        assertValues(Average()([a, b, c])[0], [0.7, -0.1, 0.1, 0.45, 0.25, -0.8666666746139526])
        assertValues(Maximum()([a, b, c])[0], [1.5, 0.5, 2, 2, 0.75, 1])
        assertValues(Minimum()([a, b, c])[0], [0.1, -1, -2, -0.4, -0.5, -3])
        assertValues(Concatenate()([a, b])[0], [0.5, -1, 2, 1.5, 0.5, -2, -0.25, 0.75, -3, 2, -0.5, 1], shape: [2, 6])
        assertValues(Concatenate(axis: 0)([a, b])[0], [0.5, -1, 2, -0.25, 0.75, -3, 1.5, 0.5, -2, 2, -0.5, 1], shape: [4, 3])
        // Non-batch axes broadcast, as in Keras (the batch sizes must agree).
        assertValues(Add()([a, Tensor([[1], [2]] as [[Float]])])[0], [1.5, 0, 3, 1.75, 2.75, -1])
    }

    func testDotMatchesKeras() {
        assertValues(Dot(axes: 1)([a, b])[0], [-3.75, -3.875], shape: [2, 1])
        assertValues(Dot(axes: 1, normalize: true)([a, b])[0], [-0.6419407725334167, -0.5451195240020752])
        let x = Tensor((0..<12).map { Float($0) / 10 }).reshaped(to: [2, 2, 3])
        let y = Tensor((0..<18).map { (Float($0) - 5) / 10 }).reshaped(to: [2, 3, 3])
        assertValues(Dot(axes: [2, 2])([x, y])[0],
                     [-0.1, -0.01, 0.08, -0.46, -0.1, 0.26, 1.07, 1.7, 2.33, 1.52, 2.42, 3.32], shape: [2, 2, 3])
        assertValues(Dot(axes: [2, 1])([x, y])[0],
                     [0, 0.03, 0.06, -0.18, -0.06, 0.06, 1.53, 1.74, 1.95, 2.16, 2.46, 2.76], shape: [2, 2, 3])
        let z = Tensor((0..<12).map { Float($0) / 10 }).reshaped(to: [2, 3, 2])
        assertValues(Dot(axes: [1, 1])([z, y])[0],
                     [0, 0.06, 0.12, -0.06, 0.03, 0.12, 1.8, 2.04, 2.28, 2.01, 2.28, 2.55], shape: [2, 2, 3])
    }

    func testMergeGradients() {
        let inputs = [a, b, c].map { $0.cast(to: .float64) }
        checkGradients(inputs) { Maximum()($0)[0] }
        checkGradients(inputs) { Average()($0)[0] * Multiply()($0)[0] }
        checkGradients(Array(inputs.prefix(2))) { Dot(axes: 1, normalize: true)($0)[0] }
        checkGradients(Array(inputs.prefix(2))) { Concatenate()($0)[0] * 2 }
    }

    func testMergeErrorsNameTheLayer() {
        assertTraps("Subtract 'sub' takes exactly 2 inputs, got 3") { _ = Subtract(name: "sub")([self.a, self.b, self.c]) }
        assertTraps("Add 'add_x': the inputs' batch sizes differ: [(2, 3), (1, 3)]") {
            _ = Add(name: "add_x")([self.a, Tensor.ones([1, 3])])
        }
        assertTraps("Dot 'd': axes [1, 1] do not pair equal axes of (2, 3) and (2, 4)") {
            _ = Dot(axes: 1, name: "d")([self.a, Tensor.ones([2, 4])])
        }
    }

    func testActivationLayersMatchKeras() {
        assertValues(Softmax()(a), [0.17529039084911346, 0.03911257162690163, 0.785597026348114,
                                    0.26439571380615234, 0.7187020778656006, 0.016902253031730652])
        assertValues(ReLU(maxValue: 1.5, negativeSlope: 0.1, threshold: 0.25)(a), [0.5, -0.125, 1.5, -0.05, 0.75, -0.325])
        assertValues(ReLU()(a), [0.5, 0, 2, 0, 0.75, 0])
        assertValues(LeakyReLU()(a), [0.5, -0.3, 2, -0.075, 0.75, -0.9])
        assertValues(ELU(alpha: 0.5)(a), [0.5, -0.31606027483940125, 2, -0.11059959977865219, 0.75, -0.47510647773742676])
        let prelu = PReLU(alphaInitializer: .constant(0.25))
        assertValues(prelu(a), [0.5, -0.25, 2, -0.0625, 0.75, -0.75])
        XCTAssertEqual(prelu.trainableWeights.map(\.shape), [[3]])
        let shared = PReLU(sharedAxes: [1])
        _ = shared(Tensor.ones([4, 2, 3]))
        XCTAssertEqual(shared.alpha?.shape, [1, 3])
        assertValues(shared(Tensor.ones([1, 2, 3]) * -1), [0, 0, 0, 0, 0, 0], "alpha starts at zero")
    }

    func testActivationLayerGradients() {
        // Away from the kinks (0 and the threshold 0.25).
        let x = Tensor([[0.5, -1.0, 2.0], [-0.35, 0.75, -3.0]] as [[Double]])
        checkGradients([x]) { ReLU(maxValue: 1.5, negativeSlope: 0.1, threshold: 0.25)($0[0]) }
        checkGradients([x]) { LeakyReLU()($0[0]) }
        checkGradients([x]) { ELU(alpha: 0.5)($0[0]) }
        checkGradients([x]) { Softmax()($0[0]) }
        checkGradients([x]) { Rescaling(scale: 0.5, offset: 1)($0[0]) * $0[0] }
        checkGradients([x]) { Permute([1])(RepeatVector(2)($0[0]).sum(axis: 1)) }
    }

    func testUtilityLayersMatchKeras() {
        assertValues(Rescaling(scale: 1.0 / 255, offset: -1)(Tensor([[0, 255, 51]] as [[Float]])), [-1, 0, -0.8])
        XCTAssertEqual(Rescaling(scale: 0.5)(Tensor([[2, 4]] as [[Int32]])).dtype, .float32)
        assertValues(RepeatVector(2)(a), [0.5, -1, 2, 0.5, -1, 2, -0.25, 0.75, -3, -0.25, 0.75, -3], shape: [2, 2, 3])
        let x = Tensor((0..<12).map { Float($0) / 10 }).reshaped(to: [2, 2, 3])
        assertValues(Permute([2, 1])(x), [0, 0.3, 0.1, 0.4, 0.2, 0.5, 0.6, 0.9, 0.7, 1, 0.8, 1.1], shape: [2, 3, 2])
        assertValues(Lambda { $0 * 2 + 1 }(a), [2, -1, 5, 0.5, 2.5, -5])
        // Noise only in training, with the given spread.
        let noise = GaussianNoise(stddev: 0.5)
        XCTAssertEqual(noise(a), a)
        setRandomSeed(3)
        let noisy = noise(Tensor.zeros([20_000]), training: true).cast(to: .float64)
        let std = sqrt(square(noisy).mean()).scalar(as: Double.self)
        XCTAssertEqual(std, 0.5, accuracy: 0.01)
    }

    func testMergeLayersInAFunctionalModelAndGetLayer() throws {
        let left = Input(shape: [3]), right = Input(shape: [3])
        let summed = Add(name: "sum")(Dense(4, name: "left_dense")(left), Dense(4, name: "right_dense")(right))
        let output = Dense(1, name: "head")(Concatenate()(summed, Multiply()(left, right)))
        let model = Model(inputs: [left, right], outputs: [output])
        let y = model([a, b])[0]
        XCTAssertEqual(y.shape, [2, 1])
        XCTAssertEqual(try model.getLayer(name: "head").weights.map(\.shape), [[7, 1], [1]])
        XCTAssertThrowsError(try model.getLayer(name: "nope")) { error in
            XCTAssertTrue("\(error)".hasPrefix("Model '\(model.name)' has no layer named 'nope'; its layers: "), "\(error)")
            XCTAssertTrue("\(error)".contains("left_dense"), "\(error)")
        }
        XCTAssertTrue(model.layers.contains { $0.name == "sum" })
    }
}

/// Normalization (with adapt) and the spatial dropouts, against Keras 3.
final class PreprocessingLayerTests: XCTestCase {
    func testNormalizationAdaptsAsKeras() throws {
        let x = Tensor([[1, 10], [3, 30], [5, 20], [7, 40]] as [[Float]])
        let normalizer = Normalization()
        try normalizer.adapt(x)
        XCTAssertEqual(normalizer.mean?.value.scalars(as: Float.self), [4, 25])
        XCTAssertEqual(normalizer.variance?.value.scalars(as: Float.self), [5, 125])
        let y = normalizer(Tensor([[2, 25]] as [[Float]])).scalars(as: Float.self)
        XCTAssertEqual(y[0], -0.8944271802902222, accuracy: 1e-6)
        XCTAssertEqual(y[1], 0, accuracy: 1e-6)
        XCTAssertEqual(normalizer.nonTrainableWeights.count, 2, "the statistics are saved with the weights")
        XCTAssertTrue(normalizer.trainableWeights.isEmpty)

        let global = Normalization(axis: nil)
        try global.adapt(x)
        let z = global(Tensor([[2, 25]] as [[Float]])).scalars(as: Float.self)
        XCTAssertEqual(z[0], -0.9442369341850281, accuracy: 1e-6)
        XCTAssertEqual(z[1], 0.793159008026123, accuracy: 1e-6)

        let inverse = Normalization(mean: Tensor(2 as Float), variance: Tensor(4 as Float), invert: true)
        XCTAssertEqual(inverse(Tensor([[1, -1]] as [[Float]])).scalars(as: Float.self), [4, 0])

        XCTAssertThrowsError(try Normalization(name: "empty").adapt(Tensor.zeros([0, 2]))) { error in
            XCTAssertEqual(error as? TrainingError,
                           .invalidConfiguration("Normalization 'empty'.adapt: needs at least one example, got (0, 2)"))
        }
        assertTraps("Normalization 'unadapted': call adapt(_:) or give mean and variance before using the layer") {
            _ = Normalization(name: "unadapted")(Tensor.ones([1, 2]))
        }
    }

    func testSpatialDropoutDropsWholeChannels() {
        let drop1 = SpatialDropout1D(0.5, seed: 3)
        let x = Tensor.ones([4, 6, 8])
        XCTAssertEqual(drop1(x), x, "identity at inference")
        let y = drop1(x, training: true)
        for b in 0..<4 {
            for c in 0..<8 {
                let column = y[b, .all, c].scalars(as: Float.self)
                XCTAssertTrue(column.allSatisfy { $0 == column[0] } && (column[0] == 0 || column[0] == 2), "\(column)")
            }
        }
        let drop2 = SpatialDropout2D(0.25, seed: 4)
        let maps = drop2(Tensor.ones([2, 3, 3, 5]), training: true)
        for b in 0..<2 {
            for c in 0..<5 {
                let map = maps[b, .all, .all, c].scalars(as: Float.self)
                XCTAssertTrue(map.allSatisfy { $0 == map[0] } && (map[0] == 0 || abs(map[0] - 4.0 / 3) < 1e-6), "\(map)")
            }
        }
    }
}
