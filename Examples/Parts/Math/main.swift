// The guide's part "Math": `swift run -c release Math [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { Basics.math($0) }
