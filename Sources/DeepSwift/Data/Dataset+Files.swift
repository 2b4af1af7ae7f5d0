import Foundation

/// How ``Dataset/fromFiles(_:format:rowsPerRead:)`` finds the rows of its files.
public enum RecordFormat: Sendable, Equatable {
    /// Uncompressed IDX files (MNIST's format): each file's header gives its shape,
    /// and its slices along the first axis are the rows.
    case idx
    /// Files of fixed-size records: each record is `shape` elements of `dtype`,
    /// little-endian, after `headerBytes` bytes that are skipped.
    case raw(shape: [Int], dtype: DType, headerBytes: Int = 0)
}

extension Dataset where Element == Tensor {
    /// The rows of several files, read in chunks of `rowsPerRead` rows as the
    /// pipeline needs them, never whole: a dataset larger than memory streams
    /// through. Files are read one after another; every file's rows must have
    /// the same shape and dtype. Headers and sizes are checked here, so a bad file
    /// throws before anything is read.
    ///
    /// ```swift
    /// let images = try Dataset.fromFiles(["train-images-0.idx", "train-images-1.idx"])
    ///     .shuffle(bufferSize: 10_000).batch(128)
    /// let records = try Dataset.fromFiles(["features.bin"], format: .raw(shape: [64], dtype: .float32))
    /// ```
    ///
    /// - Throws: ``DataError`` naming the file: unreadable, a gzip-compressed IDX
    ///   file (which cannot be read in chunks), a bad header, a size that is not
    ///   a whole number of rows, or rows unlike the first file's.
    public static func fromFiles(_ paths: [String], format: RecordFormat = .idx, rowsPerRead: Int = 1024) throws
        -> Dataset<Tensor>
    {
        precondition(rowsPerRead > 0, "Dataset.fromFiles: rowsPerRead must be positive, got \(rowsPerRead)")
        let files = try paths.map { try RecordFile(path: $0, format: format) }
        if let first = files.first {
            for f in files.dropFirst() where f.rowShape != first.rowShape || f.dtype != first.dtype {
                throw DataError.inconsistentDataset(
                    file: f.path,
                    reason: "rows of shape \(TensorShape(f.rowShape)) and dtype \(f.dtype), but \(first.path) has \(TensorShape(first.rowShape)) and \(first.dtype)")
            }
        }
        return Dataset(cardinality: files.reduce(0) { $0 + $1.rows }) {
            var (file, next) = (0, 0)
            var chunk: Tensor?, position = 0
            return AnyIterator {
                while chunk == nil || position == chunk!.shape[0] {
                    while file < files.count && next == files[file].rows { (file, next) = (file + 1, 0) }
                    guard file < files.count else { return nil }
                    let count = Swift.min(rowsPerRead, files[file].rows - next)
                    chunk = files[file].read(rows: next, count: count)
                    (next, position) = (next + count, 0)
                }
                defer { position += 1 }
                return chunk![position]
            }
        }
    }
}

/// One file of fixed-size rows: where they start and what they hold.
struct RecordFile {
    let path: String
    let rowShape: [Int]
    let dtype: DType
    let offset: Int
    let rows: Int
    let bigEndian: Bool
    var rowBytes: Int { rowShape.reduce(dtype.byteSize, *) }

    init(path: String, format: RecordFormat) throws {
        self.path = path
        let fd = try openRegularFile(path)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DataError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        switch format {
        case .idx:
            bigEndian = true
            let head = try readAll(fd, at: 0, count: Swift.min(size, IDX.maxHeaderSize), file: path)
            if head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B {
                throw DataError.inconsistentDataset(
                    file: path, reason: "a gzip-compressed IDX file cannot be read in chunks; decompress it (gunzip) or load it whole with IDX.read")
            }
            let (dtype, shape, headerSize) = try IDX.header(head, length: size, file: path)
            (self.dtype, offset, rows, rowShape) = (dtype, headerSize, shape[0], Array(shape.dropFirst()))
        case .raw(let shape, let dtype, let headerBytes):
            precondition(shape.allSatisfy { $0 > 0 } && headerBytes >= 0 && dtype != .bool,
                         "Dataset.fromFiles: a raw record needs positive dimensions, a non-negative header and a numeric dtype, got shape \(shape), header \(headerBytes), \(dtype)")
            (bigEndian, self.dtype, rowShape, offset) = (false, dtype, shape, headerBytes)
            let record = shape.reduce(dtype.byteSize, *)
            guard size >= headerBytes, (size - headerBytes) % record == 0 else {
                throw DataError.inconsistentDataset(
                    file: path,
                    reason: "\(size - headerBytes) bytes after a \(headerBytes)-byte header are not a whole number of \(record)-byte records of shape \(TensorShape(shape)) and dtype \(dtype)")
            }
            rows = (size - headerBytes) / record
        }
    }

    /// Rows `first..<first + count` as one tensor (count, rowShape…). A file that
    /// changed since it was checked traps with its name: a pass cannot throw.
    func read(rows first: Int, count: Int) -> Tensor {
        let bytes: [UInt8]
        do {
            let fd = try openRegularFile(path)
            defer { close(fd) }
            bytes = try readAll(fd, at: offset + first * rowBytes, count: count * rowBytes, file: path)
        } catch {
            preconditionFailure("Dataset.fromFiles: \(error)")
        }
        precondition(bytes.count == count * rowBytes,
                     "Dataset.fromFiles: \(path) ended at row \(first + bytes.count / rowBytes) of the \(rows) it held when the dataset was made")
        return bytes.withUnsafeBytes { tensorFromBytes($0, shape: [count] + rowShape, dtype: dtype, bigEndian: bigEndian) }
    }
}

/// A file descriptor of the regular file at `path` (not a FIFO, device or folder).
func openRegularFile(_ path: String) throws -> Int32 {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
        let code = errno
        throw DataError.unreadable(file: path, reason: code == ENOENT ? "no such file" : code == EACCES ? "permission denied" : String(cString: strerror(code)))
    }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
        close(fd)
        throw DataError.unreadable(file: path, reason: "not a regular file")
    }
    return fd
}

/// Up to `count` bytes at `offset` (fewer only at the end of the file).
func readAll(_ fd: Int32, at offset: Int, count: Int, file: String) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            throw DataError.unreadable(file: file, reason: String(cString: strerror(errno)))
        }
        if n == 0 { break }
        done += n
    }
    if done < count { bytes.removeLast(count - done) }
    return bytes
}

/// A tensor of `shape` from its elements' bytes, big- or little-endian.
func tensorFromBytes(_ body: UnsafeRawBufferPointer, shape: [Int], dtype: DType, bigEndian: Bool) -> Tensor {
    func words<T: FixedWidthInteger>(_: T.Type) -> [T] {
        (0..<(body.count / MemoryLayout<T>.size)).map {
            let v = body.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)
            return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
        }
    }
    let s = TensorShape(shape)
    switch dtype {
    case .uint8, .bool: return Tensor(shape: s, scalars: Array(body))
    case .int32: return Tensor(shape: s, scalars: words(UInt32.self).map { Int32(bitPattern: $0) })
    case .int64: return Tensor(shape: s, scalars: words(UInt64.self).map { Int64(bitPattern: $0) })
    case .float32: return Tensor(shape: s, scalars: words(UInt32.self).map(Float.init(bitPattern:)))
    case .float64: return Tensor(shape: s, scalars: words(UInt64.self).map(Double.init(bitPattern:)))
    }
}
