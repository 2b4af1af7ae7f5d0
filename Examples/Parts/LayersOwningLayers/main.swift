// The guide's part "LayersOwningLayers": `swift run -c release LayersOwningLayers [--dataset ...] [--steps N] [--epochs N]`.
import GuideExamples

runExample { LayerParts.layersThatOwnLayers($0) }
