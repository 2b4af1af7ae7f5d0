@_spi(Autodiff) import TensorCore

// The gradient rule of every differentiable op, one short case each, in the
// manner of tinygrad's table. Every rule is written with the public
// differentiable ops, so a tape that is recording while another tape computes
// its gradients records this backward pass too: that is how nested tapes give
// second and higher derivatives. Ops built from others (mean, softmax,
// logSumExp, tile, stack, split, ...) need no rule of their own.

/// The gradient of a broadcast operand: `g` summed over the axes that
/// broadcasting added or stretched, back to `shape`. The one place where
/// broadcasting is undone.
func unbroadcast(_ g: Tensor, to shape: TensorShape) -> Tensor {
    if g.shape == shape { return g }
    let extra = g.rank - shape.rank
    var axes = Array(0..<extra)
    for i in 0..<shape.rank where shape[i] == 1 && g.shape[i + extra] != 1 { axes.append(i + extra) }
    return g.sum(axes: axes).reshaped(to: shape)
}

/// The gradients of `op` with respect to each input (nil where `needs` is false),
/// given the gradient `g` of its output `y`. (A free function rather than a method
/// of `DifferentiableOp` so that `exp`, `matmul`, ... name the math, not the cases.)
func gradients(of op: DifferentiableOp, inputs x: OpInputs, output y: Tensor, upstream g: Tensor,
               needs: [Bool]) -> [Tensor?] {
    // Made only by the rules that use it (most do not).
    lazy var zero = Tensor(0, dtype: g.dtype)
    /// Both gradients of a broadcasting binary op, each computed only if needed.
    func binary(_ ga: @autoclosure () -> Tensor, _ gb: @autoclosure () -> Tensor) -> [Tensor?] {
        [needs[0] ? unbroadcast(ga(), to: x[0].shape) : nil, needs[1] ? unbroadcast(gb(), to: x[1].shape) : nil]
    }
    switch op {
    case .unary(let u):
        return [unaryGradient(u, x: x[0], y: y, g: g)]
    case .binary(let b):
        switch b {
        case .add: return binary(g, g)
        case .subtract: return binary(g, -g)
        case .multiply: return binary(g * x[1], g * x[0])
        case .divide: return binary(g / x[1], -g * x[0] / square(x[1]))
        case .pow:
            return binary(g * x[1] * pow(x[0], x[1] - 1),
                          g * y * `where`(x[0] .> 0, log(abs(x[0]) + `where`(x[0] .> 0, zero, Tensor(1, dtype: g.dtype))), zero))
        case .maximum:
            let mask = x[0] .>= x[1]
            return binary(`where`(mask, g, zero), `where`(mask, zero, g))
        case .minimum:
            let mask = x[0] .<= x[1]
            return binary(`where`(mask, g, zero), `where`(mask, zero, g))
        }
    case .sigmoidGradient:
        // out = u·y·(1 - y): d/du = y·(1 - y) (the same op), d/dy = u·(1 - 2y).
        return [needs[0] ? x[1].sigmoidGradient(g) : nil, needs[1] ? g * x[0] * (1 - 2 * x[1]) : nil]
    case .reluGradient: return [needs[0] ? x[1].reluGradient(g) : nil, nil]
    case .linear:
        return [needs[0] ? matmul(g, x[1], transposeB: true) : nil,
                needs[1] ? matmul(x[0], g, transposeA: true) : nil,
                needs[2] ? g.sum(axes: [0]) : nil]
    case .sparseSoftmaxCrossEntropy(let labels):
        return [sparseSoftmaxCrossEntropyGradient(logits: x[0], labels: labels, upstream: g)]
    case .sparseSoftmaxCrossEntropyGradient(let labels):
        // out = u·(s - y) per row, with s = softmax(logits): d/du sums over the
        // classes; d/dlogits is the softmax Jacobian applied to v = upstream·u.
        let last = x[0].rank - 1
        let s = softmax(x[0])
        let v = g * x[1].expandingShape(at: -1)
        let classes = x[0].shape[last]
        return [needs[0] ? s * (v - (v * s).sum(axes: [last], keepDims: true)) : nil,
                needs[1] ? (g * (s - oneHot(labels, depth: classes, dtype: x[0].dtype))).sum(axes: [last]) : nil]

    case .sum(let axes, let keepDims):
        return [expandReduced(g, axes: axes, keepDims: keepDims, like: x[0]).broadcasted(to: x[0].shape)]
    case .prod(let axes, let keepDims):
        // Zero-safe: the product of the other elements. With x' = x where x ≠ 0 and 1
        // at zeros, and P' = prod(x'): no zero gives P'/x; one zero gives P' at the
        // zero and P'/x'·s elsewhere, where s (the sum of the zero elements) is 0 in
        // value but carries d/dx of the zero, so second derivatives stay right; two or
        // more zeros give 0.
        let gb = expandReduced(g, axes: axes, keepDims: keepDims, like: x[0])
        let one = Tensor(1, dtype: g.dtype)
        let isZero = x[0] .== zero
        let nonZero = `where`(isZero, one, x[0])
        let product = nonZero.prod(axes: axes, keepDims: true)
        let zeros = isZero.cast(to: g.dtype).sum(axes: axes, keepDims: true)
        let s = `where`(isZero, x[0], zero).sum(axes: axes, keepDims: true)
        let others = `where`(isZero, one, `where`(zeros .== zero, one, s))
        return [gb * `where`(zeros .>= 2, zero, product / nonZero * others)]
    case .max(let axes, let keepDims), .min(let axes, let keepDims):
        // Ties share the gradient equally, as in TensorFlow.
        let yb = expandReduced(y, axes: axes, keepDims: keepDims, like: x[0])
        let mask = (x[0] .== yb).cast(to: x[0].dtype)
        let gb = expandReduced(g, axes: axes, keepDims: keepDims, like: x[0])
        return [gb * mask / mask.sum(axes: axes, keepDims: true)]

    case .matmul(let ta, let tb):
        let (a, b) = (x[0], x[1])
        switch (ta, tb) {
        case (false, false): return binary(matmul(g, b, transposeB: true), matmul(a, g, transposeA: true))
        case (true, false): return binary(matmul(b, g, transposeB: true), matmul(a, g))
        case (false, true): return binary(matmul(g, b), matmul(g, a, transposeA: true))
        case (true, true): return binary(matmul(b, g, transposeA: true, transposeB: true),
                                         matmul(g, a, transposeA: true, transposeB: true))
        }

    case .reshape: return [g.reshaped(to: x[0].shape)]
    case .transpose(let permutation):
        var inverse = permutation
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return [g.transposed(permutation: inverse)]
    case .broadcast: return [unbroadcast(g, to: x[0].shape)]
    case .stridedSlice(let strides, let offset):
        return [g.stridedEmbedded(into: x[0].shape, strides: strides, offset: offset)]
    case .stridedEmbed(_, let strides, let offset):
        return [g.stridedSliced(shape: x[0].shape, strides: strides, offset: offset)]
    case .concatenate(let axis):
        let parts = g.split(sizes: x.map { $0.shape[axis] }, alongAxis: axis)
        return zip(parts, needs).map { $1 ? $0 : nil }
    case .gather(let indices, let axis):
        return [g.scatterAdded(atIndices: indices, alongAxis: axis, size: x[0].shape[axis])]
    case .scatterAdd(let indices, let axis, _):
        return [g.gathering(atIndices: indices, alongAxis: axis)]
    case .select(let condition):
        return binary(`where`(condition, g, zero), `where`(condition, zero, g))
    case .cast: return [g.cast(to: x[0].dtype)]
    case .softmax(let axis): return [y * (g - (g * y).sum(axis: axis, keepDims: true))]
    case .logSoftmax(let axis): return [g - exp(y) * g.sum(axis: axis, keepDims: true)]
    case .takeAlongLastAxis(let indices):
        return [g.puttingAlongLastAxis(indices, size: x[0].shape[x[0].rank - 1])]
    case .putAlongLastAxis(let indices, _):
        return [g.takingAlongLastAxis(indices)]
    // Each input element feeds the running sums after it (before it, reversed).
    case .cumsum(let axis, let exclusive, let reverse):
        return [g.cumsum(axis: axis, exclusive: exclusive, reverse: !reverse)]
    // The convolution and its two backprop ops are one bilinear form read three
    // ways, so each one's gradients are the other two (as TensorFlow's).
    // A fused bias (the optional third input of .conv) gets g summed over all
    // but the channel axis.
    case .conv(let geometry):
        let grads = [needs[0] ? convBackpropInput(g, x[1], geometry: geometry) : nil,
                     needs[1] ? convBackpropFilter(x[0], g, geometry: geometry) : nil]
        return x.count == 2 ? grads : grads + [needs[2] ? g.sum(axes: Array(0..<(g.rank - 1))) : nil]
    // With a fused relu, the convolution's gradients of g masked where the output
    // is 0 (y > 0 exactly where the pre-activation is).
    case .convRelu(let geometry):
        let dz = y.reluGradient(g)
        let grads = [needs[0] ? convBackpropInput(dz, x[1], geometry: geometry) : nil,
                     needs[1] ? convBackpropFilter(x[0], dz, geometry: geometry) : nil]
        return x.count == 2 ? grads : grads + [needs[2] ? dz.sum(axes: Array(0..<(dz.rank - 1))) : nil]
    case .convBackpropInput(let geometry):
        return [needs[0] ? convolve(g, x[1], geometry) : nil, needs[1] ? convBackpropFilter(g, x[0], geometry: geometry) : nil]
    case .convBackpropFilter(let geometry):
        return [needs[0] ? convBackpropInput(x[1], g, geometry: geometry) : nil, needs[1] ? convolve(x[0], g, geometry) : nil]
    // The argmax positions are piecewise constant in x: no gradient flows to x.
    case .maxPool(let geometry): return [maxPoolBackprop(x[0], g, geometry: geometry)]
    case .maxPoolBackprop(let geometry): return [nil, maxPoolSelect(x[0], g, geometry: geometry)]
    case .maxPoolSelect(let geometry): return [nil, maxPoolBackprop(x[0], g, geometry: geometry)]
    case .avgPool(let geometry): return [avgPoolBackprop(g, geometry: geometry)]
    case .avgPoolBackprop(let geometry): return [avgPool(g, geometry: geometry)]
    case .customGradient(let rule):
        // The caller's closure gives the inputs' gradients; the computed value (the
        // last input) passes none on.
        let grads = rule.gradient(g)
        precondition(grads.count == x.count - 1,
                     "customGradient: the gradient closure returned \(grads.count) gradients for \(x.count - 1) inputs")
        for (k, grad) in grads.enumerated() {
            if let grad {
                precondition(grad.shape == x[k].shape,
                             "customGradient: gradient \(k) has shape \(grad.shape), but input \(k) has shape \(x[k].shape)")
            }
        }
        return grads + [nil]
    case .linalg(let linalgOp):
        return linalgGradients(linalgOp, inputs: x, output: y, upstream: g, needs: needs)
    case .clip(let lo, let hi):
        return [`where`(logicalAnd(x[0] .>= lo, x[0] .<= hi), g, zero)]
    }
}

/// The gradient of the unary op `op` at `x` (output `y`), given the output's gradient `g`.
private func unaryGradient(_ op: UnaryOp, x: Tensor, y: Tensor, g: Tensor) -> Tensor {
    switch op {
    case .negate: return -g
    case .exp: return g * y
    // 1/x as its own op: the second derivative is then -g·(1/x)·(1/x), which stays
    // finite where x·x would flush to zero (x = 6e-20 in float32).
    case .log: return g * reciprocal(x)
    case .log1p: return g / (x + 1)
    case .expm1: return g * (y + 1)
    case .sqrt: return g / (y * 2)
    // -½·g·y/x = -½·g·x^(-3/2), without forming y³ (which overflows at x = 2e-26).
    case .rsqrt: return g * y * -0.5 / x
    case .reciprocal: return -g * y * y
    case .tanh: return g * (1 - y * y)
    case .sigmoid: return y.sigmoidGradient(g)
    case .softplus: return g * sigmoid(x)
    case .sin: return g * cos(x)
    case .cos: return -g * sin(x)
    case .erf: return g * exp(-square(x)) * (2 / Double.pi.squareRoot())
    case .square: return g * x * 2
    case .abs: return g * sign(x)
    case .relu: return x.reluGradient(g)
    case .floor, .ceil, .round, .sign: return Tensor.zeros(like: x)
    }
}

/// A reduction's result (or its gradient) reshaped to keep the reduced axes as
/// size 1, ready to broadcast against the reduction's input.
private func expandReduced(_ t: Tensor, axes: [Int], keepDims: Bool, like input: Tensor) -> Tensor {
    if keepDims { return t }
    var dims = input.shape.dimensions
    for a in axes { dims[a] = 1 }
    return t.reshaped(to: TensorShape(dims))
}
