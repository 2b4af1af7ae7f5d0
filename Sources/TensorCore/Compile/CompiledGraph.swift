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
    struct Step {
        let kind: TraceContext.Kind
        let inputs: [Int]
        let output: Int?
        let shape: TensorShape
        let dtype: DType
        let slot: Int?
        /// Registers whose last use is this step.
        let releases: [Int]
    }

    let steps: [Step]
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

    init(trace: TraceContext, outputs: [Tensor]) {
        let outputValues = outputs.map(trace.value(ofOutput:))
        let values = trace.values
        let nodes = trace.nodes

        // Dead-code elimination, backwards from the outputs and the stateful nodes.
        var live = [Bool](repeating: false, count: values.count)
        for v in outputValues { live[v] = true }
        var keep = [Bool](repeating: false, count: nodes.count)
        for (n, node) in nodes.enumerated().reversed() where node.isStateful || node.output.map({ live[$0] }) == true {
            keep[n] = true
            for v in node.inputs { live[v] = true }
        }
        droppedCount = keep.lazy.filter { !$0 }.count

        // The root whose memory a view shares, so a buffer outlives its views.
        var root = Array(values.indices)
        for node in nodes { if let out = node.output, let source = node.viewOf { root[out] = root[source] } }

        var lastUse = [Int](repeating: -1, count: values.count)
        let kept = nodes.indices.filter { keep[$0] }
        for (s, n) in kept.enumerated() {
            for v in nodes[n].inputs { lastUse[v] = s; lastUse[root[v]] = Swift.max(lastUse[root[v]], s) }
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
        var slotOfValue: [Int: Int] = [:]
        var slotCount = 0
        var steps: [Step] = []
        var releasedAt = [[Int]](repeating: [], count: kept.count)
        for v in values.indices where lastUse[v] >= 0 && !pinned[v] && !isOutput.contains(v) {
            releasedAt[lastUse[v]].append(v)
        }
        for (s, n) in kept.enumerated() {
            let node = nodes[n]
            var slot: Int?
            if case .op = node.kind, node.viewOf == nil, let out = node.output, !pinned[out], lastUse[out] > s {
                let key = Key(count: node.shape.elementCount, dtype: node.dtype)
                if let reused = free[key]?.popLast() { slot = reused } else { slot = slotCount; slotCount += 1 }
                slotOfValue[out] = slot
            }
            for v in releasedAt[s] where root[v] == v {
                if let freed = slotOfValue[v], case .output(let producer) = values[v] {
                    let p = nodes[producer]
                    free[Key(count: p.shape.elementCount, dtype: p.dtype), default: []].append(freed)
                }
            }
            steps.append(Step(kind: node.kind, inputs: node.inputs, output: node.output, shape: node.shape,
                              dtype: node.dtype, slot: slot, releases: releasedAt[s]))
        }
        self.steps = steps
        self.argumentRegisters = argumentRegisters
        self.outputRegisters = outputValues
        self.registers = registers
        self.slots = [TensorStorage?](repeating: nil, count: slotCount)
        self.isConstant = values.map { if case .constant = $0 { return true } else { return false } }
    }

    /// Runs the planned steps on new arguments (of the traced shapes and dtypes).
    func run(_ arguments: [Tensor]) -> [Tensor] {
        allocations = 0
        for (k, r) in argumentRegisters.enumerated() { if let r { registers[r] = arguments[k] } }
        var inputs: [Tensor] = []
        for step in steps {
            for v in step.inputs { inputs.append(registers[v]!) }
            switch step.kind {
            case .op(let op):
                if let slot = step.slot {
                    if isKnownUniquelyReferenced(&slots[slot]) {
                        ck_set_reusable_storage(Unmanaged.passUnretained(slots[slot]!).toOpaque())
                    }
                    let out = op.execute(inputs, shape: step.shape, dtype: step.dtype)
                    ck_set_reusable_storage(nil)
                    if slots[slot] !== out.storage {
                        slots[slot] = out.storage
                        allocations += 1
                    }
                    registers[step.output!] = out
                } else {
                    registers[step.output!] = op.execute(inputs, shape: step.shape, dtype: step.dtype)
                }
            case .read(let read):
                registers[step.output!] = read()
            case .effect(let body):
                body(inputs)
            }
            // Nothing may keep a value alive past its last use (an optimizer
            // updates a variable in place only when its memory is not shared).
            inputs.removeAll(keepingCapacity: true)
            for v in step.releases { registers[v] = nil }
        }
        let results = outputRegisters.map { registers[$0]! }
        for v in outputRegisters where !isConstant[v] { registers[v] = nil }
        for r in argumentRegisters { if let r { registers[r] = nil } }
        return results
    }
}
