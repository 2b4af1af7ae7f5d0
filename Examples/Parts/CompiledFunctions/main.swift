// The guide's part "CompiledFunctions": `swift run -c release CompiledFunctions [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { try TrainingLoops.compiledStep($0) }
