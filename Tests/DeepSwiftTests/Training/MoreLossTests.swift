import XCTest
@testable import DeepSwift
import TestSupport

/// The regression and margin losses and the error metrics against Keras 3 (JAX
/// backend) on the same values.
final class MoreLossTests: XCTestCase {
    let yTrue = Tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]] as [[Float]])
    let yPred = Tensor([[0.2, 0.7, 0.1], [0.6, 0.3, 0.9]] as [[Float]])
    let signs = Tensor([[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]] as [[Float]])
    let scores = Tensor([[0.3, -0.8, 1.5], [0.9, 0.2, -0.4]] as [[Float]])

    func assertValues(_ t: Tensor, _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
        let values = t.cast(to: .float64).scalars(as: Double.self)
        XCTAssertEqual(values.count, expected.count, file: file, line: line)
        for (v, e) in zip(values, expected) { XCTAssertEqual(v, e, accuracy: 2e-6, file: file, line: line) }
    }

    func testLossesMatchKeras() {
        assertValues(CosineSimilarity(reduction: .none)(yTrue, yPred), [-0.9525793790817261, -0.9449111223220825])
        assertValues(LogCosh(reduction: .none)(yTrue, scores), [0.677863597869873, 0.2635818421840668])
        assertValues(Poisson(reduction: .none)(yTrue, yPred), [0.4522249698638916, 0.8053953051567078])
        assertValues(Hinge(reduction: .none)(yTrue, scores), [1.8666666746139526, 0.9000000357627869])
        assertValues(Hinge(reduction: .none)(signs, scores), [1.0333333015441895, 0.6333333849906921])
        assertValues(SquaredHinge(reduction: .none)(signs, scores), [1.6433331966400146, 0.6033333539962769])
        assertValues(CategoricalHinge(reduction: .none)(yTrue, scores), [3.299999952316284, 0.7000000476837158])
        assertValues(LogCosh()(yTrue, scores), [(0.677863597869873 + 0.2635818421840668) / 2])
    }

    func testLossGradients() {
        let (y, p) = (yTrue.cast(to: .float64), scores.cast(to: .float64))
        checkGradients([p]) { CosineSimilarity()(y, $0[0]) }
        checkGradients([p]) { LogCosh()(y, $0[0]) }
        checkGradients([yPred.cast(to: .float64)]) { Poisson()(y, $0[0]) }
        checkGradients([p]) { SquaredHinge()(self.signs.cast(to: .float64), $0[0]) }
    }

    func testErrorMetricsMatchKeras() {
        let mae = MeanAbsoluteErrorMetric()
        mae.updateState(yTrue, scores)
        XCTAssertEqual(Double(mae.result().scalar(as: Float.self)), 0.8833333849906921, accuracy: 1e-6)
        let rmse = RootMeanSquaredError()
        rmse.updateState(yTrue, scores)
        rmse.updateState(yTrue[0..<1], yPred[0..<1])
        XCTAssertEqual(Double(rmse.result().scalar(as: Float.self)), 0.926762580871582, accuracy: 1e-6)
        XCTAssertTrue(try metric(named: "root_mean_squared_error", forLoss: nil) is RootMeanSquaredError)
        XCTAssertTrue(try Loss.named("log_cosh") is LogCosh)
    }
}

final class MeanIoUTests: XCTestCase {
    func testMeanIoUMatchesKeras() {
        let iou = MeanIoU(numClasses: 3)
        iou.updateState(Tensor([0, 1, 2, 2, 1, 0] as [Int32]), Tensor([0, 2, 2, 1, 1, 0] as [Int32]))
        XCTAssertEqual(Double(iou.result().scalar(as: Float.self)), 0.5555555820465088, accuracy: 1e-6)
        iou.updateState(Tensor([2, 2] as [Int32]), Tensor([2, 0] as [Int32]), sampleWeight: Tensor([1, 0.5] as [Float]))
        // By hand: IoUs 2/2.5, 1/3, 2/4.5 (the 0.5-weighted example counts half, as in
        // tf.keras 2; Keras 3.x on JAX gave 0.6111, dropping the fractional weight).
        XCTAssertEqual(Double(iou.result().scalar(as: Float.self)), (0.8 + 1.0 / 3 + 2 / 4.5) / 3, accuracy: 1e-6)
        let scores = MeanIoU(numClasses: 3, sparsePredictions: false)
        scores.updateState(Tensor([0, 1, 2] as [Int32]), Tensor([[0.9, 0.05, 0.05], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]] as [[Float]]))
        XCTAssertEqual(Double(scores.result().scalar(as: Float.self)), 0.4999999701976776, accuracy: 1e-6)
        let absent = MeanIoU(numClasses: 4)
        absent.updateState(Tensor([0, 1] as [Int32]), Tensor([0, 1] as [Int32]))
        XCTAssertEqual(Double(absent.result().scalar(as: Float.self)), 0.9999998807907104, accuracy: 1e-6)
        absent.resetState()
        XCTAssertEqual(absent.result().scalar(as: Float.self), 0)
    }
}
