import XCTest
import Foundation
import CKernels
@_spi(Autodiff) @testable import TensorCore
import TestSupport

/// Every instruction-set level the CPU supports gives the baseline's results: each
/// unary table op in float32 and float64, the binary ops, sums, the fused gradient
/// kernels, outer products and normal deviates.
final class KernelISATests: XCTestCase {
    /// The level in force before each test (DEEPSWIFT_ISA may have lowered it).
    private var levelBefore: Int32 = 0
    override func setUp() { levelBefore = ck_isa_level() }
    override func tearDown() { _ = ck_set_isa_level(levelBefore) }

    /// Runs every kernel family at `level` (45 elements: full vectors and a tail at
    /// every width; 3,000 for the sums, past the float sums' folding block).
    func results(at level: Int32) -> [(String, Tensor)] {
        XCTAssertEqual(ck_set_isa_level(level), level, "the level did not take effect")
        XCTAssertEqual(ck_isa_level(), level)
        var g = RandomGenerator(seed: 21)
        let x = Random.uniform([45], min: 0.1, max: 5, using: &g)
        let y = Random.uniform([45], min: 0.1, max: 5, using: &g)
        let signed = x - 2.5
        let long = Random.uniform([3000], min: -1, max: 1, using: &g)
        var out: [(String, Tensor)] = []
        for dtype in [DType.float32, .float64] {
            let (a, b, s) = (x.cast(to: dtype), y.cast(to: dtype), signed.cast(to: dtype))
            for op in UnaryOp.allCases {
                let input = [.log, .log1p, .sqrt, .rsqrt].contains(op) ? a : s
                out.append(("\(op) \(dtype)", input.applying(op)))
            }
            for op in BinaryOp.allCases { out.append(("\(op) \(dtype)", Tensor.applying(op, a, b))) }
            out.append(("sum \(dtype)", long.cast(to: dtype).sum()))
            out.append(("row sums \(dtype)", long.cast(to: dtype).reshaped(to: [30, 100]).sum(axis: 1)))
            out.append(("relu gradient \(dtype)", s.reluGradient(b)))
            out.append(("sigmoid gradient \(dtype)", sigmoid(s).sigmoidGradient(b)))
            out.append(("outer \(dtype)", matmul(a.reshaped(to: [1, 45]), b.reshaped(to: [1, 45]), transposeA: true)))
        }
        var r = RandomGenerator(seed: 5)
        out.append(("normal", Random.normal([45], dtype: .float64, using: &r)))
        return out
    }

    func check(_ level: Int32, against reference: [(String, Tensor)], file: StaticString = #filePath, line: UInt = #line) {
        let candidate = results(at: level)
        XCTAssertEqual(candidate.count, reference.count, file: file, line: line)
        for ((name, a), (_, b)) in zip(candidate, reference) {
            XCTAssertEqual(a.shape, b.shape, name, file: file, line: line)
            let (p, q) = (a.cast(to: .float64).scalars(as: Double.self), b.cast(to: .float64).scalars(as: Double.self))
            let tolerance = a.dtype == .float32 ? 4e-7 : 1e-14
            for (u, v) in zip(p, q) where !(u.isNaN && v.isNaN) {
                if Swift.abs(u - v) > tolerance * Swift.max(1, Swift.abs(v)) {
                    XCTFail("\(name) at \(String(cString: ck_isa_name(level))): \(u) vs baseline \(v)", file: file, line: line)
                    break
                }
            }
        }
    }

    func testAVX2MatchesBaseline() throws {
        guard ck_isa_supported() >= CK_ISA_AVX2.rawValue else { throw XCTSkip("skipped: no AVX2") }
        let baseline = results(at: Int32(CK_ISA_BASELINE.rawValue))
        check(Int32(CK_ISA_AVX2.rawValue), against: baseline)
        // The vector path really ran: its float32 exp (a polynomial) and libm's
        // differ in the last bit somewhere among 45 elements.
        _ = ck_set_isa_level(Int32(CK_ISA_AVX2.rawValue))
        let vector = results(at: Int32(CK_ISA_AVX2.rawValue)).first { $0.0 == "exp float32" }!.1
        let scalar = baseline.first { $0.0 == "exp float32" }!.1
        XCTAssertNotEqual(vector.scalars(as: Float.self), scalar.scalars(as: Float.self))
    }

    func testAVX512MatchesBaseline() throws {
        guard ck_isa_supported() >= CK_ISA_AVX512.rawValue else { throw XCTSkip("skipped: no AVX-512") }
        let baseline = results(at: Int32(CK_ISA_BASELINE.rawValue))
        check(Int32(CK_ISA_AVX512.rawValue), against: baseline)
    }

    func testALevelTheCPULacksIsLowered() {
        let best = ck_isa_supported()
        XCTAssertEqual(ck_set_isa_level(99), best)
        XCTAssertEqual(ck_set_isa_level(-1), Int32(CK_ISA_BASELINE.rawValue))
        XCTAssertEqual(String(cString: ck_isa_name(Int32(CK_ISA_AVX512.rawValue))), "avx512")
        XCTAssertEqual(String(cString: ck_isa_name(Int32(CK_ISA_AVX2.rawValue))), "avx2")
        XCTAssertEqual(String(cString: ck_isa_name(0)), "baseline")
        XCTAssertEqual(ck_isa_parse("AVX2"), Int32(CK_ISA_AVX2.rawValue))
        XCTAssertEqual(ck_isa_parse("avx512"), Int32(CK_ISA_AVX512.rawValue))
        XCTAssertEqual(ck_isa_parse("baseline"), 0)
        XCTAssertEqual(ck_isa_parse("sse9"), -1)
    }

    /// DEEPSWIFT_ISA chooses the level at load: this test runs itself in a child
    /// process with the variable set, and the child checks the level it got.
    func testTheEnvironmentChoosesTheLevel() throws {
        if let expected = ProcessInfo.processInfo.environment["DEEPSWIFT_ISA_EXPECT"] {
            XCTAssertEqual(String(cString: ck_isa_name(ck_isa_level())), expected)
            return
        }
        for (asked, expected) in [("baseline", "baseline"), ("avx2", ck_isa_supported() >= 2 ? "avx2" : "baseline")] {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["TensorCoreTests.KernelISATests/testTheEnvironmentChoosesTheLevel"]
            var environment = ProcessInfo.processInfo.environment
            environment["DEEPSWIFT_ISA"] = asked
            environment["DEEPSWIFT_ISA_EXPECT"] = expected
            child.environment = environment
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = pipe
            try child.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationStatus, 0, "DEEPSWIFT_ISA=\(asked): \(output)")
            XCTAssertTrue(output.contains("Executed 1 test, with 0 failures"), output)
        }
    }
}
