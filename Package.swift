// swift-tools-version: 6.0
import PackageDescription

/// One executable per part of the guide (Examples/Parts/<name>/main.swift).
let guideParts = ["Tensors", "Variables", "Math", "Gradients", "LinearLayer", "LayerGradients", "TrainableWeights", "LayersOwningLayers", "AddLoss", "Metrics", "CompiledFunctions", "TrainingMode", "FunctionalAPI", "VAE", "Hypernetwork", "ConvNet", "CharTransformer", "LSTMClassifier"]

let package = Package(
    name: "DeepSwift",
    products: [
        .library(name: "DeepSwift", targets: ["DeepSwift"]),
        .library(name: "Compile", targets: ["Compile"]),
        .library(name: "Autodiff", targets: ["Autodiff"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        // Data-parallel training on Open MPI; the libraries above stay free of MPI.
        .library(name: "DeepSwiftDistributed", targets: ["DeepSwiftDistributed"]),
        .executable(name: "Guide", targets: ["Guide"]),
        .executable(name: "Benchmarks", targets: ["Benchmarks"]),
        .executable(name: "DistributedMNIST", targets: ["DistributedMNIST"]),
    ],
    dependencies: [
        // SHA-256 verification of downloaded datasets.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The command lines of the examples and the benchmarks.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `make docs`: the DocC catalog as static HTML.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // System libraries, found through pkg-config; `make` installs the Debian packages.
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(
            name: "CSleef", pkgConfig: "sleef",
            providers: [.apt(["libsleef-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // Open MPI (Debian's libopenmpi-dev); only DeepSwiftDistributed links it.
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // Hot vectorized loops, with runtime ISA dispatch through target attributes.
        .target(name: "CKernels", dependencies: ["CSleef"]),

        // CKernels → TensorCore → Autodiff → Compile → DeepSwift: the tape (Autodiff)
        // and the tracer (Compile) are two recorders plugged into TensorCore's one
        // recorder hook from above.
        .target(name: "TensorCore", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Autodiff", dependencies: ["TensorCore"]),
        .target(name: "Compile", dependencies: ["Autodiff", "CKernels"]),
        .target(name: "DeepSwift", dependencies: [
            "Compile", "Autodiff", "TensorCore", "CKernels", "CZlib", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Horovod's model of data-parallel training on Open MPI.
        .target(name: "DeepSwiftDistributed", dependencies: ["DeepSwift", "TensorCore", "CMPI", "CKernels"]),

        // The guide in Swift: every part in one library, an executable per part, and
        // `Guide` running them all in the guide's order.
        .target(name: "GuideExamples", dependencies: ["DeepSwift", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Examples/GuideExamples"),
        .executableTarget(name: "Guide", dependencies: ["GuideExamples"], path: "Examples/Guide"),
    ] + guideParts.map { part in
        .executableTarget(name: part, dependencies: ["GuideExamples"], path: "Examples/Parts/\(part)")
    } + [
        // Data-parallel Fashion-MNIST: `mpirun -np 2 swift run -c release DistributedMNIST`.
        .executableTarget(name: "DistributedMNIST", dependencies: ["GuideExamples", "DeepSwiftDistributed",
                                                             .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Examples/DistributedMNIST"),
        // Plain C reference loops that the benchmarks compare the library against.
        .target(name: "CBaselines", dependencies: ["CBLAS"], path: "Benchmarks/CBaselines"),
        .executableTarget(
            name: "Benchmarks", dependencies: ["DeepSwift", "DeepSwiftDistributed", "CMPI", "GuideExamples", "CBLAS", "CBaselines",
                                               .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/Runner"),

        // Assertions shared by the test targets (trap messages, closeness, gradient checks).
        .target(name: "TestSupport", dependencies: ["Autodiff"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "Autodiff", "CKernels", "CBLAS", "TestSupport"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "Compile", "TensorCore", "TestSupport"]),
        // The compiler without layers: tracing, planning passes, fusion, replay.
        .testTarget(name: "CompileTests", dependencies: ["Compile", "Autodiff", "TensorCore", "TestSupport"]),
        .testTarget(name: "DeepSwiftTests", dependencies: ["DeepSwift", "TestSupport"]),
        .testTarget(name: "GuideExamplesTests", dependencies: ["GuideExamples", "DeepSwiftDistributed", "TestSupport", "CZlib"]),
        // Seeded mutation fuzzing of the readers of outside bytes, with the inputs
        // that crashed earlier versions kept as fixtures.
        // Run under `mpirun -np 2` (the test binary launches itself), over shared
        // memory and over TCP.
        .testTarget(name: "DeepSwiftDistributedTests", dependencies: ["DeepSwiftDistributed", "DeepSwift", "TestSupport"]),
        .testTarget(name: "ReaderFuzzTests", dependencies: ["DeepSwift", "TensorCore"], exclude: ["Fixtures"]),
    ]
)
