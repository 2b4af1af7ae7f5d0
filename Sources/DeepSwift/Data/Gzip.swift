import CZlib

/// gzip decompression through zlib, for `.gz` data files.
enum Gzip {
    /// Whether `bytes` start with the gzip magic number.
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// The decompressed bytes of every gzip member in `bytes`; throws on a corrupt or
    /// truncated stream, and on bytes after the last member other than zero padding
    /// (as Python's gzip module). The output never grows past `maxBytes`, nor past
    /// the size `expectedSize` reads from the first bytes once it can (nil: not
    /// yet), so a gzip bomb is refused before it fills memory.
    static func decompress(_ bytes: [UInt8], file: String, maxBytes: Int = defaultMaxFileBytes,
                           expectedSize: ([UInt8]) throws -> Int? = { _ in nil }) throws -> [UInt8] {
        var output: [UInt8] = []
        var limit = maxBytes
        var sizeKnown = false
        output.reserveCapacity(Swift.min(bytes.count * 4, maxBytes))
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.corruptGzip(file: file, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard output.count + produced <= limit else {
                    throw DataError.corruptGzip(file: file, reason: sizeKnown
                        ? "it decompresses to more than the \(limit) bytes its header describes"
                        : "it decompresses to more than \(limit) bytes")
                }
                output.append(contentsOf: chunk[..<produced])
                if !sizeKnown, let size = try expectedSize(output) {
                    guard size <= maxBytes else {
                        throw DataError.corruptGzip(file: file, reason: "its header describes \(size) bytes, more than the limit of \(maxBytes)")
                    }
                    sizeKnown = true
                    limit = size
                    output.reserveCapacity(size)
                }
                switch status {
                case Z_STREAM_END:
                    // Another gzip member may follow (as `cat a.gz b.gz` makes); zero
                    // bytes may pad the end.
                    let rest = UnsafeBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
                    if rest.count >= 2 && rest[0] == 0x1f && rest[1] == 0x8b {
                        guard inflateReset(&stream) == Z_OK else {
                            throw DataError.corruptGzip(file: file, reason: "cannot restart for the next member")
                        }
                        continue
                    }
                    if let garbage = rest.firstIndex(where: { $0 != 0 }) {
                        throw DataError.corruptGzip(file: file, reason: "\(rest.count - garbage) bytes after the end of the gzip data")
                    }
                    return
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 {
                        throw DataError.corruptGzip(file: file, reason: "the stream ends early")
                    }
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 { throw DataError.corruptGzip(file: file, reason: "the stream ends early") }
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DataError.corruptGzip(file: file, reason: message)
                }
            }
        }
        return output
    }

    /// `bytes` as one gzip member (zlib's default level).
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.corruptGzip(file: "<compress>", reason: "zlib could not start")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let status: Int32 = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw DataError.corruptGzip(file: "<compress>", reason: "deflate failed") }
        return Array(output[..<Int(stream.total_out)])
    }
}
