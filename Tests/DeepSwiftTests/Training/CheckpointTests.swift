import XCTest
import Foundation
@testable import DeepSwift
import TestSupport

final class CheckpointTests: XCTestCase {
    var path: String!

    override func setUp() { path = NSTemporaryDirectory() + "ckpt-\(UUID().uuidString).safetensors" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    func makeModel() -> Sequential {
        Sequential([Dense(4, activation: .relu, name: "hidden"), BatchNormalization(name: "bn"), Dense(2, name: "out")],
                   inputShape: [3], name: "net")
    }

    func testRoundTripIsBitwiseAndIncludesOptimizerState() throws {
        setRandomSeed(1)
        let a = makeModel()
        let optimizer = Adam()
        optimizer.apply(a.trainableWeights.map { Tensor.ones(like: $0.value) }, to: a.trainableWeights)
        try a.saveWeights(to: path, optimizer: optimizer)
        let b = makeModel()
        let restored = Adam()
        try b.loadWeights(from: path, optimizer: restored)
        for (x, y) in zip(a.weights, b.weights) { XCTAssertEqual(x.value, y.value, x.name) }
        XCTAssertEqual(restored.iterations, 1)
        XCTAssertEqual(restored.state(of: b.trainableWeights[0]), optimizer.state(of: a.trainableWeights[0]))
    }

    func testFileLayoutIsSafetensors() throws {
        let model = makeModel()
        try model.saveWeights(to: path)
        let bytes = try readBytes(path)
        let n = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertEqual(n % 8, 0)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        let kernel = header["net/hidden/kernel"] as! [String: Any]
        XCTAssertEqual(kernel["dtype"] as? String, "F32")
        XCTAssertEqual(kernel["shape"] as? [Int], [3, 4])
        XCTAssertEqual(Set(header.keys), Set(model.namedWeights.map(\.name) + ["__metadata__"]))
        let total = model.weights.reduce(0) { $0 + $1.shape.elementCount * 4 }
        XCTAssertEqual(bytes.count, 8 + n + total)
    }

    func testMismatchesAreListedAndNothingChanges() throws {
        try makeModel().saveWeights(to: path)
        let other = Sequential([Dense(5, name: "hidden"), Dense(2, name: "extra")], inputShape: [3], name: "net")
        let before = other.weights.map(\.value)
        XCTAssertThrowsError(try other.loadWeights(from: path)) { error in
            guard case .mismatch(_, let problems) = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertTrue(problems.contains("'net/hidden/kernel': the file has shape (3, 4) float32, the model (3, 5) float32"), "\(problems)")
            XCTAssertTrue(problems.contains { $0.hasPrefix("missing weight 'net/extra/kernel'") }, "\(problems)")
            XCTAssertTrue(problems.contains("unexpected weight 'net/out/bias'"), "\(problems)")
        }
        XCTAssertEqual(other.weights.map(\.value), before)
    }

    /// Other names and one other shape: the error says that matching by order
    /// failed, and on which shapes.
    func testLoadingIntoAnotherArchitectureNamesTheShapesThatDiffer() throws {
        try makeModel().saveWeights(to: path)
        let other = Sequential([Dense(4, activation: .relu, name: "h"), BatchNormalization(name: "b"), Dense(3, name: "o")],
                               inputShape: [3], name: "other")
        XCTAssertThrowsError(try other.loadWeights(from: path)) { error in
            guard case .mismatch(_, let problems) = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertTrue(problems.contains("matched by order, 'net/out/kernel' in the file has shape (4, 2) float32, the model's 'other/o/kernel' (4, 3) float32"), "\(problems)")
            XCTAssertTrue(problems.contains("matched by order, 'net/out/bias' in the file has shape (2,) float32, the model's 'other/o/bias' (3,) float32"), "\(problems)")
            XCTAssertTrue(problems.contains { $0.hasPrefix("missing weight 'other/h/kernel'") }, "\(problems)")
        }
    }

    func testCorruptAndTruncatedFilesThrow() throws {
        let model = makeModel()
        try model.saveWeights(to: path)
        let good = try readBytes(path)
        func attempt(_ bytes: [UInt8]) -> CheckpointError? {
            try? writeAtomically(bytes, to: path)
            do { try makeModel().loadWeights(from: path); return nil } catch { return error as? CheckpointError }
        }
        guard case .truncated = attempt(Array(good.prefix(5))) else { return XCTFail("short") }
        guard case .truncated = attempt(Array(good.dropLast(7))) else { return XCTFail("data cut") }
        var badLength = good
        badLength[0] = 0xFF; badLength[1] = 0xFF
        guard case .truncated = attempt(badLength) else { return XCTFail("length") }
        var badJSON = good
        badJSON[8] = UInt8(ascii: "[")
        guard case .corruptHeader = attempt(badJSON) else { return XCTFail("json") }
        var g = RandomGenerator(seed: 4)
        for _ in 0..<300 {
            var bytes = good
            for _ in 0..<3 { bytes[Int.random(in: 0..<min(bytes.count, 400), using: &g)] = UInt8.random(in: 0...255, using: &g) }
            _ = attempt(bytes)   // must not crash
        }
    }

    /// A saved model with one Adam step of state, as (name, tensor) pairs.
    func savedWithAdam() throws -> [(name: String, tensor: Tensor)] {
        setRandomSeed(1)
        let model = makeModel()
        let optimizer = Adam()
        optimizer.apply(model.trainableWeights.map { Tensor.ones(like: $0.value) }, to: model.trainableWeights)
        try model.saveWeights(to: path, optimizer: optimizer)
        return try SafeTensors.decode(readBytes(path))
    }

    /// Loads `tensors` (written as a checkpoint) into a fresh model and Adam that
    /// have taken one step; returns the error, checking that nothing changed.
    func loadError(_ tensors: [(name: String, tensor: Tensor)], file: StaticString = #filePath, line: UInt = #line) throws -> CheckpointError? {
        try writeAtomically(SafeTensors.encode(tensors), to: path)
        setRandomSeed(2)
        let model = makeModel()
        let optimizer = Adam()
        optimizer.apply(model.trainableWeights.map { Tensor.ones(like: $0.value) * 2 }, to: model.trainableWeights)
        let before = model.weights.map(\.value)
        let state = model.trainableWeights.map { optimizer.state(of: $0) }
        do {
            try model.loadWeights(from: path, optimizer: optimizer)
            return nil
        } catch {
            XCTAssertEqual(model.weights.map(\.value), before, "weights changed by a failed load", file: file, line: line)
            XCTAssertEqual(model.trainableWeights.map { optimizer.state(of: $0) }, state, "optimizer state changed", file: file, line: line)
            XCTAssertEqual(optimizer.iterations, 1, file: file, line: line)
            return error as? CheckpointError
        }
    }

    func testOptimizerStateOfTheWrongShapeIsRejectedBeforeAnythingIsAssigned() throws {
        let good = try savedWithAdam()
        XCTAssertNil(try loadError(good))
        // A moment smaller than its weight (what a flipped bit in a name gives: the
        // bias's state under the kernel's name).
        let biasState = good.first { $0.name == "optimizer/net/hidden/bias/0" }!.tensor
        let short = good.map { $0.name == "optimizer/net/hidden/kernel/0" ? ($0.name, biasState) : $0 }
        XCTAssertEqual(try loadError(short), .mismatch(file: path, problems: [
            "optimizer state: state slot 0 of variable 'net/hidden/kernel' is (4,) float32, the variable needs (3, 4) float32"]))
        // A float64 moment, and a missing second moment.
        let wide = good.map { $0.name == "optimizer/net/out/bias/1" ? ($0.name, $0.tensor.cast(to: .float64)) : $0 }
        XCTAssertEqual(try loadError(wide), .mismatch(file: path, problems: [
            "optimizer state: state slot 1 of variable 'net/out/bias' is (2,) float64, the variable needs (2,) float32"]))
        let missing = good.filter { $0.name != "optimizer/net/out/kernel/1" }
        XCTAssertEqual(try loadError(missing), .mismatch(file: path, problems: [
            "optimizer state: Adam keeps 2 state tensor(s) for variable 'net/out/kernel', got 1"]))
        // A step counter that is not a scalar.
        let steps = good.map { $0.name == "optimizer/iterations" ? ($0.name, Tensor([1, 2] as [Int64])) : $0 }
        XCTAssertEqual(try loadError(steps), .mismatch(file: path, problems: [
            "'optimizer/iterations' must be a non-negative integer scalar, the file has shape (2,) int64"]))
    }

    func testTheUpdateKernelsCallerChecksTheStateSizes() {
        assertTraps("Adam.setState", "state slot 0 of variable 'w' is (1,) float32, the variable needs (3,) float32") {
            let w = Variable(Tensor([1, 2, 3] as [Float]), name: "w")
            Adam().setState([Tensor([0] as [Float]), Tensor.zeros([3])], of: w)
        }
    }

    /// The bytes of a safetensors file with a hand-written header (padded to 8) and data.
    func file(_ header: String, data: [UInt8] = []) -> [UInt8] {
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data
    }

    func testHeadersTheFormatForbidsAreRejected() throws {
        let four = [UInt8](repeating: 0, count: 4)
        let entry = #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        XCTAssertEqual(try SafeTensors.decode(file("{\(entry)}", data: four)).map(\.name), ["a"])
        func reason(_ bytes: [UInt8]) -> String {
            do { _ = try SafeTensors.decode(bytes, file: "f"); return "decoded" } catch { return "\(error)" }
        }
        let cases: [(bytes: [UInt8], message: String)] = [
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four + four),
             "f: corrupt safetensors header (a hole: no tensor holds data bytes 0..<4 (before 'a'))"),
            (file("{\(entry)}", data: four + [1]),
             "f: corrupt safetensors header (1 bytes after the last tensor's data (the header describes 4 of 5))"),
            (file(#"{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}"#, data: four),
             "f: corrupt safetensors header (entry 'a' has a shape that is not a list of non-negative integers)"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}"#, data: four),
             "f: corrupt safetensors header (entry 'a' has data_offsets that are not two non-negative integers)"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, data: four),
             "f: corrupt safetensors header (entry 'a' has an unknown field 'extra')"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}"#, data: four),
             "f: corrupt safetensors header (not valid JSON: duplicate key 'shape' at byte 39 of the header)"),
            (file("{\(entry),\(entry)}", data: four),
             "f: corrupt safetensors header (not valid JSON: duplicate key 'a' at byte 57 of the header)"),
            (file(#"{"__metadata__":{"n":1},"# + entry + "}", data: four),
             "f: corrupt safetensors header (__metadata__ is not an object of strings)"),
            (file("\u{FEFF}{\(entry)}", data: four),
             "f: corrupt safetensors header (the header does not start with '{')"),
            (withUnsafeBytes(of: UInt64(16).littleEndian, Array.init) + Array("{\0}\0".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
                + [UInt8](repeating: 0x20, count: 8),
             "f: corrupt safetensors header (not valid JSON: expected a string key at byte 1 of the header)"),
            (file("{\(entry)}") .enumerated().map { $0.offset == 9 ? 0xC3 : $0.element } + four,
             "f: corrupt safetensors header (not valid JSON: the text is not UTF-8)"),
            (withUnsafeBytes(of: UInt64(100_000_001).littleEndian, Array.init) + [UInt8(ascii: "{")],
             "f: corrupt safetensors header (the header claims 100000001 bytes, more than the format's limit of 100000000)"),
            (file(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: four),
             "f: corrupt safetensors header (entry 'a': the shape [4294967296, 4294967296] has more elements than fit in memory)"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}"#, data: four),
             "f: corrupt safetensors header (entry 'a' has data_offsets that are not two non-negative integers)"),
        ]
        for c in cases { XCTAssertEqual(reason(c.bytes), c.message) }
    }

    func testAHeaderLengthOneByteShortIsRejected() throws {
        // Written by hand without padding: the last byte of the JSON would become
        // the first data byte, turning 1.0 into -0 if it were accepted.
        var json = Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
        json += [0x20]
        let data = withUnsafeBytes(of: Float(1).bitPattern.littleEndian, Array.init)
        let bytes = withUnsafeBytes(of: UInt64(json.count - 1).littleEndian, Array.init) + json + data
        XCTAssertThrowsError(try SafeTensors.decode(bytes, file: "f")) { error in
            XCTAssertEqual("\(error)", "f: corrupt safetensors header (1 bytes after the last tensor's data (the header describes 4 of 5))")
        }
        XCTAssertEqual(try SafeTensors.decode(withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data)
            .map { $0.tensor.scalars(as: Float.self) }, [[1]])
    }
}
