import XCTest
@_spi(Autodiff) import TensorCore
@_spi(Autodiff) import Compile
@_spi(Autodiff) import Autodiff

/// TensorCore's one recorder hook, as the tape and the tracer use it, and the
/// planner's extension point for state changes.
final class RecorderTests: XCTestCase {
    /// A recorder that writes down what it sees.
    final class Log: Recorder {
        var events: [String] = []
        override func opRan(_ op: DifferentiableOp, inputs: OpInputs, output: Tensor) {
            events.append("op \(op.name) \(inputs.map(\.shape)) -> \(output.shape)")
        }
        override func opRan(named name: String, inputs: [Tensor], output: Tensor, stateful: Bool,
                            replay: () -> ([Tensor]) -> Tensor) {
            events.append("custom \(name) stateful=\(stateful)")
        }
        override func stateRead(_ value: Tensor, from source: any ReadableState) {
            events.append("read \((source as? Variable)?.name ?? "?")")
        }
        override func stateChanging(_ change: any StateChange, inputs: [Tensor]) {
            events.append("change \(inputs.map(\.shape))")
        }
    }

    func testOpsReadsAndChangesReachAnInstalledRecorder() {
        let v = Variable(Tensor([1, 2] as [Float]), name: "v")
        let log = Log()
        RecorderSet.install(log)
        let y = exp(v.value) * 2
        v.assign(y)
        _ = Random.uniform([3])
        RecorderSet.uninstall(log)
        _ = exp(y)   // not seen: uninstalled
        XCTAssertNil(RecorderSet.current, "the slot is empty once the last recorder leaves")
        XCTAssertEqual(log.events, [
            "read v", "op exp [(2,)] -> (2,)", "op multiply [(2,), ()] -> (2,)", "change [(2,)]",
            "op cast [(3,)] -> (3,)", "custom randomUniform stateful=true",
        ])
    }

    func testAStateChangeHidesItsOpsOnlyFromRecordersThatReplayIt() {
        // A tape stack (ThreadTapes) and a tracer are installed together inside a
        // compiled step with a tape; a plain recorder sees the change's own ops.
        let log = Log()
        RecorderSet.install(log)
        defer { RecorderSet.uninstall(log) }
        changeState(inputs: [Tensor([1] as [Float])]) { inputs in _ = inputs[0] + 1 }
        XCTAssertEqual(log.events, ["change [(1,)]", "op add [(1,), ()] -> (1,)"])

        let f = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            changeState(inputs: [args[0]]) { inputs in _ = exp(inputs[0]) }
            return [args[0] * 3]
        }
        XCTAssertEqual(f([Tensor([2] as [Float])])[0].scalars(as: Float.self), [6])
        XCTAssertEqual(f.graphSummary(for: [Tensor([2] as [Float])])?.steps, 2, "the change and the multiply; not exp")
    }

    func testTracerSuspendedRunsUntraced() {
        let f = compiled { (x: Tensor) -> Tensor in
            _ = Tracer.suspended { exp(x) }   // not a node
            return x + 1
        }
        let x = Tensor([0] as [Float])
        XCTAssertEqual(f(x).scalars(as: Float.self), [1])
        XCTAssertEqual(f.graphSummary(for: [x])?.dropped, 0)
        XCTAssertEqual(f.graphSummary(for: [x])?.steps, 1)
    }

    func testVariableReadsAndAssignmentsReplay() {
        let counter = Variable(Tensor.zeros([2]))
        let f = compiled { (x: Tensor) -> Tensor in
            counter.assignAdd(x)
            return counter.value * 1
        }
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [1, 2])
        XCTAssertEqual(f(Tensor([1, 2] as [Float])).scalars(as: Float.self), [2, 4])
        counter.assign(Tensor([10, 10] as [Float]))   // eager change between replays is read back
        XCTAssertEqual(f(Tensor([3, 3] as [Float])).scalars(as: Float.self), [13, 13])
        XCTAssertEqual(counter.value.scalars(as: Float.self), [13, 13])
    }

    /// A state change that takes its input `aᵀ·b` as the factors, through the
    /// planner's extension point, with no optimizer involved.
    struct OuterSum: ProducerFusingStateChange {
        let target: Variable
        let log: Box

        final class Box { var forms: [String] = [] }

        func takes(inputAt index: Int, producedBy op: DifferentiableOp, inputShapes: [TensorShape]) -> Bool {
            guard case .matmul(transposeA: true, transposeB: false) = op else { return false }
            return inputShapes.allSatisfy { $0.rank == 2 && $0[0] == 1 }
        }

        func apply(_ inputs: [StateChangeInput]) {
            switch inputs[0] {
            case .tensor(let g):
                log.forms.append("tensor")
                target.updateInPlace { $0 = $0 + g }
            case .producerInputs(let ab):
                log.forms.append("factors")
                target.updateInPlace { $0 = $0 + matmul(ab[0], ab[1], transposeA: true) }
            }
        }
    }

    func testAStateChangeMayTakeAnInputAsItsProducersInputs() {
        let target = Variable(Tensor.zeros([2, 3]))
        let box = OuterSum.Box()
        let f = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let outer = matmul(args[0], args[1], transposeA: true)
            changeState(OuterSum(target: target, log: box), inputs: [outer])
            return [args[0] * 1]
        }
        let a = Tensor([[1, 2]] as [[Float]]), b = Tensor([[1, 0, -1]] as [[Float]])
        _ = f([a, b])     // traces: eager, as a tensor
        _ = f([a, b])     // replays: as factors; the matmul never runs
        XCTAssertEqual(box.forms, ["tensor", "factors"])
        XCTAssertEqual(target.value.scalars(as: Float.self), [2, 0, -2, 4, 0, -4])
        XCTAssertEqual(f.graphSummary(for: [a, b])?.dropped, 1, "the outer product is dropped")

        // Used elsewhere too, the product is materialized and passed as a tensor.
        let g = CompiledFunction { (args: [Tensor]) -> [Tensor] in
            let outer = matmul(args[0], args[1], transposeA: true)
            changeState(OuterSum(target: target, log: box), inputs: [outer])
            return [outer]
        }
        _ = g([a, b])
        _ = g([a, b])
        XCTAssertEqual(box.forms, ["tensor", "factors", "tensor", "tensor"])
    }
}
