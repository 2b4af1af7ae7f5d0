@_spi(Autodiff) import TensorCore

/// A traced body planned for replay: the ops and effects that matter, in trace
/// order, with a register per value and a planned buffer per op result.
///
/// Planning, done once per trace, runs the passes of ``PlanningPasses`` in order:
/// - Dead ops are dropped: only ops that lead to an output or to a change of
///   state (an effect, a random source) stay.
/// - Each register is released right after its last use, so a buffer is free
///   again as soon as nothing needs it — and a variable's value is no longer shared
///   when the optimizer updates it in place.
/// - Each op result gets a buffer slot, shared by results of the same size and
///   dtype whose lifetimes do not overlap. A replay offers the op its slot's
///   buffer (through a thread-local the allocator checks), so a replayed step
///   allocates nothing for intermediates. A slot still referenced from outside
///   (a result the caller kept) is simply not offered, so planning can only
///   cost speed, never correctness.
final class CompiledGraph {
    enum Action {
        case node(Tracer.Kind)
        case fused(ElementwiseChain)
    }

    /// What a step does, resolved for the replay loop.
    enum Code {
        case compute(([Tensor]) -> Tensor)
        case fused(ElementwiseChain)
        case read(any ReadableState)
        case effect(any StateChange)
        case fusedEffect(any ProducerFusingStateChange, fused: [Int?])
        /// A slice gradient added into a running sum: in place when the plan made
        /// the result a view of the sum (its only use), else into a copy.
        case accumulate(strides: [Int], offset: Int, inPlace: Bool)

        init(_ action: Action, shape: TensorShape, dtype: DType, viewOf: Int?) {
            switch action {
            case .node(.accumulate(let strides, let offset)):
                self = .accumulate(strides: strides, offset: offset, inPlace: viewOf != nil)
            case .node(.op(let op)): self = .compute(op.executor(shape: shape, dtype: dtype))
            case .fused(let chain): self = .fused(chain)
            case .node(.read(let source)): self = .read(source)
            case .node(.effect(let change)): self = .effect(change)
            case .node(.fusedEffect(let change, let fused)): self = .fusedEffect(change, fused: fused)
            }
        }
    }

    /// A class, so that the replay loop reads its fields in place instead of
    /// copying (and retaining) each one per step. Its input and released registers
    /// live in the graph's flat arrays.
    final class Step {
        let code: Code
        /// The register written, or -1.
        let output: Int
        /// The planned buffer's slot, or -1.
        let slot: Int

        init(code: Code, output: Int?, slot: Int?) {
            self.code = code
            self.output = output ?? -1
            self.slot = slot ?? -1
        }
    }

    let steps: [Step]
    /// Every step's input registers, then every step's released registers (those
    /// whose last use it is), end to end, with each step's range.
    private let flatInputs: [Int]
    private let flatReleases: [Int]
    private let inputRanges: [Range<Int>]
    private let releaseRanges: [Range<Int>]
    private let argumentRegisters: [Int?]
    private let outputRegisters: [Int]
    private var registers: [Tensor?]
    private var slots: [PlannedBuffer]
    private let isConstant: [Bool]
    /// How many planned intermediate results of the last replay did not land in
    /// their planned buffer (0 once the buffers exist and nobody else holds them).
    private(set) var allocations = 0
    /// How many traced nodes were dropped as unused.
    let droppedCount: Int
    /// How many ops run inside fused elementwise chains.
    let fusedCount: Int
    /// Two tiles for the fused chains' intermediate results.
    private let scratch: UnsafeMutableRawPointer

    init(trace: Tracer, outputs: [Tensor]) {
        let outputValues = outputs.map(trace.value(of:))
        var passes = PlanningPasses(trace: trace, outputs: outputValues)
        passes.accumulateInPlace()
        passes.fuseStateChangeInputs()
        passes.dropDeadNodes()
        let planned = passes.fuseElementwiseChains()
        let schedule = passes.schedule(planned)
        droppedCount = passes.droppedCount
        fusedCount = planned.reduce(0) { $0 + ($1.chainLength > 1 ? $1.chainLength : 0) }
        steps = schedule.steps
        flatInputs = schedule.flatInputs
        flatReleases = schedule.flatReleases
        inputRanges = schedule.inputRanges
        releaseRanges = schedule.releaseRanges
        argumentRegisters = schedule.argumentRegisters
        outputRegisters = outputValues
        registers = schedule.registers
        slots = [PlannedBuffer](repeating: PlannedBuffer(), count: schedule.slotCount)
        isConstant = trace.values.map { if case .constant = $0 { return true } else { return false } }
        scratch = UnsafeMutableRawPointer.allocate(byteCount: 2 * ElementwiseChain.tile * 8, alignment: 64)
    }

    deinit { scratch.deallocate() }

    /// Runs the planned steps on new arguments (of the traced shapes and dtypes).
    func run(_ arguments: [Tensor]) -> [Tensor] {
        // The hot state lives in locals during a replay: a class's stored arrays
        // would cost an exclusivity check and a uniqueness check on every access.
        var registers: [Tensor?] = [], slots: [PlannedBuffer] = []
        swap(&registers, &self.registers)
        swap(&slots, &self.slots)
        defer {
            swap(&registers, &self.registers)
            swap(&slots, &self.slots)
        }
        var allocations = 0
        // Runs an op, offering it its planned buffer when nothing outside holds that.
        func produce(_ slot: Int, _ make: () -> Tensor) -> Tensor {
            guard slot >= 0 else { return make() }
            let (out, allocated) = slots[slot].produce(make)
            if allocated { allocations += 1 }
            return out
        }
        for (k, r) in argumentRegisters.enumerated() { if let r { registers[r] = arguments[k] } }
        var inputs: [Tensor] = []
        inputs.reserveCapacity(8)
        let flatInputs = self.flatInputs, flatReleases = self.flatReleases
        let inputRanges = self.inputRanges, releaseRanges = self.releaseRanges
        for i in steps.indices {
            unowned(unsafe) let step = steps[i]
            for j in inputRanges[i] { inputs.append(registers[flatInputs[j]].unsafelyUnwrapped) }
            switch step.code {
            case .compute(let compute):
                registers[step.output] = produce(step.slot) { compute(inputs) }
            case .fused(let chain):
                registers[step.output] = produce(step.slot) { chain.run(inputs, scratch: scratch) }
            case .accumulate(let strides, let offset, let inPlace):
                if inPlace {
                    let sum = inputs[0]
                    sum.addInPlaceForReplay(inputs[1], atStrides: strides, offset: offset)
                    registers[step.output] = sum
                } else {
                    registers[step.output] = produce(step.slot) {
                        inputs[0].accumulatedCopy(inputs[1], atStrides: strides, offset: offset)
                    }
                }
            case .read(let source):
                registers[step.output] = source.valueForReplay()
            case .effect(let change):
                change.apply(inputs)
            case .fusedEffect(let change, let fused):
                var given: [StateChangeInput] = []
                var k = 0
                for arity in fused {
                    if let arity {
                        given.append(.producerInputs(Array(inputs[k..<(k + arity)])))
                        k += arity
                    } else {
                        given.append(.tensor(inputs[k]))
                        k += 1
                    }
                }
                change.apply(given)
            }
            // Nothing may keep a value alive past its last use (an optimizer
            // updates a variable in place only when its memory is not shared).
            inputs.removeAll(keepingCapacity: true)
            for j in releaseRanges[i] { registers[flatReleases[j]] = nil }
        }
        self.allocations = allocations
        let results = outputRegisters.map { registers[$0]! }
        for v in outputRegisters where !isConstant[v] { registers[v] = nil }
        for r in argumentRegisters { if let r { registers[r] = nil } }
        return results
    }
}

