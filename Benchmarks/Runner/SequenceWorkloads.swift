import DeepSwift
import GuideExamples

/// The sequence issue's training steps: `LSTM(128)` or `GRU(128)` over 28 steps of
/// 28 features, then `Dense(10)`; batch 64, sparse cross-entropy from logits,
/// Adam(1e-3); and `transformer_step`, the CharTransformer example's model
/// (vocabulary 96) on batches of 32 random sequences of 64 characters.
func sequenceWorkloads() -> [Workload] {
    func step(_ recurrent: @escaping () -> Layer) -> (Tensor, Tensor) -> Tensor {
        step(Sequential([recurrent(), Dense(10)], inputShape: [28, 28]))
    }
    func step(_ model: Layer) -> (Tensor, Tensor) -> Tensor {
        let lossFn = SparseCategoricalCrossentropy(fromLogits: true), optimizer = Adam(learningRate: 1e-3)
        let weights = model.trainableWeights
        return { x, y in
            let tape = GradientTape()
            let loss = tape.record { lossFn(y, model(x, training: true)) }
            optimizer.apply(tape.gradient(of: loss, wrt: weights), to: weights)
            return loss
        }
    }
    func data() -> (Tensor, Tensor) { (Random.uniform([64, 28, 28]), Random.uniform([64], min: 0, max: 10, dtype: .int32)) }
    var workloads: [Workload] = []
    for (name, layer) in [("lstm_step", { LSTM(128) as Layer }), ("gru_step", { GRU(128) as Layer })] {
        workloads.append(Workload(name) {
            let (run, (x, y)) = (step(layer), data())
            return { consume(run(x, y)) }
        })
        workloads.append(Workload.compiled(name + "_compiled") {
            let (run, (x, y)) = (step(layer), data())
            let function = compiled { (x: Tensor, y: Tensor) -> Tensor in run(x, y) }
            return (function, { consume(function(x, y)) })
        })
    }
    func text() -> (Tensor, Tensor) {
        (Random.uniform([32, 64], min: 0, max: 96, dtype: .int32), Random.uniform([32, 64], min: 0, max: 96, dtype: .int32))
    }
    workloads.append(Workload("transformer_step") {
        let (run, (x, y)) = (step(CharTransformerExample.makeModel(vocabularySize: 96)), text())
        return { consume(run(x, y)) }
    })
    workloads.append(Workload.compiled("transformer_step_compiled") {
        let (run, (x, y)) = (step(CharTransformerExample.makeModel(vocabularySize: 96)), text())
        let function = compiled { (x: Tensor, y: Tensor) -> Tensor in run(x, y) }
        return (function, { consume(function(x, y)) })
    })
    return workloads
}
