import CKernels

/// A differentiable operation as a gradient tape sees it: what was computed, with
/// the attributes its gradient rule needs. Inputs and output travel beside it.
@_spi(Autodiff)
public enum DifferentiableOp: Sendable {
    case add, subtract, multiply, divide, negate, pow, maximum, minimum
    case exp, log, log1p, expm1, sqrt, rsqrt, reciprocal, tanh, sigmoid, softplus, sin, cos, erf
    case square, abs, relu
    /// floor, ceil, round, sign (named): gradient zero almost everywhere.
    case piecewiseConstant(String)
    case sum(axes: [Int], keepDims: Bool)
    case prod(axes: [Int], keepDims: Bool)
    case max(axes: [Int], keepDims: Bool)
    case min(axes: [Int], keepDims: Bool)
    case matmul(transposeA: Bool, transposeB: Bool)
    /// reshaped, expandingShape, squeezingShape: the same elements in a new shape.
    case reshape
    case transpose(permutation: [Int])
    case broadcast
    /// The output reads the input at `offset + Σ index[i] * strides[i]` (slicing, split).
    case stridedSlice(strides: [Int], offset: Int)
    /// The adjoint of a strided slice: zeros of `shape` with the input written at
    /// the strided positions.
    case stridedEmbed(shape: TensorShape, strides: [Int], offset: Int)
    case concatenate(axis: Int)
    case gather(indices: Tensor, axis: Int)
    /// The adjoint of gather: rows summed into a zero tensor with `size` rows along `axis`.
    case scatterAdd(indices: Tensor, axis: Int, size: Int)
    case select(condition: Tensor)
    case cast
    case clip(min: Double, max: Double)
    /// Fused softmax / log-softmax along the last axis.
    case softmax(axis: Int)
    case logSoftmax(axis: Int)
    /// relu's gradient as an op: inputs (g, x), output `x > 0 ? g : 0`.
    case reluGradient
    /// sigmoid's gradient as an op: inputs (g, y) with y = sigmoid(x), output `g·y·(1 - y)`.
    case sigmoidGradient
    /// `x·w + b` in one GEMM (inputs x, w, b).
    case linear
    /// Per-example `-log softmax(logits)[label]` (input: logits).
    case sparseSoftmaxCrossEntropy(labels: Tensor)
    /// Its gradient in one op: inputs (logits, upstream), output
    /// `upstream[..., None] * (softmax(logits) - oneHot(labels))`.
    case sparseSoftmaxCrossEntropyGradient(labels: Tensor)
}

/// The per-thread receiver of recorded ops, implemented by the Autodiff module.
/// It is installed on a thread only while some tape records there, so that an op
/// with no tape pays a single thread-local load.
@_spi(Autodiff)
open class TapeContext {
    public init() {}

    /// Called after every differentiable op while this context is installed.
    open func record(_ op: DifferentiableOp, inputs: [Tensor], output: Tensor) {}

    /// The context installed on the calling thread, if any.
    @inlinable public static var current: TapeContext? {
        guard let raw = ck_tape_context() else { return nil }
        return Unmanaged<TapeContext>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Installs (or with nil removes) the calling thread's context. The caller
    /// keeps the context alive while it is installed.
    public static func install(_ context: TapeContext?) {
        ck_set_tape_context(context.map { Unmanaged.passUnretained($0).toOpaque() })
    }
}

extension Tensor {
    /// Reports `self` as the output of `op` to the thread's tapes and to a tracing
    /// compiled function, if any.
    @inline(__always)
    func recorded(_ op: @autoclosure () -> DifferentiableOp, _ inputs: @autoclosure () -> [Tensor]) -> Tensor {
        if let context = TapeContext.current { context.record(op(), inputs: inputs(), output: self) }
        if let trace = TraceContext.current { trace.record(.differentiable(op()), inputs: inputs(), output: self) }
        return self
    }
}

/// The same value with a new identity that no tape connects to its inputs, as
/// `tf.stop_gradient`: gradients do not flow back through it.
public func stopGradient(_ x: Tensor) -> Tensor {
    Tensor(storage: x.storage, shape: x.shape).traced("stopGradient", [x], replay: { stopGradient($0[0]) })
}
