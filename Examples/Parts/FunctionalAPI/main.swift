// The guide's part "FunctionalAPI": `swift run -c release FunctionalAPI [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { LayerParts.functionalAPI($0) }
