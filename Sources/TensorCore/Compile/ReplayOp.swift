import CKernels

extension TracedOp {
    /// Computes the op again on `x` (the replayed inputs, with any data attribute
    /// last), for an output of `shape` and `dtype` as traced.
    func execute(_ x: [Tensor], shape: TensorShape, dtype: DType) -> Tensor {
        switch self {
        case .custom(_, let compute):
            return compute(x)
        case .differentiable(let op):
            return op.execute(x, shape: shape, dtype: dtype)
        }
    }
}

extension DifferentiableOp {
    func execute(_ x: [Tensor], shape: TensorShape, dtype: DType) -> Tensor {
        switch self {
        case .add: return x[0] + x[1]
        case .subtract: return x[0] - x[1]
        case .multiply: return x[0] * x[1]
        case .divide: return x[0] / x[1]
        case .negate: return -x[0]
        case .pow: return TensorCore.pow(x[0], x[1])
        case .maximum: return TensorCore.maximum(x[0], x[1])
        case .minimum: return TensorCore.minimum(x[0], x[1])
        case .exp: return TensorCore.exp(x[0])
        case .log: return TensorCore.log(x[0])
        case .log1p: return TensorCore.log1p(x[0])
        case .expm1: return TensorCore.expm1(x[0])
        case .sqrt: return TensorCore.sqrt(x[0])
        case .rsqrt: return TensorCore.rsqrt(x[0])
        case .reciprocal: return TensorCore.reciprocal(x[0])
        case .tanh: return TensorCore.tanh(x[0])
        case .sigmoid: return TensorCore.sigmoid(x[0])
        case .softplus: return TensorCore.softplus(x[0])
        case .sin: return TensorCore.sin(x[0])
        case .cos: return TensorCore.cos(x[0])
        case .erf: return TensorCore.erf(x[0])
        case .square: return TensorCore.square(x[0])
        case .abs: return TensorCore.abs(x[0])
        case .relu: return TensorCore.relu(x[0])
        case .piecewiseConstant(let name):
            switch name {
            case "floor": return TensorCore.floor(x[0])
            case "ceil": return TensorCore.ceil(x[0])
            case "round": return TensorCore.round(x[0])
            default: return TensorCore.sign(x[0])
            }
        case .sum(let axes, let keepDims): return x[0].sum(axes: axes, keepDims: keepDims)
        case .prod(let axes, let keepDims): return x[0].prod(axes: axes, keepDims: keepDims)
        case .max(let axes, let keepDims): return x[0].max(axes: axes, keepDims: keepDims)
        case .min(let axes, let keepDims): return x[0].min(axes: axes, keepDims: keepDims)
        case .matmul(let ta, let tb): return TensorCore.matmul(x[0], x[1], transposeA: ta, transposeB: tb)
        case .reshape: return x[0].reshaped(to: shape)
        case .transpose(let permutation): return x[0].transposed(permutation: permutation)
        case .broadcast: return x[0].broadcasted(to: shape)
        case .stridedSlice(let strides, let offset): return x[0].stridedSliced(shape: shape, strides: strides, offset: offset)
        case .stridedEmbed(let outShape, let strides, let offset):
            return x[0].stridedEmbedded(into: outShape, strides: strides, offset: offset)
        case .concatenate(let axis): return Tensor(concatenating: x, alongAxis: axis)
        case .gather(_, let axis): return x[0].gathering(atIndices: x[1], alongAxis: axis)
        case .scatterAdd(_, let axis, let size): return x[0].scatterAdded(atIndices: x[1], alongAxis: axis, size: size)
        case .select: return TensorCore.where(x[2], x[0], x[1])
        case .cast: return x[0].cast(to: dtype)
        case .clip(let lo, let hi): return x[0].clipped(min: lo, max: hi)
        case .softmax(let axis): return TensorCore.softmax(x[0], axis: axis)
        case .logSoftmax(let axis): return TensorCore.logSoftmax(x[0], axis: axis)
        case .reluGradient: return x[1].reluGradient(x[0])
        case .linear: return TensorCore.linear(x[0], x[1], x[2])
        case .sparseSoftmaxCrossEntropy: return TensorCore.sparseSoftmaxCrossEntropy(logits: x[0], labels: x[1])
        case .sparseSoftmaxCrossEntropyGradient:
            return TensorCore.sparseSoftmaxCrossEntropyGradient(logits: x[0], labels: x[2], upstream: x[1])
        }
    }
}
