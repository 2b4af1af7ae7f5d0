import XCTest
import DeepSwift
import TestSupport

/// Finite-difference checks (first and second order, float64) through layers.
final class LayerGradientTests: XCTestCase {
    func testThroughDenseWithAssignedWeights() {
        var g = RandomGenerator(seed: 8)
        let dense = Dense(3, activation: .tanh)
        dense.dtype = .float64
        let x = Random.normal([4, 5], dtype: .float64, using: &g)
        _ = dense(x)
        checkGradients([x, dense.kernel, dense.bias!]) { t in
            dense.kernel = t[1]
            dense.bias = t[2]
            return dense(t[0])
        }
        dense.clearAssignedWeights()
    }

    func testThroughBatchNormalizationInTraining() {
        var g = RandomGenerator(seed: 9)
        let bn = BatchNormalization(epsilon: 1e-3)
        bn.dtype = .float64
        let x = Random.normal([6, 3], dtype: .float64, using: &g)
        checkGradients([x]) { bn($0[0], training: true) }
        checkGradients([x]) { bn($0[0], training: false) * 2 }
    }

    func testThroughNestedFunctionalModel() {
        var g = RandomGenerator(seed: 10)
        let hidden = Dense(4, activation: .softplus), norm = LayerNormalization(), head = Dense(2, activation: .sigmoid)
        for l in [hidden, norm, head] { l.dtype = .float64 }
        let inner = Sequential([hidden, norm])
        let inputs = Input(shape: [3], dtype: .float64)
        let outer = Model(inputs: inputs, outputs: head(inner(inputs)))
        XCTAssertEqual(outer.weights.count, 6)
        XCTAssertTrue(outer.weights.allSatisfy { $0.dtype == .float64 })
        let x = Random.normal([5, 3], dtype: .float64, using: &g)
        checkGradients([x]) { outer($0[0]) }
    }
}
