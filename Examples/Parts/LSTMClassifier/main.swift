// An extra part after the guide, an LSTM reading Fashion-MNIST images row by row:
// `swift run -c release LSTMClassifier [--epochs N] [--samples N]`.
import GuideExamples

runExample { try LSTMClassifierExample.run($0) }
