import Foundation

/// The four files of an MNIST-format dataset: training and test images and labels.
struct MNISTFiles {
    static let names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    /// Images are `imageSide`×`imageSide` pixels; labels are classes below `classCount`.
    static let imageSide = 28
    static let classCount: UInt8 = 10

    /// `directory/name.gz` or `directory/name` for each file, if all four exist there.
    static func find(in directory: String) -> [String]? {
        let paths = names.map { name -> String? in
            [".gz", ""].map { "\(directory)/\(name)\($0)" }.first { FileManager.default.fileExists(atPath: $0) }
        }
        return paths.allSatisfy { $0 != nil } ? paths.map { $0! } : nil
    }

    /// Reads and checks an MNIST-format dataset from four files: uint8 images
    /// (N, 28, 28) with N > 0 and uint8 labels (N,) below 10. Any disagreement
    /// throws a ``DataError`` naming the file.
    static func load(_ paths: [String]) throws -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor)) {
        func pair(_ imagesPath: String, _ labelsPath: String) throws -> (x: Tensor, y: Tensor) {
            let x = try IDX.read(contentsOf: imagesPath)
            let y = try IDX.read(contentsOf: labelsPath)
            guard x.rank == 3, x.dtype == .uint8 else {
                throw DataError.unexpectedShape(file: imagesPath, shape: x.shape.dimensions, expected: "uint8 images (N, rows, cols)")
            }
            guard y.rank == 1, y.dtype == .uint8 else {
                throw DataError.unexpectedShape(file: labelsPath, shape: y.shape.dimensions, expected: "uint8 labels (N,)")
            }
            guard x.shape[1] == imageSide, x.shape[2] == imageSide else {
                throw DataError.inconsistentDataset(file: imagesPath, reason: "images of \(x.shape[1])×\(x.shape[2]) pixels; an MNIST-format dataset has \(imageSide)×\(imageSide)")
            }
            guard x.shape[0] > 0 else {
                throw DataError.inconsistentDataset(file: imagesPath, reason: "the file holds no examples")
            }
            guard x.shape[0] == y.shape[0] else {
                throw DataError.countMismatch(images: imagesPath, imageCount: x.shape[0], labels: labelsPath, labelCount: y.shape[0])
            }
            if let bad = y.scalars(as: UInt8.self).enumerated().first(where: { $0.element >= classCount }) {
                throw DataError.inconsistentDataset(file: labelsPath, reason: "label \(bad.element) at index \(bad.offset) is not a class 0–\(classCount - 1)")
            }
            return (x, y)
        }
        let train = try pair(paths[0], paths[1]), test = try pair(paths[2], paths[3])
        return (train, test)
    }

    /// The first of `directories` holding the four files, loaded.
    static func load(name: String, directories: [String], hint: String) throws
        -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor))
    {
        for directory in directories {
            if let paths = find(in: directory) { return try load(paths) }
        }
        throw DataError.datasetNotFound(name: name, searched: directories, hint: hint)
    }

    /// `~/.deepswift/datasets/<name>`.
    static func cacheDirectory(_ name: String) -> String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return "\(home)/.deepswift/datasets/\(name)"
    }
}

/// The MNIST digits, as `keras.datasets.mnist`.
///
/// ```swift
/// let ((xTrain, yTrain), (xTest, yTest)) = try MNIST.loadData()
/// xTrain.shape   // (60000, 28, 28), uint8
/// ```
public enum MNIST {
    /// The public mirrors tried, in order, when the files are not on disk.
    public static let mirrors = ["https://storage.googleapis.com/cvdf-datasets/mnist/",
                                 "https://ossci-datasets.s3.amazonaws.com/mnist/"]
    /// The published SHA-256 digests of the four gzip files.
    public static let checksums: [(name: String, sha256: String)] = [
        ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ]

    /// Loads the four IDX files (plain or `.gz`) from `directory`, or else from
    /// `$DEEPSWIFT_DATA/mnist`, then `~/.deepswift/datasets/mnist`; when they are in
    /// none of these and `download` is true, fetches them from a public mirror into
    /// the latter, verified by SHA-256.
    public static func loadData(directory: String? = nil, download: Bool = true) throws
        -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor))
    {
        var directories: [String] = directory.map { [$0] } ?? []
        if directory == nil {
            if let root = ProcessInfo.processInfo.environment["DEEPSWIFT_DATA"] { directories.append("\(root)/mnist") }
            directories.append(MNISTFiles.cacheDirectory("mnist"))
        }
        let hint = "Put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (from any MNIST mirror) in one of these folders, or use FashionMNIST, which Debian's dataset-fashion-mnist package installs."
        do {
            return try MNISTFiles.load(name: "MNIST", directories: directories, hint: hint)
        } catch DataError.datasetNotFound(let name, let searched, _) where directory == nil && download {
            let cache = MNISTFiles.cacheDirectory("mnist")
            do {
                try Download.files(checksums, mirrors: mirrors, into: cache)
            } catch {
                throw DataError.datasetNotFound(name: name, searched: searched, hint: "Downloading into \(cache) failed (\(error)). " + hint)
            }
            return try MNISTFiles.load(name: "MNIST", directories: [cache], hint: hint)
        }
    }
}

/// Zalando's Fashion-MNIST, as `keras.datasets.fashion_mnist`: the same format and
/// sizes as MNIST, with clothing classes. Debian's `dataset-fashion-mnist` package
/// installs it, so it is always there offline.
public enum FashionMNIST {
    /// Where Debian's package installs the files.
    public static let systemDirectory = "/usr/share/datasets/fashion-mnist"

    /// The class names, indexed by label.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Loads the dataset from `directory`, or else from the system directory, then
    /// `$DEEPSWIFT_DATA/fashion-mnist`, then `~/.deepswift/datasets/fashion-mnist`.
    public static func loadData(directory: String? = nil) throws
        -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor))
    {
        var directories: [String] = directory.map { [$0] } ?? []
        if directory == nil {
            directories.append(systemDirectory)
            if let root = ProcessInfo.processInfo.environment["DEEPSWIFT_DATA"] { directories.append("\(root)/fashion-mnist") }
            directories.append(MNISTFiles.cacheDirectory("fashion-mnist"))
        }
        return try MNISTFiles.load(name: "Fashion-MNIST", directories: directories,
                                   hint: "Install it with `apt-get install dataset-fashion-mnist` (or `make`), or put its four IDX files in one of these folders.")
    }
}
