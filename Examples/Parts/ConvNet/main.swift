// An extra part after the guide, the Keras MNIST convnet on Fashion-MNIST:
// `swift run -c release ConvNet [--dataset ...] [--epochs N] [--samples N]`.
import GuideExamples

runExample { try ConvNetExample.run($0) }
