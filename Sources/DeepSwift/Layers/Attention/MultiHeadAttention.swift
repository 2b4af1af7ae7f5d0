/// Multi-head attention, as `keras.layers.MultiHeadAttention`: the query, key and
/// value are projected to `numHeads` heads, each head attends with scaled dot
/// products, and the heads' results are projected back to the query's size
/// (or `outputShape`).
///
/// ```swift
/// let attention = MultiHeadAttention(numHeads: 4, keyDim: 8)
/// let tokens = Random.normal([2, 10, 32])                  // (batch, length, features)
/// let mixed = attention(tokens, tokens, useCausalMask: true)   // (2, 10, 32)
/// let (output, scores) = attention.callWithScores(tokens, tokens)   // scores (2, 4, 10, 10)
/// ```
///
/// The weights have Keras's shapes: each projection a kernel `(features, numHeads,
/// keyDim or valueDim)` and a bias `(numHeads, keyDim or valueDim)`, and the output
/// a kernel `(numHeads, valueDim, outputs)` and a bias `(outputs)`.
///
/// In a functional model it takes the same arguments on symbolic tensors
/// (`attention(x, x, useCausalMask: true)`); the graph records and saves them.
public final class MultiHeadAttention: Layer {
    /// The heads, and the size of each head's query and key, and value.
    public let numHeads: Int, keyDim: Int, valueDim: Int
    /// The dropout rate on the attention probabilities, in training.
    public let dropout: Double
    /// Whether the projections add biases.
    public let useBias: Bool
    /// The size of the output's last axis; nil for the query's.
    public let outputShape: Int?
    let kernelInitializer: Initializer, biasInitializer: Initializer
    /// The projections' weights, created on the first call.
    public private(set) var queryKernel: Variable?, queryBias: Variable?, keyKernel: Variable?, keyBias: Variable?
    /// The value and output projections' weights, created on the first call.
    public private(set) var valueKernel: Variable?, valueBias: Variable?, outputKernel: Variable?, outputBias: Variable?
    let dropoutLayer: Dropout?
    /// The mask and flags of the call in progress (the layer call carries tensors only).
    private var pending = Options()

    struct Options {
        var mask: Tensor? = nil
        var causal = false
        var scores = false
    }

    /// - Parameters:
    ///   - numHeads: the number of attention heads.
    ///   - keyDim: the size of each head's query and key.
    ///   - valueDim: the size of each head's value; `keyDim` by default.
    ///   - dropout: the dropout rate on the attention probabilities (training only).
    ///   - useBias: whether the projections add biases.
    ///   - outputShape: the size of the output's last axis; the query's by default.
    ///   - kernelInitializer: the projections' kernels' initializer.
    ///   - biasInitializer: the biases' initializer.
    ///   - name: the layer's name.
    public init(numHeads: Int, keyDim: Int, valueDim: Int? = nil, dropout: Double = 0, useBias: Bool = true,
                outputShape: Int? = nil, kernelInitializer: Initializer = .glorotUniform(),
                biasInitializer: Initializer = .zeros(), name: String? = nil) {
        precondition(numHeads > 0 && keyDim > 0 && (valueDim ?? 1) > 0 && (outputShape ?? 1) > 0,
                     "MultiHeadAttention: numHeads (\(numHeads)), keyDim (\(keyDim)), valueDim and outputShape must be positive")
        precondition((0..<1).contains(dropout), "MultiHeadAttention: dropout must be in [0, 1), got \(dropout)")
        self.numHeads = numHeads
        self.keyDim = keyDim
        self.valueDim = valueDim ?? keyDim
        self.dropout = dropout
        self.useBias = useBias
        self.outputShape = outputShape
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        dropoutLayer = dropout > 0 ? Dropout(dropout) : nil
        super.init(name: name)
    }

    /// Attends from `query` `(batch, T, features)` to `value` `(batch, S, features)`
    /// (keyed by `key`, `value` by default).
    ///
    /// - Parameters:
    ///   - query: `(batch, T, queryFeatures)`.
    ///   - value: `(batch, S, valueFeatures)`.
    ///   - key: `(batch, S, keyFeatures)`; `value` when nil.
    ///   - attentionMask: a bool `(batch, T, S)` mask, true where query `t` may
    ///     attend to key `s`. A query with no key allowed gets zeros.
    ///   - useCausalMask: also forbid each query the keys after its position.
    ///   - training: dropout's mode; the enclosing call's by default.
    /// - Returns: `(batch, T, outputShape ?? queryFeatures)`.
    @_disfavoredOverload   // `layer(query, value)` alone is Layer's own call, with the same result
    public func callAsFunction(_ query: Tensor, _ value: Tensor, key: Tensor? = nil, attentionMask: Tensor? = nil,
                               useCausalMask: Bool = false, training: Bool? = nil) -> Tensor {
        run(query, value, key, Options(mask: attentionMask, causal: useCausalMask), training)[0]
    }

    /// The output and the attention probabilities `(batch, numHeads, T, S)`, as
    /// Keras's `return_attention_scores=True`.
    public func callWithScores(_ query: Tensor, _ value: Tensor, key: Tensor? = nil, attentionMask: Tensor? = nil,
                               useCausalMask: Bool = false, training: Bool? = nil) -> (output: Tensor, scores: Tensor) {
        let results = run(query, value, key, Options(mask: attentionMask, causal: useCausalMask, scores: true), training)
        return (results[0], results[1])
    }

    /// Records the call in a functional graph: `attentionMask` as a fourth input
    /// (after the key, `value` when nil), `useCausalMask` as a call argument.
    @_disfavoredOverload
    public func callAsFunction(_ query: SymbolicTensor, _ value: SymbolicTensor, key: SymbolicTensor? = nil,
                               attentionMask: SymbolicTensor? = nil, useCausalMask: Bool = false,
                               training: Bool? = nil) -> SymbolicTensor {
        var inputs = [query, value, key ?? value]
        if let attentionMask { inputs.append(attentionMask) } else if key == nil { inputs.removeLast() }
        return symbolicCall(inputs, training: training, arguments: useCausalMask ? ["use_causal_mask": true] : [:])[0]
    }

    /// `use_causal_mask`, as Keras's call keyword.
    public override func withCallArguments<R>(_ arguments: [String: Bool], _ body: () -> R) -> R {
        guard let causal = arguments["use_causal_mask"] else { return body() }
        let saved = pending
        pending.causal = causal
        defer { pending = saved }
        return body()
    }

    private func run(_ query: Tensor, _ value: Tensor, _ key: Tensor?, _ options: Options, _ training: Bool?) -> [Tensor] {
        let saved = pending
        pending = options
        defer { pending = saved }
        return callAsFunction([query, value] + (key.map { [$0] } ?? []), training: training)
    }

    public override func build(inputShapes: [TensorShape]) {
        let (q, v) = (inputShapes[0], inputShapes[1])
        let k = inputShapes.count > 2 ? inputShapes[2] : v
        // Initialized as the matrices they act as, (features, heads·depth) and
        // (heads·valueDim, outputs): Keras's EinsumDense counts fans over the input
        // and output axes (a 3-D kernel read as a convolution's would start
        // several times too small).
        let asInput = Initializer { [kernelInitializer] shape, dtype in
            kernelInitializer([shape[0], shape[1] * shape[2]], dtype).reshaped(to: shape)
        }
        let asOutput = Initializer { [kernelInitializer] shape, dtype in
            kernelInitializer([shape[0] * shape[1], shape[2]], dtype).reshaped(to: shape)
        }
        func projection(_ name: String, _ features: Int, _ depth: Int) -> (Variable, Variable?) {
            (addWeight(name: "\(name)_kernel", shape: [features, numHeads, depth], initializer: asInput),
             useBias ? addWeight(name: "\(name)_bias", shape: [numHeads, depth], initializer: biasInitializer) : nil)
        }
        (queryKernel, queryBias) = projection("query", q[2], keyDim)
        (keyKernel, keyBias) = projection("key", k[2], keyDim)
        (valueKernel, valueBias) = projection("value", v[2], valueDim)
        let outputs = outputShape ?? q[2]
        outputKernel = addWeight(name: "attention_output_kernel", shape: [numHeads, valueDim, outputs], initializer: asOutput)
        outputBias = useBias ? addWeight(name: "attention_output_bias", shape: [outputs], initializer: biasInitializer) : nil
    }

    override func weightCount(for shapes: [TensorShape]) -> Int {
        guard !isBuilt, shapes.count >= 2, shapes.allSatisfy({ $0.rank == 3 }) else { return 0 }
        let (q, v) = (shapes[0][2], shapes[1][2])
        let k = shapes.count > 2 ? shapes[2][2] : v
        let outputs = outputShape ?? q
        let parts = [saturatingProduct([q + k, numHeads, keyDim]), saturatingProduct([v, numHeads, valueDim]),
                     saturatingProduct([numHeads, valueDim, outputs]),
                     useBias ? saturatingProduct([numHeads, 2 * keyDim + valueDim]) + outputs : 0]
        return parts.reduce(0) { $0.addingReportingOverflow($1).overflow ? Int.max : $0 + $1 }
    }

    public override func inputProblem(shapes: [TensorShape], dtypes: [DType]) -> String? {
        guard (2...4).contains(shapes.count) else {
            return problemPrefix + "takes (query, value), (query, value, key) or (query, value, key, attentionMask), got \(shapes.count) inputs"
        }
        if shapes.count == 4 {
            let (q, v, m) = (shapes[0], shapes[1], shapes[3])
            guard dtypes[3] == .bool, m.rank == 3, [1, q[0]].contains(m[0]), m[1] == q[1], m[2] == v[1] else {
                return problemPrefix + "attentionMask must be a bool (batch, \(q[1]), \(v[1])) tensor, got \(dtypes[3]) \(m)"
            }
            return inputProblem(shapes: Array(shapes.prefix(3)), dtypes: Array(dtypes.prefix(3)))
        }
        guard shapes.allSatisfy({ $0.rank == 3 }) else {
            return problemPrefix + "expects (batch, length, features) inputs, got shapes \(shapes.map(\.description))"
        }
        let (q, v) = (shapes[0], shapes[1])
        let k = shapes.count > 2 ? shapes[2] : v
        guard q[0] == v[0] && k[0] == v[0] && k[1] == v[1] else {
            return problemPrefix + "query \(q), value \(v) and key \(k) must share the batch size, and the key and value their length"
        }
        if let mask = pending.mask {
            guard mask.dtype == .bool, mask.rank == 3, [1, q[0]].contains(mask.shape[0]), mask.shape[1] == q[1], mask.shape[2] == v[1] else {
                return problemPrefix + "attentionMask must be a bool (batch, \(q[1]), \(v[1])) tensor, got \(mask.dtype) \(mask.shape)"
            }
        }
        if isBuilt, let qk = queryKernel, let kk = keyKernel, let vk = valueKernel,
           qk.shape[0] != q[2] || kk.shape[0] != k[2] || vk.shape[0] != v[2] {
            return problemPrefix + "was built for query, value and key features (\(qk.shape[0]), \(vk.shape[0]), \(kk.shape[0])), got (\(q[2]), \(v[2]), \(k[2]))"
        }
        return floatProblem(dtypes)
    }

    /// With masks on the inputs (from `Embedding(maskZero:)` or ``Masking``), as
    /// Keras: a query attends only to unmasked keys and values, and the output
    /// keeps the query's mask.
    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) -> [Tensor] {
        let (queryMask, valueMask) = (masks[0], masks[1])
        let keyMask = masks.count > 2 && inputs[2].id != inputs[1].id ? masks[2] : nil
        var combined = pending.mask
        func and(_ m: Tensor) { combined = combined.map { logicalAnd($0, m) } ?? m }
        if let queryMask { and(queryMask.expandingShape(at: 2)) }
        for m in [valueMask, keyMask] { if let m { and(m.expandingShape(at: 1)) } }
        let saved = pending
        defer { pending = saved }
        pending.mask = combined.map { $0.broadcasted(to: [inputs[0].shape[0], inputs[0].shape[1], inputs[1].shape[1]]) }
        return call(inputs, training: training)
    }

    /// The output keeps the query's mask.
    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) -> [Tensor?] { [masks.first ?? nil, nil] }

    public override func call(_ inputs: [Tensor], training: Bool) -> [Tensor] {
        if inputs.count == 4 {
            // The attention mask given as an input (a functional graph's).
            let saved = pending
            pending.mask = pending.mask.map { logicalAnd($0, inputs[3]) } ?? inputs[3]
            defer { pending = saved }
            return call(Array(inputs.prefix(3)), training: training)
        }
        let (query, value) = (inputs[0], inputs[1])
        let key = inputs.count > 2 ? inputs[2] : value
        let q = project(query, queryKernel!, queryBias)   // (batch, T, heads, keyDim)
        let k = project(key, keyKernel!, keyBias)
        let v = project(value, valueKernel!, valueBias)
        let heads = [0, 2, 1, 3]
        // Keras scales the query before the product.
        let scores = matmul(q.transposed(permutation: heads) * (1 / Double(keyDim).squareRoot()),
                            k.transposed(permutation: heads), transposeB: true)   // (batch, heads, T, S)
        let mask = attentionMask(pending.mask?.expandingShape(at: 1), causal: pending.causal,
                                 queries: query.shape[1], keys: value.shape[1])
        let probabilities = maskedSoftmax(scores, mask: mask)
        let dropped = dropoutLayer.map { $0(probabilities, training: training) } ?? probabilities
        let context = matmul(dropped, v.transposed(permutation: heads)).transposed(permutation: heads)   // (batch, T, heads, valueDim)
        let (batch, length) = (query.shape[0], query.shape[1])
        let kernel = outputKernel!.value
        var output = matmul(context.reshaped(to: [batch * length, numHeads * valueDim]),
                            kernel.reshaped(to: [numHeads * valueDim, kernel.shape[2]]))
        if let outputBias { output = output + outputBias.value }
        output = output.reshaped(to: [batch, length, kernel.shape[2]])
        return pending.scores ? [output, probabilities] : [output]
    }

    /// `x` (batch, length, features) through a kernel (features, heads, depth):
    /// (batch, length, heads, depth).
    private func project(_ x: Tensor, _ kernel: Variable, _ bias: Variable?) -> Tensor {
        let (features, depth) = (kernel.shape[0], kernel.shape[2])
        var y = matmul(x.reshaped(to: [x.shape[0] * x.shape[1], features]), kernel.value.reshaped(to: [features, numHeads * depth]))
        if let bias { y = y + bias.value.reshaped(to: [numHeads * depth]) }
        return y.reshaped(to: [x.shape[0], x.shape[1], numHeads, depth])
    }
}
