// The guide's part "Metrics": `swift run -c release Metrics [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { try TrainingLoops.metrics($0) }
