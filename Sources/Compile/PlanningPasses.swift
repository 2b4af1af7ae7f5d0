@_spi(Autodiff) import TensorCore

/// The passes that turn a trace into a replay plan, run in this order by
/// ``CompiledGraph``:
/// 1. ``accumulateInPlace()``: a slice gradient added into a sum nothing else uses
///    is added in place.
/// 2. ``fuseStateChangeInputs()``: a state change that takes an input as its
///    producer's inputs (``ProducerFusingStateChange``) gets them.
/// 3. ``dropDeadNodes()``: only nodes leading to an output or a state change stay.
/// 4. ``fuseElementwiseChains()``: runs of elementwise ops become one pass.
/// 5. ``schedule(_:)``: registers released after their last use, and a planned
///    buffer slot per result, shared by results whose lifetimes do not overlap.
struct PlanningPasses {
    let values: [Tracer.Value]
    let shapes: [TensorShape]
    let outputs: [Int]
    private(set) var nodes: [Tracer.Node]
    /// Which nodes survive dead-code elimination (all until ``dropDeadNodes()``).
    private(set) var keep: [Bool]
    private(set) var droppedCount = 0

    init(trace: Tracer, outputs: [Int]) {
        values = trace.values
        shapes = trace.shapes
        nodes = trace.nodes
        keep = [Bool](repeating: true, count: trace.nodes.count)
        self.outputs = outputs
    }

    /// How many times each value is read by the kept nodes and the outputs.
    private func useCounts() -> [Int] {
        var uses = [Int](repeating: 0, count: values.count)
        for (n, node) in nodes.enumerated() where keep[n] { for v in node.inputs { uses[v] += 1 } }
        for v in outputs { uses[v] += 1 }
        return uses
    }

    /// A slice gradient added into a sum that nothing else uses, and that is an op's
    /// own buffer, is added in place: the result becomes a view of the sum.
    mutating func accumulateInPlace() {
        let uses = useCounts()
        var ownsBuffer = [Bool](repeating: false, count: values.count)
        for (n, node) in nodes.enumerated() {
            guard let out = node.output else { continue }
            switch node.kind {
            case .op where node.viewOf == nil:
                ownsBuffer[out] = true
            case .accumulate:
                let sum = node.inputs[0]
                if uses[sum] == 1, ownsBuffer[sum] {
                    nodes[n] = Tracer.Node(kind: node.kind, inputs: node.inputs, output: out, shape: node.shape,
                                           dtype: node.dtype, viewOf: sum, isStateful: false)
                }
                ownsBuffer[out] = true
            default:
                break
            }
        }
    }

    /// A state change that can take an input as the inputs of the op that produced
    /// it gets those instead, when nothing else uses the input; the producer then
    /// has no use left and the next pass drops it.
    mutating func fuseStateChangeInputs() {
        let uses = useCounts()
        for (n, node) in nodes.enumerated() {
            guard case .effect(let any) = node.kind, let change = any as? any ProducerFusingStateChange else { continue }
            var inputs: [Int] = [], fused: [Int?] = []
            for (k, v) in node.inputs.enumerated() {
                if uses[v] == 1, case .output(let p) = values[v], case .op(.differentiable(let op)) = nodes[p].kind,
                   change.takes(inputAt: k, producedBy: op, inputShapes: nodes[p].inputs.map { shapes[$0] }) {
                    inputs += nodes[p].inputs
                    fused.append(nodes[p].inputs.count)
                } else {
                    inputs.append(v)
                    fused.append(nil)
                }
            }
            guard fused.contains(where: { $0 != nil }) else { continue }
            nodes[n] = Tracer.Node(kind: .fusedEffect(change, fused: fused), inputs: inputs, output: nil,
                                   shape: node.shape, dtype: node.dtype, viewOf: nil, isStateful: true)
        }
    }

    /// Dead-code elimination, backwards from the outputs and the stateful nodes.
    mutating func dropDeadNodes() {
        var live = [Bool](repeating: false, count: values.count)
        for v in outputs { live[v] = true }
        keep = [Bool](repeating: false, count: nodes.count)
        for (n, node) in nodes.enumerated().reversed() where node.isStateful || node.output.map({ live[$0] }) == true {
            keep[n] = true
            for v in node.inputs { live[v] = true }
        }
        droppedCount = keep.lazy.filter { !$0 }.count
    }

    /// Fusion: an elementwise op joins the chain of the op whose result it reads
    /// when that result has no other use and the shapes agree.
    func fuseElementwiseChains() -> [Planned] {
        let uses = useCounts()
        var planned: [Planned] = []
        var openChain: [Int: Int] = [:]   // value → index in `planned` of the chain ending with it
        for (n, node) in nodes.enumerated() where keep[n] {
            guard let link = Planned.link(node, shapes: shapes) else {
                planned.append(Planned(node))
                continue
            }
            let out = node.output!
            if let previous = node.inputs.first(where: { openChain[$0] != nil && uses[$0] == 1 }),
               node.inputs.filter({ $0 == previous }).count == 1,
               planned[openChain[previous]!].shape == node.shape, planned[openChain[previous]!].dtype == node.dtype {
                let c = openChain.removeValue(forKey: previous)!
                planned[c].extend(with: node, previous: previous, link: link)
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
        return planned
    }

    /// The replay's steps, with their input and released registers end to end.
    struct Schedule {
        var steps: [CompiledGraph.Step] = []
        var flatInputs: [Int] = [], flatReleases: [Int] = []
        var inputRanges: [Range<Int>] = [], releaseRanges: [Range<Int>] = []
        var argumentRegisters: [Int?] = []
        var registers: [Tensor?] = []
        var slotCount = 0
    }

    /// Registers and buffer slots. Each register is released right after its last
    /// use (so a variable's value is no longer shared when the optimizer updates it
    /// in place); a buffer outlives the views of it. Slots come from a free list per
    /// (count, dtype), and a result takes its slot before its inputs give theirs
    /// back, so an op never writes over what it reads.
    func schedule(_ planned: [Planned]) -> Schedule {
        // The root whose memory a view shares.
        var root = Array(values.indices)
        for node in planned { if let out = node.output, let source = node.viewOf { root[out] = root[source] } }

        var lastUse = [Int](repeating: -1, count: values.count)
        for (s, node) in planned.enumerated() {
            for v in node.inputs { lastUse[v] = s; lastUse[root[v]] = Swift.max(lastUse[root[v]], s) }
        }
        let isOutput = Set(outputs)
        var pinned = [Bool](repeating: false, count: values.count)
        for v in outputs { pinned[v] = true; pinned[root[v]] = true }

        var schedule = Schedule()
        schedule.registers = [Tensor?](repeating: nil, count: values.count)
        for (v, value) in values.enumerated() {
            switch value {
            case .argument(let k):
                while schedule.argumentRegisters.count <= k { schedule.argumentRegisters.append(nil) }
                schedule.argumentRegisters[k] = v
            case .constant(let t):
                schedule.registers[v] = t
                pinned[v] = true
            case .output:
                break
            }
        }

        struct Key: Hashable { let count: Int; let dtype: DType }
        var free: [Key: [Int]] = [:]
        var slotOfValue: [Int: (slot: Int, key: Key)] = [:]
        var releasedAt = [[Int]](repeating: [], count: planned.count)
        for v in values.indices where lastUse[v] >= 0 && !pinned[v] && !isOutput.contains(v) {
            releasedAt[lastUse[v]].append(v)
        }
        for (s, node) in planned.enumerated() {
            var slot: Int?
            if node.allocates, let out = node.output, !pinned[out], lastUse[out] > s {
                let key = Key(count: node.shape.elementCount, dtype: node.dtype)
                if let reused = free[key]?.popLast() {
                    slot = reused
                } else {
                    slot = schedule.slotCount
                    schedule.slotCount += 1
                }
                slotOfValue[out] = (slot!, key)
            }
            for v in releasedAt[s] where root[v] == v {
                if let (freed, key) = slotOfValue[v] { free[key, default: []].append(freed) }
            }
            schedule.steps.append(CompiledGraph.Step(
                code: CompiledGraph.Code(node.action, shape: node.shape, dtype: node.dtype, viewOf: node.viewOf),
                output: node.output, slot: slot))
            schedule.inputRanges.append(schedule.flatInputs.count..<(schedule.flatInputs.count + node.inputs.count))
            schedule.flatInputs += node.inputs
            schedule.releaseRanges.append(
                schedule.flatReleases.count..<(schedule.flatReleases.count + releasedAt[s].count))
            schedule.flatReleases += releasedAt[s]
        }
        return schedule
    }
}
