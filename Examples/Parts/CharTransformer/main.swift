// An extra part after the guide, a character-level Transformer trained on the
// text of Debian's fortunes: `swift run -c release CharTransformer [--steps N] [--epochs N] [--samples N]`.
import GuideExamples

runExample { try CharTransformerExample.run($0) }
