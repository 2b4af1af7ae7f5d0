import CKernels

/// Per-thread state of nested layer calls: the names that error messages cite,
/// and what the layers above need to know (the `training` flag in force, how deep
/// the calls are). One object per thread, kept in a thread-local slot.
public final class CallContext {
    /// Names of the scopes being run, outermost first.
    public var names: [String] = []
    /// The `training` value of the innermost enclosing layer call that set one.
    public var training: [Bool] = []
    /// How many layer calls are running.
    public var depth = 0

    init() {}

    /// The calling thread's context, created on first use.
    public static var current: CallContext {
        if let raw = ck_call_context() { return Unmanaged<CallContext>.fromOpaque(raw).takeUnretainedValue() }
        // Retained for the thread's lifetime: a few words per thread.
        let context = CallContext()
        ck_set_call_context(Unmanaged.passRetained(context).toOpaque())
        return context
    }
}

@usableFromInline var currentScopeDescription: String {
    guard let raw = ck_call_context() else { return "" }
    let names = Unmanaged<CallContext>.fromOpaque(raw).takeUnretainedValue().names
    return names.isEmpty ? "" : " in layer '\(names.joined(separator: "/"))'"
}

/// Runs `body` with `name` as the scope that error messages name.
public func withNameScope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
    let context = CallContext.current
    context.names.append(name)
    defer { context.names.removeLast() }
    return try body()
}
