import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

final class LossTests: XCTestCase {
    let logits = Tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    let labels = Tensor([0, 1])

    func logSoftmaxRow(_ row: [Double]) -> [Double] {
        let m = row.max()!
        let lse = m + log(row.map { exp($0 - m) }.reduce(0, +))
        return row.map { $0 - lse }
    }

    func testSparseAndCategoricalCrossentropy() {
        let expected = (-logSoftmaxRow([2, 1, 0.1])[0] - logSoftmaxRow([0.5, 2.5, 0.3])[1]) / 2
        XCTAssertEqual(Double(SparseCategoricalCrossentropy(fromLogits: true)(labels, logits).scalar(as: Float.self)), expected, accuracy: 1e-6)
        XCTAssertEqual(Double(CategoricalCrossentropy(fromLogits: true)(oneHot(labels, depth: 3), logits).scalar(as: Float.self)),
                       expected, accuracy: 1e-6)
        let probs = softmax(logits)
        XCTAssertEqual(Double(SparseCategoricalCrossentropy()(labels, probs).scalar(as: Float.self)), expected, accuracy: 1e-5)
        XCTAssertEqual(Double(SparseCategoricalCrossentropy(fromLogits: true)(Tensor([[0], [1]]), logits).scalar(as: Float.self)),
                       expected, accuracy: 1e-6)
        XCTAssertEqual(Double(SparseCategoricalCrossentropy(fromLogits: true)(Tensor(shape: [2], scalars: [0, 1] as [UInt8]), logits)
            .scalar(as: Float.self)), expected, accuracy: 1e-6)
        // Label smoothing 0.3 over 3 classes: targets 0.8 / 0.1 / 0.1.
        let smoothed = CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.3)(oneHot(Tensor([0]), depth: 3), logits[0..<1])
        let ls = logSoftmaxRow([2, 1, 0.1])
        XCTAssertEqual(Double(smoothed.scalar(as: Float.self)), -(0.8 * ls[0] + 0.1 * ls[1] + 0.1 * ls[2]), accuracy: 1e-6)
        let none = SparseCategoricalCrossentropy(fromLogits: true, reduction: .none)(labels, logits)
        XCTAssertEqual(none.shape, [2])
        let weighted = SparseCategoricalCrossentropy(fromLogits: true)(labels, logits, sampleWeight: Tensor([1.0, 0.0]))
        XCTAssertEqual(Double(weighted.scalar(as: Float.self)), -logSoftmaxRow([2, 1, 0.1])[0] / 2, accuracy: 1e-6)
    }

    func testBinaryAndRegressionLosses() {
        let y = Tensor([[1.0, 0.0], [0.0, 1.0]]), x = Tensor([[0.7, -1.2], [3.0, 0.2]])
        func bce(_ y: Double, _ x: Double) -> Double { max(x, 0) - x * y + log1p(exp(-abs(x))) }
        let expectedLogits = ((bce(1, 0.7) + bce(0, -1.2)) / 2 + (bce(0, 3) + bce(1, 0.2)) / 2) / 2
        XCTAssertEqual(Double(BinaryCrossentropy(fromLogits: true)(y, x).scalar(as: Float.self)), expectedLogits, accuracy: 1e-6)
        let p = sigmoid(x)
        XCTAssertEqual(Double(BinaryCrossentropy()(y, p).scalar(as: Float.self)), expectedLogits, accuracy: 1e-5)
        XCTAssertEqual(MeanSquaredError()(Tensor([[1.0, 2]]), Tensor([[2.0, 4]])).scalar(as: Float.self), 2.5)
        XCTAssertEqual(MeanAbsoluteError()(Tensor([[1.0, 2]]), Tensor([[2.0, 4]])).scalar(as: Float.self), 1.5)
        // Huber with delta 1: 0.5·0.25 and 1·(2 - 0.5).
        XCTAssertEqual(Huber()(Tensor([[0.0, 0]]), Tensor([[0.5, 2]])).scalar(as: Float.self), (0.125 + 1.5) / 2)
        // Keras 2's probability formula (values computed with tf.keras 2).
        XCTAssertEqual(BinaryCrossentropy()(Tensor([1.0, 0, 1, 0]), Tensor([1.0, 0, 0, 1])).scalar(as: Float.self),
                       7.689547, accuracy: 1e-5)
        XCTAssertEqual(CategoricalCrossentropy()(Tensor([[1.0, 0, 0], [0, 1, 0]]), Tensor([[1.0, 0, 0], [0.5, 0, 0.5]])).scalar(as: Float.self),
                       8.059048, accuracy: 1e-5)
        let kl = KLDivergence()(Tensor([[0.5, 0.5]]), Tensor([[0.25, 0.75]])).scalar(as: Float.self)
        XCTAssertEqual(Double(kl), 0.5 * log(2.0) + 0.5 * log(0.5 / 0.75), accuracy: 1e-6)
    }

    func testLossGradients() {
        var g = RandomGenerator(seed: 3)
        let z = Random.normal([4, 5], dtype: .float64, using: &g)
        let t = Tensor([0, 4, 2, 2])
        checkGradients([z]) { SparseCategoricalCrossentropy(fromLogits: true)(t, $0[0]) }
        checkGradients([z]) { CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.1)(oneHot(t, depth: 5), $0[0]) }
        let targets = Random.uniform([4, 5], dtype: .float64, using: &g)
        checkGradients([z]) { BinaryCrossentropy(fromLogits: true)(targets, $0[0]) }
        checkGradients([z]) { BinaryCrossentropy()(targets, sigmoid($0[0])) }
        checkGradients([z]) { MeanSquaredError()(targets, $0[0]) }
        checkGradients([z * 3]) { Huber()(targets, $0[0]) }
    }
}

final class MetricTests: XCTestCase {
    func testAccuracies() {
        let probs = Tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4]])
        let sparse = SparseCategoricalAccuracy()
        sparse.updateState(Tensor([1, 1, 2]), probs)
        XCTAssertEqual(sparse.result().scalar(as: Float.self), 2.0 / 3, accuracy: 1e-6)
        sparse.updateState(Tensor([0]), probs[1..<2])
        XCTAssertEqual(sparse.result().scalar(as: Float.self), 0.75)
        sparse.resetStates()
        XCTAssertEqual(sparse.result().scalar(as: Float.self), 0)
        let categorical = CategoricalAccuracy()
        categorical.updateState(oneHot(Tensor([1, 0, 0]), depth: 3), probs)
        XCTAssertEqual(categorical.result().scalar(as: Float.self), 2.0 / 3, accuracy: 1e-6)
        let topTwo = TopKCategoricalAccuracy(k: 2)
        topTwo.updateState(oneHot(Tensor([0, 2, 1]), depth: 3), probs)
        XCTAssertEqual(topTwo.result().scalar(as: Float.self), 1)
        let topOne = TopKCategoricalAccuracy(k: 1)
        topOne.updateState(oneHot(Tensor([1, 0, 1]), depth: 3), probs)
        XCTAssertEqual(topOne.result().scalar(as: Float.self), 2.0 / 3, accuracy: 1e-6)
        let binary = BinaryAccuracy()
        binary.updateState(Tensor([[1.0], [0], [1], [0]]), Tensor([[0.7], [0.4], [0.2], [0.9]]))
        XCTAssertEqual(binary.result().scalar(as: Float.self), 0.5)
        let plain = Accuracy()
        plain.updateState(Tensor([1, 2, 3, 4]), Tensor([0, 2, 3, 4]), sampleWeight: Tensor([1.0, 1, 0, 0]))
        XCTAssertEqual(plain.result().scalar(as: Float.self), 0.5)
        let mse = MeanSquaredErrorMetric()
        mse.updateState(Tensor([[0.0, 0]]), Tensor([[1.0, 3]]))
        XCTAssertEqual(mse.result().scalar(as: Float.self), 5)
        let mean = Mean(), sum = Sum()
        mean.updateState(Tensor([1.0, 2, 3]), sampleWeight: Tensor([1.0, 1, 2]))
        sum.updateState(Tensor([1.0, 2, 3]))
        XCTAssertEqual(mean.result().scalar(as: Float.self), 2.25)
        XCTAssertEqual(sum.result().scalar(as: Float.self), 6)
    }

    func testConfusionMetrics() {
        let y = Tensor([1.0, 1, 0, 0, 1]), p = Tensor([0.9, 0.4, 0.6, 0.1, 0.8])
        let precision = Precision(), recall = Recall()
        precision.updateState(y, p)
        recall.updateState(y, p)
        XCTAssertEqual(precision.result().scalar(as: Float.self), 2.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(recall.result().scalar(as: Float.self), 2.0 / 3, accuracy: 1e-6)
        // ROC AUC: 5 of the 6 positive/negative pairs are ranked right.
        let auc = AUC()
        auc.updateState(y, p)
        XCTAssertEqual(auc.result().scalar(as: Float.self), 5.0 / 6, accuracy: 0.01)
        let perfect = AUC(curve: .pr)
        perfect.updateState(Tensor([0.0, 0, 1, 1]), Tensor([0.1, 0.2, 0.8, 0.9]))
        XCTAssertEqual(perfect.result().scalar(as: Float.self), 1, accuracy: 0.01)
        let par = PrecisionAtRecall(recall: 1)
        par.updateState(y, p)
        XCTAssertEqual(par.result().scalar(as: Float.self), 0.75, accuracy: 1e-6)   // threshold below 0.4
        let rap = RecallAtPrecision(precision: 1)
        rap.updateState(y, p)
        XCTAssertEqual(rap.result().scalar(as: Float.self), 2.0 / 3, accuracy: 1e-6) // threshold in (0.6, 0.8)
    }

    /// Keras's sensitivity/specificity thresholds end exactly at 0 and 1, and
    /// predictions meet thresholds in float32 (values checked against tf.keras 2).
    func testElementwiseLossesAlignTargetsAndWarnOnceAboutBroadcasting() {
        var warnings: [String] = []
        let saved = Loss.warningHandler
        Loss.warningHandler = { warnings.append($0) }
        defer { Loss.warningHandler = saved }
        let mse = MeanSquaredError()
        // (4,) targets against (4, 1) predictions: Keras adds the axis, no broadcast to (4, 4).
        XCTAssertEqual(mse(Tensor([1.0, 2, 3, 4]), Tensor([[1.0], [2], [3], [6]])).scalar(as: Float.self), 1)
        XCTAssertEqual(warnings, [])
        // (32, 1) against (32, 10) broadcasts, as in Keras, but says so once.
        let y = Tensor.zeros([32, 1]), p = Tensor.ones([32, 10])
        XCTAssertEqual(mse(y, p).scalar(as: Float.self), 1)
        XCTAssertEqual(mse(y, p).scalar(as: Float.self), 1)
        XCTAssertEqual(warnings, ["MeanSquaredError: targets of shape (32, 1) and predictions of shape (32, 10) differ; they are broadcast to (32, 10), which is likely not intended. Give them the same shape."])
    }

    func testConfusionMetricThresholdsMatchKeras() {
        let par = PrecisionAtRecall(recall: 1)
        par.updateState(Tensor([1.0, 0]), Tensor([0.0, 0.5]))
        XCTAssertEqual(par.result().scalar(as: Float.self), 0)
        XCTAssertEqual(constraintThresholds(5), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(constraintThresholds(1), [0.5])
        let auc = AUC()
        auc.updateState(Tensor([1.0, 0]), Tensor([Float(3.0 / 199), 0.0149]))
        XCTAssertEqual(auc.result().scalar(as: Float.self), 0.5)
        let y = Tensor([0.0, 0, 1, 1]), p = Tensor([0.1, 0.6, 0.4, 0.9])
        let sensitivity = SensitivityAtSpecificity(specificity: 0.5)
        sensitivity.updateState(y, p)
        XCTAssertEqual(sensitivity.result().scalar(as: Float.self), 1)
        let strict = SensitivityAtSpecificity(specificity: 1)
        strict.updateState(y, p)
        XCTAssertEqual(strict.result().scalar(as: Float.self), 0.5)
        let specificity = SpecificityAtSensitivity(sensitivity: 0.5)
        specificity.updateState(y, p)
        XCTAssertEqual(specificity.result().scalar(as: Float.self), 1)
        let all = SpecificityAtSensitivity(sensitivity: 1)
        all.updateState(y, p)
        XCTAssertEqual(all.result().scalar(as: Float.self), 0.5)
    }
}
