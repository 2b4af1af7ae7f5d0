@_spi(Autodiff) import TensorCore

extension TracedOp {
    /// The op as a function of the replayed inputs (any data attribute last), for
    /// an output of `shape` and `dtype` as traced.
    func executor(shape: TensorShape, dtype: DType) -> ([Tensor]) -> Tensor {
        switch self {
        case .custom(_, let compute): return compute
        case .differentiable(let op): return op.executor(shape: shape, dtype: dtype)
        }
    }
}

extension DifferentiableOp {
    /// The op as a function of the replayed inputs, resolved once at planning
    /// time (the replay loop then makes one indirect call, with no switch).
    func executor(shape: TensorShape, dtype: DType) -> ([Tensor]) -> Tensor {
        switch self {
        case .unary(let op): return { x in x[0].applying(op) }
        case .binary(let op): return { x in Tensor.applying(op, x[0], x[1]) }
        case .sum(let axes, let keepDims): return { x in x[0].sum(axes: axes, keepDims: keepDims) }
        case .prod(let axes, let keepDims): return { x in x[0].prod(axes: axes, keepDims: keepDims) }
        case .max(let axes, let keepDims): return { x in x[0].max(axes: axes, keepDims: keepDims) }
        case .min(let axes, let keepDims): return { x in x[0].min(axes: axes, keepDims: keepDims) }
        case .matmul(let ta, let tb): return { x in TensorCore.matmul(x[0], x[1], transposeA: ta, transposeB: tb) }
        case .reshape: return { x in x[0].reshaped(to: shape) }
        case .transpose(let permutation): return { x in x[0].transposed(permutation: permutation) }
        case .broadcast: return { x in x[0].broadcasted(to: shape) }
        case .stridedSlice(let strides, let offset): return { x in x[0].stridedSliced(shape: shape, strides: strides, offset: offset) }
        case .stridedEmbed(let outShape, let strides, let offset):
            return { x in x[0].stridedEmbedded(into: outShape, strides: strides, offset: offset) }
        case .concatenate(let axis): return { x in Tensor(concatenating: x, alongAxis: axis) }
        case .gather(_, let axis): return { x in x[0].gathering(atIndices: x[1], alongAxis: axis) }
        case .scatterAdd(_, let axis, let size): return { x in x[0].scatterAdded(atIndices: x[1], alongAxis: axis, size: size) }
        case .select: return { x in TensorCore.where(x[2], x[0], x[1]) }
        case .cast: return { x in x[0].cast(to: dtype) }
        case .clip(let lo, let hi): return { x in x[0].clipped(min: lo, max: hi) }
        case .softmax(let axis): return { x in TensorCore.softmax(x[0], axis: axis) }
        case .logSoftmax(let axis): return { x in TensorCore.logSoftmax(x[0], axis: axis) }
        case .reluGradient: return { x in x[1].reluGradient(x[0]) }
        case .sigmoidGradient: return { x in x[1].sigmoidGradient(x[0]) }
        case .linear: return { x in TensorCore.linear(x[0], x[1], x[2]) }
        case .sparseSoftmaxCrossEntropy: return { x in TensorCore.sparseSoftmaxCrossEntropy(logits: x[0], labels: x[1]) }
        // The value was computed by the traced ops before it; the op only marks it.
        case .customGradient: return { x in x[x.count - 1] }
        case .takeAlongLastAxis: return { x in x[0].takingAlongLastAxis(x[1]) }
        case .putAlongLastAxis(_, let size): return { x in x[0].puttingAlongLastAxis(x[1], size: size) }
        case .cumsum(let axis, let exclusive, let reverse):
            return { x in x[0].cumsum(axis: axis, exclusive: exclusive, reverse: reverse) }
        case .conv(let g): return { x in TensorCore.convolve(x[0], x[1], g, bias: x.count > 2 ? x[2] : nil) }
        case .convRelu(let g): return { x in TensorCore.convolve(x[0], x[1], g, bias: x.count > 2 ? x[2] : nil, relu: true) }
        case .convBackpropInput(let g): return { x in TensorCore.convBackpropInput(x[0], x[1], geometry: g) }
        case .convBackpropFilter(let g): return { x in TensorCore.convBackpropFilter(x[0], x[1], geometry: g) }
        case .maxPool(let g): return { x in TensorCore.maxPool(x[0], geometry: g) }
        case .maxPoolBackprop(let g): return { x in TensorCore.maxPoolBackprop(x[0], x[1], geometry: g) }
        case .maxPoolSelect(let g): return { x in TensorCore.maxPoolSelect(x[0], x[1], geometry: g) }
        case .avgPool(let g): return { x in TensorCore.avgPool(x[0], geometry: g) }
        case .avgPoolBackprop(let g): return { x in TensorCore.avgPoolBackprop(x[0], geometry: g) }
        case .linalg(let op): return { x in TensorCore.linalg(op, x) }
        case .sparseSoftmaxCrossEntropyGradient:
            return { x in TensorCore.sparseSoftmaxCrossEntropyGradient(logits: x[0], labels: x[2], upstream: x[1]) }
        }
    }
}
