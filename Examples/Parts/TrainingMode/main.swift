// The guide's part "TrainingMode": `swift run -c release TrainingMode [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { LayerParts.trainingMode($0) }
