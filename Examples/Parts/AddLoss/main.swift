// The guide's part "AddLoss": `swift run -c release AddLoss [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { LayerParts.addLoss($0); try TrainingLoops.addLossTraining($0) }
