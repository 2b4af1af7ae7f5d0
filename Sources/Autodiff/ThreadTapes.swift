@_spi(Autodiff) import TensorCore

/// The gradient tapes open on one thread, innermost last: one ``Recorder`` that is
/// installed on the thread exactly while the stack is not empty, so ops on a
/// thread without tapes never reach it.
final class ThreadTapes: Recorder {
    private(set) var stack: [GradientTape] = []

    /// The calling thread's tapes, installing an empty stack if there is none.
    static func forCurrentThread() -> ThreadTapes {
        if let existing = RecorderSet.first(ThreadTapes.self) { return existing }
        let tapes = RecorderSet.takeParked(ThreadTapes.self) ?? ThreadTapes()
        RecorderSet.install(tapes)
        return tapes
    }

    func push(_ tape: GradientTape) { stack.append(tape) }

    func pop(_ tape: GradientTape) {
        if let i = stack.lastIndex(where: { $0 === tape }) { stack.remove(at: i) }
        if stack.isEmpty { RecorderSet.uninstall(self, parking: true) }
    }

    override func opRan(_ op: DifferentiableOp, inputs: OpInputs, output: Tensor) {
        for tape in stack where tape.isRecording {
            tape.consider(op, inputs: inputs, output: output)
        }
    }

    /// Whether a tape other than `tape` records on this thread.
    func othersRecord(besides tape: GradientTape) -> Bool {
        stack.contains { $0 !== tape && $0.isRecording }
    }

    override func stateRead(_ value: Tensor, from source: any ReadableState) {
        guard let variable = source as? Variable, variable.trainable else { return }
        for tape in stack where tape.isRecording && tape.watchAccessedVariables {
            tape.watch(variable, value: value)
        }
    }
}
