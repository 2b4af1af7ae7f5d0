/// The name of the layer (or other named scope) whose code is running on this
/// thread, so that shape errors deep in the tensor math can say where they
/// happened. Higher layers push names with ``withNameScope(_:_:)``.
@TaskLocal public var currentNameScope: String? = nil

@usableFromInline var currentScopeDescription: String {
    currentNameScope.map { " in layer '\($0)'" } ?? ""
}

/// Runs `body` with `name` as the scope that error messages name.
public func withNameScope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
    try $currentNameScope.withValue(name, operation: body)
}
