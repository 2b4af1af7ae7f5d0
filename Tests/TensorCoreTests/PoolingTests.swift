import XCTest
@testable @_spi(Autodiff) import TensorCore
import Autodiff
import TestSupport

/// A direct float64 loop: the max (or the mean) of the real elements of each window.
func naivePool(_ x: Tensor, pool: [Int], strides: [Int], same: Bool, max: Bool) -> Tensor {
    let d = x.rank - 2
    let xs = x.scalars(as: Double.self)
    let (n, c) = (x.shape[0], x.shape[d + 1])
    let sizes = Array(x.shape.dimensions[1...d])
    let geo = (0..<d).map { tfPadding(size: sizes[$0], window: pool[$0], stride: strides[$0], dilation: 1, same: same) }
    var y = [Double]()
    for b in 0..<n {
        for o in multiIndices(geo.map(\.out)) {
            for ch in 0..<c {
                var values = [Double]()
                for k in multiIndices(pool) {
                    let i = (0..<d).map { o[$0] * strides[$0] + k[$0] - geo[$0].before }
                    guard (0..<d).allSatisfy({ i[$0] >= 0 && i[$0] < sizes[$0] }) else { continue }
                    var xi = b
                    for a in 0..<d { xi = xi * sizes[a] + i[a] }
                    values.append(xs[xi * c + ch])
                }
                y.append(max ? values.max()! : values.reduce(0, +) / Double(values.count))
            }
        }
    }
    return Tensor(shape: TensorShape([n] + geo.map(\.out) + [c]), scalars: y)
}

final class PoolingTests: XCTestCase {
    func random(_ shape: TensorShape, seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed)
        return Random.uniform(shape, min: -1, max: 1, dtype: .float64, using: &g)
    }

    func testPoolingMatchesNaiveLoops() {
        let x = random([3, 7, 6, 3], seed: 1)
        for (pool, strides) in [([2, 2], [2, 2]), ([3, 3], [1, 2]), ([3, 2], [3, 3]), ([4, 4], [2, 3])] {
            for same in [false, true] {
                let padding: Padding = same ? .same : .valid
                assertClose(maxPool(x, poolSize: pool, strides: strides, padding: padding),
                            naivePool(x, pool: pool, strides: strides, same: same, max: true), tolerance: 1e-12)
                assertClose(avgPool(x, poolSize: pool, strides: strides, padding: padding),
                            naivePool(x, pool: pool, strides: strides, same: same, max: false), tolerance: 1e-12)
            }
        }
        let x1 = random([2, 9, 4], seed: 2), x3 = random([1, 5, 4, 5, 2], seed: 3)
        for same in [false, true] {
            let padding: Padding = same ? .same : .valid
            assertClose(maxPool(x1, poolSize: [3], strides: [2], padding: padding),
                        naivePool(x1, pool: [3], strides: [2], same: same, max: true), tolerance: 1e-12)
            assertClose(avgPool(x3, poolSize: [2, 2, 3], padding: padding),
                        naivePool(x3, pool: [2, 2, 3], strides: [2, 2, 3], same: same, max: false), tolerance: 1e-12)
            assertClose(maxPool(x3, poolSize: [2, 2, 2], padding: padding),
                        naivePool(x3, pool: [2, 2, 2], strides: [2, 2, 2], same: same, max: true), tolerance: 1e-12)
        }
    }

    func testSamePaddingAveragesOnlyRealElements() {
        // tf.nn.avg_pool2d(arange(9).reshape(1, 3, 3, 1), 2, 2, "SAME"): the
        // border windows hold 2 and 1 real elements.
        let x = Tensor(shape: [1, 3, 3, 1], scalars: (0..<9).map(Float.init))
        XCTAssertEqual(avgPool(x, poolSize: [2, 2], padding: .same).scalars(as: Float.self), [2, 3.5, 6.5, 8])
        XCTAssertEqual(maxPool(x, poolSize: [2, 2], padding: .same).scalars(as: Float.self), [4, 5, 7, 8])
        // A window wider than the input with "same" padding covers all of it.
        XCTAssertEqual(maxPool(x, poolSize: [5, 5], strides: [1, 1], padding: .same).scalars(as: Float.self),
                       [8, 8, 8, 8, 8, 8, 8, 8, 8])
        // Negative inputs: padding never wins the max.
        XCTAssertEqual(maxPool(-x, poolSize: [2, 2], padding: .same).scalars(as: Float.self), [0, -2, -6, -8])
        assertTraps("maxPool2D: the window [5, 5]", "is larger than the input (1, 3, 3, 1) with \"valid\" padding") {
            _ = maxPool(x, poolSize: [5, 5])
        }
    }

    func testMaxPoolGradientGoesToTheFirstMaximumOfATie() {
        // tf.nn.max_pool2d's gradient picks the first maximum in row-major order.
        let x = Tensor(shape: [1, 2, 4, 1], scalars: [1, 3, 2, 2,
                                                     3, 0, 2, 2] as [Double])
        let tape = GradientTape()
        let y = tape.record { () -> Tensor in
            tape.watch(x)
            return maxPool(x, poolSize: [2, 2]).sum()
        }
        XCTAssertEqual(tape.gradient(of: y, wrt: x)!.scalars(as: Double.self), [0, 1, 1, 0,
                                                                                0, 0, 0, 0])
    }

    func testPoolingGradientsFirstAndSecondOrder() {
        let x = random([2, 5, 4, 2], seed: 4)
        for (pool, strides, padding) in [([2, 2], [2, 2], Padding.valid), ([3, 2], [2, 1], .same), ([2, 3], [1, 1], .same)] {
            checkGradients([x]) { square(maxPool($0[0], poolSize: pool, strides: strides, padding: padding)) }
            checkGradients([x]) { square(avgPool($0[0], poolSize: pool, strides: strides, padding: padding)) }
        }
        let x1 = random([2, 7, 3], seed: 5)
        checkGradients([x1]) { square(maxPool($0[0], poolSize: [3], strides: [2], padding: .same)) }
        checkGradients([x1]) { square(avgPool($0[0], poolSize: [2])) }
    }

    /// The gradient of max pooling by a direct loop: each window's upstream value
    /// added to its first maximum.
    func naiveMaxPoolBackprop(_ x: Tensor, _ g: Tensor, pool: [Int], strides: [Int], same: Bool) -> Tensor {
        let d = x.rank - 2
        let xs = x.cast(to: .float64).scalars(as: Double.self), gs = g.cast(to: .float64).scalars(as: Double.self)
        let (n, c) = (x.shape[0], x.shape[d + 1])
        let sizes = Array(x.shape.dimensions[1...d])
        let geo = (0..<d).map { tfPadding(size: sizes[$0], window: pool[$0], stride: strides[$0], dilation: 1, same: same) }
        var dx = [Double](repeating: 0, count: xs.count)
        var r = 0
        for b in 0..<n {
            for o in multiIndices(geo.map(\.out)) {
                for ch in 0..<c {
                    var best: (Double, Int)?
                    for k in multiIndices(pool) {
                        let i = (0..<d).map { o[$0] * strides[$0] + k[$0] - geo[$0].before }
                        guard (0..<d).allSatisfy({ i[$0] >= 0 && i[$0] < sizes[$0] }) else { continue }
                        var xi = b
                        for a in 0..<d { xi = xi * sizes[a] + i[a] }
                        if best == nil || xs[xi * c + ch] > best!.0 { best = (xs[xi * c + ch], xi * c + ch) }
                    }
                    dx[best!.1] += gs[r * c + ch]
                }
                r += 1
            }
        }
        return Tensor(shape: x.shape, scalars: dx)
    }

    func testMaxPoolBackpropOfNonOverlappingWindowsWritesEveryElement() {
        // Windows that tile the input, leave gaps (stride > window) or tails, or
        // hang over "same" padding: every element not a window's maximum must be 0
        // although the result's memory is never zeroed first.
        for dtype in [DType.float64, .float32] {
            for (shape, pool, strides) in [([3, 7, 6, 5], [2, 2], [2, 2]), ([2, 8, 7, 3], [2, 2], [3, 3]),
                                           ([2, 9, 70], [3], [4]), ([1, 5, 4, 5, 2], [2, 2, 2], [2, 2, 2])] as [([Int], [Int], [Int])] {
                for same in [false, true] {
                    let x = random(TensorShape(shape), seed: 7).cast(to: dtype)
                    let g = WindowGeometry(input: x.shape, window: pool, strides: strides, padding: same ? .same : .valid, op: "t")
                    let upstream = random(g.outputShape, seed: 8).cast(to: dtype)
                    assertClose(maxPoolBackprop(x, upstream, geometry: g).cast(to: .float64),
                                naiveMaxPoolBackprop(x, upstream, pool: pool, strides: strides, same: same), tolerance: 1e-6)
                }
            }
        }
    }
}
