@_spi(Autodiff) import Autodiff
@_spi(Autodiff) @_spi(Kernels) import TensorCore
import CKernels
@_spi(Autodiff) import Compile

/// Combines a step's gradients before an optimizer applies them, as Keras's
/// `gradient_aggregator`: ``Optimizer/gradientAggregator`` calls it once per
/// ``Optimizer/apply(_:to:)`` (and on every replay of a compiled step) with the
/// gradients that are present.
///
/// ```swift
/// final class Halve: GradientAggregator {
///     func aggregate(_ gradients: [Tensor], of variables: [Variable]) -> [Tensor] {
///         gradients.map { $0 * 0.5 }
///     }
/// }
/// ```
public protocol GradientAggregator: AnyObject {
    /// The gradients to apply instead of `gradients`: one per variable, each of
    /// its variable's shape and dtype.
    ///
    /// - Parameters:
    ///   - gradients: this step's gradients, in the order of `variables`.
    ///   - variables: the variables they belong to.
    func aggregate(_ gradients: [Tensor], of variables: [Variable]) -> [Tensor]

    /// The combined gradients before a last uniform scale, and that scale (an
    /// average's sums and `1 / count`). A built-in optimizer without clipping
    /// applies the scale inside its fused update, which saves a pass over the
    /// gradients. By default, ``aggregate(_:of:)`` and 1.
    func aggregateBeforeScaling(_ gradients: [Tensor], of variables: [Variable]) -> (gradients: [Tensor], scale: Double)
}

extension GradientAggregator {
    /// ``aggregate(_:of:)`` and a scale of 1.
    public func aggregateBeforeScaling(_ gradients: [Tensor], of variables: [Variable]) -> (gradients: [Tensor], scale: Double) {
        (aggregate(gradients, of: variables), 1)
    }
}

/// The base of the optimizers, as `keras.optimizers.Optimizer`: applies gradients
/// to variables, keeping per-variable state (moments, accumulators) keyed by the
/// variable's identity. Clipping (`clipNorm`, `clipValue`, `globalClipNorm`),
/// learning-rate schedules and `iterations` work for every optimizer.
///
/// ```swift
/// let optimizer = Adam(learningRate: 1e-3)
/// let grads = tape.gradient(of: loss, wrt: model.trainableWeights)
/// optimizer.apply(grads, to: model.trainableWeights)
/// ```
///
/// A new optimizer, as Keras's `build` and `update_step`, overrides
/// ``makeState(for:)`` (its slots) and
/// ``updateStep(gradient:variable:state:learningRate:)`` (its formula, in tensor
/// ops). It then works with `apply`, `fit` and compiled steps:
///
/// ```swift
/// final class SignSGD: Optimizer {
///     override func updateStep(gradient: Tensor, variable: Variable, state: inout [Tensor],
///                              learningRate: Double) {
///         variable.assignSub(sign(gradient) * learningRate)
///     }
/// }
/// ```
///
/// The built-in optimizers also have fused C kernels (one pass over memory per
/// variable), which their own classes use instead of `updateStep`.
open class Optimizer {
    /// The learning rate, constant or scheduled by ``iterations``.
    public var learningRate: LearningRate
    /// How many times ``apply(_:to:)`` has updated the variables (set it when
    /// restoring training, as Keras assigns `optimizer.iterations`).
    public var iterations = 0
    /// Clips each gradient to this L2 norm.
    public var clipNorm: Double?
    /// Clips each gradient element to `[-clipValue, clipValue]`.
    public var clipValue: Double?
    /// Scales all gradients together so that their joint L2 norm is at most this.
    public var globalClipNorm: Double?
    /// Combines each step's gradients before clipping and the update, as Keras's
    /// `gradient_aggregator` (data-parallel training averages them over processes:
    /// `DistributedOptimizer(wrapping:)` in `DeepSwiftDistributed` sets this).
    public var gradientAggregator: (any GradientAggregator)?

    /// A variable's state tensors, updated in place (a class, so one dictionary
    /// lookup per update finds them).
    final class Slot {
        let variable: Variable
        var state: [Tensor]
        init(_ variable: Variable, _ state: [Tensor]) { self.variable = variable; self.state = state }
    }
    private var slots: [ObjectIdentifier: Slot] = [:]

    /// Whether this object's class is one of the built-in optimizers, whose fused
    /// kernel replaces ``updateStep(gradient:variable:state:learningRate:)`` (a
    /// subclass defined elsewhere may override that, so it always runs it).
    lazy var usesFusedKernels: Bool = String(reflecting: type(of: self)).hasPrefix("DeepSwift.")

    /// An optimizer with the given learning rate (constant or scheduled) and
    /// gradient clipping.
    public init(learningRate: LearningRate = 0.001, clipNorm: Double? = nil, clipValue: Double? = nil,
                globalClipNorm: Double? = nil) {
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
        // A compiled graph may hand a weight gradient over as the two factors of an
        // outer product, which the update then computes tile by tile, never writing
        // the full gradient to memory (the hypernetwork's 16×50,890 kernel).
        let present = gradients.indices.filter { gradients[$0] != nil }
        changeState(Update(optimizer: self, variables: variables, present: present),
                    inputs: present.map { gradients[$0]! })
    }

    /// One `apply` as a state change a compiled graph makes again on every replay.
    /// It takes a gradient produced as `matmul(a, b, transposeA: true)` of two row
    /// vectors as the factors (``Compile``'s extension point for state changes).
    struct Update: ProducerFusingStateChange {
        let optimizer: Optimizer
        let variables: [Variable]
        /// The positions of the variables whose gradient is given.
        let present: [Int]

        func takes(inputAt index: Int, producedBy op: DifferentiableOp, inputShapes: [TensorShape]) -> Bool {
            // An aggregator needs every gradient in memory.
            guard optimizer.gradientAggregator == nil, case .matmul(transposeA: true, transposeB: false) = op else { return false }
            return inputShapes.allSatisfy { $0.rank == 2 && $0[0] == 1 }
        }

        func apply(_ inputs: [StateChangeInput]) {
            var all = [GradientValue?](repeating: nil, count: variables.count)
            for (k, i) in present.enumerated() {
                switch inputs[k] {
                case .tensor(let g): all[i] = .dense(g)
                case .producerInputs(let ab): all[i] = .outer(ab[0], ab[1])
                }
            }
            optimizer.applyNow(all, variables)
        }
    }

    /// A gradient as an update receives it: a tensor, or the outer product aᵀ·b of
    /// two row vectors (1×m and 1×n for an m×n variable), not materialized.
    enum GradientValue {
        case dense(Tensor)
        case outer(Tensor, Tensor)

        var shape: TensorShape {
            switch self {
            case .dense(let g): return g.shape
            case .outer(let a, let b): return [a.count, b.count]
            }
        }
        var dtype: DType {
            switch self {
            case .dense(let g): return g.dtype
            case .outer(let a, _): return a.dtype
            }
        }
        var materialized: Tensor {
            switch self {
            case .dense(let g): return g
            case .outer(let a, let b): return matmul(a, b, transposeA: true)
            }
        }
    }

    fileprivate func applyNow(_ gradients: [GradientValue?], _ variables: [Variable]) {
        var pairs = zip(gradients, variables).compactMap { g, v in g.map { ($0, v) } }
        guard !pairs.isEmpty else { return }
        let clips = clipNorm != nil || clipValue != nil || globalClipNorm != nil
        // A scale the fused kernels apply as they read each gradient.
        var gradientScale = 1.0
        if let gradientAggregator {
            let (gradients, variables) = (pairs.map(\.0.materialized), pairs.map(\.1))
            let combined: [Tensor]
            if usesFusedKernels && !clips {
                (combined, gradientScale) = gradientAggregator.aggregateBeforeScaling(gradients, of: variables)
            } else {
                combined = gradientAggregator.aggregate(gradients, of: variables)
            }
            precondition(combined.count == pairs.count,
                         "\(type(of: gradientAggregator)).aggregate returned \(combined.count) gradients for \(pairs.count) variables")
            pairs = zip(combined, pairs).map { (.dense($0), $1.1) }
        }
        if clips {
            pairs = pairs.map { (.dense($0.0.materialized), $0.1) }
        }
        if let globalClipNorm {
            let norm = pairs.map { square($0.0.materialized.cast(to: .float64)).sum().scalar(as: Double.self) }
                .reduce(0, +).squareRoot()
            if norm > globalClipNorm { pairs = pairs.map { g, v in (.dense(g.materialized * (globalClipNorm / norm)), v) } }
        }
        let rate = currentLearningRate
        willUpdate(learningRate: rate)
        var kernels: [DType: UpdateKernel] = [:]   // one per dtype and step: bias corrections, schedules
        for (g, v) in pairs {
            precondition(g.shape == v.shape && g.dtype == v.dtype,
                         "\(type(of: self)).apply: gradient \(g.shape) \(g.dtype) does not match variable '\(v.name)' \(v.shape) \(v.dtype)")
            precondition(v.dtype.isFloatingPoint, "\(type(of: self)).apply: variable '\(v.name)' is \(v.dtype), not a float")
            var gradient = g
            if let clipNorm {
                let norm = sqrt(square(gradient.materialized.cast(to: .float64)).sum()).scalar(as: Double.self)
                if norm > clipNorm { gradient = .dense(gradient.materialized * (clipNorm / norm)) }
            }
            if let clipValue { gradient = .dense(gradient.materialized.clipped(min: -clipValue, max: clipValue)) }
            let key = ObjectIdentifier(v)
            let slot: Slot
            if let existing = slots[key] { slot = existing } else { slot = Slot(v, makeState(for: v)); slots[key] = slot }
            if usesFusedKernels,
               let kernel = kernels[v.dtype] ?? self.kernel(for: v.dtype, learningRate: rate, gradientScale: gradientScale) {
                kernels[v.dtype] = kernel
                v.updateInPlace { value in update(&value, gradient: gradient, state: &slot.state, kernel: kernel, variable: v.name) }
            } else {
                var state = slot.state
                let g = gradientScale == 1 ? gradient.materialized : gradient.materialized * gradientScale
                updateStep(gradient: g, variable: v, state: &state, learningRate: rate)
                // The layout before the step is the checked one: compare with it
                // (no new state tensors made per step).
                if let problem = Optimizer.layoutChange(from: slot.state, to: state, variable: v.name) {
                    preconditionFailure("\(type(of: self)).updateStep changed the state's layout: \(problem)")
                }
                slot.state = state
            }
        }
        iterations += 1
    }

    /// How `after` differs in layout (count, shapes, dtypes) from `before`, or nil.
    static func layoutChange(from before: [Tensor], to after: [Tensor], variable: String) -> String? {
        guard before.count == after.count else {
            return "variable '\(variable)' had \(before.count) state tensor(s), now \(after.count)"
        }
        for (i, (b, a)) in zip(before, after).enumerated() where a.shape != b.shape || a.dtype != b.dtype {
            return "state slot \(i) of variable '\(variable)' is \(a.shape) \(a.dtype), it was \(b.shape) \(b.dtype)"
        }
        return nil
    }

    /// The state tensors a new variable starts with, as Keras's `build` makes its
    /// slots (none by default). ``updateStep(gradient:variable:state:learningRate:)``
    /// receives them and may replace them with tensors of the same shapes and dtypes.
    ///
    /// ```swift
    /// final class Momentum: Optimizer {
    ///     override func makeState(for variable: Variable) -> [Tensor] {
    ///         [Tensor.zeros(variable.shape, dtype: variable.dtype)]   // a momentum
    ///     }
    /// }
    /// ```
    open func makeState(for variable: Variable) -> [Tensor] { [] }

    /// Updates `variable` from its gradient, as Keras's `update_step`: written in
    /// tensor ops, it assigns the variable (`assign`, `assignSub`) and replaces the
    /// state tensors it keeps. ``Optimizer/iterations`` is the number of steps before this one.
    ///
    /// - Parameters:
    ///   - gradient: the (clipped) gradient, of the variable's shape and dtype.
    ///   - variable: the variable to update.
    ///   - state: the variable's state, as ``makeState(for:)`` made it or the last
    ///     step left it.
    ///   - learningRate: the learning rate of this step (schedules resolved).
    open func updateStep(gradient: Tensor, variable: Variable, state: inout [Tensor], learningRate: Double) {
        preconditionFailure("\(type(of: self)) must override updateStep(gradient:variable:state:learningRate:)")
    }

    /// Called once per ``Optimizer/apply(_:to:)`` before the variables update (Nadam keeps a
    /// running product there); does nothing by default.
    open func willUpdate(learningRate: Double) {}

    /// Updates with `(gradient, variable)` pairs: `optimizer.apply(zip(grads, weights))`.
    public func apply(_ pairs: some Sequence<(Tensor?, Variable)>) {
        let list = Array(pairs)
        apply(list.map(\.0), to: list.map(\.1))
    }

    /// One fused update of `count` elements in place: the variable's memory, its
    /// gradient, and each state tensor's memory.
    typealias UpdateKernel = (_ w: UnsafeMutableRawPointer, _ g: UnsafeRawPointer,
                              _ state: [UnsafeMutableRawPointer], _ count: Int) -> Void

    /// The fused update kernel for `dtype` at this step (a built-in optimizer's
    /// formula in C, reading each gradient element times `gradientScale`), or nil
    /// to run ``updateStep(gradient:variable:state:learningRate:)``.
    func kernel(for dtype: DType, learningRate: Double, gradientScale: Double) -> UpdateKernel? { nil }

    /// Elements per tile when an outer-product gradient is computed on the fly:
    /// the tile stays in L1 between the product and the update.
    static let outerTile = 2048

    /// Variables of at least twice this many elements update on all intra-op
    /// threads. A large update is bound by one core's memory bandwidth (the
    /// hypernetwork's 827k-weight Adam pass: 1.3 ms on one core of the development
    /// VM, 0.75 ms on two), a mid-sized one by Adam's square root and division
    /// (the VAE's 50k-weight kernels); the pool's worker, awake between the
    /// kernels of a step, takes half from 16k elements on.
    static let parallelGrain = 1 << 13

    /// One fused update of `value` in place.
    func update(_ value: inout Tensor, gradient: GradientValue, state: inout [Tensor], kernel: UpdateKernel,
                variable: String) {
        let (count, size) = (value.count, value.dtype.byteSize)
        // The C kernels trust these sizes: a short state buffer would be written past.
        for (i, s) in state.enumerated() {
            precondition(s.count == count && s.dtype == value.dtype,
                         "\(type(of: self)).apply: state slot \(i) of variable '\(variable)' is \(s.shape) \(s.dtype), but the variable is \(value.shape) \(value.dtype)")
        }
        var pointers: [UnsafeMutableRawPointer] = []
        for i in state.indices { pointers.append(state[i].withUnsafeMutableData { $0 }) }
        switch gradient {
        case .dense(let g):
            value.withUnsafeMutableData { w in
                g.withUnsafeData { pg in
                    Threading.parallelFor(count, grain: Optimizer.parallelGrain) { range in
                        let offset = range.lowerBound * size
                        let shifted = offset == 0 ? pointers : pointers.map { $0 + offset }
                        kernel(w + offset, pg + offset, shifted, range.count)
                    }
                }
            }
        case .outer(let a, let b):
            // Element (r, c) of the gradient is a[r]·b[c]: computed a tile at a time
            // with the same kernel as the materialized product, so results are
            // identical; each part of a parallel update has its own tile.
            let (cols, type) = (b.count, value.dtype.kernelType)
            value.withUnsafeMutableData { w in
                a.withUnsafeData { pa in
                    b.withUnsafeData { pb in
                        Threading.parallelFor(count, grain: Optimizer.parallelGrain) { range in
                            let tile = UnsafeMutableRawPointer.allocate(byteCount: Optimizer.outerTile * size, alignment: 64)
                            defer { tile.deallocate() }
                            var shifted = pointers
                            var e = range.lowerBound
                            while e < range.upperBound {
                                let (r, c) = e.quotientAndRemainder(dividingBy: cols)
                                let n: Int
                                if c == 0, cols <= Optimizer.outerTile, range.upperBound - e >= cols {
                                    // Whole rows per tile.
                                    let rowCount = Swift.min(Optimizer.outerTile / cols, (range.upperBound - e) / cols)
                                    ck_outer(type, pa + r * size, pb, tile, rowCount, cols)
                                    n = rowCount * cols
                                } else {
                                    n = Swift.min(Optimizer.outerTile, cols - c, range.upperBound - e)
                                    ck_outer(type, pa + r * size, pb + c * size, tile, 1, n)
                                }
                                for i in pointers.indices { shifted[i] = pointers[i] + e * size }
                                kernel(w + e * size, UnsafeRawPointer(tile), shifted, n)
                                e += n
                            }
                        }
                    }
                }
            }
        }
    }

    /// The state of `variable` (for checkpoints and tests): moments, accumulators.
    public func state(of variable: Variable) -> [Tensor] { slots[ObjectIdentifier(variable)]?.state ?? [] }

    /// Replaces the state of `variable` (restoring a checkpoint). The state must
    /// have the layout this optimizer keeps: as many tensors as it makes for a new
    /// variable, each of the variable's shape and dtype (``stateProblem(_:for:name:)``
    /// says what is wrong otherwise).
    public func setState(_ state: [Tensor], of variable: Variable) {
        if let problem = stateProblem(state, for: variable) { preconditionFailure("\(type(of: self)).setState: \(problem)") }
        slots[ObjectIdentifier(variable)] = Slot(variable, state)
    }

    /// Why `state` cannot be the state of `variable` for this optimizer, or nil when
    /// it can: the number of tensors, and each one's shape and dtype, must be those
    /// of the state a new variable starts with.
    ///
    /// - Parameters:
    ///   - state: the candidate state tensors, in the optimizer's slot order.
    ///   - variable: the variable they would belong to.
    ///   - name: the variable's name in the message (its hierarchical weight name,
    ///     say); `variable.name` by default.
    public func stateProblem(_ state: [Tensor], for variable: Variable, name: String? = nil) -> String? {
        let expected = makeState(for: variable)
        let name = name ?? variable.name
        guard state.count == expected.count else {
            return "\(type(of: self)) keeps \(expected.count) state tensor(s) for variable '\(name)', got \(state.count)"
        }
        for (i, (s, e)) in zip(state, expected).enumerated() where s.shape != e.shape || s.dtype != e.dtype {
            return "state slot \(i) of variable '\(name)' is \(s.shape) \(s.dtype), the variable needs \(e.shape) \(e.dtype)"
        }
        return nil
    }
}

