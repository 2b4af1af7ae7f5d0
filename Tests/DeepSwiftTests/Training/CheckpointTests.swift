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
}
