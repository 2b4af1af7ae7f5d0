@_spi(Autodiff) import TensorCore

/// An operation as a compiled function's trace sees it: a differentiable op (replayed
/// from its description) or any other op with the closure that computes it again.
@_spi(Autodiff)
public enum TracedOp {
    case differentiable(DifferentiableOp)
    /// A non-differentiable op or a random source: replaying calls `compute` with
    /// the replayed inputs.
    case custom(name: String, compute: ([Tensor]) -> Tensor)
}

/// The recording of one call of a compiled function's body, a ``Recorder`` like a
/// gradient tape: which values are its arguments, which are constants captured at
/// trace time, which come from reading state (variables), and the ops and state
/// changes in the order they ran.
@_spi(Autodiff)
public final class Tracer: Recorder {
    enum Value {
        case argument(Int)
        case constant(Tensor)
        case output(node: Int)
    }

    enum Kind {
        case op(TracedOp)
        /// Reads state (a variable's value) again on every replay.
        case read(any ReadableState)
        /// Changes state (assignment, optimizer update, metric update) on every replay.
        case effect(any StateChange)
        /// `inputs[0]` plus `inputs[1]` at strided positions (a tape summing slice
        /// gradients); a replay adds in place when the sum has no other use.
        case accumulate(strides: [Int], offset: Int)
        /// A change whose inputs marked in `fused` arrive as the inputs of the op
        /// that produced them (see ``ProducerFusingStateChange``).
        case fusedEffect(any ProducerFusingStateChange, fused: [Int?])
    }

    struct Node {
        let kind: Kind
        let inputs: [Int]
        /// The value this node produces (nil for effects).
        let output: Int?
        let shape: TensorShape
        let dtype: DType
        /// The input value whose memory the output shares (a view: reshape,
        /// stopGradient, a variable's value), if any.
        let viewOf: Int?
        /// Whether replays must run it even when its result is unused (random
        /// sources advance a generator, as they did in eager mode).
        let isStateful: Bool
    }

    private(set) var values: [Value] = []
    /// The shape of each value.
    private(set) var shapes: [TensorShape] = []
    private(set) var nodes: [Node] = []
    private var valueOfID: [UInt64: Int] = [:]

    init(arguments: [Tensor]) {
        super.init()
        for (k, t) in arguments.enumerated() {
            valueOfID[t.id] = values.count
            values.append(.argument(k))
            shapes.append(t.shape)
        }
    }

    /// The tracer recording on the calling thread, if any.
    public static var current: Tracer? { RecorderSet.first(Tracer.self) }

    /// Runs `body` with no tracer recording on this thread (what an effect, a
    /// layer's set-up or an op's own implementation does at trace time must not
    /// become nodes of its own).
    public static func suspended<R>(_ body: () throws -> R) rethrows -> R {
        guard let tracer = current else { return try body() }
        return try RecorderSet.without(tracer, body)
    }

    /// The value index of `tensor`: known from an earlier op, or a constant captured now.
    func value(of tensor: Tensor) -> Int {
        if let v = valueOfID[tensor.id] { return v }
        let v = values.count
        values.append(.constant(tensor))
        shapes.append(tensor.shape)
        valueOfID[tensor.id] = v
        return v
    }

    // MARK: Recorder

    public override func opRan(_ op: DifferentiableOp, inputs: OpInputs, output: Tensor) {
        record(.differentiable(op), inputs: Array(inputs), output: output, isStateful: false)
    }

    public override func opRan(named name: String, inputs: [Tensor], output: Tensor, stateful: Bool,
                               replay: () -> ([Tensor]) -> Tensor) {
        record(.custom(name: name, compute: replay()), inputs: inputs, output: output, isStateful: stateful)
    }

    public override func stateRead(_ value: Tensor, from source: any ReadableState) {
        append(.read(source), inputs: [], output: value, viewOf: nil, isStateful: true)
    }

    public override func stateChanging(_ change: any StateChange, inputs: [Tensor]) {
        let inputValues = inputs.map(value(of:))
        nodes.append(Node(kind: .effect(change), inputs: inputValues, output: nil, shape: [], dtype: .float32,
                          viewOf: nil, isStateful: true))
    }

    public override var replaysStateChanges: Bool { true }

    public override var takesAccumulations: Bool { true }

    public override func accumulated(_ output: Tensor, into sum: Tensor, _ g: Tensor, strides: [Int], offset: Int) {
        append(.accumulate(strides: strides, offset: offset), inputs: [value(of: sum), value(of: g)], output: output,
               viewOf: nil, isStateful: false)
    }

    /// Records an op that has just produced `output` from `inputs`.
    private func record(_ op: TracedOp, inputs: [Tensor], output: Tensor, isStateful: Bool) {
        var all = inputs
        if case .differentiable(let d) = op, let extra = d.tensorAttribute { all.append(extra) }
        let inputValues = all.map(value(of:))
        let viewOf = all.firstIndex { $0.sharesMemory(with: output) }.map { inputValues[$0] }
        append(.op(op), inputs: inputValues, output: output, viewOf: viewOf, isStateful: isStateful)
    }

    private func append(_ kind: Kind, inputs: [Int], output: Tensor, viewOf: Int?, isStateful: Bool) {
        let v = values.count
        values.append(.output(node: nodes.count))
        shapes.append(output.shape)
        valueOfID[output.id] = v
        nodes.append(Node(kind: kind, inputs: inputs, output: v, shape: output.shape, dtype: output.dtype,
                          viewOf: viewOf, isStateful: isStateful))
    }
}

extension DifferentiableOp {
    /// A tensor held as an attribute that is data, not configuration (gather
    /// indices, labels, a select condition): a trace treats it as one more input.
    var tensorAttribute: Tensor? {
        switch self {
        case .gather(let t, _), .scatterAdd(let t, _, _), .select(let t), .sparseSoftmaxCrossEntropy(let t),
             .sparseSoftmaxCrossEntropyGradient(let t), .takeAlongLastAxis(let t), .putAlongLastAxis(let t, _): return t
        case .unary, .binary, .sum, .prod, .max, .min, .matmul, .reshape, .transpose, .broadcast, .stridedSlice,
             .stridedEmbed, .concatenate, .cast, .clip, .softmax, .logSoftmax, .reluGradient, .sigmoidGradient, .linear,
             .customGradient, .cumsum, .conv, .convRelu, .convBackpropInput, .convBackpropFilter, .maxPool, .maxPoolBackprop,
             .maxPoolSelect, .avgPool, .avgPoolBackprop, .linalg:
            return nil
        }
    }
}

