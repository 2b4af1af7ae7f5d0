@_spi(Autodiff) import TensorCore

/// What ``GradientTape/gradient(of:wrt:outputGradient:unconnectedGradients:)``
/// returns for a source the target does not depend on.
public enum UnconnectedGradients: Sendable {
    /// `nil`, as TensorFlow's default.
    case none
    /// Zeros of the source's shape.
    case zero
}

/// Records the differentiable ops run inside ``record(_:)`` and computes
/// gradients from them by reverse-mode automatic differentiation, with
/// TensorFlow's semantics.
///
/// Trainable variables read inside the tape are watched automatically; other
/// tensors need ``watch(_:)-7zq1s``. Tapes nest: the gradient computed by an inner
/// tape is itself recorded by an outer one, which gives higher derivatives.
///
/// ```swift
/// let a = Variable(Random.normal([2, 2])), b = Random.normal([2, 2])
/// let outer = GradientTape(), inner = GradientTape()
/// let dcda = outer.record {
///     inner.record {
///         let c = sqrt(square(a) + square(b))
///         return inner.gradient(of: c, wrt: a)!
///     }
/// }
/// let d2cda2 = outer.gradient(of: dcda, wrt: a)!
/// ```
public final class GradientTape {
    /// Whether ``gradient(of:wrt:outputGradient:unconnectedGradients:)`` may be called more than once.
    public let persistent: Bool
    /// Whether trainable variables read inside the tape are watched automatically.
    public let watchAccessedVariables: Bool

    struct Record {
        let op: DifferentiableOp
        let inputs: OpInputs
        let output: Tensor
    }

    // Unchecked exclusivity: these are touched on every recorded op, only by the
    // thread the tape records on, and never while a caller holds an access.
    @exclusivity(unchecked) private var records: [Record] = []
    /// Ids of watched tensors and of every recorded op's output.
    @exclusivity(unchecked) private var tracked = IDSet()
    /// Each watched variable with the ids of the values read from it.
    private var variables: [(variable: Variable, ids: [UInt64])] = []
    @exclusivity(unchecked) private var scopes = 0
    @exclusivity(unchecked) private var paused = 0
    @exclusivity(unchecked) private var consumed = false

    /// A tape; `persistent` allows several gradient computations.
    public init(persistent: Bool = false, watchAccessedVariables: Bool = true) {
        self.persistent = persistent
        self.watchAccessedVariables = watchAccessedVariables
    }

    var isRecording: Bool { scopes > 0 && paused == 0 && !consumed }

    /// Runs `body` with this tape recording, and returns what it returns.
    @discardableResult
    public func record<R>(_ body: () throws -> R) rethrows -> R {
        let tapes = ThreadTapes.current
        tapes.push(self)
        scopes += 1
        defer {
            scopes -= 1
            tapes.pop(self)
        }
        return try body()
    }

    /// Runs `body` without this tape recording, as `tape.stop_recording()`.
    @discardableResult
    public func stopRecording<R>(_ body: () throws -> R) rethrows -> R {
        paused += 1
        defer { paused -= 1 }
        return try body()
    }

    /// Makes the tape follow `tensor`: ops on it are recorded from now on.
    public func watch(_ tensor: Tensor) {
        tracked.insert(tensor.id)
    }

    /// Makes the tape follow each of `tensors`.
    public func watch(_ tensors: [Tensor]) {
        for t in tensors { watch(t) }
    }

    /// Makes the tape follow `variable` (even a non-trainable one).
    public func watch(_ variable: Variable) {
        watch(variable, value: variable.value)
    }

    func watch(_ variable: Variable, value: Tensor) {
        tracked.insert(value.id)
        if let i = variables.firstIndex(where: { $0.variable === variable }) {
            if !variables[i].ids.contains(value.id) { variables[i].ids.append(value.id) }
        } else {
            variables.append((variable, [value.id]))
        }
    }

    /// The variables this tape watches, in the order it first saw them.
    public var watchedVariables: [Variable] { variables.map(\.variable) }

    /// Forgets everything recorded so far, as `tape.reset()`.
    public func reset() {
        records.removeAll()
        tracked = IDSet()
        variables.removeAll()
        consumed = false
    }

    func consider(_ op: DifferentiableOp, inputs: OpInputs, output: Tensor) {
        guard output.dtype.isFloatingPoint, inputs.contains(floatWhere: { tracked.contains($0) }) else { return }
        records.append(Record(op: op, inputs: inputs, output: output))
        tracked.insert(output.id)
    }

    // MARK: gradients

    /// The gradient of `target` with respect to `source`: `nil` when `target` does
    /// not depend on it (zeros with `unconnectedGradients: .zero`). A non-scalar
    /// target means the gradient of its sum; `outputGradient` weights the target's
    /// elements instead (a vector–Jacobian product).
    public func gradient(of target: Tensor, wrt source: some TensorConvertible, outputGradient: Tensor? = nil,
                         unconnectedGradients: UnconnectedGradients = .none) -> Tensor? {
        gradient(of: target, wrt: [source as any TensorConvertible], outputGradient: outputGradient,
                 unconnectedGradients: unconnectedGradients)[0]
    }

    /// The gradients of `target` with respect to each of `sources`, in order.
    ///
    /// ```swift
    /// let grads = tape.gradient(of: loss, wrt: layer.trainableWeights)
    /// ```
    public func gradient<S: TensorConvertible>(of target: Tensor, wrt sources: [S], outputGradient: Tensor? = nil,
                                               unconnectedGradients: UnconnectedGradients = .none) -> [Tensor?] {
        gradient(of: target, wrt: sources.map { $0 as any TensorConvertible }, outputGradient: outputGradient,
                 unconnectedGradients: unconnectedGradients)
    }

    /// The gradients of `target` with respect to a mixed list of tensors and variables.
    public func gradient(of target: Tensor, wrt sources: [any TensorConvertible], outputGradient: Tensor? = nil,
                         unconnectedGradients: UnconnectedGradients = .none) -> [Tensor?] {
        precondition(!consumed,
                     "GradientTape.gradient: a non-persistent tape computes gradients only once; create it with GradientTape(persistent: true) to call gradient several times")
        if let g = outputGradient {
            precondition(g.shape == target.shape && g.dtype == target.dtype,
                         "GradientTape.gradient: outputGradient has shape \(g.shape) and dtype \(g.dtype), but the target has shape \(target.shape) and dtype \(target.dtype)")
        }
        let sourceIDs = sources.map(ids(of:))
        let grads: [UInt64: Tensor]
        if target.dtype.isFloatingPoint {
            grads = backward(target: target, seed: outputGradient ?? Tensor.ones(like: target),
                             sources: Set(sourceIDs.joined()))
        } else {
            grads = [:]
        }
        if !persistent { release() }
        return zip(sources, sourceIDs).map { source, ids in
            let parts = ids.compactMap { grads[$0] }
            if let first = parts.first { return parts.dropFirst().reduce(first, +) }
            guard unconnectedGradients == .zero else { return nil }
            let shape = (source as? Variable)?.shape ?? source.tensor.shape
            let dtype = (source as? Variable)?.dtype ?? source.tensor.dtype
            return Tensor.zeros(shape, dtype: dtype)
        }
    }

    /// The gradients for a dictionary of sources, under the same keys; unconnected
    /// sources are left out (or zero with `unconnectedGradients: .zero`).
    public func gradient<Key: Hashable>(of target: Tensor, wrt sources: [Key: any TensorConvertible],
                                        outputGradient: Tensor? = nil,
                                        unconnectedGradients: UnconnectedGradients = .none) -> [Key: Tensor] {
        let keys = Array(sources.keys)
        let grads = gradient(of: target, wrt: keys.map { sources[$0]! }, outputGradient: outputGradient,
                             unconnectedGradients: unconnectedGradients)
        var result: [Key: Tensor] = [:]
        for (k, g) in zip(keys, grads) where g != nil { result[k] = g }
        return result
    }

    /// The Jacobian of `target` with respect to `source`: shape
    /// `target.shape + source.shape`, as `tape.jacobian`.
    public func jacobian(of target: Tensor, wrt source: some TensorConvertible,
                         unconnectedGradients: UnconnectedGradients = .none) -> Tensor? {
        let sourceShape = (source as? Variable)?.shape ?? source.tensor.shape
        let sourceDType = (source as? Variable)?.dtype ?? source.tensor.dtype
        let n = target.count
        let rows: [Tensor?] = (0..<n).map { i in
            let seed = oneHot(Tensor(Int32(i)), depth: n, dtype: target.dtype).reshaped(to: target.shape)
            return vectorJacobian(target, seed, source)
        }
        if !persistent { release() }
        guard rows.contains(where: { $0 != nil }) || unconnectedGradients == .zero else { return nil }
        let filled = rows.map { $0 ?? Tensor.zeros(sourceShape, dtype: sourceDType) }
        let shape = TensorShape(target.shape.dimensions + sourceShape.dimensions)
        return n == 0 ? Tensor.zeros(shape, dtype: sourceDType) : Tensor(stacking: filled).reshaped(to: shape)
    }

    /// The per-example Jacobians of `target` (shape `[batch, m...]`) with respect to
    /// `source` (shape `[batch, n...]`), assuming examples do not interact: shape
    /// `[batch, m..., n...]`, as `tape.batch_jacobian`.
    public func batchJacobian(of target: Tensor, wrt source: Tensor,
                              unconnectedGradients: UnconnectedGradients = .none) -> Tensor? {
        precondition(target.rank >= 1 && source.rank >= 1 && target.shape[0] == source.shape[0],
                     "batchJacobian: target \(target.shape) and source \(source.shape) need the same first (batch) axis")
        let batch = target.shape[0]
        let m = batch == 0 ? 0 : target.count / batch
        let columns: [Tensor?] = (0..<m).map { j in
            let row = oneHot(Tensor(Int32(j)), depth: m, dtype: target.dtype)
            let seed = row.expandingShape(at: 0).broadcasted(to: [batch, m]).reshaped(to: target.shape)
            return vectorJacobian(target, seed, source)
        }
        if !persistent { release() }
        guard columns.contains(where: { $0 != nil }) || unconnectedGradients == .zero else { return nil }
        let filled = columns.map { $0 ?? Tensor.zeros(source.shape, dtype: source.dtype) }
        let shape = TensorShape([batch] + Array(target.shape.dimensions.dropFirst()) + Array(source.shape.dimensions.dropFirst()))
        return m == 0 ? Tensor.zeros(shape, dtype: source.dtype) : Tensor(stacking: filled, alongAxis: 1).reshaped(to: shape)
    }

    private func vectorJacobian(_ target: Tensor, _ seed: Tensor, _ source: some TensorConvertible) -> Tensor? {
        precondition(!consumed, "GradientTape.jacobian: this non-persistent tape has already computed gradients")
        let ids = ids(of: source)
        let grads = backward(target: target, seed: seed, sources: Set(ids))
        let parts = ids.compactMap { grads[$0] }
        guard let first = parts.first else { return nil }
        return parts.dropFirst().reduce(first, +)
    }

    private func ids(of source: any TensorConvertible) -> [UInt64] {
        if let v = source as? Variable {
            return variables.first(where: { $0.variable === v })?.ids ?? []
        }
        return [source.tensor.id]
    }

    /// A non-persistent tape is done after its first gradient: it stops recording
    /// and frees what it held, as TensorFlow's does.
    private func release() {
        records.removeAll()
        tracked = IDSet()
        consumed = true
    }

    /// Reverse accumulation over the records that lie on a path from a source to
    /// the target. The tape pauses itself meanwhile, so its own backward pass is
    /// recorded only by the other tapes open on this thread (for higher orders).
    private func backward(target: Tensor, seed: Tensor, sources: Set<UInt64>) -> [UInt64: Tensor] {
        // Only sources the tape follows count: an unwatched tensor gets no gradient.
        var reachable = IDSet(sources.filter(tracked.contains))
        var relevant = [Bool](repeating: false, count: records.count)
        for (i, r) in records.enumerated() where r.inputs.contains(where: { reachable.contains($0.id) }) {
            relevant[i] = true
            reachable.insert(r.output.id)
        }
        guard reachable.contains(target.id) else { return [:] }
        paused += 1
        defer { paused -= 1 }
        // With no other tape recording, the backward pass's own ops need not reach
        // the tapes at all (the tape stack steps aside; a tracer still sees them).
        if let tapes = ThreadTapes.active, !tapes.othersRecord(besides: self) {
            return tapes.steppingAside { accumulate(target: target, seed: seed, relevant: relevant, reachable: reachable) }
        }
        return accumulate(target: target, seed: seed, relevant: relevant, reachable: reachable)
    }

    /// The reverse sweep of ``backward(target:seed:sources:)`` over the relevant records.
    private func accumulate(target: Tensor, seed: Tensor, relevant: [Bool], reachable: IDSet) -> [UInt64: Tensor] {
        var grads: [UInt64: Tensor] = [target.id: seed]
        var needs: [Bool] = []   // one buffer for every record
        needs.reserveCapacity(4)
        for i in records.indices.reversed() where relevant[i] {
            let r = records[i]
            guard let upstream = grads[r.output.id] else { continue }
            needs.removeAll(keepingCapacity: true)
            for input in r.inputs { needs.append(reachable.contains(input.id) && input.dtype.isFloatingPoint) }
            // A slice's gradient joins the others of its tensor where it belongs,
            // without a full-size tensor of zeros around it.
            if case .stridedSlice(let strides, let offset) = r.op, needs[0],
               var sum = grads.removeValue(forKey: r.inputs[0].id) {
                sum.accumulate(upstream, atStrides: strides, offset: offset)
                grads[r.inputs[0].id] = sum
                continue
            }
            let inputGrads = gradients(of: r.op, inputs: r.inputs, output: r.output, upstream: upstream, needs: needs)
            for (k, input) in r.inputs.enumerated() where needs[k] {
                guard let g = inputGrads[k] else { continue }
                if var sum = grads.removeValue(forKey: input.id) {
                    sum.accumulate(g)
                    grads[input.id] = sum
                } else {
                    grads[input.id] = g
                }
            }
        }
        return grads
    }
}
