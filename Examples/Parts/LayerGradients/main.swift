// The guide's part "LayerGradients": `swift run -c release LayerGradients [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { try TrainingLoops.layerGradients($0) }
