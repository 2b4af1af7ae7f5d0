// The guide's part "Variables": `swift run -c release Variables [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { Basics.variables($0) }
