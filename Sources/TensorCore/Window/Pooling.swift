import CKernels

/// Max pooling of channels-last `x` (N, spatial…, C) over windows of `poolSize`,
/// as `tf.nn.max_pool`: 1 to 3 spatial axes; `strides` default to the pool size;
/// `"same"` padding never picks a padded element. The gradient goes to the first
/// maximum of each window in row-major order, as TensorFlow's; differentiable to
/// any order.
///
/// ```swift
/// maxPool(Tensor.ones([1, 28, 28, 3]), poolSize: [2, 2]).shape   // (1, 14, 14, 3)
/// ```
///
/// - Parameters:
///   - x: the input, batch first and channels last.
///   - poolSize: the window per spatial axis.
///   - strides: steps between windows (nil: the pool size).
///   - padding: `.valid` (default) or `.same`.
public func maxPool(_ x: Tensor, poolSize: [Int], strides: [Int]? = nil, padding: Padding = .valid) -> Tensor {
    let g = poolGeometry(x, poolSize, strides, padding, op: "maxPool\(poolSize.count)D")
    return maxPool(x, geometry: g)
}

/// Average pooling of channels-last `x` over windows of `poolSize`, as
/// `tf.nn.avg_pool`: with `"same"` padding each window averages only its real
/// elements. Differentiable to any order.
///
/// ```swift
/// avgPool(Tensor.ones([1, 5, 5, 1]), poolSize: [2, 2], padding: .same).shape   // (1, 3, 3, 1), all 1
/// ```
///
/// - Parameters:
///   - x: the input, batch first and channels last.
///   - poolSize: the window per spatial axis.
///   - strides: steps between windows (nil: the pool size).
///   - padding: `.valid` (default) or `.same`.
public func avgPool(_ x: Tensor, poolSize: [Int], strides: [Int]? = nil, padding: Padding = .valid) -> Tensor {
    let g = poolGeometry(x, poolSize, strides, padding, op: "avgPool\(poolSize.count)D")
    return avgPool(x, geometry: g)
}

private func poolGeometry(_ x: Tensor, _ poolSize: [Int], _ strides: [Int]?, _ padding: Padding, op: String) -> WindowGeometry {
    precondition(x.dtype.isFloatingPoint, "\(op): expected a float32 or float64 tensor, got \(x.dtype) \(x.shape)\(currentScopeDescription)")
    precondition(padding != .causal, "\(op): padding must be valid or same\(currentScopeDescription)")
    precondition(x.shape.dimensions.dropFirst().reduce(1, *) < Int(Int32.max),
                 "\(op): one image of \(x.shape) holds 2^31 or more elements; pooling indexes images with 32 bits\(currentScopeDescription)")
    return WindowGeometry(input: x.shape, window: poolSize, strides: strides ?? poolSize, padding: padding, op: op)
}

/// Runs a pooling kernel over the images of a batch, split over the threads.
private func overImages(_ g: WindowGeometry, _ body: (UnsafePointer<Int>, Int, Int) -> Void) {
    let work = g.output.reduce(1, *) * g.window.reduce(1, *) * g.inChannels
    g.packed.withUnsafeBufferPointer { geometry in
        Threading.parallelFor(g.batch, grain: Swift.max(1, (1 << 16) / Swift.max(1, work))) { images in
            body(geometry.baseAddress!, images.lowerBound, images.upperBound)
        }
    }
}

@_spi(Autodiff)
extension Tensor {
    fileprivate func checkPooling(_ g: WindowGeometry, _ shape: TensorShape, op: String) {
        precondition(dtype.isFloatingPoint && self.shape == shape,
                     "\(op): expected a float tensor of shape \(shape), got \(dtype) \(self.shape) (\(g))\(currentScopeDescription)")
    }
}

/// Max pooling over a checked geometry (the recorded op `.maxPool`).
@_spi(Autodiff)
public func maxPool(_ x: Tensor, geometry g: WindowGeometry) -> Tensor {
    x.checkPooling(g, g.inputShape, op: "maxPool")
    let y = Tensor(uninitializedShape: g.outputShape, dtype: x.dtype)
    if y.count > 0 { overImages(g) { ck_max_pool(x.dtype.ck, $0, x.storage.data, y.storage.data, $1, $2) } }
    return y.recorded(.maxPool(g), OpInputs(x))
}

/// Max pooling's gradient: `g` (pooled shape) sent to each window's first
/// maximum of `x`, zeros elsewhere (the recorded op `.maxPoolBackprop`).
@_spi(Autodiff)
public func maxPoolBackprop(_ x: Tensor, _ upstream: Tensor, geometry g: WindowGeometry) -> Tensor {
    x.checkPooling(g, g.inputShape, op: "maxPoolBackprop")
    upstream.checkPooling(g, g.outputShape, op: "maxPoolBackprop")
    let dx = Tensor(uninitializedShape: g.inputShape, dtype: x.dtype)
    if dx.count > 0 {
        overImages(g) { ck_max_pool_backprop(x.dtype.ck, $0, x.storage.data, upstream.storage.data, dx.storage.data, $1, $2) }
    }
    return dx.recorded(.maxPoolBackprop(g), OpInputs(x, upstream))
}

/// `values` (the input's shape) read at each window's first maximum of `x`: the
/// gradient of ``maxPoolBackprop(_:_:geometry:)`` in its upstream (the recorded op `.maxPoolSelect`).
@_spi(Autodiff)
public func maxPoolSelect(_ x: Tensor, _ values: Tensor, geometry g: WindowGeometry) -> Tensor {
    x.checkPooling(g, g.inputShape, op: "maxPoolSelect")
    values.checkPooling(g, g.inputShape, op: "maxPoolSelect")
    let out = Tensor(uninitializedShape: g.outputShape, dtype: x.dtype)
    if out.count > 0 {
        overImages(g) { ck_max_pool_select(x.dtype.ck, $0, x.storage.data, values.storage.data, out.storage.data, $1, $2) }
    }
    return out.recorded(.maxPoolSelect(g), OpInputs(x, values))
}

/// Average pooling over a checked geometry (the recorded op `.avgPool`).
@_spi(Autodiff)
public func avgPool(_ x: Tensor, geometry g: WindowGeometry) -> Tensor {
    x.checkPooling(g, g.inputShape, op: "avgPool")
    let y = Tensor(uninitializedShape: g.outputShape, dtype: x.dtype)
    if y.count > 0 { overImages(g) { ck_avg_pool(0, x.dtype.ck, $0, x.storage.data, y.storage.data, $1, $2) } }
    return y.recorded(.avgPool(g), OpInputs(x))
}

/// Average pooling's gradient: each window's `g` shared among its real elements
/// (the recorded op `.avgPoolBackprop`, linear; its gradient is ``avgPool(_:geometry:)``).
@_spi(Autodiff)
public func avgPoolBackprop(_ upstream: Tensor, geometry g: WindowGeometry) -> Tensor {
    upstream.checkPooling(g, g.outputShape, op: "avgPoolBackprop")
    let dx = Tensor(uninitializedShape: g.inputShape, dtype: upstream.dtype)
    if dx.count > 0 {
        overImages(g) { ck_avg_pool(1, upstream.dtype.ck, $0, upstream.storage.data, dx.storage.data, $1, $2) }
    } 
    return dx.recorded(.avgPoolBackprop(g), OpInputs(upstream))
}
