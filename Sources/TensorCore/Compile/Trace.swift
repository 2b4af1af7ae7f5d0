import CKernels

/// An operation as a compiled function's trace sees it: a differentiable op (replayed
/// from its description) or any other op with the closure that computes it again.
@_spi(Autodiff)
public enum TracedOp {
    case differentiable(DifferentiableOp)
    /// A non-differentiable op or a random source: replaying calls `compute` with
    /// the replayed inputs.
    case custom(name: String, compute: ([Tensor]) -> Tensor)

    var name: String {
        switch self {
        case .differentiable(let op): return "\(op)".prefix { $0 != "(" }.description
        case .custom(let name, _): return name
        }
    }
}

/// The recording of one call of a compiled function's body: which values are its
/// arguments, which are constants captured at trace time, which come from reading
/// state (variables), and the ops and side effects in the order they ran.
@_spi(Autodiff)
public final class TraceContext {
    enum Value {
        case argument(Int)
        case constant(Tensor)
        case output(node: Int)
    }

    enum Kind {
        case op(TracedOp)
        /// Reads state (a variable's value) again on every replay.
        case read(() -> Tensor)
        /// Changes state (assignment, optimizer update, metric update) on every replay.
        /// `outer`, when given, accepts inputs as the two factors of an outer product.
        case effect(([Tensor]) -> Void, outer: OuterEffect?)
        /// `inputs[0]` plus `inputs[1]` at strided positions (a tape summing slice
        /// gradients); a replay adds in place when the sum has no other use.
        case accumulate(strides: [Int], offset: Int)
        /// An effect whose inputs marked in `factored` arrive as two factors (a, b)
        /// of the outer product aᵀ·b, which is never materialized.
        case factoredEffect(OuterEffect, factored: [Bool])
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
        for (k, t) in arguments.enumerated() {
            valueOfID[t.id] = values.count
            values.append(.argument(k))
            shapes.append(t.shape)
        }
    }

    /// The trace recording on the calling thread, if any.
    @inlinable public static var current: TraceContext? {
        guard let raw = ck_trace_context() else { return nil }
        return Unmanaged<TraceContext>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Installs (or with nil removes) the calling thread's trace; returns the previous one.
    @discardableResult
    static func install(_ context: TraceContext?) -> TraceContext? {
        let previous = current
        ck_set_trace_context(context.map { Unmanaged.passUnretained($0).toOpaque() })
        return previous
    }

    /// Runs `body` with no trace recording on this thread (what an effect or an op's
    /// own implementation does at trace time must not become nodes of its own).
    public static func suspended<R>(_ body: () throws -> R) rethrows -> R {
        let previous = install(nil)
        defer { install(previous) }
        return try body()
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

    func value(ofOutput tensor: Tensor) -> Int { value(of: tensor) }

    /// Records an op that has just produced `output` from `inputs`.
    public func record(_ op: TracedOp, inputs: [Tensor], output: Tensor, isStateful: Bool = false) {
        var all = inputs
        if case .differentiable(let d) = op, let extra = d.tensorAttribute { all.append(extra) }
        let inputValues = all.map(value(of:))
        let viewOf = all.firstIndex { $0.storage === output.storage }.map { inputValues[$0] }
        append(.op(op), inputs: inputValues, output: output, viewOf: viewOf, isStateful: isStateful)
    }

    /// Records `output = sum + g` at strided positions (see ``Kind/accumulate(strides:offset:)``).
    func recordAccumulation(_ output: Tensor, into sum: Tensor, _ g: Tensor, strides: [Int], offset: Int) {
        append(.accumulate(strides: strides, offset: offset), inputs: [value(of: sum), value(of: g)], output: output,
               viewOf: nil, isStateful: false)
    }

    /// Records a read of state whose current value is `value`; replays call `read`.
    public func recordRead(_ value: Tensor, read: @escaping () -> Tensor) {
        append(.read(read), inputs: [], output: value, viewOf: nil, isStateful: true)
    }

    /// Records a change of state made from `inputs`; replays call `body` with the
    /// replayed inputs. (The caller runs the change itself now, untraced.)
    public func recordEffect(inputs: [Tensor], _ body: @escaping ([Tensor]) -> Void, outer: OuterEffect? = nil) {
        let inputValues = inputs.map(value(of:))
        nodes.append(Node(kind: .effect(body, outer: outer), inputs: inputValues, output: nil, shape: [], dtype: .float32,
                          viewOf: nil, isStateful: true))
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
             .sparseSoftmaxCrossEntropyGradient(let t): return t
        default: return nil
        }
    }
}

@_spi(Autodiff)
extension Tensor {
    /// Reports `self` as the output of a non-differentiable op (or a random source)
    /// to a tracing compiled function, which replays it by calling `compute` with
    /// the replayed `inputs`. Costs one thread-local load when nothing traces.
    /// A `stateful` op (a random source) is replayed even when its result is unused.
    /// `replay` is an autoclosure so that its closure (and the context it captures)
    /// is only built while tracing: eager calls allocate nothing for it.
    @inline(__always)
    public func traced(_ name: StaticString, _ inputs: @autoclosure () -> [Tensor], stateful: Bool = false,
                       replay compute: @autoclosure () -> ([Tensor]) -> Tensor) -> Tensor {
        if let trace = TraceContext.current {
            trace.record(.custom(name: "\(name)", compute: compute()), inputs: inputs(), output: self, isStateful: stateful)
        }
        return self
    }
}

/// A state change taking each input either as a tensor or as outer-product factors.
@_spi(Autodiff)
public typealias OuterEffect = (_ inputs: [Tensor?], _ factors: [(Tensor, Tensor)?]) -> Void

/// Runs a change of state now and, when a compiled function is tracing, records it
/// to be made again, with the replayed `inputs`, on every replay: variable
/// assignments, optimizer updates, metric updates.
///
/// `outer`, when given, is an alternative the compiled graph may call instead of
/// `body`: input `i` arrives either as a tensor (`gradients[i]`) or, when the graph
/// found it to be an outer product `matmul(a, b, transposeA: true)` of two row
/// vectors used nowhere else, as its factors `(a, b)`, so the product need never be
/// written to memory.
@_spi(Autodiff)
public func tracedEffect(inputs: [Tensor], _ body: @escaping ([Tensor]) -> Void, outer: OuterEffect? = nil) {
    if let trace = TraceContext.current {
        trace.recordEffect(inputs: inputs, body, outer: outer)
        TraceContext.suspended { body(inputs) }
    } else {
        body(inputs)
    }
}
