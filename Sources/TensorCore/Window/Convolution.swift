import CBLAS
import Glibc
import CKernels

/// The N-d convolution of channels-last `x` (N, spatial…, C) with `kernel`
/// (window…, C, filters), as `tf.nn.convolution`: 1 to 3 spatial axes,
/// `strides`, `dilations` and `padding` (TensorFlow's asymmetric `"same"`).
/// Differentiable to any order: its gradients are ``convBackpropInput(_:_:geometry:)``
/// and ``convBackpropFilter(_:_:geometry:)``, whose own gradients are each other
/// and the convolution.
///
/// ```swift
/// let x = Tensor.ones([2, 5, 5, 3]), k = Tensor.ones([3, 3, 3, 8])
/// conv(x, k).shape                                   // (2, 3, 3, 8)
/// conv(x, k, strides: [2, 2], padding: .same).shape  // (2, 3, 3, 8)
/// ```
///
/// - Parameters:
///   - x: the input, batch first and channels last.
///   - kernel: the filters in Keras's layout (window…, inChannels, outChannels).
///   - bias: added to each output channel (outChannels), fused into the
///     convolution's output pass; nil for none.
///   - strides: steps between windows per spatial axis (default 1).
///   - padding: `.valid` (default), `.same` or `.causal` (1-D only).
///   - dilations: steps between kernel taps per spatial axis (default 1).
/// - Returns: (N, output…, outChannels).
public func conv(_ x: Tensor, _ kernel: Tensor, bias: Tensor? = nil, strides: [Int]? = nil, padding: Padding = .valid,
                 dilations: [Int]? = nil) -> Tensor {
    conv(x, kernel, bias: bias, strides: strides, padding: padding, dilations: dilations, relu: false)
}

/// ``conv(_:_:bias:strides:padding:dilations:)`` followed by relu, applied in the
/// convolution's output pass (the op `.convRelu`), for layers with a relu activation.
@_spi(Autodiff)
public func conv(_ x: Tensor, _ kernel: Tensor, bias: Tensor?, strides: [Int]?, padding: Padding,
                 dilations: [Int]?, relu: Bool) -> Tensor {
    let d = kernel.rank - 2
    precondition(d >= 1 && d <= 3 && x.rank == d + 2,
                 "conv\(d)D: expected an input of rank \(d + 2) (batch, \(d) spatial axes, channels) for a kernel of rank \(kernel.rank) (window…, in, out), got input \(x.shape) and kernel \(kernel.shape)\(currentScopeDescription)")
    checkFloat(x, kernel, op: "conv\(d)D")
    precondition(kernel.shape[d] == x.shape[d + 1],
                 "conv\(d)D: the input has \(x.shape[d + 1]) channels but the kernel \(kernel.shape) expects \(kernel.shape[d]) (input \(x.shape))\(currentScopeDescription)")
    let geometry = WindowGeometry(input: x.shape, window: Array(kernel.shape.dimensions[..<d]), strides: strides,
                                  dilations: dilations, padding: padding, outChannels: kernel.shape[d + 1], op: "conv\(d)D")
    if let bias {
        precondition(bias.dtype == x.dtype && bias.shape == [kernel.shape[d + 1]],
                     "conv\(d)D: expected a \(x.dtype) bias of shape \(TensorShape([kernel.shape[d + 1]])) for the kernel \(kernel.shape), got \(bias.dtype) \(bias.shape)\(currentScopeDescription)")
    }
    return convolve(x, kernel, geometry, bias: bias, relu: relu)
}

/// The transposed convolution (sometimes called deconvolution), as Keras's
/// `Conv2DTranspose` and `tf.nn.conv_transpose`: the gradient of ``conv(_:_:strides:padding:dilations:)``
/// with respect to its input, applied to `x`.
///
/// ```swift
/// let y = convTranspose(Tensor.ones([1, 4, 4, 8]), Tensor.ones([3, 3, 2, 8]), strides: [2, 2], padding: .same)
/// y.shape   // (1, 8, 8, 2)
/// ```
///
/// - Parameters:
///   - x: the input (N, spatial…, inChannels).
///   - kernel: (window…, outChannels, inChannels), Keras's layout for transposed convolutions.
///   - strides: the upsampling factors per spatial axis (default 1).
///   - padding: `.valid` gives `size·stride + max(span - stride, 0)` positions, `.same` `size·stride`.
///   - dilations: steps between kernel taps (default 1).
///   - outputPadding: extra positions at the end of each axis (Keras's
///     `output_padding`), each less than its stride; nil for none.
public func convTranspose(_ x: Tensor, _ kernel: Tensor, strides: [Int]? = nil, padding: Padding = .valid,
                          dilations: [Int]? = nil, outputPadding: [Int]? = nil) -> Tensor {
    let d = kernel.rank - 2
    let op = "conv\(d)DTranspose"
    precondition(d >= 1 && d <= 3 && x.rank == d + 2,
                 "\(op): expected an input of rank \(d + 2) (batch, \(d) spatial axes, channels) for a kernel of rank \(kernel.rank) (window…, out, in), got input \(x.shape) and kernel \(kernel.shape)\(currentScopeDescription)")
    checkFloat(x, kernel, op: op)
    precondition(kernel.shape[d + 1] == x.shape[d + 1],
                 "\(op): the input has \(x.shape[d + 1]) channels but the kernel \(kernel.shape) expects \(kernel.shape[d + 1]) (input \(x.shape))\(currentScopeDescription)")
    precondition(padding != .causal, "\(op): causal padding is not defined for transposed convolutions\(currentScopeDescription)")
    let strides = strides ?? Array(repeating: 1, count: d), dilations = dilations ?? Array(repeating: 1, count: d)
    let extra = outputPadding ?? Array(repeating: 0, count: d)
    precondition(strides.count == d && dilations.count == d && extra.count == d,
                 "\(op): strides \(strides), dilations \(dilations) and outputPadding \(extra) need \(d) entries each\(currentScopeDescription)")
    precondition(zip(extra, strides).allSatisfy { $0 >= 0 && $0 < $1 } || outputPadding == nil,
                 "\(op): each output padding must be less than its stride, got \(extra) for strides \(strides)\(currentScopeDescription)")
    let window = Array(kernel.shape.dimensions[..<d])
    var sizes = [Int](), pads = [Int]()
    for i in 0..<d {
        let span = (window[i] - 1) * dilations[i] + 1, n = x.shape[i + 1]
        // Keras's deconv_output_length, and the padding of the convolution it inverts.
        let size: Int
        let before: Int
        if let outputPadding {
            before = padding == .same ? span / 2 : 0
            size = (n - 1) * strides[i] + span - 2 * before + outputPadding[i]
        } else {
            size = padding == .same ? n * strides[i] : n * strides[i] + Swift.max(span - strides[i], 0)
            before = padding == .same ? Swift.max((n - 1) * strides[i] + span - size, 0) / 2 : 0
        }
        sizes.append(size)
        pads.append(before)
    }
    let geometry = WindowGeometry(batch: x.shape[0], inChannels: kernel.shape[d], outChannels: kernel.shape[d + 1],
                                  input: sizes, window: window, output: Array(x.shape.dimensions[1...d]),
                                  strides: strides, dilations: dilations, padBefore: pads)
    return convBackpropInput(x, kernel, geometry: geometry)
}

/// The convolution's gradient with respect to its input, as TensorFlow's
/// `tf.nn.conv2d_backprop_input(input_sizes, filters, out_backprop, strides, padding)`
/// for 1 to 3 spatial axes: the geometry comes from the forward convolution's
/// input shape and arguments.
///
/// ```swift
/// let k = Tensor.ones([3, 3, 2, 4]), dy = Tensor.ones([1, 3, 3, 4])
/// convBackpropInput(dy, k, inputShape: [1, 5, 5, 2]).shape   // (1, 5, 5, 2)
/// ```
public func convBackpropInput(_ dy: Tensor, _ kernel: Tensor, inputShape: TensorShape, strides: [Int]? = nil,
                              padding: Padding = .valid, dilations: [Int]? = nil) -> Tensor {
    let d = kernel.rank - 2
    precondition(d >= 1 && d <= 3 && inputShape.rank == d + 2 && inputShape[d + 1] == kernel.shape[d],
                 "conv\(d)DBackpropInput: the input shape \(inputShape) does not fit the kernel \(kernel.shape) (window…, in, out)\(currentScopeDescription)")
    let geometry = WindowGeometry(input: inputShape, window: Array(kernel.shape.dimensions[..<d]), strides: strides,
                                  dilations: dilations, padding: padding, outChannels: kernel.shape[d + 1],
                                  op: "conv\(d)DBackpropInput")
    return convBackpropInput(dy, kernel, geometry: geometry)
}

/// The convolution's gradient with respect to its kernel, as TensorFlow's
/// `tf.nn.conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding)`
/// for 1 to 3 spatial axes.
///
/// ```swift
/// let x = Tensor.ones([1, 5, 5, 2]), dy = Tensor.ones([1, 3, 3, 4])
/// convBackpropFilter(x, dy, kernelShape: [3, 3, 2, 4]).shape   // (3, 3, 2, 4)
/// ```
public func convBackpropFilter(_ x: Tensor, _ dy: Tensor, kernelShape: TensorShape, strides: [Int]? = nil,
                               padding: Padding = .valid, dilations: [Int]? = nil) -> Tensor {
    let d = kernelShape.rank - 2
    precondition(d >= 1 && d <= 3 && x.rank == d + 2 && x.shape[d + 1] == kernelShape[d],
                 "conv\(d)DBackpropFilter: the input \(x.shape) does not fit the kernel shape \(kernelShape) (window…, in, out)\(currentScopeDescription)")
    let geometry = WindowGeometry(input: x.shape, window: Array(kernelShape.dimensions[..<d]), strides: strides,
                                  dilations: dilations, padding: padding, outChannels: kernelShape[d + 1],
                                  op: "conv\(d)DBackpropFilter")
    return convBackpropFilter(x, dy, geometry: geometry)
}

/// The convolution's gradient with respect to its input: `dy` (the output's
/// shape) spread back through `kernel` over `geometry`'s windows, as TensorFlow's
/// `Conv2DBackpropInput`. Differentiable (in `dy` a convolution, in the kernel a
/// ``convBackpropFilter(_:_:geometry:)``).
///
/// - Parameters:
///   - dy: (N, output…, outChannels).
///   - kernel: (window…, inChannels, outChannels).
///   - geometry: the forward convolution's windows.
/// - Returns: (N, input…, inChannels).
public func convBackpropInput(_ dy: Tensor, _ kernel: Tensor, geometry: WindowGeometry) -> Tensor {
    checkFloat(dy, kernel, op: "convBackpropInput")
    precondition(dy.shape == geometry.outputShape && kernel.shape == geometry.kernelShape,
                 "convBackpropInput: expected dy \(geometry.outputShape) and kernel \(geometry.kernelShape), got \(dy.shape) and \(kernel.shape) (\(geometry))\(currentScopeDescription)")
    let g = geometry
    let dx = Tensor(uninitializedShape: g.inputShape, dtype: dy.dtype)
    if dx.count == 0 { return dx.recorded(.convBackpropInput(g), OpInputs(dy, kernel)) }
    let (size, dt) = (dy.dtype.byteSize, dy.dtype.ck)
    let (k, n) = (g.columns, g.outChannels)
    BLASThreads.configure(m: 1, n: 1, k: 1)
    if g.isPointwise {
        // dx (rows × in) = dy (rows × out) · kernelᵀ, split by rows.
        splitRows(g.rows, block: rowsPerBlock(columns: Swift.max(k, n), size: size), workPerRow: k * n) { r0, r1 in
            blockGemm(dy.dtype, false, true, m: r1 - r0, n: k, k: n, dy.storage.data + r0 * n * size, lda: n,
                      kernel.storage.data, ldb: n, beta: 0, dx.storage.data + r0 * k * size, ldc: k)
        }
    } else {
        // Each image's rows on one thread, so col2im's sums never race.
        let perImage = g.output.reduce(1, *), imageSize = g.input.reduce(1, *) * g.inChannels
        let block = rowsPerBlock(columns: k, size: size)
        g.packed.withUnsafeBufferPointer { geometry in
            Threading.parallelFor(g.batch, grain: Swift.max(1, (1 << 17) / Swift.max(1, perImage * k * n))) { images in
                ck_fill(dt, dx.storage.data + images.lowerBound * imageSize * size, 0, images.count * imageSize)
                let col = ck_scratch(0, block * k * size)!
                var r0 = images.lowerBound * perImage
                while r0 < images.upperBound * perImage {
                    let r1 = Swift.min(r0 + block, images.upperBound * perImage)
                    blockGemm(dy.dtype, false, true, m: r1 - r0, n: k, k: n, dy.storage.data + r0 * n * size, lda: n,
                              kernel.storage.data, ldb: n, beta: 0, col, ldc: k)
                    ck_col2im(dt, geometry.baseAddress, col, dx.storage.data, r0, r1)
                    r0 = r1
                }
            }
        }
    }
    return dx.recorded(.convBackpropInput(g), OpInputs(dy, kernel))
}

/// The convolution's gradient with respect to its kernel: the correlation of the
/// input `x` with `dy` over `geometry`'s windows, as TensorFlow's
/// `Conv2DBackpropFilter`. Differentiable (in `x` a ``convBackpropInput(_:_:geometry:)``,
/// in `dy` a convolution).
///
/// - Parameters:
///   - x: (N, input…, inChannels).
///   - dy: (N, output…, outChannels).
///   - geometry: the forward convolution's windows.
/// - Returns: (window…, inChannels, outChannels).
public func convBackpropFilter(_ x: Tensor, _ dy: Tensor, geometry: WindowGeometry) -> Tensor {
    checkFloat(x, dy, op: "convBackpropFilter")
    precondition(x.shape == geometry.inputShape && dy.shape == geometry.outputShape,
                 "convBackpropFilter: expected x \(geometry.inputShape) and dy \(geometry.outputShape), got \(x.shape) and \(dy.shape) (\(geometry))\(currentScopeDescription)")
    let g = geometry
    let dw = Tensor(uninitializedShape: g.kernelShape, dtype: x.dtype)
    let (size, dt) = (x.dtype.byteSize, x.dtype.ck)
    let (k, n, rows) = (g.columns, g.outChannels, g.rows)
    if rows == 0 || dw.count == 0 {
        if dw.count > 0 { ck_fill(dt, dw.storage.data, 0, dw.count) }
        return dw.recorded(.convBackpropFilter(g), OpInputs(x, dy))
    }
    BLASThreads.configure(m: 1, n: 1, k: 1)
    // The rows split into one part per thread; each part sums colᵀ·dy over its
    // blocks into its own k×n partial (part 0 into dw), and the partials are added.
    let threads = Swift.min(Int(ck_thread_count()), Swift.max(1, rows * k * n / (1 << 18)))
    let parts = Swift.max(1, Swift.min(threads, rows))
    let partials = parts > 1 ? ck_scratch(1, (parts - 1) * k * n * size)! : dw.storage.data
    let block = rowsPerBlock(columns: k, size: size)
    g.packed.withUnsafeBufferPointer { geometry in
        Threading.parallelFor(parts, grain: 1) { range in
            for part in range {
                let target = part == 0 ? dw.storage.data : partials + (part - 1) * k * n * size
                let (start, end) = (rows * part / parts, rows * (part + 1) / parts)
                if start == end { ck_fill(dt, target, 0, k * n); continue }
                if g.inChannels <= 4 && !g.isPointwise {
                    // Few input channels: accumulate the taps directly, without im2col.
                    ck_fill(dt, target, 0, k * n)
                    ck_conv_filter_direct(dt, geometry.baseAddress, x.storage.data, dy.storage.data, n, target,
                                          start, end)
                    continue
                }
                var r0 = start
                while r0 < end {
                    let r1 = Swift.min(r0 + block, end)
                    let a: UnsafeMutableRawPointer
                    if g.isPointwise {
                        a = x.storage.data + r0 * k * size
                    } else {
                        a = ck_scratch(0, (r1 - r0) * k * size)!
                        ck_im2col(dt, geometry.baseAddress, x.storage.data, a, r0, r1)
                    }
                    blockGemm(x.dtype, true, false, m: k, n: n, k: r1 - r0, a, lda: k, dy.storage.data + r0 * n * size,
                              ldb: n, beta: r0 == start ? 0 : 1, target, ldc: n)
                    r0 = r1
                }
            }
        }
    }
    for part in 1..<parts {
        _ = ck_binary(CK_ADD, dt, dw.storage.data, 1, partials + (part - 1) * k * n * size, 1, dw.storage.data, k * n)
    }
    return dw.recorded(.convBackpropFilter(g), OpInputs(x, dy))
}

/// The forward convolution over a checked geometry (the recorded op `.conv`),
/// plus `bias` per output channel when given, and with `relu` applied in the
/// output pass (the recorded op `.convRelu`).
@_spi(Autodiff)
public func convolve(_ x: Tensor, _ kernel: Tensor, _ g: WindowGeometry, bias: Tensor? = nil, relu: Bool = false) -> Tensor {
    let y = Tensor(uninitializedShape: g.outputShape, dtype: x.dtype)
    let (size, dt) = (x.dtype.byteSize, x.dtype.ck)
    let (k, n, rows) = (g.columns, g.outChannels, g.rows)
    if y.count > 0 {
        BLASThreads.configure(m: 1, n: 1, k: 1)
        let block = rowsPerBlock(columns: k, size: size)
        g.packed.withUnsafeBufferPointer { geometry in
            // With 1–4 input channels the GEMM's inner dimension is only the window's
            // size: a direct loop over the taps writes each output row once instead.
            if g.inChannels <= 4 && !g.isPointwise {
                splitRows(rows, block: 256, workPerRow: k * n) { r0, r1 in
                    ck_conv_direct(dt, geometry.baseAddress, x.storage.data, kernel.storage.data,
                                   bias.map { UnsafeRawPointer($0.storage.data) }, relu ? 1 : 0, n, y.storage.data, r0, r1)
                }
                return
            }
            // y (rows × out) = im2col(x) (rows × k) · kernel (k × out), block by block.
            splitRows(rows, block: block, workPerRow: k * n) { r0, r1 in
                let a: UnsafeMutableRawPointer
                if g.isPointwise {
                    a = x.storage.data + r0 * k * size
                } else {
                    a = ck_scratch(0, (r1 - r0) * k * size)!
                    ck_im2col(dt, geometry.baseAddress, x.storage.data, a, r0, r1)
                }
                let out = y.storage.data + r0 * n * size
                if let bias {
                    // The GEMM accumulates onto the bias, copied into the block's rows.
                    for row in 0..<(r1 - r0) { memcpy(out + row * n * size, bias.storage.data, n * size) }
                }
                blockGemm(x.dtype, false, false, m: r1 - r0, n: n, k: k, a, lda: k, kernel.storage.data, ldb: n,
                          beta: bias == nil ? 0 : 1, out, ldc: n)
                // While the block is in cache.
                if relu { ck_unary(CK_RELU, dt, out, out, (r1 - r0) * n) }
            }
        }
    }
    let op: DifferentiableOp = relu ? .convRelu(g) : .conv(g)
    if let bias { return y.recorded(op, OpInputs(x, kernel, bias)) }
    return y.recorded(op, OpInputs(x, kernel))
}

private func checkFloat(_ a: Tensor, _ b: Tensor, op: String) {
    precondition(a.dtype.isFloatingPoint && a.dtype == b.dtype,
                 "\(op): expected two float32 or two float64 tensors, got \(a.dtype) \(a.shape) and \(b.dtype) \(b.shape)\(currentScopeDescription)")
}

/// Rows per im2col block: about 256 KB of them (L2-resident beside the kernel).
private func rowsPerBlock(columns: Int, size: Int) -> Int {
    Swift.min(4096, Swift.max(32, (256 << 10) / Swift.max(1, columns * size)))
}

/// Runs `body(r0, r1)` over blocks of at most `block` rows covering `0..<rows`
/// (`workPerRow` multiply-adds each),
/// split over the intra-op threads when there is work for more than one.
private func splitRows(_ rows: Int, block: Int, workPerRow: Int, _ body: (Int, Int) -> Void) {
    let blocks = (rows + block - 1) / block
    // Enough work per thread (2^17 multiply-adds) to pay for the hand-off.
    let parallel = rows * workPerRow >= 1 << 17
    Threading.parallelFor(blocks, grain: parallel ? 1 : Swift.max(1, blocks)) { range in
        for b in range { body(b * block, Swift.min(rows, (b + 1) * block)) }
    }
}

/// One single-threaded row-major GEMM on raw buffers: `c = op(a)·op(b) + beta·c`.
private func blockGemm(_ dtype: DType, _ ta: Bool, _ tb: Bool, m: Int, n: Int, k: Int,
                       _ a: UnsafeMutableRawPointer, lda: Int, _ b: UnsafeMutableRawPointer, ldb: Int,
                       beta: Double, _ c: UnsafeMutableRawPointer, ldc: Int) {
    let (transA, transB) = (ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans)
    if dtype == .float32 {
        cblas_sgemm(CblasRowMajor, transA, transB, Int32(m), Int32(n), Int32(k), 1,
                    a.assumingMemoryBound(to: Float.self), Int32(lda), b.assumingMemoryBound(to: Float.self), Int32(ldb),
                    Float(beta), c.assumingMemoryBound(to: Float.self), Int32(ldc))
    } else {
        cblas_dgemm(CblasRowMajor, transA, transB, Int32(m), Int32(n), Int32(k), 1,
                    a.assumingMemoryBound(to: Double.self), Int32(lda), b.assumingMemoryBound(to: Double.self), Int32(ldb),
                    beta, c.assumingMemoryBound(to: Double.self), Int32(ldc))
    }
}
