// The guide's part "TrainableWeights": `swift run -c release TrainableWeights [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { LayerParts.trainableWeights($0) }
