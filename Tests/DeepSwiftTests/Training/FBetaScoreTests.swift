import XCTest
@testable import DeepSwift
import TestSupport

/// F1Score and FBetaScore against Keras 3 (JAX backend) on the same inputs.
final class FBetaScoreTests: XCTestCase {
    let yTrue = Tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]] as [[Float]])
    let yPred = Tensor([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.1, 0.1, 0.8], [0.5, 0.5, 0.0], [0.0, 0.0, 0.0]] as [[Float]])
    let weights = Tensor([1.0, 0.5, 2.0, 1.0, 3.0] as [Float])
    // A multi-label batch: rows with several true classes.
    let yTrue2 = Tensor([[1, 1, 0], [0, 1, 1]] as [[Float]])
    let yPred2 = Tensor([[0.9, 0.4, 0.7], [0.1, 0.8, 0.3]] as [[Float]])

    func values(_ t: Tensor) -> [Double] { t.cast(to: .float64).reshaped(to: [-1]).scalars(as: Double.self) }

    func assertValues(_ metric: FBetaScore, _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
        let got = values(metric.result())
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-6, "\(got)", file: file, line: line) }
    }

    func testF1ScoreMatchesKerasForEveryAverage() {
        // keras.metrics.F1Score(average=...) updated with both batches; then with sample weights;
        // then FBetaScore(beta=2, threshold=0.35).
        let expected: [(FBetaScore.Average?, [Double], [Double], [Double])] = [
            (nil, [1.0, 0.333333283662796, 0.4999999403953552], [1.0, 0.0, 0.8888888955116272],
             [1.0, 0.5263158082962036, 0.45454543828964233]),
            (.micro, [0.625], [0.615384578704834], [0.6666666865348816]),
            (.macro, [0.6111111044883728], [0.6296296119689941], [0.660287082195282]),
            (.weighted, [0.5925925970077515], [0.5037037134170532], [0.6682615876197815]),
        ]
        for (average, plain, weighted, beta2) in expected {
            let f1 = F1Score(average: average)
            f1.updateState(yTrue, yPred)
            f1.updateState(yTrue2, yPred2)
            assertValues(f1, plain)
            let w = F1Score(average: average)
            w.updateState(yTrue, yPred, sampleWeight: weights)
            assertValues(w, weighted)
            let f2 = FBetaScore(average: average, beta: 2, threshold: 0.35)
            f2.updateState(yTrue, yPred)
            f2.updateState(yTrue2, yPred2)
            assertValues(f2, beta2)
        }
        XCTAssertEqual(F1Score().name, "f1_score")
        XCTAssertEqual(FBetaScore().name, "fbeta_score")
    }

    func testResetAndShapes() {
        let f1 = F1Score(average: .macro)
        f1.updateState(Tensor([[0, 1], [1, 0]] as [[Float]]), Tensor([[0.2, 0.8], [0.3, 0.7]] as [[Float]]))
        XCTAssertEqual(Double(f1.result().scalar(as: Float.self)), 0.333333283662796, accuracy: 1e-6)
        f1.resetState()
        XCTAssertEqual(f1.result().scalar(as: Float.self), 0)
        XCTAssertEqual(F1Score().result().shape, [0])
        assertTraps("f1_score: expected targets and predictions of the same shape (batch, classes), got (2,) and (2, 3)") {
            F1Score().updateState(Tensor([0, 1] as [Float]), Tensor.zeros([2, 3]))
        }
    }

    func testFitLogsTheMeanOfPerClassScores() throws {
        setRandomSeed(4)
        let model = Sequential([Dense(3, activation: .softmax)], inputShape: [4])
        model.compile(optimizer: SGD(learningRate: 0), loss: CategoricalCrossentropy(), metrics: [F1Score()])
        let x = Random.normal([6, 4]), y = Tensor.eye(3).concatenated(with: Tensor.eye(3), alongAxis: 0)
        let logs = try model.evaluate(x: x, y: y, batchSize: 4)
        let f1 = F1Score()
        f1.updateState(y, try model.predict(x))
        XCTAssertEqual(try XCTUnwrap(logs["f1_score"]), values(f1.result()).reduce(0, +) / 3, accuracy: 1e-6)
    }
}
