import CKernels

/// A traced body planned for replay: the ops and effects that matter, in trace
/// order, with a register per value and a planned buffer per op result.
///
/// Planning, done once per trace:
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
        case node(TraceContext.Kind)
        case fused(ElementwiseChain)
    }

    /// What a step does, resolved for the replay loop.
    enum Code {
        case compute(([Tensor]) -> Tensor)
        case fused(ElementwiseChain)
        case read(() -> Tensor)
        case effect(([Tensor]) -> Void)
        case factoredEffect(OuterEffect, factored: [Bool])
        /// A slice gradient added into a running sum: in place when the plan made
        /// the result a view of the sum (its only use), else into a copy.
        case accumulate(strides: [Int], offset: Int, inPlace: Bool)

        init(_ action: Action, shape: TensorShape, dtype: DType, viewOf: Int?) {
            switch action {
            case .node(.accumulate(let strides, let offset)):
                self = .accumulate(strides: strides, offset: offset, inPlace: viewOf != nil)
            case .node(.op(let op)): self = .compute(op.executor(shape: shape, dtype: dtype))
            case .fused(let chain): self = .fused(chain)
            case .node(.read(let read)): self = .read(read)
            case .node(.effect(let body, _)): self = .effect(body)
            case .node(.factoredEffect(let body, let factored)): self = .factoredEffect(body, factored: factored)
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
    private var slots: [TensorStorage?]
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

    init(trace: TraceContext, outputs: [Tensor]) {
        let outputValues = outputs.map(trace.value(ofOutput:))
        let values = trace.values
        var nodes = trace.nodes

        var allUses = [Int](repeating: 0, count: values.count)
        for node in nodes { for v in node.inputs { allUses[v] += 1 } }
        for v in outputValues { allUses[v] += 1 }
        // A slice gradient added into a sum that nothing else uses, and that is an
        // op's own buffer, is added in place: the result becomes a view of the sum.
        var ownsBuffer = [Bool](repeating: false, count: values.count)
        for (n, node) in nodes.enumerated() {
            guard let out = node.output else { continue }
            switch node.kind {
            case .op where node.viewOf == nil:
                ownsBuffer[out] = true
            case .accumulate:
                let sum = node.inputs[0]
                if allUses[sum] == 1, ownsBuffer[sum] {
                    nodes[n] = TraceContext.Node(kind: node.kind, inputs: node.inputs, output: out, shape: node.shape,
                                                 dtype: node.dtype, viewOf: sum, isStateful: false)
                }
                ownsBuffer[out] = true
            default:
                break
            }
        }
        // An outer product of two row vectors whose only use is a state change that
        // can take factors (an optimizer update) is handed over as its factors.
        for (n, node) in nodes.enumerated() {
            guard case .effect(_, let outer?) = node.kind else { continue }
            var inputs: [Int] = [], factored: [Bool] = []
            for v in node.inputs {
                if allUses[v] == 1, case .output(let p) = values[v],
                   case .op(.differentiable(.matmul(transposeA: true, transposeB: false))) = nodes[p].kind,
                   nodes[p].inputs.allSatisfy({ trace.shapes[$0].rank == 2 && trace.shapes[$0][0] == 1 }) {
                    inputs += nodes[p].inputs
                    factored.append(true)
                } else {
                    inputs.append(v)
                    factored.append(false)
                }
            }
            guard factored.contains(true) else { continue }
            nodes[n] = TraceContext.Node(kind: .factoredEffect(outer, factored: factored), inputs: inputs, output: nil,
                                         shape: node.shape, dtype: node.dtype, viewOf: nil, isStateful: true)
        }

        // Dead-code elimination, backwards from the outputs and the stateful nodes.
        var live = [Bool](repeating: false, count: values.count)
        for v in outputValues { live[v] = true }
        var keep = [Bool](repeating: false, count: nodes.count)
        for (n, node) in nodes.enumerated().reversed() where node.isStateful || node.output.map({ live[$0] }) == true {
            keep[n] = true
            for v in node.inputs { live[v] = true }
        }
        droppedCount = keep.lazy.filter { !$0 }.count

        // Fusion: an elementwise op joins the chain of the op whose result it
        // reads when that result has no other use and the shapes agree.
        var uses = [Int](repeating: 0, count: values.count)
        for (n, node) in nodes.enumerated() where keep[n] { for v in node.inputs { uses[v] += 1 } }
        for v in outputValues { uses[v] += 1 }
        var planned: [Planned] = []
        var openChain: [Int: Int] = [:]   // value → index in `planned` of the chain ending with it
        for (n, node) in nodes.enumerated() where keep[n] {
            guard let link = Planned.link(node, shapes: trace.shapes) else {
                planned.append(Planned(node))
                continue
            }
            let out = node.output!
            if let previous = node.inputs.first(where: { openChain[$0] != nil && uses[$0] == 1 }),
               node.inputs.filter({ $0 == previous }).count == 1,
               planned[openChain[previous]!].shape == node.shape, planned[openChain[previous]!].dtype == node.dtype {
                let c = openChain.removeValue(forKey: previous)!
                planned[c].extend(with: node, previous: previous, link: link)
                openChain[out] = c
                // The chain now ends later: move it to this node's place in the order.
                let chain = planned.remove(at: c)
                planned.append(chain)
                for (v, i) in openChain where i > c { openChain[v] = i - 1 }
                openChain[out] = planned.count - 1
            } else {
                planned.append(Planned(node, chainStart: link))
                openChain[out] = planned.count - 1
            }
        }
        fusedCount = planned.reduce(0) { $0 + ($1.chainLength > 1 ? $1.chainLength : 0) }

        // The root whose memory a view shares, so a buffer outlives its views.
        var root = Array(values.indices)
        for node in planned { if let out = node.output, let source = node.viewOf { root[out] = root[source] } }

        var lastUse = [Int](repeating: -1, count: values.count)
        for (s, node) in planned.enumerated() {
            for v in node.inputs { lastUse[v] = s; lastUse[root[v]] = Swift.max(lastUse[root[v]], s) }
        }
        let isOutput = Set(outputValues)
        var pinned = [Bool](repeating: false, count: values.count)
        for v in outputValues { pinned[v] = true; pinned[root[v]] = true }

        var registers = [Tensor?](repeating: nil, count: values.count)
        var argumentRegisters: [Int?] = []
        for (v, value) in values.enumerated() {
            switch value {
            case .argument(let k):
                while argumentRegisters.count <= k { argumentRegisters.append(nil) }
                argumentRegisters[k] = v
            case .constant(let t):
                registers[v] = t
                pinned[v] = true
            case .output:
                break
            }
        }

        // Slots: a free list per (count, dtype); a result takes a slot before its
        // inputs give theirs back, so an op never writes over what it reads.
        struct Key: Hashable { let count: Int; let dtype: DType }
        var free: [Key: [Int]] = [:]
        var slotOfValue: [Int: (slot: Int, key: Key)] = [:]
        var slotCount = 0
        var steps: [Step] = []
        var flatInputs: [Int] = [], flatReleases: [Int] = []
        var inputRanges: [Range<Int>] = [], releaseRanges: [Range<Int>] = []
        var releasedAt = [[Int]](repeating: [], count: planned.count)
        for v in values.indices where lastUse[v] >= 0 && !pinned[v] && !isOutput.contains(v) {
            releasedAt[lastUse[v]].append(v)
        }
        for (s, node) in planned.enumerated() {
            var slot: Int?
            if node.allocates, let out = node.output, !pinned[out], lastUse[out] > s {
                let key = Key(count: node.shape.elementCount, dtype: node.dtype)
                if let reused = free[key]?.popLast() { slot = reused } else { slot = slotCount; slotCount += 1 }
                slotOfValue[out] = (slot!, key)
            }
            for v in releasedAt[s] where root[v] == v {
                if let (freed, key) = slotOfValue[v] { free[key, default: []].append(freed) }
            }
            steps.append(Step(code: Code(node.action, shape: node.shape, dtype: node.dtype, viewOf: node.viewOf),
                              output: node.output, slot: slot))
            inputRanges.append(flatInputs.count..<(flatInputs.count + node.inputs.count))
            flatInputs += node.inputs
            releaseRanges.append(flatReleases.count..<(flatReleases.count + releasedAt[s].count))
            flatReleases += releasedAt[s]
        }
        self.steps = steps
        self.flatInputs = flatInputs
        self.flatReleases = flatReleases
        self.inputRanges = inputRanges
        self.releaseRanges = releaseRanges
        self.argumentRegisters = argumentRegisters
        self.outputRegisters = outputValues
        self.registers = registers
        self.slots = [TensorStorage?](repeating: nil, count: slotCount)
        self.isConstant = values.map { if case .constant = $0 { return true } else { return false } }
        self.scratch = UnsafeMutableRawPointer.allocate(byteCount: 2 * ElementwiseChain.tile * 8, alignment: 64)
    }

    deinit { scratch.deallocate() }

    /// Runs the planned steps on new arguments (of the traced shapes and dtypes).
    func run(_ arguments: [Tensor]) -> [Tensor] {
        // The hot state lives in locals during a replay: a class's stored arrays
        // would cost an exclusivity check and a uniqueness check on every access.
        var registers: [Tensor?] = [], slots: [TensorStorage?] = []
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
            if isKnownUniquelyReferenced(&slots[slot]) {
                ck_set_reusable_storage(Unmanaged.passUnretained(slots[slot].unsafelyUnwrapped).toOpaque())
            }
            let out = make()
            ck_set_reusable_storage(nil)
            if slots[slot] !== out.storage {
                slots[slot] = out.storage
                allocations += 1
            }
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
            case .read(let read):
                registers[step.output] = read()
            case .effect(let body):
                body(inputs)
            case .factoredEffect(let body, let factored):
                var tensors: [Tensor?] = [], factors: [(Tensor, Tensor)?] = []
                var k = 0
                for isFactored in factored {
                    if isFactored {
                        tensors.append(nil)
                        factors.append((inputs[k], inputs[k + 1]))
                        k += 2
                    } else {
                        tensors.append(inputs[k])
                        factors.append(nil)
                        k += 1
                    }
                }
                body(tensors, factors)
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

/// A node of the plan: a traced node as it is, or a fused elementwise chain.
struct Planned {
    var action: CompiledGraph.Action
    var inputs: [Int]
    var output: Int?
    let shape: TensorShape
    let dtype: DType
    let viewOf: Int?
    var chainLength: Int

    /// Whether the step writes a new result (which gets a planned buffer).
    var allocates: Bool {
        switch action {
        case .fused: return true
        case .node(.op), .node(.accumulate): return viewOf == nil
        case .node: return false
        }
    }

    init(_ node: TraceContext.Node) {
        action = .node(node.kind)
        inputs = node.inputs
        output = node.output
        shape = node.shape
        dtype = node.dtype
        viewOf = node.viewOf
        chainLength = 1
    }

    /// A node that starts a chain (it runs as a one-op chain until another joins).
    init(_ node: TraceContext.Node, chainStart link: ElementwiseChain.Kernel) {
        self.init(node)
        let first = ElementwiseChain.Link(kernel: link, operand: node.inputs.count > 1 ? 1 : nil)
        chain = ElementwiseChain(firstInput: 0, links: [first], shape: node.shape, dtype: node.dtype)
    }

    /// The chain this node carries while it can still grow (nil for other nodes).
    private var chain: ElementwiseChain? {
        didSet { if let chain, chainLength > 1 { action = .fused(chain) } }
    }

    /// Appends `node`, which reads this chain's result `previous`.
    mutating func extend(with node: TraceContext.Node, previous: Int, link: ElementwiseChain.Kernel) {
        var kernel = link
        var operand: Int?
        if case .binary(let op, _) = link {
            let other = node.inputs[0] == previous ? node.inputs[1] : node.inputs[0]
            kernel = .binary(op, previousOnLeft: node.inputs[0] == previous)
            if let k = inputs.firstIndex(of: other) { operand = k } else { inputs.append(other); operand = inputs.count - 1 }
        }
        chainLength += 1
        output = node.output
        chain = ElementwiseChain(firstInput: chain!.firstInput, links: chain!.links + [.init(kernel: kernel, operand: operand)],
                                 shape: shape, dtype: dtype)
    }

    /// The chain kernel of `node` when it can be fused: a float elementwise op
    /// whose inputs have its number of elements or a single element.
    static func link(_ node: TraceContext.Node, shapes: [TensorShape]) -> ElementwiseChain.Kernel? {
        guard case .op(.differentiable(let op)) = node.kind, node.viewOf == nil,
              node.dtype == .float32 || node.dtype == .float64,
              let kernel = ElementwiseChain.kernel(of: op),
              // An input with as many elements as the result is laid out as the result
              // (broadcasting only inserts axes of size 1 then): a bias row of a batch of one.
              node.inputs.allSatisfy({ shapes[$0].elementCount == node.shape.elementCount || shapes[$0].elementCount == 1 })
        else { return nil }
        if let unary = kernel.unary { return .unary(unary) }
        // A binary op's left operand must have the full shape unless the chain runs through it.
        return .binary(kernel.binary!, previousOnLeft: true)
    }
}
