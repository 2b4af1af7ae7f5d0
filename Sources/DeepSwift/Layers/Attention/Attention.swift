/// Dot-product attention without projections (Luong-style), as
/// `keras.layers.Attention`: `softmax(scores(query, key)) · value`, where the
/// scores are `query · keyᵀ` (`scoreMode: .dot`, times a learned scalar with
/// `useScale`) or `Σ tanh(query + key)` (`.concat`, Bahdanau-style).
///
/// ```swift
/// let attention = Attention()
/// let query = Random.normal([2, 3, 8]), value = Random.normal([2, 5, 8])
/// let context = attention(query, value)   // (2, 3, 8)
/// ```
public class Attention: Layer {
    /// How a query and a key make a score.
    public enum ScoreMode: String, Sendable {
        /// `query · key`.
        case dot
        /// `Σ tanh(query + key)` over the features.
        case concat
    }

    /// Whether the scores have a learned scale.
    public let useScale: Bool
    /// How a query and a key make a score.
    public let scoreMode: ScoreMode
    /// The dropout rate on the attention probabilities, in training.
    public let dropout: Double
    /// The learned scale (a scalar, or one per feature for ``AdditiveAttention``)
    /// and, for `.concat`, the scores' weight; created on the first call.
    public private(set) var scale: Variable?, concatScoreWeight: Variable?
    let dropoutLayer: Dropout?
    private var pending = Options()

    struct Options {
        var queryMask: Tensor? = nil, valueMask: Tensor? = nil
        var causal = false, scores = false
    }

    /// - Parameters:
    ///   - useScale: learn a factor of the scores (initialized to 1).
    ///   - scoreMode: `.dot` (default) or `.concat`.
    ///   - dropout: the dropout rate on the attention probabilities (training only).
    ///   - name: the layer's name.
    public init(useScale: Bool = false, scoreMode: ScoreMode = .dot, dropout: Double = 0, name: String? = nil) {
        precondition((0..<1).contains(dropout), "\(Self.self): dropout must be in [0, 1), got \(dropout)")
        self.useScale = useScale
        self.scoreMode = scoreMode
        self.dropout = dropout
        dropoutLayer = dropout > 0 ? Dropout(dropout) : nil
        super.init(name: name)
    }

    /// The saved name of the type.
    public class var typeName: String { "Attention" }

    /// The saved arguments.
    public var config: LayerConfig {
        var c: LayerConfig = ["use_scale": .bool(useScale), "dropout": .double(dropout)]
        if type(of: self) == Attention.self { c["score_mode"] = .string(scoreMode.rawValue) }
        return c
    }

    /// Rebuilds the layer from its saved arguments.
    public required convenience init(config c: LayerConfig) throws {
        let dropout = try c.double("dropout")
        guard (0..<1).contains(dropout) else { throw c.bad("dropout", "a number in [0.0, 1.0)") }
        guard let mode = ScoreMode(rawValue: try c.string("score_mode")) else { throw c.bad("score_mode", "\"dot\" or \"concat\"") }
        self.init(useScale: try c.bool("use_scale"), scoreMode: mode, dropout: dropout, name: c.name)
    }

    /// Attends from `query` `(batch, Tq, features)` to `value` `(batch, Tv,
    /// valueFeatures)`, scored against `key` (`value` when nil).
    ///
    /// - Parameters:
    ///   - query: `(batch, Tq, features)`.
    ///   - value: `(batch, Tv, valueFeatures)`.
    ///   - key: `(batch, Tv, features)`; `value` when nil.
    ///   - queryMask: bool `(batch, Tq)`: false rows of the output are zeros.
    ///   - valueMask: bool `(batch, Tv)`: false keys get no attention. A query with
    ///     every key masked gets zeros.
    ///   - useCausalMask: also forbid each query the keys after its position.
    ///   - training: dropout's mode; the enclosing call's by default.
    /// - Returns: `(batch, Tq, valueFeatures)`.
    @_disfavoredOverload   // `layer(query, value)` alone is Layer's own call, with the same result
    public func callAsFunction(_ query: Tensor, _ value: Tensor, key: Tensor? = nil, queryMask: Tensor? = nil,
                               valueMask: Tensor? = nil, useCausalMask: Bool = false, training: Bool? = nil) -> Tensor {
        run(query, value, key, Options(queryMask: queryMask, valueMask: valueMask, causal: useCausalMask), training)[0]
    }

    /// The output and the attention probabilities `(batch, Tq, Tv)`, as Keras's
    /// `return_attention_scores=True`.
    public func callWithScores(_ query: Tensor, _ value: Tensor, key: Tensor? = nil, queryMask: Tensor? = nil,
                               valueMask: Tensor? = nil, useCausalMask: Bool = false,
                               training: Bool? = nil) -> (output: Tensor, scores: Tensor) {
        let results = run(query, value, key, Options(queryMask: queryMask, valueMask: valueMask, causal: useCausalMask,
                                                     scores: true), training)
        return (results[0], results[1])
    }

    private func run(_ query: Tensor, _ value: Tensor, _ key: Tensor?, _ options: Options, _ training: Bool?) -> [Tensor] {
        let saved = pending
        pending = options
        defer { pending = saved }
        return callAsFunction([query, value] + (key.map { [$0] } ?? []), training: training)
    }

    public override func build(inputShapes: [TensorShape]) {
        if useScale { scale = addWeight(name: "scale", shape: [], initializer: .ones()) }
        if scoreMode == .concat { concatScoreWeight = addWeight(name: "concat_score_weight", shape: [], initializer: .ones()) }
    }

    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard (2...3).contains(shapes.count) else {
            return problemPrefix + "takes (query, value) or (query, value, key), got \(shapes.count) inputs"
        }
        guard shapes.allSatisfy({ $0.rank == 3 }) else {
            return problemPrefix + "expects (batch, length, features) inputs, got shapes \(shapes.map(\.description))"
        }
        let (q, v) = (shapes[0], shapes[1])
        let k = shapes.count > 2 ? shapes[2] : v
        guard q[0] == v[0], k[0] == v[0], k[1] == v[1], q[2] == k[2] else {
            return problemPrefix + "query \(q), value \(v) and key \(k) must share the batch size, the key and value their length, and the query and key their features"
        }
        if let scale, scale.shape.rank == 1, scale.shape[0] != q[2] {
            return problemPrefix + "was built for \(scale.shape[0]) query features, got \(q[2])"
        }
        for (mask, length, name) in [(pending.queryMask, q[1], "queryMask"), (pending.valueMask, v[1], "valueMask")] {
            if let mask, mask.dtype != .bool || mask.shape != [q[0], length] {
                return problemPrefix + "\(name) must be a bool (\(q[0]), \(length)) tensor, got \(mask.dtype) \(mask.shape)"
            }
        }
        return floatProblem(dtypes)
    }

    /// The scores `(batch, Tq, Tv)` of every query against every key.
    func scores(_ query: Tensor, _ key: Tensor) -> Tensor {
        switch scoreMode {
        case .dot:
            let s = matmul(query, key, transposeB: true)
            return scale.map { s * $0.value } ?? s
        case .concat:
            var sum = query.expandingShape(at: 2) + key.expandingShape(at: 1)   // (batch, Tq, Tv, features)
            if let scale { sum = sum * scale.value }
            return tanh(sum).sum(axis: -1) * concatScoreWeight!.value
        }
    }

    /// With masks on the inputs, as Keras's `mask=[queryMask, valueMask]`.
    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) -> [Tensor] {
        let saved = pending
        defer { pending = saved }
        pending.queryMask = pending.queryMask ?? masks[0]
        pending.valueMask = pending.valueMask ?? masks[1]
        return call(inputs, training: training)
    }

    /// The output keeps the query's mask.
    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) -> [Tensor?] { [masks.first ?? nil, nil] }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        let (query, value) = (inputs[0], inputs[1])
        let key = inputs.count > 2 ? inputs[2] : value
        let mask = attentionMask(pending.valueMask?.expandingShape(at: 1), causal: pending.causal,
                                 queries: query.shape[1], keys: value.shape[1])
        let probabilities = maskedSoftmax(scores(query, key), mask: mask)
        let dropped = dropoutLayer.map { $0(probabilities, training: training) } ?? probabilities
        var output = matmul(dropped, value)
        if let queryMask = pending.queryMask {
            output = `where`(queryMask.expandingShape(at: 2), output, Tensor(0, dtype: output.dtype))
        }
        return pending.scores ? [output, probabilities] : [output]
    }
}

/// Additive (Bahdanau-style) attention, as `keras.layers.AdditiveAttention`:
/// scores `Σ scale · tanh(query + key)` over the features, with a learned scale
/// per feature (`useScale`, Glorot-uniform initialized).
///
/// ```swift
/// let attention = AdditiveAttention()
/// let query = Random.normal([2, 3, 8]), value = Random.normal([2, 5, 8])
/// let context = attention(query, value)   // (2, 3, 8); scale (8)
/// ```
public final class AdditiveAttention: Attention {
    /// - Parameters:
    ///   - useScale: learn a scale per feature (default true).
    ///   - dropout: the dropout rate on the attention probabilities (training only).
    ///   - name: the layer's name.
    public init(useScale: Bool = true, dropout: Double = 0, name: String? = nil) {
        super.init(useScale: useScale, scoreMode: .concat, dropout: dropout, name: name)
    }

    public override class var typeName: String { "AdditiveAttention" }

    /// Rebuilds the layer from its saved arguments.
    public required convenience init(config c: LayerConfig) throws {
        let dropout = try c.double("dropout")
        guard (0..<1).contains(dropout) else { throw c.bad("dropout", "a number in [0.0, 1.0)") }
        self.init(useScale: try c.bool("use_scale"), dropout: dropout, name: c.name)
    }

    public override func build(inputShapes: [TensorShape]) {
        if useScale { setScale(addWeight(name: "scale", shape: [inputShapes[0][2]], initializer: .glorotUniform())) }
    }

    override func scores(_ query: Tensor, _ key: Tensor) -> Tensor {
        let sum = tanh(query.expandingShape(at: 2) + key.expandingShape(at: 1))   // (batch, Tq, Tv, features)
        if let scale { return (sum * scale.value).sum(axis: -1) }
        return sum.sum(axis: -1)
    }
}

extension Attention {
    func setScale(_ v: Variable) { scale = v }
}
