import CKernels

/// Per-thread state of nested layer calls, as Keras's call context: the `training`
/// value in force and how deep the calls are (the outermost call clears `addLoss`
/// losses). One object per thread, kept in a thread-local slot. The names that
/// tensor-math errors cite are TensorCore's name scopes.
final class CallContext {
    /// The `training` value of each enclosing layer call, innermost last.
    var training: [Bool] = []
    /// How many layer calls are running.
    var depth = 0

    private init() {}

    /// The calling thread's context, created on first use.
    static var current: CallContext {
        if let raw = ck_layer_call_context() { return Unmanaged<CallContext>.fromOpaque(raw).takeUnretainedValue() }
        // Retained for the thread's lifetime: a few words per thread.
        let context = CallContext()
        ck_set_layer_call_context(Unmanaged.passRetained(context).toOpaque())
        return context
    }
}
