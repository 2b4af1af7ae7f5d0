import CKernels

/// The names of the scopes (layer calls) running on a thread, outermost first,
/// which tensor-math error messages cite. One object per thread, kept in a
/// thread-local slot; what layers track per call (the training flag) lives with
/// `Layer`, above this module.
final class NameScopes {
    var names: [String] = []

    /// The calling thread's scopes, created on first use.
    static var current: NameScopes {
        if let raw = ck_call_context() { return Unmanaged<NameScopes>.fromOpaque(raw).takeUnretainedValue() }
        // Retained for the thread's lifetime: a few words per thread.
        let scopes = NameScopes()
        ck_set_call_context(Unmanaged.passRetained(scopes).toOpaque())
        return scopes
    }
}

/// " in layer 'a/b'" for the layer calls running on this thread (empty outside
/// them): how tensor-math preconditions name the layer.
public var currentScopeDescription: String {
    guard let raw = ck_call_context() else { return "" }
    let names = Unmanaged<NameScopes>.fromOpaque(raw).takeUnretainedValue().names
    return names.isEmpty ? "" : " in layer '\(names.joined(separator: "/"))'"
}

/// Runs `body` with `name` as the scope that error messages name.
public func withNameScope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
    let scopes = NameScopes.current
    scopes.names.append(name)
    defer { scopes.names.removeLast() }
    return try body()
}

/// The name scopes running on the calling thread, outermost first.
public var currentNameScopes: [String] {
    guard let raw = ck_call_context() else { return [] }
    return Unmanaged<NameScopes>.fromOpaque(raw).takeUnretainedValue().names
}
