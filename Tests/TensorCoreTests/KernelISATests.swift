import XCTest
import CKernels
@testable import TensorCore
import TestSupport

/// The baseline (non-AVX2) kernels give the same results as the vector ones.
final class KernelISATests: XCTestCase {
    override func tearDown() { _ = ck_set_isa_level(2) }

    func testBaselineMatchesVectorPath() {
        var g = RandomGenerator(seed: 21)
        let x = Random.uniform([45], min: 0.1, max: 5, using: &g)
        let y = Random.uniform([45], min: 0.1, max: 5, using: &g)
        let ops: [(String, () -> Tensor)] = [
            ("exp", { exp(x) }), ("log", { log(x) }), ("tanh", { tanh(x) }), ("sigmoid", { sigmoid(-x) }),
            ("softplus", { softplus(x - 2) }), ("sqrt", { sqrt(x) }), ("round", { round(x) }),
            ("add", { x + y }), ("div", { x / y }), ("max", { maximum(x, y) }), ("sum", { x.sum() }),
            ("sum64", { x.cast(to: .float64).sum() }), ("log1p64", { log1p(x.cast(to: .float64)) }),
        ]
        for (name, op) in ops {
            _ = ck_set_isa_level(2)
            let vector = op()
            XCTAssertEqual(ck_set_isa_level(0), 0)
            let baseline = op()
            assertClose(baseline, vector, tolerance: 3e-7)
            if baseline.shape != vector.shape { XCTFail(name) }
        }
    }
}
