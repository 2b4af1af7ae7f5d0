import XCTest
@testable @_spi(Autodiff) import TensorCore
import Autodiff
import TestSupport

/// Every multi-index of `sizes`, last axis fastest.
func multiIndices(_ sizes: [Int]) -> [[Int]] {
    sizes.reduce([[]]) { prefixes, size in prefixes.flatMap { p in (0..<size).map { p + [$0] } } }
}

/// TensorFlow's output size and padding before, written out per axis (the test's
/// own reading of the rules, independent of WindowGeometry).
func tfPadding(size: Int, window: Int, stride: Int, dilation: Int, same: Bool) -> (out: Int, before: Int) {
    let span = (window - 1) * dilation + 1
    if !same { return ((size - span) / stride + 1, 0) }
    let out = (size + stride - 1) / stride
    return (out, max((out - 1) * stride + span - size, 0) / 2)
}

/// A direct float64 loop over every output element and kernel tap.
func naiveConv(_ x: Tensor, _ w: Tensor, strides: [Int], dilations: [Int], same: Bool) -> Tensor {
    let d = x.rank - 2
    let xs = x.scalars(as: Double.self), ws = w.scalars(as: Double.self)
    let (n, cin, cout) = (x.shape[0], x.shape[d + 1], w.shape[d + 1])
    let sizes = Array(x.shape.dimensions[1...d]), window = Array(w.shape.dimensions[..<d])
    let geo = (0..<d).map { tfPadding(size: sizes[$0], window: window[$0], stride: strides[$0], dilation: dilations[$0], same: same) }
    let outSizes = geo.map(\.out)
    var y = [Double]()
    for b in 0..<n {
        for o in multiIndices(outSizes) {
            for co in 0..<cout {
                var s = 0.0
                for k in multiIndices(window) {
                    let i = (0..<d).map { o[$0] * strides[$0] + k[$0] * dilations[$0] - geo[$0].before }
                    guard (0..<d).allSatisfy({ i[$0] >= 0 && i[$0] < sizes[$0] }) else { continue }
                    var xi = b
                    for a in 0..<d { xi = xi * sizes[a] + i[a] }
                    var wi = 0
                    for a in 0..<d { wi = wi * window[a] + k[a] }
                    for ci in 0..<cin { s += xs[xi * cin + ci] * ws[(wi * cin + ci) * cout + co] }
                }
                y.append(s)
            }
        }
    }
    return Tensor(shape: TensorShape([n] + outSizes + [cout]), scalars: y)
}

final class ConvolutionTests: XCTestCase {
    func random(_ shape: TensorShape, seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed)
        return Random.uniform(shape, min: -1, max: 1, dtype: .float64, using: &g)
    }

    func testConv2DMatchesANaiveLoop() {
        var seed: UInt64 = 1
        for (batch, channels) in [(1, 1), (3, 3), (1, 5)] {
            for stride in 1...3 {
                for dilation in 1...2 {
                    for same in [false, true] {
                        seed += 1
                        let x = random([batch, 7, 6, channels], seed: seed)
                        let w = random([3, 2, channels, 4], seed: seed + 100)
                        let y = conv(x, w, strides: [stride, stride], padding: same ? .same : .valid,
                                     dilations: [dilation, dilation])
                        let expected = naiveConv(x, w, strides: [stride, stride], dilations: [dilation, dilation], same: same)
                        assertClose(y, expected, tolerance: 1e-12)
                        // float32 runs the same kernels through SGEMM.
                        let y32 = conv(x.cast(to: .float32), w.cast(to: .float32), strides: [stride, stride],
                                       padding: same ? .same : .valid, dilations: [dilation, dilation])
                        assertClose(y32.cast(to: .float64), expected, tolerance: 1e-5)
                    }
                }
            }
        }
    }

    func testConv1DAnd3DMatchNaiveLoops() {
        let x1 = random([3, 9, 2], seed: 7), w1 = random([4, 2, 3], seed: 8)
        for (stride, dilation, same) in [(1, 1, false), (2, 2, true), (3, 1, true), (1, 2, false)] {
            assertClose(conv(x1, w1, strides: [stride], padding: same ? .same : .valid, dilations: [dilation]),
                        naiveConv(x1, w1, strides: [stride], dilations: [dilation], same: same), tolerance: 1e-12)
        }
        let x3 = random([2, 5, 4, 6, 3], seed: 9), w3 = random([2, 3, 2, 3, 2], seed: 10)
        for (strides, dilations, same) in [([1, 1, 1], [1, 1, 1], false), ([2, 1, 3], [1, 2, 1], true), ([1, 2, 2], [2, 1, 1], false)] {
            assertClose(conv(x3, w3, strides: strides, padding: same ? .same : .valid, dilations: dilations),
                        naiveConv(x3, w3, strides: strides, dilations: dilations, same: same), tolerance: 1e-12)
        }
    }

    func testSamePaddingIsTensorFlowsAsymmetricPadding() {
        // Values from tf.nn.conv2d(x, w, strides=2, padding="SAME") with x =
        // arange(16).reshape(1, 4, 4, 1) and w = ones(3, 3, 1, 1): TensorFlow pads
        // 0 before and 1 after (total 1), so the windows start at 0 and 2.
        let x = Tensor(shape: [1, 4, 4, 1], scalars: (0..<16).map(Float.init))
        let y = conv(x, Tensor.ones([3, 3, 1, 1]), strides: [2, 2], padding: .same)
        XCTAssertEqual(y.shape, [1, 2, 2, 1])
        XCTAssertEqual(y.scalars(as: Float.self), [45, 39, 66, 50])
        XCTAssertEqual(WindowGeometry(input: [1, 4, 4, 1], window: [3, 3], strides: [2, 2], padding: .same, op: "t").padBefore, [0, 0])
        XCTAssertEqual(WindowGeometry(input: [1, 5, 5, 1], window: [4, 4], padding: .same, op: "t").padBefore, [1, 1])
        // Causal padding (Conv1D): all of it before.
        let c = WindowGeometry(input: [1, 6, 1], window: [3], dilations: [2], padding: .causal, op: "t")
        XCTAssertEqual(c.padBefore, [4])
        XCTAssertEqual(c.output, [6])
    }

    func testPointwiseConvolutionIsAMatrixProduct() {
        let x = random([2, 3, 4, 5], seed: 3), w = random([1, 1, 5, 6], seed: 4)
        assertClose(conv(x, w), matmul(x.reshaped(to: [-1, 5]), w.reshaped(to: [5, 6])).reshaped(to: [2, 3, 4, 6]),
                    tolerance: 1e-12)
    }

    func testLargeBatchesSplitOverThreadsGiveTheSameValues() {
        let x = random([9, 12, 12, 8], seed: 5), w = random([3, 3, 8, 16], seed: 6)
        let saved = Threading.intraOpThreads
        defer { Threading.intraOpThreads = saved }
        Threading.intraOpThreads = 1
        let (y1, gx1, gw1) = convAndGradients(x, w)
        Threading.intraOpThreads = 2
        let (y2, gx2, gw2) = convAndGradients(x, w)
        assertClose(y2, y1, tolerance: 1e-12)
        assertClose(gx2, gx1, tolerance: 1e-12)
        assertClose(gw2, gw1, tolerance: 1e-12)
        assertClose(y1, naiveConv(x, w, strides: [1, 1], dilations: [1, 1], same: true), tolerance: 1e-12)
    }

    func convAndGradients(_ x: Tensor, _ w: Tensor) -> (Tensor, Tensor, Tensor) {
        let tape = GradientTape()
        var y = x
        let loss = tape.record { () -> Tensor in
            tape.watch([x, w])
            y = conv(x, w, padding: .same)
            return (y * y).sum()
        }
        let g = tape.gradient(of: loss, wrt: [x, w])
        return (y, g[0]!, g[1]!)
    }

    func testConvGradientsFirstAndSecondOrder() {
        let x = random([2, 5, 4, 2], seed: 11), w = random([3, 2, 2, 3], seed: 12)
        for (strides, dilations, padding) in [([1, 1], [1, 1], Padding.valid), ([2, 3], [1, 1], .same), ([1, 1], [2, 1], .same)] {
            checkGradients([x, w]) { square(conv($0[0], $0[1], strides: strides, padding: padding, dilations: dilations)) }
        }
        let x1 = random([2, 6, 2], seed: 13), w1 = random([3, 2, 2], seed: 14)
        checkGradients([x1, w1]) { square(conv($0[0], $0[1], strides: [2], padding: .causal)) }
        let x3 = random([1, 3, 4, 3, 2], seed: 15), w3 = random([2, 2, 2, 2, 2], seed: 16)
        checkGradients([x3, w3]) { square(conv($0[0], $0[1], strides: [1, 2, 1], padding: .same)) }
    }

    func testDirectKernelsForFewInputChannelsMatchNaiveLoops() {
        // 1–4 input channels take the direct kernels (forward and kernel gradient);
        // 70 outputs cover a full 64-channel pass plus a masked tail, and 13 columns
        // both the four-position groups and the single positions at the borders.
        for (cin, stride, dilation, same) in [(1, 1, 1, false), (2, 1, 1, true), (3, 2, 1, true), (4, 1, 2, false)] {
            let x = random([2, 9, 13, cin], seed: UInt64(50 + cin)), w = random([3, 3, cin, 70], seed: UInt64(60 + cin))
            let b = random([70], seed: UInt64(70 + cin))
            let expected = naiveConv(x, w, strides: [stride, stride], dilations: [dilation, dilation], same: same) + b
            let padding: Padding = same ? .same : .valid
            let y = conv(x, w, bias: b, strides: [stride, stride], padding: padding, dilations: [dilation, dilation])
            assertClose(y, expected, tolerance: 1e-12)
            let y32 = conv(x.cast(to: .float32), w.cast(to: .float32), bias: b.cast(to: .float32),
                           strides: [stride, stride], padding: padding, dilations: [dilation, dilation])
            assertClose(y32.cast(to: .float64), expected, tolerance: 1e-5)
            // The kernel gradient against the adjoint identity <conv(x, w), dy> = <w, dW>,
            // with w one-hot per tap: dW's entries are the naive correlations.
            let g = WindowGeometry(input: x.shape, window: [3, 3], strides: [stride, stride],
                                   dilations: [dilation, dilation], padding: padding, outChannels: 70, op: "t")
            let dy = random(g.outputShape, seed: UInt64(80 + cin))
            let dw = convBackpropFilter(x, dy, geometry: g)
            let dw32 = convBackpropFilter(x.cast(to: .float32), dy.cast(to: .float32), geometry: g)
            assertClose(dw32.cast(to: .float64), dw, tolerance: 1e-4)
            let naive = naiveFilterGradient(x, dy, window: [3, 3], strides: [stride, stride], dilations: [dilation, dilation],
                                            same: same)
            assertClose(dw, naive, tolerance: 1e-10)
        }
    }

    /// dW[tap, ci, co] = Σ over images and outputs of x at the tap times dy, as a loop.
    func naiveFilterGradient(_ x: Tensor, _ dy: Tensor, window: [Int], strides: [Int], dilations: [Int], same: Bool) -> Tensor {
        let d = x.rank - 2
        let xs = x.scalars(as: Double.self), gs = dy.scalars(as: Double.self)
        let (n, cin, cout) = (x.shape[0], x.shape[d + 1], dy.shape[d + 1])
        let sizes = Array(x.shape.dimensions[1...d])
        let geo = (0..<d).map { tfPadding(size: sizes[$0], window: window[$0], stride: strides[$0], dilation: dilations[$0], same: same) }
        let outSizes = geo.map(\.out)
        var dw = [Double](repeating: 0, count: window.reduce(1, *) * cin * cout)
        var row = 0
        for b in 0..<n {
            for o in multiIndices(outSizes) {
                for (wi, k) in multiIndices(window).enumerated() {
                    let i = (0..<d).map { o[$0] * strides[$0] + k[$0] * dilations[$0] - geo[$0].before }
                    guard (0..<d).allSatisfy({ i[$0] >= 0 && i[$0] < sizes[$0] }) else { continue }
                    var xi = b
                    for a in 0..<d { xi = xi * sizes[a] + i[a] }
                    for ci in 0..<cin {
                        for co in 0..<cout { dw[(wi * cin + ci) * cout + co] += xs[xi * cin + ci] * gs[row * cout + co] }
                    }
                }
                row += 1
            }
        }
        return Tensor(shape: TensorShape(window + [cin, cout]), scalars: dw)
    }

    func testFusedBiasGradientsFirstAndSecondOrder() {
        // The direct path (2 input channels) and the GEMM path (5).
        for cin in [2, 5] {
            let x = random([2, 5, 4, cin], seed: UInt64(90 + cin)), w = random([3, 2, cin, 3], seed: UInt64(95 + cin))
            let b = random([3], seed: 99)
            checkGradients([x, w, b]) { square(conv($0[0], $0[1], bias: $0[2], padding: .same)) }
            assertClose(conv(x, w, bias: b, padding: .same), conv(x, w, padding: .same) + b, tolerance: 1e-12)
        }
        assertTraps("conv2D: expected a float64 bias of shape (3,) for the kernel (3, 2, 2, 3), got float64 (4,)") {
            _ = conv(Tensor.ones([1, 5, 5, 2], dtype: .float64), Tensor.ones([3, 2, 2, 3], dtype: .float64),
                     bias: Tensor.ones([4], dtype: .float64))
        }
    }

    func testFusedReluMatchesReluOfTheConvolutionWithItsGradients() {
        // The direct path (2 input channels) and the GEMM path (5), in float64 and
        // float32 (the AVX-512 direct kernel), with and without a bias; NaN passes.
        for cin in [2, 5] {
            let x = random([2, 6, 5, cin], seed: UInt64(110 + cin)), w = random([3, 2, cin, 70], seed: UInt64(115 + cin))
            let b = random([70], seed: 119)
            for dtype in [DType.float64, .float32] {
                let (xd, wd, bd) = (x.cast(to: dtype), w.cast(to: dtype), b.cast(to: dtype))
                for bias in [nil, bd] {
                    let fused = conv(xd, wd, bias: bias, strides: [1, 2], padding: .same, dilations: nil, relu: true)
                    assertClose(fused.cast(to: .float64),
                                relu(conv(xd, wd, bias: bias, strides: [1, 2], padding: .same)).cast(to: .float64),
                                tolerance: dtype == .float64 ? 1e-12 : 1e-5)
                }
            }
            let small = random([3, 2, cin, 3], seed: UInt64(120 + cin)), sb = random([3], seed: 125)
            checkGradients([x, small, sb]) {
                square(conv($0[0], $0[1], bias: $0[2], strides: nil, padding: .valid, dilations: nil, relu: true))
            }
        }
        let nan = Tensor(shape: [1, 1, 1, 1], scalars: [Float.nan])
        XCTAssertTrue(conv(nan, Tensor.ones([1, 1, 1, 2]), bias: nil, strides: nil, padding: .valid, dilations: nil, relu: true)
            .scalars(as: Float.self).allSatisfy(\.isNaN))
    }

    func testBackpropOpsHaveGradientsOfTheirOwn() {
        let g = WindowGeometry(input: [2, 5, 5, 2], window: [3, 3], strides: [2, 2], padding: .same, outChannels: 3, op: "t")
        let x = random(g.inputShape, seed: 21), dy = random(g.outputShape, seed: 22), w = random(g.kernelShape, seed: 23)
        checkGradients([dy, w]) { square(convBackpropInput($0[0], $0[1], geometry: g)) }
        checkGradients([x, dy]) { square(convBackpropFilter($0[0], $0[1], geometry: g)) }
    }

    func testBackpropOpsAreTheAdjointsOfTheConvolution() {
        // <conv(x, w), dy> = <x, backpropInput(dy, w)> = <w, backpropFilter(x, dy)>.
        let g = WindowGeometry(input: [3, 6, 7, 3], window: [3, 2], strides: [2, 1], dilations: [1, 2],
                               padding: .same, outChannels: 4, op: "t")
        let x = random(g.inputShape, seed: 31), dy = random(g.outputShape, seed: 32), w = random(g.kernelShape, seed: 33)
        let a = (conv(x, w, strides: [2, 1], padding: .same, dilations: [1, 2]) * dy).sum().scalar(as: Double.self)
        let b = (x * convBackpropInput(dy, w, geometry: g)).sum().scalar(as: Double.self)
        let c = (w * convBackpropFilter(x, dy, geometry: g)).sum().scalar(as: Double.self)
        XCTAssertEqual(a, b, accuracy: 1e-10)
        XCTAssertEqual(a, c, accuracy: 1e-10)
        // TensorFlow's forms, with the forward convolution's shapes and arguments.
        XCTAssertEqual(convBackpropInput(dy, w, inputShape: g.inputShape, strides: [2, 1], padding: .same, dilations: [1, 2]),
                       convBackpropInput(dy, w, geometry: g))
        XCTAssertEqual(convBackpropFilter(x, dy, kernelShape: g.kernelShape, strides: [2, 1], padding: .same, dilations: [1, 2]),
                       convBackpropFilter(x, dy, geometry: g))
        assertTraps("conv2DBackpropInput: the input shape (3, 6, 7, 5) does not fit the kernel (3, 2, 3, 4)") {
            _ = convBackpropInput(dy, w, inputShape: [3, 6, 7, 5])
        }
    }

    func testTransposedConvolutionShapesAndValues() {
        // Keras's Conv2DTranspose output sizes: valid n·s + max(k - s, 0), same n·s.
        XCTAssertEqual(convTranspose(Tensor.ones([1, 4, 4, 8]), Tensor.ones([3, 3, 2, 8]), strides: [2, 2], padding: .same).shape,
                       [1, 8, 8, 2])
        XCTAssertEqual(convTranspose(Tensor.ones([1, 4, 4, 8]), Tensor.ones([3, 3, 2, 8]), strides: [2, 2]).shape, [1, 9, 9, 2])
        XCTAssertEqual(convTranspose(Tensor.ones([1, 4, 8]), Tensor.ones([1, 2, 8]), strides: [3]).shape, [1, 12, 2])
        XCTAssertEqual(convTranspose(Tensor.ones([1, 4, 4, 8]), Tensor.ones([3, 3, 2, 8]), strides: [2, 2], padding: .same,
                                     outputPadding: [0, 1]).shape, [1, 7, 8, 2])
        // Values from keras.ops.conv_transpose(ones(1, 2, 2, 1), arange(9).reshape(3, 3, 1, 1), strides=2,
        // padding="valid"): each input element stamps the kernel at stride 2, overlaps add.
        let k = Tensor(shape: [3, 3, 1, 1], scalars: (0..<9).map(Double.init))
        let y = convTranspose(Tensor.ones([1, 2, 2, 1], dtype: .float64), k, strides: [2, 2])
        XCTAssertEqual(y.shape, [1, 5, 5, 1])
        XCTAssertEqual(y.scalars(as: Double.self), [0, 1, 2, 1, 2,
                                                   3, 4, 8, 4, 5,
                                                   6, 8, 16, 8, 10,
                                                   3, 4, 8, 4, 5,
                                                   6, 7, 14, 7, 8])
        let x = random([2, 3, 3, 2], seed: 41), w = random([3, 3, 3, 2], seed: 42)
        checkGradients([x, w]) { square(convTranspose($0[0], $0[1], strides: [2, 2], padding: .same)) }
    }

    func testBadInputNamesTheOpAndShapes() {
        assertTraps("conv2D: expected an input of rank 4 (batch, 2 spatial axes, channels)", "got input (28, 28, 1) and kernel (3, 3, 1, 4)") {
            _ = conv(Tensor.ones([28, 28, 1]), Tensor.ones([3, 3, 1, 4]))
        }
        assertTraps("conv2D: the input has 3 channels but the kernel (3, 3, 1, 4) expects 1") {
            _ = conv(Tensor.ones([1, 8, 8, 3]), Tensor.ones([3, 3, 1, 4]))
        }
        assertTraps("conv2D: the window [5, 5]", "is larger than the input (1, 4, 4, 1) with \"valid\" padding") {
            _ = conv(Tensor.ones([1, 4, 4, 1]), Tensor.ones([5, 5, 1, 1]))
        }
    }
}
