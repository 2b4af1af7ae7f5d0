@_spi(Autodiff) import TensorCore
@_spi(Autodiff) import Autodiff

/// The base of the optimizers, as `keras.optimizers.Optimizer`: applies gradients
/// to variables with one fused, in-place update per variable, keeping per-variable
/// state (moments, accumulators) keyed by the variable's identity.
///
/// ```swift
/// let optimizer = Adam(learningRate: 1e-3)
/// let grads = tape.gradient(of: loss, wrt: model.trainableWeights)
/// optimizer.apply(grads, to: model.trainableWeights)
/// ```
open class Optimizer {
    /// The learning rate, constant or scheduled by ``iterations``.
    public var learningRate: LearningRate
    /// How many times ``apply(_:to:)`` has updated the variables.
    public internal(set) var iterations = 0
    /// Clips each gradient to this L2 norm.
    public var clipNorm: Double?
    /// Clips each gradient element to `[-clipValue, clipValue]`.
    public var clipValue: Double?
    /// Scales all gradients together so that their joint L2 norm is at most this.
    public var globalClipNorm: Double?

    private var slots: [ObjectIdentifier: (variable: Variable, state: [Tensor])] = [:]

    init(learningRate: LearningRate, clipNorm: Double?, clipValue: Double?, globalClipNorm: Double?) {
        self.learningRate = learningRate
        self.clipNorm = clipNorm
        self.clipValue = clipValue
        self.globalClipNorm = globalClipNorm
    }

    /// The learning rate of the next update.
    public var currentLearningRate: Double { learningRate(iterations) }

    /// Updates each variable with its gradient, as `apply_gradients`; `nil`
    /// gradients (unconnected variables) are skipped, as Keras skips them.
    public func apply(_ gradients: [Tensor?], to variables: [Variable]) {
        precondition(gradients.count == variables.count,
                     "\(type(of: self)).apply: \(gradients.count) gradients for \(variables.count) variables")
        // In a compiled function the whole update is one effect, made again on every
        // replay with the replayed gradients (iterations, schedules and state advance).
        let present = gradients.indices.filter { gradients[$0] != nil }
        tracedEffect(inputs: present.map { gradients[$0]! }) { [self] grads in
            var all = [Tensor?](repeating: nil, count: variables.count)
            for (i, g) in zip(present, grads) { all[i] = g }
            applyNow(all, variables)
        }
    }

    private func applyNow(_ gradients: [Tensor?], _ variables: [Variable]) {
        var pairs = zip(gradients, variables).compactMap { g, v in g.map { ($0, v) } }
        guard !pairs.isEmpty else { return }
        if let globalClipNorm {
            let norm = pairs.map { square($0.0.cast(to: .float64)).sum().scalar(as: Double.self) }.reduce(0, +).squareRoot()
            if norm > globalClipNorm { pairs = pairs.map { ($0 * (globalClipNorm / norm), $1) } }
        }
        let rate = currentLearningRate
        for (g, v) in pairs {
            precondition(g.shape == v.shape && g.dtype == v.dtype,
                         "\(type(of: self)).apply: gradient \(g.shape) \(g.dtype) does not match variable '\(v.name)' \(v.shape) \(v.dtype)")
            precondition(v.dtype.isFloatingPoint, "\(type(of: self)).apply: variable '\(v.name)' is \(v.dtype), not a float")
            var gradient = g
            if let clipNorm {
                let norm = sqrt(square(gradient.cast(to: .float64)).sum()).scalar(as: Double.self)
                if norm > clipNorm { gradient = gradient * (clipNorm / norm) }
            }
            if let clipValue { gradient = gradient.clipped(min: -clipValue, max: clipValue) }
            let key = ObjectIdentifier(v)
            var state = slots.removeValue(forKey: key)?.state ?? makeState(for: v)
            v.updateInPlace { value in update(&value, gradient: gradient, state: &state, learningRate: rate) }
            slots[key] = (v, state)
        }
        iterations += 1
    }

    /// Updates with `(gradient, variable)` pairs: `optimizer.apply(zip(grads, weights))`.
    public func apply(_ pairs: some Sequence<(Tensor?, Variable)>) {
        let list = Array(pairs)
        apply(list.map(\.0), to: list.map(\.1))
    }

    /// The state tensors a new variable starts with (zeros of its shape by default).
    func makeState(for variable: Variable) -> [Tensor] { [] }

    /// One fused update of `value` in place.
    func update(_ value: inout Tensor, gradient: Tensor, state: inout [Tensor], learningRate: Double) {
        fatalError("\(type(of: self)) must implement update")
    }

    /// The state of `variable` (for checkpoints and tests): moments, accumulators.
    public func state(of variable: Variable) -> [Tensor] { slots[ObjectIdentifier(variable)]?.state ?? [] }

    /// Replaces the state of `variable` (restoring a checkpoint).
    public func setState(_ state: [Tensor], of variable: Variable) { slots[ObjectIdentifier(variable)] = (variable, state) }
}

/// Runs `body` with raw pointers to a variable's value (mutable), its gradient, and
/// each state tensor (mutable).
func withBuffers(_ value: inout Tensor, _ gradient: Tensor, _ state: inout [Tensor],
                 _ body: (UnsafeMutableRawPointer, UnsafeRawPointer, [UnsafeMutableRawPointer]) -> Void) {
    var pointers: [UnsafeMutableRawPointer] = []
    for i in state.indices { pointers.append(state[i].withUnsafeMutableData { $0 }) }
    value.withUnsafeMutableData { w in gradient.withUnsafeData { g in body(w, g, pointers) } }
}
