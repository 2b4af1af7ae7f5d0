/// Why a data file could not be read. Every case names the file and the problem;
/// nothing is returned half-read.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// The file could not be written: the reason names the step (create, write,
    /// rename) and the system's error.
    case unwritable(file: String, reason: String)
    /// The files of a dataset disagree with each other or with the format (labels
    /// out of range, images of different sizes, no examples).
    case inconsistentDataset(file: String, reason: String)
    /// The first four bytes are not an IDX magic number DeepSwift reads.
    case badMagic(file: String, found: UInt32)
    /// The element type code of the IDX header is not one DeepSwift reads.
    case unsupportedElementType(file: String, code: UInt8)
    /// The file ends inside its header.
    case truncatedHeader(file: String, length: Int, needed: Int)
    /// The header's dimensions call for another amount of data than the file holds.
    case sizeMismatch(file: String, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// The gzip stream is corrupt or ends early.
    case corruptGzip(file: String, reason: String)
    /// An image file and a label file disagree on the number of examples.
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// The file was expected to have another shape (for example images of rank 3).
    case unexpectedShape(file: String, shape: [Int], expected: String)
    /// A dataset's files were found in none of the places searched.
    case datasetNotFound(name: String, searched: [String], hint: String)
    /// A downloaded file's SHA-256 digest is not the published one.
    case checksumMismatch(file: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot be read (\(reason))"
        case .unwritable(let file, let reason):
            return "\(file): cannot be written (\(reason))"
        case .inconsistentDataset(let file, let reason):
            return "\(file): \(reason)"
        case .badMagic(let file, let found):
            return "\(file): not an IDX file: magic number 0x\(String(found, radix: 16, uppercase: true)) (expected 0x00000801 for labels, 0x00000803 for images, or another IDX type)"
        case .unsupportedElementType(let file, let code):
            return "\(file): IDX element type 0x\(String(code, radix: 16)) is not supported (uint8 0x08, int32 0x0c, float32 0x0d, float64 0x0e are)"
        case .truncatedHeader(let file, let length, let needed):
            return "\(file): truncated IDX header: the data is \(length) bytes but the header needs \(needed)"
        case .sizeMismatch(let file, let shape, let expected, let actual):
            return "\(file): the header's shape \(TensorShape(shape)) needs \(expected) bytes of data but the file holds \(actual)"
        case .corruptGzip(let file, let reason):
            return "\(file): corrupt gzip stream (\(reason))"
        case .countMismatch(let images, let imageCount, let labels, let labelCount):
            return "\(images) has \(imageCount) images but \(labels) has \(labelCount) labels"
        case .unexpectedShape(let file, let shape, let expected):
            return "\(file): shape \(TensorShape(shape)) where \(expected) was expected"
        case .datasetNotFound(let name, let searched, let hint):
            return "\(name) was not found; searched: \(searched.joined(separator: ", ")). \(hint)"
        case .checksumMismatch(let file, let expected, let actual):
            return "\(file): SHA-256 \(actual) does not match the published \(expected)"
        }
    }
}
