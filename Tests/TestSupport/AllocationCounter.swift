import Glibc

/// The Swift runtime's object allocator, as its instrumentation hook
/// (`_swift_allocObject`, the pointer every `swift_allocObject` call goes through).
private typealias AllocateObject = @convention(c) (UnsafeRawPointer?, Int, Int) -> UnsafeMutableRawPointer?

nonisolated(unsafe) private var originalAllocate: AllocateObject?
nonisolated(unsafe) private var allocationCount = 0

nonisolated(unsafe) private let hook: UnsafeMutablePointer<AllocateObject?>? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "_swift_allocObject") else { return nil }
    return symbol.assumingMemoryBound(to: AllocateObject?.self)
}()

/// The hook while counting: a named C-convention function (a closure literal
/// converted to a C function pointer is not safe to install there).
@_cdecl("deepswift_tests_counting_allocate")
func countingAllocate(_ metadata: UnsafeRawPointer?, _ size: Int, _ alignmentMask: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    return originalAllocate.unsafelyUnwrapped(metadata, size, alignmentMask)
}

/// How many Swift heap objects (class instances, array and dictionary buffers,
/// closure contexts, boxes) `body` allocates: counted through the runtime's
/// allocation hook, not timed. `body` runs in a forked child process (the parent's
/// heap never sees the hook), so its other effects are lost. Returns nil when the
/// runtime has no such hook or the child fails.
public func countSwiftAllocations(_ body: () -> Void) -> Int? {
    guard let hook, let current = hook.pointee else { return nil }
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return nil }
    fflush(nil)
    let pid = fork()
    if pid == 0 {
        close(fds[0])
        originalAllocate = current
        allocationCount = 0
        hook.pointee = countingAllocate
        body()
        hook.pointee = current
        var count = allocationCount
        _ = write(fds[1], &count, MemoryLayout<Int>.size)
        _exit(0)
    }
    close(fds[1])
    var count = -1
    let n = read(fds[0], &count, MemoryLayout<Int>.size)
    close(fds[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return n == MemoryLayout<Int>.size ? count : nil
}
