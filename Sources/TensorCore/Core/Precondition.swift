/// Checks a programmer error and stops with `message` if it fails.
///
/// This shadows the standard library's `precondition` inside TensorCore because
/// that one drops its message in optimized builds, and a researcher running a
/// release build still needs to read which op, shapes and layer went wrong.
@usableFromInline @inline(__always)
func precondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                  file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError(message(), file: file, line: line) }
}
