import XCTest
@testable import TensorCore
import TestSupport

final class RandomTests: XCTestCase {
    /// The vectorized Box–Muller gives the scalar formula's numbers (to rounding),
    /// for odd and even counts.
    func testNormalsMatchTheScalarBoxMuller() {
        for n in [1, 7, 8, 33] {
            var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42)
            let x = Random.normal([n], mean: 1, stddev: 2, dtype: .float64, using: &g1).scalars(as: Double.self)
            var expected: [Double] = []
            while expected.count < n {
                let (a, b) = g2.normalPair()
                expected.append(1 + 2 * a)
                if expected.count < n { expected.append(1 + 2 * b) }
            }
            for (got, want) in zip(x, expected) { XCTAssertEqual(got, want, accuracy: 1e-12 * Swift.max(1, Swift.abs(want))) }
        }
    }

    func testNormalStatistics() {
        var g = RandomGenerator(seed: 1)
        let x = Random.normal([100_000], mean: 2, stddev: 3, using: &g)
        XCTAssertEqual(x.dtype, .float32)
        XCTAssertEqual(x.mean().scalar(as: Float.self), 2, accuracy: 0.05)
        let sd = sqrt(square(x - 2).mean()).scalar(as: Float.self)
        XCTAssertEqual(sd, 3, accuracy: 0.05)
    }

    func testTruncatedNormalStaysWithinTwoStddev() {
        var g = RandomGenerator(seed: 2)
        let x = Random.truncatedNormal([10_000], mean: 1, stddev: 0.5, dtype: .float64, using: &g)
        XCTAssertLessThanOrEqual(x.max().scalar(as: Double.self), 2.0)
        XCTAssertGreaterThanOrEqual(x.min().scalar(as: Double.self), 0.0)
        // A normal truncated at ±2σ has standard deviation ≈ 0.8796σ.
        let sd = sqrt(square(x - x.mean()).mean()).scalar(as: Double.self)
        XCTAssertEqual(sd, 0.8796 * 0.5, accuracy: 0.01)
    }

    func testUniformRanges() {
        var g = RandomGenerator(seed: 3)
        let ints = Random.uniform([10_000], min: 0, max: 10, dtype: .int32, using: &g)
        XCTAssertEqual(ints.dtype, .int32)
        XCTAssertEqual(ints.min().scalar(as: Int32.self), 0)
        XCTAssertEqual(ints.max().scalar(as: Int32.self), 9)
        let floats = Random.uniform([10_000], min: -1, max: 1, using: &g)
        XCTAssertGreaterThanOrEqual(floats.min().scalar(as: Float.self), -1)
        XCTAssertLessThan(floats.max().scalar(as: Float.self), 1)
        XCTAssertEqual(floats.mean().scalar(as: Float.self), 0, accuracy: 0.03)
    }

    func testSameSeedSameNumbers() {
        setRandomSeed(42)
        let a = Random.normal([5])
        let b = Random.uniform([3], min: 0, max: 100, dtype: .int64)
        setRandomSeed(42)
        XCTAssertEqual(Random.normal([5]), a)
        XCTAssertEqual(Random.uniform([3], min: 0, max: 100, dtype: .int64), b)
        setRandomSeed(43)
        XCTAssertNotEqual(Random.normal([5]), a)
        var g1 = RandomGenerator(seed: 9), g2 = RandomGenerator(seed: 9)
        XCTAssertEqual(Random.normal([4], using: &g1), Random.normal([4], using: &g2))
    }
}
