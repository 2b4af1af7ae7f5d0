/// The standard library's `precondition` drops its message in optimized builds;
/// this one keeps it (see TensorCore's twin), so misuse is explained in release runs too.
@inline(__always)
func precondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                  file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError(message(), file: file, line: line) }
}
