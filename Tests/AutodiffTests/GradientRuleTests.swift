import XCTest
@_spi(Autodiff) import Autodiff
import TestSupport

/// A finite-difference check, first and second order in float64, for every
/// differentiable op, including broadcast shapes and axis options.
final class GradientRuleTests: XCTestCase {
    var g = RandomGenerator(seed: 99)

    func normal(_ shape: TensorShape) -> Tensor { Random.normal(shape, dtype: .float64, using: &g) }
    func positive(_ shape: TensorShape) -> Tensor { Random.uniform(shape, min: 0.5, max: 2, dtype: .float64, using: &g) }
    /// Values kept away from 0 (kinks of abs, relu, sign).
    func awayFromZero(_ shape: TensorShape) -> Tensor {
        let u = Random.uniform(shape, min: 0.3, max: 1.5, dtype: .float64, using: &g)
        let s = Random.uniform(shape, min: 0, max: 2, dtype: .int32, using: &g).cast(to: .float64) * 2 - 1
        return u * s
    }

    func testArithmeticWithBroadcasting() {
        for (sa, sb) in [([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1], [1, 3]), ([], [2, 2]), ([3, 1, 2], [4, 1])] as [(TensorShape, TensorShape)] {
            let a = normal(sa), b = normal(sb), p = positive(sb)
            checkGradients([a, b]) { $0[0] + $0[1] }
            checkGradients([a, b]) { $0[0] - $0[1] }
            checkGradients([a, b]) { $0[0] * $0[1] }
            checkGradients([a, p]) { $0[0] / $0[1] }
        }
        checkGradients([normal([3])]) { -$0[0] }
        checkGradients([normal([3])]) { $0[0] * 3 + 1 }
        checkGradients([positive([2, 2]), normal([2])]) { pow($0[0], $0[1]) }
        checkGradients([positive([4])]) { pow($0[0], 3) }
        let a = normal([2, 3]), b = a + awayFromZero([2, 3])
        checkGradients([a, b]) { maximum($0[0], $0[1]) }
        checkGradients([a, b]) { minimum($0[0], $0[1]) }
    }

    func testUnaryMath() {
        let x = normal([2, 3]), p = positive([2, 3]), nz = awayFromZero([2, 3])
        let cases: [(String, Tensor, (Tensor) -> Tensor)] = [
            ("exp", x, { exp($0) }), ("log", p, { log($0) }), ("log1p", p, { log1p($0) }),
            ("expm1", x, { expm1($0) }), ("sqrt", p, { sqrt($0) }), ("rsqrt", p, { rsqrt($0) }),
            ("reciprocal", p, { reciprocal($0) }), ("tanh", x, { tanh($0) }), ("sigmoid", x, { sigmoid($0) }),
            ("softplus", x, { softplus($0) }), ("sin", x, { sin($0) }), ("erf", x, { erf($0) }), ("cos", x, { cos($0) }),
            ("square", x, { square($0) }), ("abs", nz, { abs($0) }), ("relu", nz, { relu($0) }),
            ("floor", nz, { floor($0) * $0 }), ("sign", nz, { sign($0) * $0 }),
        ]
        for (_, input, f) in cases { checkGradients([input]) { f($0[0]) } }
    }

    func testReductions() {
        let x = normal([2, 3, 4])
        for axes in [nil, [0], [-1], [0, 2], [1, 2]] as [[Int]?] {
            for keep in [false, true] {
                checkGradients([x]) { $0[0].sum(axes: axes, keepDims: keep) }
                checkGradients([x]) { $0[0].mean(axes: axes, keepDims: keep) }
                checkGradients([x]) { $0[0].max(axes: axes, keepDims: keep) }
                checkGradients([x]) { $0[0].min(axes: axes, keepDims: keep) }
                checkGradients([x]) { $0[0].logSumExp(axes: axes, keepDims: keep) }
            }
        }
        checkGradients([positive([3, 2])]) { $0[0].prod(axis: 0) }
        checkGradients([awayFromZero([2, 3, 2])]) { $0[0].prod(axes: [0, 2]) }
        checkGradients([awayFromZero([2, 3])]) { $0[0].prod(axis: 1, keepDims: true) }
    }

    /// TF and PyTorch give the product of the other elements, also at zeros.
    func testProdGradientAtZeros() {
        let x = Tensor([[1.5, 0, -0.8], [0, 0, 2]], dtype: .float64)
        let tape = GradientTape()
        tape.watch(x)
        let y = tape.record { x.prod(axis: 1) }
        let g = tape.gradient(of: y, wrt: x)!
        XCTAssertEqual(g.scalars(as: Double.self), [-0.0, 1.5 * -0.8, 0, 0, 0, 0])
        XCTAssertEqual(g.scalars(as: Double.self)[0].sign, .minus)
        // One zero: the second derivatives are those of the polynomial x0·x1·x2.
        let z = Tensor([1.5, 0, -0.8], dtype: .float64)
        let outer = GradientTape(), inner = GradientTape()
        outer.watch(z)
        let h = outer.record { () -> Tensor in
            inner.watch(z)
            let p = inner.record { z.prod() }
            return inner.gradient(of: p, wrt: z)![1]   // ∂p/∂x1 = x0·x2
        }
        assertClose(outer.gradient(of: h, wrt: z)!, Tensor([-0.8, 0, 1.5], dtype: .float64), tolerance: 1e-15)
        // Finite differences agree at a point with one zero.
        checkGradients([Tensor([[2, 0, 3], [1, -2, 0.5]], dtype: .float64)]) { $0[0].prod(axis: 1) }
        checkGradients([x]) { softmax($0[0], axis: 1) }
        checkGradients([x]) { logSoftmax($0[0]) }
    }

    /// Near the bottom of float32's range, the rules stay finite where TF's do.
    func testLogAndRsqrtRulesDoNotOverflowInFloat32() {
        let x = Tensor([6e-20] as [Float])
        let outer = GradientTape(), inner = GradientTape()
        outer.watch(x)
        let g = outer.record { () -> Tensor in
            inner.watch(x)
            let y = inner.record { log(x) }
            return inner.gradient(of: y, wrt: x)!
        }
        let second = outer.gradient(of: g, wrt: x)!.scalar(as: Float.self)
        XCTAssertTrue(second.isFinite, "\(second)")
        XCTAssertEqual(Double(second), -1 / (6e-20 * 6e-20), accuracy: 1e34)
        let r = Tensor([2e-26] as [Float])
        let tape = GradientTape()
        tape.watch(r)
        let y = tape.record { rsqrt(r) }
        let d = tape.gradient(of: y, wrt: r)!.scalar(as: Float.self)
        XCTAssertTrue(d.isFinite, "\(d)")
        XCTAssertEqual(Double(d), -0.5 * pow(2e-26, -1.5), accuracy: 1e35)
    }

    func testMatmul() {
        let a = normal([3, 4]), b = normal([4, 2])
        checkGradients([a, b]) { matmul($0[0], $0[1]) }
        checkGradients([a.transposed(), b]) { matmul($0[0], $0[1], transposeA: true) }
        checkGradients([a, b.transposed()]) { matmul($0[0], $0[1], transposeB: true) }
        checkGradients([a.transposed(), b.transposed()]) { matmul($0[0], $0[1], transposeA: true, transposeB: true) }
        checkGradients([normal([2, 3, 4]), b]) { matmul($0[0], $0[1]) }
        checkGradients([normal([2, 1, 2, 3]), normal([4, 3, 2])]) { matmul($0[0], $0[1]) }
    }

    func testShapeOps() {
        let x = normal([2, 3, 4])
        checkGradients([x]) { $0[0].reshaped(to: [4, -1]) }
        checkGradients([x]) { $0[0].transposed(permutation: [2, 0, 1]) }
        checkGradients([x]) { $0[0].transposed(permutation: [1, 2, 0]) * $0[0].transposed(permutation: [1, 2, 0]) }
        checkGradients([x]) { $0[0].expandingShape(at: 1).squeezingShape(at: 1) }
        checkGradients([normal([3, 1])]) { $0[0].broadcasted(to: [2, 3, 4]) }
        checkGradients([normal([2, 3])]) { $0[0].tiled(multiples: [2, 3]) }
        checkGradients([x]) { $0[0][1] }
        checkGradients([x]) { $0[0][.all, 1..<3, .range(nil, nil, stride: -2)] }
        checkGradients([x]) { $0[0][.ellipsis, .newAxis, 0] }
        checkGradients([x]) { $0[0].split(sizes: [1, 3], alongAxis: 2)[1] * 2 }
        checkGradients([x, normal([2, 2, 4])]) { Tensor(concatenating: $0, alongAxis: 1) }
        checkGradients([normal([2, 3]), normal([2, 3])]) { Tensor(stacking: $0, alongAxis: 1) }
        checkGradients([normal([5, 3])]) { $0[0].gathering(atIndices: Tensor([4, 0, 4, 2])) }
        checkGradients([x]) { $0[0].gathering(atIndices: Tensor([[1, 1], [0, 2]]), alongAxis: 1) }
        let c = Random.uniform([2, 3], min: 0, max: 2, dtype: .int32, using: &g) .== Tensor(Int32(1))
        checkGradients([normal([2, 3]), normal([3])]) { `where`(c, $0[0], $0[1]) }
        let clipInput = Tensor(shape: [4], scalars: [-2.0, -0.5, 0.4, 3.0])
        checkGradients([clipInput]) { $0[0].clipped(min: -1, max: 1) }
        checkGradients([normal([3])]) { $0[0].clipped(min: Tensor(-0.1, dtype: .float64), max: Tensor(0.2, dtype: .float64)) }
    }

    func testFusedLinearAndCrossEntropy() {
        checkGradients([normal([4, 3]), normal([3, 5]), normal([5])]) { linear($0[0], $0[1], $0[2]) }
        checkGradients([normal([1, 3]), normal([3, 5]), normal([5])]) { linear($0[0], $0[1], $0[2]) }
        let labels = Tensor([2, 0, 4, 4])
        checkGradients([normal([4, 5])]) { sparseSoftmaxCrossEntropy(logits: $0[0], labels: labels) }
        // sigmoid's fused gradient op, in both inputs (third order of sigmoid).
        checkGradients([normal([3, 4]), Random.uniform([3, 4], min: 0.1, max: 0.9, dtype: .float64, using: &g)]) {
            $0[1].sigmoidGradient($0[0])
        }
        // Its fused gradient op is differentiable too, in both inputs (third order of the loss).
        checkGradients([normal([4, 5]), normal([4])]) {
            sparseSoftmaxCrossEntropyGradient(logits: $0[0], labels: labels, upstream: $0[1])
        }
        let x = normal([4, 5])
        assertClose(sparseSoftmaxCrossEntropy(logits: x, labels: labels),
                    -(logSoftmax(x) * oneHot(labels, depth: 5, dtype: .float64)).sum(axis: -1), tolerance: 1e-12)
        assertClose(linear(x, normal([5, 2]) * 0 + 1, Tensor([1.0, 2.0], dtype: .float64)),
                    matmul(x, Tensor.ones([5, 2], dtype: .float64)) + Tensor([1.0, 2.0], dtype: .float64), tolerance: 1e-12)
    }

    func testAdjointOpsAreEachOthersGradient() {
        let x = normal([3, 4])
        checkGradients([x]) { $0[0].stridedSliced(shape: [2, 2], strides: [8, 1], offset: 1) }
        checkGradients([normal([2, 2])]) { $0[0].stridedEmbedded(into: [3, 4], strides: [8, 1], offset: 1) }
        checkGradients([normal([4, 2])]) { $0[0].scatterAdded(atIndices: Tensor([0, 2, 0, 1]), alongAxis: 0, size: 3) }
    }

    func testCastBetweenFloatTypes() {
        let x = Tensor([1.0, 2.0], dtype: .float64)
        let tape = GradientTape()
        let y = tape.record { () -> Tensor in
            tape.watch(x)
            return (x.cast(to: .float32) * 3).sum()
        }
        let grad = tape.gradient(of: y, wrt: x)!
        XCTAssertEqual(grad.dtype, .float64)
        XCTAssertEqual(grad.scalars(as: Double.self), [3, 3])
    }
}
