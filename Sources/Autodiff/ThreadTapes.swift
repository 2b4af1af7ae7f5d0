@_spi(Autodiff) import TensorCore
import CKernels

/// The gradient tapes open on one thread, innermost last: one ``Recorder`` that is
/// installed on the thread exactly while the stack is not empty, so ops on a
/// thread without tapes never reach it.
final class ThreadTapes: Recorder {
    @exclusivity(unchecked) private(set) var stack: [GradientTape] = []

    /// Whether the stack is installed as one of the thread's recorders.
    @exclusivity(unchecked) private var installed = false

    /// The calling thread's tapes (one object per thread, kept for its lifetime in
    /// a thread-local slot, so opening a tape allocates nothing after the first).
    static var current: ThreadTapes {
        if let raw = ck_tape_stack() { return Unmanaged<ThreadTapes>.fromOpaque(raw).takeUnretainedValue() }
        let tapes = ThreadTapes()
        ck_set_tape_stack(Unmanaged.passRetained(tapes).toOpaque())
        return tapes
    }

    /// The calling thread's tapes, if some tape records there.
    static var active: ThreadTapes? {
        guard let raw = ck_tape_stack() else { return nil }
        let tapes = Unmanaged<ThreadTapes>.fromOpaque(raw).takeUnretainedValue()
        return tapes.installed ? tapes : nil
    }

    func push(_ tape: GradientTape) {
        stack.append(tape)
        if !installed {
            installed = true
            RecorderSet.install(self)
        }
    }

    func pop(_ tape: GradientTape) {
        if let i = stack.lastIndex(where: { $0 === tape }) { stack.remove(at: i) }
        if stack.isEmpty && installed {
            installed = false
            RecorderSet.uninstall(self)
        }
    }

    override func opRan(_ op: DifferentiableOp, inputs: OpInputs, output: Tensor) {
        for i in 0..<stack.count {
            let tape = stack[i]
            if tape.isRecording { tape.consider(op, inputs: inputs, output: output) }
        }
    }

    /// Runs `body` with the stack removed from the thread's recorders (a backward
    /// pass that no other tape records), then puts it back where it was unless a
    /// tape opened meanwhile has installed it again.
    func steppingAside<R>(_ body: () throws -> R) rethrows -> R {
        guard installed, let index = RecorderSet.uninstall(self) else { return try body() }
        installed = false
        defer {
            if !installed {
                installed = true
                RecorderSet.install(self, at: index)
            }
        }
        return try body()
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
