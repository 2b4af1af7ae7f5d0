import XCTest
import Glibc

/// Runs `body` in a forked child process and asserts that it stops with a fatal
/// error whose text contains every one of `fragments`.
public func assertTraps(_ fragments: String..., file: StaticString = #filePath, line: UInt = #line,
                 _ body: @escaping () -> Void) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return XCTFail("pipe failed", file: file, line: line) }
    fflush(nil)
    let pid = fork()
    if pid == 0 {
        close(fds[0])
        dup2(fds[1], STDERR_FILENO)
        alarm(20)   // never let a child hang the suite
        body()
        _exit(0)
    }
    close(fds[1])
    var output = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fds[0], &buffer, buffer.count)
        if n <= 0 { break }
        output += buffer[..<n]
    }
    close(fds[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let text = String(decoding: output, as: UTF8.self)
    let exitedNormally = (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0
    XCTAssertFalse(exitedNormally, "expected a trap, but the code finished normally", file: file, line: line)
    for fragment in fragments where !text.contains(fragment) {
        XCTFail("trap message does not contain \"\(fragment)\": \(text)", file: file, line: line)
    }
}
