import DeepSwift
import Foundation

/// An extra part after the guide: a character-level Transformer language model
/// (a miniature GPT) trained on the text of Debian's `fortunes` package, then
/// sampled with a temperature.
public enum CharTransformerExample {
    /// Where Debian's `fortunes` package keeps its plain-text files.
    public static let fortunesFolder = "/usr/share/games/fortunes"
    /// Characters per training sequence.
    public static let sequenceLength = 64

    /// The text of every fortune file (not the `.dat` indexes or `.u8` links), in
    /// file-name order.
    public static func loadText(folder: String = fortunesFolder) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { !$0.hasSuffix(".dat") && !$0.hasSuffix(".u8") }.sorted()
        guard !names.isEmpty else {
            throw GuideError.usage("no fortune files in \(folder): install Debian's fortunes package (make installs it)")
        }
        return try names.map { try String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }.joined()
    }

    /// The text's characters, sorted: a character's id is its index here.
    public static func vocabulary(of text: String) -> [Character] { Array(Set(text)).sorted() }

    /// Token embedding plus a learned embedding of positions 0..<length, as the
    /// Keras "miniature GPT" example's `TokenAndPositionEmbedding`.
    public final class TokenAndPositionEmbedding: Layer {
        let tokens: Embedding, positions: Embedding
        /// Embeddings of `dimension` for `vocabularySize` ids and `length` positions.
        public init(vocabularySize: Int, length: Int, dimension: Int) {
            tokens = Embedding(inputDim: vocabularySize, outputDim: dimension)
            positions = Embedding(inputDim: length, outputDim: dimension)
            super.init(name: "token_and_position_embedding")
        }
        public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
            let length = inputs.shape[inputs.rank - 1]
            return tokens(inputs) + positions(Tensor.range(0, Double(length), dtype: .int32))
        }
    }

    /// Causal self-attention and a feed-forward network, each with a residual
    /// connection and layer normalization (post-norm, as the Keras example).
    public final class TransformerBlock: Layer {
        let attention: MultiHeadAttention
        let feedForward: Sequential
        let norm1 = LayerNormalization(epsilon: 1e-6), norm2 = LayerNormalization(epsilon: 1e-6)
        /// A block of `dimension` features, `heads` attention heads and a feed-forward layer of `units`.
        public init(dimension: Int, heads: Int, feedForward units: Int) {
            attention = MultiHeadAttention(numHeads: heads, keyDim: dimension / heads)
            feedForward = Sequential([Dense(units, activation: .relu), Dense(dimension)])
            super.init()
        }
        public override func call(_ inputs: Tensor, training: Bool) -> Tensor {
            let attended = norm1(inputs + attention(inputs, inputs, useCausalMask: true, training: training))
            return norm2(attended + feedForward(attended))
        }
    }

    /// Embedding(vocabulary, 128) with learned positions, two blocks of 4-head
    /// causal attention (keyDim 32) and Dense(256, relu)–Dense(128), and Dense(vocabulary) logits.
    public static func makeModel(vocabularySize: Int, length: Int = sequenceLength) -> Sequential {
        Sequential([
            TokenAndPositionEmbedding(vocabularySize: vocabularySize, length: length, dimension: 128),
            TransformerBlock(dimension: 128, heads: 4, feedForward: 256),
            TransformerBlock(dimension: 128, heads: 4, feedForward: 256),
            Dense(vocabularySize),
        ], inputShape: [length], inputDType: .int32, name: "char_transformer")
    }

    /// Non-overlapping windows of `sequenceLength + 1` ids: inputs and the next
    /// characters as targets, `(count, sequenceLength)` each.
    public static func windows(_ ids: [Int32], count: Int? = nil) -> (x: Tensor, y: Tensor) {
        let length = sequenceLength
        let n = Swift.min(count ?? Int.max, (ids.count - 1) / length)
        var x = [Int32](), y = [Int32]()
        x.reserveCapacity(n * length)
        y.reserveCapacity(n * length)
        for w in 0..<n {
            x += ids[(w * length)..<(w * length + length)]
            y += ids[(w * length + 1)..<(w * length + length + 1)]
        }
        return (Tensor(shape: [n, length], scalars: x), Tensor(shape: [n, length], scalars: y))
    }

    /// Trains on the first 90% of the text for `--steps` (default 300) batches of
    /// 32 sequences with Adam(1e-3), prints the validation loss on the last 10% in
    /// bits per character, then 200 sampled characters; returns the bits per
    /// character.
    @discardableResult
    public static func run(_ o: GuideOptions) throws -> Double {
        let text = try loadText()
        let vocabulary = vocabulary(of: text)
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, Int32($0)) })
        let ids = text.map { index[$0]! }
        let split = ids.count * 9 / 10
        let steps = o.steps ?? 300, batch = 32
        let train = windows(Array(ids[..<split]), count: steps * batch)
        let validation = windows(Array(ids[split...]), count: 512)
        o.log("\(text.count) characters, \(vocabulary.count) distinct; \(train.x.shape[0]) training sequences of \(sequenceLength), \(validation.x.shape[0]) for validation")
        setRandomSeed(7)
        let model = makeModel(vocabularySize: vocabulary.count)
        model.compile(optimizer: Adam(learningRate: 1e-3), loss: SparseCategoricalCrossentropy(fromLogits: true))
        // (Trained first: optional chaining would skip the arguments when nothing records.)
        let history = try model.fit(x: train.x, y: train.y, batchSize: batch, epochs: o.epochs ?? 1, verbose: o.steps == nil ? 1 : 0)
        o.histories?.record("CharTransformer", history)
        let loss = try model.evaluate(x: validation.x, y: validation.y, batchSize: 64)["loss"]!
        let bits = loss / log(2)
        o.log("validation loss: \(String(format: "%.3f", bits)) bits per character")
        o.log("sampled at temperature 0.8:\n" + sample(model, vocabulary: vocabulary, index: index, prompt: "The ", count: 200, temperature: 0.8))
        return bits
    }

    /// `count` characters after `prompt`, each drawn from the model's softmax at
    /// `temperature` given the last `sequenceLength` characters (the global
    /// generator draws, so `setRandomSeed` makes it reproducible).
    public static func sample(_ model: Layer, vocabulary: [Character], index: [Character: Int32], prompt: String,
                              count: Int, temperature: Double) -> String {
        var context = prompt.compactMap { index[$0] }
        var generated = ""
        for _ in 0..<count {
            // Padded on the right: causal attention keeps the padding from the
            // positions before it.
            let window = Array(context.suffix(sequenceLength))
            let padded = window + [Int32](repeating: 0, count: sequenceLength - window.count)
            let logits = model(Tensor(shape: [1, sequenceLength], scalars: padded))[0, window.count - 1]
            let probabilities = softmax(logits.cast(to: .float64) / temperature).scalars(as: Double.self)
            var u = Random.uniform([1], dtype: .float64).scalar(as: Double.self)
            var next = probabilities.count - 1
            for (i, p) in probabilities.enumerated() {
                u -= p
                if u < 0 { next = i; break }
            }
            context.append(Int32(next))
            generated.append(vocabulary[next])
        }
        return prompt + generated
    }
}

/// An extra part after the guide: an `LSTM(128)` reading each Fashion-MNIST image
/// as 28 rows of 28 pixels, then `Dense(10)` logits, trained with `fit`.
public enum LSTMClassifierExample {
    /// LSTM(128) over (28, 28) rows, then Dense(10).
    public static func makeModel() -> Sequential {
        Sequential([LSTM(128), Dense(10)], inputShape: [28, 28], name: "lstm_classifier")
    }

    /// Trains for `--epochs` (default 1) epochs of batches of 64 with Adam(1e-3)
    /// and prints the `evaluate` test accuracy; returns it.
    @discardableResult
    public static func run(_ o: GuideOptions) throws -> Double {
        let (xTrain, yTrain) = try o.trainingData()
        let (xTest, yTest) = try o.testData()
        setRandomSeed(11)
        let model = makeModel()
        model.compile(optimizer: Adam(learningRate: 1e-3), loss: SparseCategoricalCrossentropy(fromLogits: true),
                      metrics: [SparseCategoricalAccuracy()])
        let epochs = o.epochs ?? 1
        let history = try model.fit(x: xTrain.reshaped(to: [-1, 28, 28]), y: yTrain, batchSize: 64, epochs: epochs,
                                    verbose: o.steps == nil ? 1 : 0)
        o.histories?.record("LSTMClassifier", history)
        let logs = try model.evaluate(x: xTest.reshaped(to: [-1, 28, 28]), y: yTest, batchSize: 256)
        let accuracy = logs["sparse_categorical_accuracy"] ?? .nan
        o.log("Trained \(epochs) epoch\(epochs == 1 ? "" : "s"); test accuracy: \(String(format: "%.4f", accuracy))")
        return accuracy
    }
}
