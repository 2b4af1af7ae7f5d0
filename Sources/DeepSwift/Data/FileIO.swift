import Foundation

/// The most bytes a data or checkpoint file may hold (or decompress to) unless a
/// reader is told otherwise: 4 GiB, above any MNIST-format dataset and far below
/// what a corrupt header can claim.
let defaultMaxFileBytes = 1 << 32

/// The whole regular file at `path`, read with a bound. A FIFO, a device (a link
/// to `/dev/zero`), a folder or a file of more than `maxBytes` bytes is refused
/// before it is read, so a reader can neither hang nor fill memory.
func readBytes(_ path: String, maxBytes: Int = defaultMaxFileBytes) throws -> [UInt8] {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
        let code = errno
        throw DataError.unreadable(file: path, reason: code == ENOENT ? "no such file" : code == EACCES ? "permission denied" : String(cString: strerror(code)))
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw DataError.unreadable(file: path, reason: String(cString: strerror(errno))) }
    let kind = info.st_mode & S_IFMT
    guard kind == S_IFREG else {
        let what = kind == S_IFIFO ? "a FIFO" : kind == S_IFCHR ? "a character device" : kind == S_IFBLK ? "a block device"
            : kind == S_IFDIR ? "a folder" : kind == S_IFSOCK ? "a socket" : "not a regular file"
        throw DataError.unreadable(file: path, reason: "\(what), not a regular file")
    }
    let size = Int(info.st_size)
    guard size <= maxBytes else {
        throw DataError.unreadable(file: path, reason: "\(size) bytes, more than the limit of \(maxBytes)")
    }
    // A file that shrank while it was read is taken as it was at its end.
    return try readAll(fd, at: 0, count: size, file: path)
}

/// The prefix of the temporary files `writeAtomically` writes beside `path`.
private func temporaryPrefix(_ path: String) -> String { path + ".tmp-" }

/// Writes `bytes` to a temporary file beside `path`, flushes it, then renames it
/// over `path`, so that a crash never leaves a half-written file. Temporary files
/// of earlier writes to the same path whose process is gone (killed mid-write)
/// are removed first. Each failing step (create, write, rename) throws
/// ``DataError/unwritable(file:reason:)`` naming the target and the system's reason.
func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    removeStaleTemporaries(of: path)
    let temporary = temporaryPrefix(path) + "\(getpid())-\(UInt64.random(in: 0 ... .max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        throw DataError.unwritable(file: path, reason: "cannot create the temporary file \(temporary): \(String(cString: strerror(errno)))")
    }
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw DataError.unwritable(file: path, reason: "cannot write the temporary file \(temporary): \(reason)")
        }
        done += n
    }
    if fsync(fd) != 0 || close(fd) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw DataError.unwritable(file: path, reason: "cannot flush the temporary file \(temporary): \(reason)")
    }
    guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw DataError.unwritable(file: path, reason: "cannot rename the temporary file over it: \(reason)")
    }
}

/// Removes `path.tmp-<pid>-<n>` files whose process no longer runs.
func removeStaleTemporaries(of path: String) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let prefix = url.lastPathComponent + ".tmp-"
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
    for name in names where name.hasPrefix(prefix) {
        let rest = name.dropFirst(prefix.count)
        guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
        if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { unlink(folder + "/" + name) }
    }
}
