// The guide's part "Tensors": `swift run -c release Tensors [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { Basics.tensors($0) }
