import XCTest
@testable import DeepSwift

final class MoreCallbackTests: XCTestCase {
    /// The learning rate after each epoch, for val_loss values fed to the callback
    /// (the sequence Keras's ReduceLROnPlateau gives for them, worked by hand).
    func rates(_ callback: ReduceLROnPlateau, _ losses: [Double]) -> [Double] {
        let model = Sequential { Dense(1) }
        model.compile(optimizer: SGD(learningRate: 1), loss: MeanSquaredError())
        callback.model = model
        callback.onTrainBegin(logs: Logs())
        return losses.enumerated().map { epoch, loss in
            callback.onEpochEnd(epoch, logs: Logs([("loss", 0), ("val_loss", loss)]))
            return model.optimizer!.currentLearningRate
        }
    }

    func testReduceLROnPlateauFollowsKeras() {
        let losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85]
        XCTAssertEqual(rates(ReduceLROnPlateau(factor: 0.5, patience: 2, minDelta: 0, cooldown: 1), losses),
                       [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25])
        XCTAssertEqual(rates(ReduceLROnPlateau(factor: 0.5, patience: 2, minDelta: 0, cooldown: 1, minLearningRate: 0.3), losses),
                       [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3])
        // minDelta: an improvement smaller than it does not count.
        XCTAssertEqual(rates(ReduceLROnPlateau(factor: 0.1, patience: 1, minDelta: 0.2), [1.0, 0.9]), [1, 0.1])
        // "max" mode for accuracy.
        let accuracy = ReduceLROnPlateau(monitor: "val_accuracy", factor: 0.5, patience: 1)
        let model = Sequential { Dense(1) }
        model.compile(optimizer: SGD(learningRate: 1), loss: MeanSquaredError())
        accuracy.model = model
        for (e, a) in [0.5, 0.6, 0.55].enumerated() { accuracy.onEpochEnd(e, logs: Logs([("val_accuracy", a)])) }
        XCTAssertEqual(model.optimizer!.currentLearningRate, 0.5)
    }

    func testLambdaCallbackRunsItsClosuresDuringFit() throws {
        var events: [String] = []
        let callback = LambdaCallback(onTrainBegin: { _ in events.append("begin") }, onTrainEnd: { _ in events.append("end") },
                                      onEpochEnd: { epoch, logs in events.append("epoch \(epoch) \(logs["loss"] != nil)") },
                                      onBatchEnd: { batch, _ in events.append("batch \(batch)") })
        let model = Sequential { Dense(1) }
        model.compile(optimizer: SGD(), loss: MeanSquaredError())
        _ = try model.fit(x: Tensor.ones([8, 2]), y: Tensor.zeros([8, 1]), batchSize: 4, epochs: 2, verbose: 0,
                          callbacks: [callback])
        XCTAssertEqual(events, ["begin", "batch 0", "batch 1", "epoch 0 true", "batch 0", "batch 1", "epoch 1 true", "end"])
    }
}
