import Foundation

/// Reader of the IDX format of MNIST and its relatives: two zero bytes, an element
/// type code, the number of dimensions, each dimension as a big-endian UInt32, then
/// the elements (big-endian). Plain and gzip-compressed files are both read.
///
/// ```swift
/// let labels = try IDX.read(contentsOf: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
/// labels.shape   // (10000,), dtype uint8
/// ```
public enum IDX {
    /// The tensor stored in the file at `path` (`.gz` or not: the bytes decide).
    public static func read(contentsOf path: String) throws -> Tensor {
        try decode(readBytes(path), file: path)
    }

    /// The tensor stored in `bytes`, plain or gzip-compressed; `file` names the
    /// source in errors.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>") throws -> Tensor {
        // A compressed file may decompress to no more than its header describes.
        let data = Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, file: file, expectedSize: { prefix in
            guard prefix.count >= 4 else { return nil }
            let rank = Int(prefix[3])
            guard prefix.count >= 4 + 4 * rank else { return nil }
            var size = 1
            for i in 0..<rank {
                let o = 4 + 4 * i
                let d = Int(UInt32(prefix[o]) << 24 | UInt32(prefix[o + 1]) << 16 | UInt32(prefix[o + 2]) << 8 | UInt32(prefix[o + 3]))
                let (product, overflow) = size.multipliedReportingOverflow(by: d)
                guard !overflow else { return .max }
                size = product
            }
            let element = [0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8][Int(prefix[2])] ?? 1
            let (body, overflow) = size.multipliedReportingOverflow(by: element)
            return overflow ? .max : 4 + 4 * rank + body
        }) : bytes
        let (dtype, shape, headerSize) = try header(Array(data.prefix(maxHeaderSize)), length: data.count, file: file)
        return data.withUnsafeBufferPointer { buffer in
            tensorFromBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[headerSize...]), shape: shape,
                            dtype: dtype, bigEndian: true)
        }
    }

    /// The most bytes an IDX header takes (rank 255).
    static let maxHeaderSize = 4 + 4 * 255

    /// The element type, shape and header size of IDX data of `length` bytes
    /// whose first bytes (at least the header's, when there are that many) are
    /// `head`, checked against the length.
    static func header(_ head: [UInt8], length: Int, file: String) throws -> (dtype: DType, shape: [Int], size: Int) {
        guard head.count >= 4 else { throw DataError.truncatedHeader(file: file, length: length, needed: 4) }
        let magic = head[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard head[0] == 0, head[1] == 0, head[3] >= 1 else { throw DataError.badMagic(file: file, found: magic) }
        let dtype: DType
        switch head[2] {
        case 0x08: dtype = .uint8
        case 0x0C: dtype = .int32
        case 0x0D: dtype = .float32
        case 0x0E: dtype = .float64
        default: throw DataError.unsupportedElementType(file: file, code: head[2])
        }
        let rank = Int(head[3])
        let size = 4 + 4 * rank
        guard length >= size, head.count >= size else { throw DataError.truncatedHeader(file: file, length: length, needed: size) }
        let shape = (0..<rank).map { (i: Int) -> Int in head[(4 + 4 * i)..<(8 + 4 * i)].reduce(0) { $0 << 8 | Int($1) } }
        let (elements, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        let (expected, over) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, !over, expected == length - size else {
            throw DataError.sizeMismatch(file: file, shape: shape, expectedBytes: overflow || over ? Int.max : expected,
                                         actualBytes: length - size)
        }
        return (dtype, shape, size)
    }

    /// Writes `tensor` (uint8, int32, float32 or float64) as an IDX file, gzip-compressed
    /// when the path ends in `.gz`, atomically (a temporary file, then a rename).
    public static func write(_ tensor: Tensor, to path: String) throws {
        try writeAtomically(encode(tensor, compress: path.hasSuffix(".gz")), to: path)
    }

    /// The IDX bytes of `tensor`, optionally gzip-compressed.
    public static func encode(_ tensor: Tensor, compress: Bool = false) throws -> [UInt8] {
        let code: UInt8
        switch tensor.dtype {
        case .uint8: code = 0x08
        case .int32: code = 0x0C
        case .float32: code = 0x0D
        case .float64: code = 0x0E
        default: throw DataError.unsupportedElementType(file: "<tensor of \(tensor.dtype)>", code: 0)
        }
        var bytes: [UInt8] = [0, 0, code, UInt8(tensor.rank)]
        for d in tensor.shape { bytes += withUnsafeBytes(of: UInt32(d).bigEndian, Array.init) }
        switch tensor.dtype {
        case .uint8: bytes += tensor.scalars(as: UInt8.self)
        case .int32: for v in tensor.scalars(as: Int32.self) { bytes += withUnsafeBytes(of: v.bigEndian, Array.init) }
        case .float32: for v in tensor.scalars(as: Float.self) { bytes += withUnsafeBytes(of: v.bitPattern.bigEndian, Array.init) }
        default: for v in tensor.scalars(as: Double.self) { bytes += withUnsafeBytes(of: v.bitPattern.bigEndian, Array.init) }
        }
        return compress ? try Gzip.compress(bytes) : bytes
    }
}
