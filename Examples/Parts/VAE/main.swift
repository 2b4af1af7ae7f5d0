// The guide's part "VAE": `swift run -c release VAE [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { try VAEExample.run($0) }
