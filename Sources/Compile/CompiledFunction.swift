@_spi(Autodiff) import TensorCore
import Foundation

/// A function of tensors that is traced once per input signature and then replayed
/// as a planned graph: the counterpart of `tf.function`.
///
/// The first call with given argument shapes and dtypes runs `body` eagerly and
/// records every op, variable read and state change (an optimizer update, a
/// variable assignment, a metric update) into a graph; the backward pass a
/// ``GradientTape`` computes inside `body` becomes part of that graph. Later calls
/// with the same signature replay the graph: no tape records, nothing is
/// dispatched through Swift's layer code, ops whose results are unused are dropped,
/// and intermediate results are written into buffers planned at trace time, so a
/// replay allocates nothing for them. A new signature traces again.
///
/// What runs at trace time only: the Swift code of `body` itself. A `print` in
/// `body` prints once per trace, not per call; a Swift value `body` reads
/// (a captured `Double`, `tensor.scalar(as:)`, an `if` on a tensor's value) is
/// frozen at its trace-time value, and Swift state the body assigns (a stored
/// property set to a tensor, as the hypernetwork sets its outer layers' kernels)
/// keeps the value it got while tracing — as Python code in a `tf.function`. State
/// that must change on every call belongs in a `Variable`. Ops that draw
/// random numbers (dropout, `Random.normal`) draw fresh numbers on every replay, and
/// variables, optimizers and metrics change exactly as in eager mode.
///
/// ```swift
/// let trainOnBatch = compiled { (x: Tensor, y: Tensor) -> Tensor in
///     let tape = GradientTape()
///     let loss = tape.record { lossFn(y, model(x)) }
///     let grads = tape.gradient(of: loss, wrt: model.trainableWeights)
///     optimizer.apply(grads, to: model.trainableWeights)
///     return loss
/// }
/// let loss = trainOnBatch(x, y)   // traces; later calls replay
/// ```
public final class CompiledFunction: @unchecked Sendable {
    /// The name used in warnings.
    public let name: String
    private let body: ([Tensor]) -> [Tensor]
    private var graphs: [Signature: CompiledGraph] = [:]
    private var warnedAboutRetracing = false
    private var lastGraph: CompiledGraph?
    private let lock = NSLock()

    /// How many times `body` has been traced (once per new input signature).
    public private(set) var traceCount = 0

    /// Traces after which a warning suggests keeping input shapes fixed (as TF warns).
    public static let retracingWarningThreshold = 5

    /// Where warnings go (standard error by default); replace it to route them to a logger.
    nonisolated(unsafe) public static var warningHandler: (String) -> Void = { message in
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// A compiled function of any number of tensors returning any number of tensors.
    public init(name: String = "function", _ body: @escaping ([Tensor]) -> [Tensor]) {
        self.name = name
        self.body = body
    }

    struct Signature: Hashable {
        let shapes: [TensorShape]
        let dtypes: [DType]
    }

    /// Calls the function: replays the graph traced for these arguments' shapes and
    /// dtypes, tracing it first if there is none.
    public func callAsFunction(_ arguments: [Tensor]) -> [Tensor] {
        // Inside another function's trace, run inline: the outer graph records the ops.
        if Tracer.current != nil { return body(arguments) }
        let signature = Signature(shapes: arguments.map(\.shape), dtypes: arguments.map(\.dtype))
        lock.lock()
        let graph = graphs[signature]
        lock.unlock()
        if let graph {
            lock.lock()
            defer { lock.unlock() }
            lastGraph = graph
            return graph.run(arguments)
        }
        return trace(arguments, signature)
    }

    private func trace(_ arguments: [Tensor], _ signature: Signature) -> [Tensor] {
        let tracer = Tracer(arguments: arguments)
        RecorderSet.install(tracer)
        let outputs = body(arguments)
        RecorderSet.uninstall(tracer)
        let graph = CompiledGraph(trace: tracer, outputs: outputs)
        lock.lock()
        graphs[signature] = graph
        traceCount += 1
        let warn = traceCount > CompiledFunction.retracingWarningThreshold && !warnedAboutRetracing
        if warn { warnedAboutRetracing = true }
        lock.unlock()
        if warn {
            let shapes = signature.shapes.map(\.description).joined(separator: ", ")
            CompiledFunction.warningHandler("""
                DeepSwift warning: compiled function '\(name)' has been traced \(traceCount) times, once for each \
                new input signature (the latest: \(shapes)). Tracing is expensive; keep input shapes fixed \
                (for example batch(_:dropRemainder: true)).
                """)
        }
        return outputs
    }

    /// How many intermediate results of the latest replay were freshly allocated
    /// rather than written into their planned buffers (the goal, and the steady
    /// state, is 0; results returned to the caller are always new).
    public var replayAllocations: Int {
        lock.lock()
        defer { lock.unlock() }
        return lastGraph?.allocations ?? 0
    }

    /// The number of ops and effects the graph for these argument shapes replays,
    /// and how many traced ops it dropped as unused (nil before the first trace).
    /// `fused` counts the ops that run inside fused elementwise chains.
    public func graphSummary(for arguments: [Tensor]) -> (steps: Int, dropped: Int, fused: Int)? {
        let signature = Signature(shapes: arguments.map(\.shape), dtypes: arguments.map(\.dtype))
        lock.lock()
        defer { lock.unlock() }
        return graphs[signature].map { ($0.steps.count, $0.droppedCount, $0.fusedCount) }
    }
}

extension CompiledFunction {
    /// A compiled function of one tensor.
    public convenience init(name: String = "function", _ body: @escaping (Tensor) -> Tensor) {
        self.init(name: name) { (args: [Tensor]) in [body(args[0])] }
    }

    /// A compiled function of two tensors.
    public convenience init(name: String = "function", _ body: @escaping (Tensor, Tensor) -> Tensor) {
        self.init(name: name) { (args: [Tensor]) in [body(args[0], args[1])] }
    }

    /// Calls a function of one tensor returning one tensor.
    public func callAsFunction(_ x: Tensor) -> Tensor { self([x])[0] }
    /// Calls a function of two tensors returning one tensor.
    public func callAsFunction(_ x: Tensor, _ y: Tensor) -> Tensor { self([x, y])[0] }
}

/// Compiles a step of one tensor: `let step = compiled { x in ... }`. See ``CompiledFunction``.
public func compiled(name: String = "function", _ body: @escaping (Tensor) -> Tensor) -> CompiledFunction {
    CompiledFunction(name: name, body)
}

/// Compiles a step of two tensors, as the guide's `@tf.function def train_on_batch(x, y)`.
/// See ``CompiledFunction``.
public func compiled(name: String = "function", _ body: @escaping (Tensor, Tensor) -> Tensor) -> CompiledFunction {
    CompiledFunction(name: name, body)
}
