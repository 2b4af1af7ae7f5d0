// The guide's part "Hypernetwork": `swift run -c release Hypernetwork [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { try Hypernetwork.run($0) }
