// The guide's part "LinearLayer": `swift run -c release LinearLayer [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { LayerParts.linearLayer($0) }
