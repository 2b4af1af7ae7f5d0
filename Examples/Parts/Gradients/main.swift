// The guide's part "Gradients": `swift run -c release Gradients [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { Basics.gradients($0) }
