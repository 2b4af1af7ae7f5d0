// The whole guide, "Introduction to Keras for Researchers", in Swift and in its
// order: `make run` (or `swift run -c release Guide [--dataset mnist] [--steps N]`).
import GuideExamples

runExample { parsed in
    var options = parsed
    let histories = FitHistories()
    options.histories = histories
    func section(_ title: String) { options.log("\n## \(title)\n") }
    section("Tensors"); Basics.tensors(options)
    section("Variables"); Basics.variables(options)
    section("Doing math"); Basics.math(options)
    section("Gradients"); Basics.gradients(options)
    section("Keras layers and layer weight creation"); LayerParts.linearLayer(options)
    section("Layer gradients"); try TrainingLoops.layerGradients(options)
    section("Trainable and non-trainable weights"); LayerParts.trainableWeights(options)
    section("Layers that own layers"); LayerParts.layersThatOwnLayers(options)
    section("Tracking losses created by layers"); LayerParts.addLoss(options); try TrainingLoops.addLossTraining(options)
    section("Keeping track of training metrics"); try TrainingLoops.metrics(options)
    section("Compiled functions"); try TrainingLoops.compiledStep(options)
    section("Training mode & inference mode"); LayerParts.trainingMode(options)
    section("The Functional API"); LayerParts.functionalAPI(options)
    section("End-to-end example 1: variational autoencoders"); try VAEExample.run(options)
    section("End-to-end example 2: hypernetworks"); try Hypernetwork.run(options)
    section("Beyond the guide: a convnet on Fashion-MNIST"); try ConvNetExample.run(options)
    section("Beyond the guide: an LSTM reading Fashion-MNIST rows"); try LSTMClassifierExample.run(options)
    section("Beyond the guide: a character-level Transformer on fortunes"); try CharTransformerExample.run(options)
    // The fit runs' losses per epoch, one panel each.
    let path = options.outputDirectory + "/history.png"
    let legend = try HistoryPlot.write(histories.runs, to: path)
    options.log("\nWrote \(path), the loss per epoch of each fit run:\n" + legend.joined(separator: "\n"))
}
