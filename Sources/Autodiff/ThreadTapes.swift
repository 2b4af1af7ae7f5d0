@_spi(Autodiff) import TensorCore

/// The gradient tapes open on one thread, innermost last. It is installed as the
/// thread's ``TapeContext`` exactly while the stack is not empty, so ops on a
/// thread without tapes never reach it.
final class ThreadTapes: TapeContext {
    private(set) var stack: [GradientTape] = []

    /// The calling thread's tapes, installing an empty stack if there is none.
    static func forCurrentThread() -> ThreadTapes {
        if let existing = TapeContext.current as? ThreadTapes { return existing }
        let tapes = ThreadTapes()
        // The thread-local slot holds an unretained pointer; this retain keeps the
        // stack alive until `pop` uninstalls it.
        _ = Unmanaged.passRetained(tapes)
        TapeContext.install(tapes)
        return tapes
    }

    func push(_ tape: GradientTape) { stack.append(tape) }

    func pop(_ tape: GradientTape) {
        if let i = stack.lastIndex(where: { $0 === tape }) { stack.remove(at: i) }
        if stack.isEmpty {
            TapeContext.install(nil)
            Unmanaged.passUnretained(self).release()
        }
    }

    override func record(_ op: DifferentiableOp, inputs: [Tensor], output: Tensor) {
        for tape in stack where tape.isRecording {
            tape.consider(op, inputs: inputs, output: output)
        }
    }

    func variableRead(_ variable: Variable, _ value: Tensor) {
        guard variable.trainable else { return }
        for tape in stack where tape.isRecording && tape.watchAccessedVariables {
            tape.watch(variable, value: value)
        }
    }
}
