import CKernels

/// A differentiable operation as a recorder sees it: what was computed, with the
/// attributes its gradient rule needs. Inputs and output travel beside it. The
/// elementwise families are typed tables (``UnaryOp``, ``BinaryOp``); every switch
/// over this enum (gradients, replay, fusion) is exhaustive, with no `default:`.
@_spi(Autodiff)
public enum DifferentiableOp: Sendable {
    /// An elementwise unary op (input x).
    case unary(UnaryOp)
    /// An elementwise binary op with broadcasting (inputs a, b).
    case binary(BinaryOp)
    case sum(axes: [Int], keepDims: Bool)
    case prod(axes: [Int], keepDims: Bool)
    case max(axes: [Int], keepDims: Bool)
    case min(axes: [Int], keepDims: Bool)
    case matmul(transposeA: Bool, transposeB: Bool)
    /// reshaped, expandingShape, squeezingShape: the same elements in a new shape.
    case reshape
    case transpose(permutation: [Int])
    case broadcast
    /// The output reads the input at `offset + Σ index[i] * strides[i]` (slicing, split).
    case stridedSlice(strides: [Int], offset: Int)
    /// The adjoint of a strided slice: zeros of `shape` with the input written at
    /// the strided positions.
    case stridedEmbed(shape: TensorShape, strides: [Int], offset: Int)
    case concatenate(axis: Int)
    case gather(indices: Tensor, axis: Int)
    /// The adjoint of gather: rows summed into a zero tensor with `size` rows along `axis`.
    case scatterAdd(indices: Tensor, axis: Int, size: Int)
    case select(condition: Tensor)
    case cast
    case clip(min: Double, max: Double)
    /// Fused softmax / log-softmax along the last axis.
    case softmax(axis: Int)
    case logSoftmax(axis: Int)
    /// relu's gradient as an op: inputs (g, x), output `x > 0 ? g : 0`.
    case reluGradient
    /// sigmoid's gradient as an op: inputs (g, y) with y = sigmoid(x), output `g·y·(1 - y)`.
    case sigmoidGradient
    /// `x·w + b` in one GEMM (inputs x, w, b).
    case linear
    /// Per-example `-log softmax(logits)[label]` (input: logits).
    case sparseSoftmaxCrossEntropy(labels: Tensor)
    /// Its gradient in one op: inputs (logits, upstream), output
    /// `upstream[..., None] * (softmax(logits) - oneHot(labels))`.
    case sparseSoftmaxCrossEntropyGradient(labels: Tensor)
    /// A value with a gradient of the caller's own (`customGradient`): inputs are
    /// the function's inputs and, last, the value it computed; the output is that
    /// value. The rule maps the upstream gradient to the inputs' gradients.
    case customGradient(CustomGradientRule)
    /// Running sums along `axis` (see `cumsum`).
    case cumsum(axis: Int, exclusive: Bool, reverse: Bool)
    /// Elements picked along the last axis by per-row indices (`sort`, `topK`).
    case takeAlongLastAxis(indices: Tensor)
    /// Its adjoint: zeros of `size` along the last axis with the input added at the indices.
    case putAlongLastAxis(indices: Tensor, size: Int)
    /// A convolution (inputs x, kernel and optionally a bias added to each output
    /// channel) over the geometry's windows.
    case conv(WindowGeometry)
    /// A convolution with relu applied in its output pass (inputs as `.conv`).
    case convRelu(WindowGeometry)
    /// Its gradient in the input (inputs dy, kernel); also the transposed convolution.
    case convBackpropInput(WindowGeometry)
    /// Its gradient in the kernel (inputs x, dy).
    case convBackpropFilter(WindowGeometry)
    /// Max pooling (input x).
    case maxPool(WindowGeometry)
    /// Its gradient (inputs x, upstream): upstream sent to each window's maximum.
    case maxPoolBackprop(WindowGeometry)
    /// The adjoint of maxPoolBackprop in its upstream (inputs x, values of x's
    /// shape): values read at each window's maximum.
    case maxPoolSelect(WindowGeometry)
    /// Average pooling (input x).
    case avgPool(WindowGeometry)
    /// Its gradient (input upstream).
    case avgPoolBackprop(WindowGeometry)
    /// A linear-algebra op on LAPACK (see ``LinalgOp``).
    case linalg(LinalgOp)
}

/// The gradient closure of one ``DifferentiableOp/customGradient(_:)`` call.
@_spi(Autodiff)
public final class CustomGradientRule: @unchecked Sendable {
    public let gradient: (Tensor) -> [Tensor?]
    public init(_ gradient: @escaping (Tensor) -> [Tensor?]) { self.gradient = gradient }
}

extension DifferentiableOp {
    /// The op's name in traces and error messages (`exp`, `add`, `matmul`, ...).
    public var name: String {
        switch self {
        case .unary(let op): return op.name
        case .binary(let op): return op.name
        case .sum: return "sum"
        case .prod: return "prod"
        case .max: return "max"
        case .min: return "min"
        case .matmul: return "matmul"
        case .reshape: return "reshape"
        case .transpose: return "transpose"
        case .broadcast: return "broadcast"
        case .stridedSlice: return "stridedSlice"
        case .stridedEmbed: return "stridedEmbed"
        case .concatenate: return "concatenate"
        case .gather: return "gather"
        case .scatterAdd: return "scatterAdd"
        case .select: return "select"
        case .cast: return "cast"
        case .clip: return "clip"
        case .softmax: return "softmax"
        case .logSoftmax: return "logSoftmax"
        case .reluGradient: return "reluGradient"
        case .sigmoidGradient: return "sigmoidGradient"
        case .linear: return "linear"
        case .sparseSoftmaxCrossEntropy: return "sparseSoftmaxCrossEntropy"
        case .sparseSoftmaxCrossEntropyGradient: return "sparseSoftmaxCrossEntropyGradient"
        case .customGradient: return "customGradient"
        case .cumsum: return "cumsum"
        case .takeAlongLastAxis: return "takeAlongLastAxis"
        case .putAlongLastAxis: return "putAlongLastAxis"
        case .conv(let g): return "conv\(g.window.count)D"
        case .convRelu(let g): return "conv\(g.window.count)D+relu"
        case .convBackpropInput(let g): return "conv\(g.window.count)DBackpropInput"
        case .convBackpropFilter(let g): return "conv\(g.window.count)DBackpropFilter"
        case .maxPool(let g): return "maxPool\(g.window.count)D"
        case .maxPoolBackprop: return "maxPoolBackprop"
        case .maxPoolSelect: return "maxPoolSelect"
        case .avgPool(let g): return "avgPool\(g.window.count)D"
        case .avgPoolBackprop: return "avgPoolBackprop"
        case .linalg(let op): return op.name
        }
    }
}

/// The inputs of one recorded op, held inline for up to three (every op but
/// `concatenate`), so recording an op allocates nothing for them.
@_spi(Autodiff)
public struct OpInputs: RandomAccessCollection, Sendable {
    @usableFromInline let a: Tensor?
    @usableFromInline let b: Tensor?
    @usableFromInline let c: Tensor?
    /// All the inputs, when there are more than three.
    @usableFromInline let more: [Tensor]?
    public let count: Int

    @inlinable init(_ a: Tensor?, _ b: Tensor?, _ c: Tensor?, more: [Tensor]?, count: Int) {
        self.a = a
        self.b = b
        self.c = c
        self.more = more
        self.count = count
    }

    @inlinable public init(_ a: Tensor) { self.init(a, nil, nil, more: nil, count: 1) }
    @inlinable public init(_ a: Tensor, _ b: Tensor) { self.init(a, b, nil, more: nil, count: 2) }
    @inlinable public init(_ a: Tensor, _ b: Tensor, _ c: Tensor) { self.init(a, b, c, more: nil, count: 3) }
    public init(_ tensors: [Tensor]) {
        switch tensors.count {
        case 1: self.init(tensors[0])
        case 2: self.init(tensors[0], tensors[1])
        case 3: self.init(tensors[0], tensors[1], tensors[2])
        default: self.init(nil, nil, nil, more: tensors, count: tensors.count)
        }
    }

    /// Whether input `i` is a float tensor whose identity `follows` accepts, read in
    /// place (no copy of the tensor, so no reference counting).
    @inlinable public func contains(floatWhere follows: (UInt64) -> Bool) -> Bool {
        if let more { return more.contains { $0.dtype.isFloatingPoint && follows($0.id) } }
        if let a, follows(a.id), a.dtype.isFloatingPoint { return true }
        if let b, follows(b.id), b.dtype.isFloatingPoint { return true }
        if let c, follows(c.id), c.dtype.isFloatingPoint { return true }
        return false
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    @inlinable public subscript(i: Int) -> Tensor {
        if let more { return more[i] }
        switch i {
        case 0: return a.unsafelyUnwrapped
        case 1: return b.unsafelyUnwrapped
        default:
            precondition(i == 2 && c != nil, "OpInputs: index \(i) out of range for \(count) inputs")
            return c.unsafelyUnwrapped
        }
    }
}

/// Something that observes what runs on a thread: a gradient tape stack, a compiled
/// function's tracer. TensorCore knows neither; it reports to the recorders
/// installed on the calling thread through one thread-local slot, which is empty
/// (one load, nothing else) while nothing records.
@_spi(Autodiff)
open class Recorder {
    public init() {}

    /// A differentiable op produced `output` from `inputs`.
    open func opRan(_ op: DifferentiableOp, inputs: OpInputs, output: Tensor) {}

    /// A non-differentiable op or a random source (`stateful`: it must run again
    /// even when its result is unused) produced `output`. `replay` makes the closure
    /// that computes it again from new inputs; call it only to keep that closure.
    open func opRan(named name: String, inputs: [Tensor], output: Tensor, stateful: Bool,
                    replay: () -> ([Tensor]) -> Tensor) {}

    /// State (a variable's value) was read: `value` is what the read returned.
    open func stateRead(_ value: Tensor, from source: any ReadableState) {}

    /// State is about to change from `inputs` (the change runs right after this call).
    open func stateChanging(_ change: any StateChange, inputs: [Tensor]) {}

    /// Whether this recorder makes the state changes it saw again by itself (a
    /// tracer replays them), so that the ops a change runs must not reach it.
    open var replaysStateChanges: Bool { false }

    /// Whether this recorder takes a gradient accumulation as one op (see
    /// ``accumulated(_:into:_:strides:offset:)``) rather than as differentiable ops.
    open var takesAccumulations: Bool { false }

    /// `output` is `sum` with `g` added at the strided positions (a tape summing
    /// the gradients of slices), reported only when every recorder takes it.
    open func accumulated(_ output: Tensor, into sum: Tensor, _ g: Tensor, strides: [Int], offset: Int) {}
}

/// State that a compiled function's replay reads again (a ``Variable``): replays
/// call ``valueForReplay()``, which reads without reporting to recorders.
public protocol ReadableState: AnyObject {
    /// The current value, read without reporting to recorders.
    func valueForReplay() -> Tensor
}

/// A change of state (a variable assignment, an optimizer or metric update) that a
/// recorder may make again with new inputs.
@_spi(Autodiff)
public protocol StateChange {
    /// Makes the change from `inputs`.
    func apply(_ inputs: [Tensor])
}

/// A ``StateChange`` made by a closure.
@_spi(Autodiff)
public struct ClosureStateChange: StateChange {
    let body: ([Tensor]) -> Void
    public init(_ body: @escaping ([Tensor]) -> Void) { self.body = body }
    public func apply(_ inputs: [Tensor]) { body(inputs) }
}

/// The recorders installed on one thread, in installation order. One set per
/// thread, kept for the thread's lifetime; the thread's recorder slot points to it
/// exactly while it is not empty, so an op with nothing recording pays one load.
@_spi(Autodiff)
public final class RecorderSet {
    // Unchecked exclusivity: read on every op, only by its own thread.
    @exclusivity(unchecked) public private(set) var recorders: [Recorder] = []

    private init() {}

    /// The calling thread's recorders, or nil when none is installed.
    @inlinable public static var current: RecorderSet? {
        guard let raw = ck_recorder_set() else { return nil }
        return Unmanaged<RecorderSet>.fromOpaque(raw).takeUnretainedValue()
    }

    /// The calling thread's set, installed or not, created on first use.
    private static var home: RecorderSet {
        if let raw = ck_recorder_home() { return Unmanaged<RecorderSet>.fromOpaque(raw).takeUnretainedValue() }
        // Retained for the thread's lifetime: a few words per thread.
        let set = RecorderSet()
        ck_set_recorder_home(Unmanaged.passRetained(set).toOpaque())
        return set
    }

    /// The installed recorder of type `R`, if any.
    public static func first<R: Recorder>(_ type: R.Type) -> R? {
        guard let set = current else { return nil }
        for r in set.recorders { if let r = r as? R { return r } }
        return nil
    }

    /// Installs `recorder` on the calling thread (after those already there).
    public static func install(_ recorder: Recorder) {
        let set = home
        set.recorders.append(recorder)
        if set.recorders.count == 1 { ck_set_recorder_set(Unmanaged.passUnretained(set).toOpaque()) }
    }

    /// Removes `recorder` from the calling thread; returns where it was, if it was.
    @discardableResult
    public static func uninstall(_ recorder: Recorder) -> Int? {
        let set = home
        guard let i = set.recorders.lastIndex(where: { $0 === recorder }) else { return nil }
        set.recorders.remove(at: i)
        if set.recorders.isEmpty { ck_set_recorder_set(nil) }
        return i
    }

    /// Runs `body` with `recorder` removed from the calling thread, then puts it back
    /// where it was.
    public static func without<Result>(_ recorder: Recorder, _ body: () throws -> Result) rethrows -> Result {
        guard let index = uninstall(recorder) else { return try body() }
        defer { install(recorder, at: index) }
        return try body()
    }

    /// Installs `recorder` at `index` among the thread's recorders (where
    /// ``uninstall(_:)`` found it), or last when there are fewer.
    public static func install(_ recorder: Recorder, at index: Int) {
        let set = home
        set.recorders.insert(recorder, at: Swift.min(index, set.recorders.count))
        if set.recorders.count == 1 { ck_set_recorder_set(Unmanaged.passUnretained(set).toOpaque()) }
    }

    @usableFromInline func opRan(_ op: DifferentiableOp, _ inputs: OpInputs, _ output: Tensor) {
        for i in 0..<recorders.count { recorders[i].opRan(op, inputs: inputs, output: output) }
    }
}

extension Tensor {
    /// Reports `self` as the output of `op` to the thread's recorders, if any.
    @inline(__always)
    func recorded(_ op: @autoclosure () -> DifferentiableOp, _ inputs: @autoclosure () -> OpInputs) -> Tensor {
        if let set = RecorderSet.current { set.opRan(op(), inputs(), self) }
        return self
    }
}

@_spi(Autodiff)
extension Tensor {
    /// Reports `self` as the output of a non-differentiable op (or a random source)
    /// to the thread's recorders; a tracer replays it by calling `compute` with the
    /// replayed `inputs`. Costs one thread-local load when nothing records. A
    /// `stateful` op (a random source) is replayed even when its result is unused.
    /// `replay` is an autoclosure so that its closure (and the context it captures)
    /// is only built when a recorder keeps it: eager calls allocate nothing for it.
    @inline(__always)
    public func traced(_ name: StaticString, _ inputs: @autoclosure () -> [Tensor], stateful: Bool = false,
                       replay compute: @autoclosure () -> ([Tensor]) -> Tensor) -> Tensor {
        if let set = RecorderSet.current {
            let inputs = inputs()
            for r in set.recorders {
                r.opRan(named: "\(name)", inputs: inputs, output: self, stateful: stateful, replay: compute)
            }
        }
        return self
    }
}

/// Reports a read of `source`'s state, whose value is `value`, to the thread's recorders.
@_spi(Autodiff)
@inline(__always)
public func reportStateRead(_ value: Tensor, from source: some ReadableState) {
    if let set = RecorderSet.current { for r in set.recorders { r.stateRead(value, from: source) } }
}

/// Makes a change of state now and reports it to the thread's recorders, so that a
/// tracer makes it again, with the replayed `inputs`, on every replay (variable
/// assignments, optimizer updates, metric updates). The ops the change runs now are
/// hidden from recorders that replay state changes themselves.
@_spi(Autodiff)
public func changeState(_ change: some StateChange, inputs: [Tensor]) {
    guard let set = RecorderSet.current else { return change.apply(inputs) }
    let replayers = set.recorders.filter(\.replaysStateChanges)
    for r in set.recorders { r.stateChanging(change, inputs: inputs) }
    guard !replayers.isEmpty else { return change.apply(inputs) }
    func run(_ k: Int) {
        if k == replayers.count { change.apply(inputs) } else { RecorderSet.without(replayers[k]) { run(k + 1) } }
    }
    run(0)
}

/// ``changeState(_:inputs:)`` for a change made by a closure.
@_spi(Autodiff)
public func changeState(inputs: [Tensor], _ body: @escaping ([Tensor]) -> Void) {
    if RecorderSet.current == nil { return body(inputs) }
    changeState(ClosureStateChange(body), inputs: inputs)
}

/// The same value with a new identity that no tape connects to its inputs, as
/// `tf.stop_gradient`: gradients do not flow back through it.
public func stopGradient(_ x: Tensor) -> Tensor {
    Tensor(storage: x.storage, shape: x.shape).traced("stopGradient", [x], replay: { stopGradient($0[0]) })
}

@_spi(Autodiff)
extension Tensor {
    /// The same value, reported as the output of a ``DifferentiableOp/customGradient(_:)``
    /// op over `inputs` (the value itself is the op's last input).
    public func markedWithCustomGradient(_ rule: CustomGradientRule, inputs: [Tensor]) -> Tensor {
        Tensor(storage: storage, shape: shape).recorded(.customGradient(rule), OpInputs(inputs + [self]))
    }
}
