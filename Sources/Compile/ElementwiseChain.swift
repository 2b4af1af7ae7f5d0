import CKernels
@_spi(Autodiff) import TensorCore

/// A chain of elementwise ops planned into one pass over memory: each op's input
/// is the previous op's result (plus at most one other operand of the same shape,
/// or a single element), and the chain runs tile by tile, so the intermediate
/// results live in two small scratch tiles that stay in L1 instead of full-size
/// buffers written and read back. Each op uses the same kernel as in eager mode,
/// element by element, so the results are identical.
struct ElementwiseChain {
    enum Kernel {
        case unary(ck_unary_op)
        /// `previousOnLeft`: the chain's running value is the left operand.
        case binary(ck_binary_op, previousOnLeft: Bool)
    }

    struct Link {
        let kernel: Kernel
        /// The other operand's position among the step's inputs (binary ops only).
        let operand: Int?
    }

    /// The first op reads `firstInput` (position among the step's inputs).
    let firstInput: Int
    let links: [Link]
    let shape: TensorShape
    let dtype: DType

    /// Elements per tile: two scratch tiles of this many doubles fit in L1 with room.
    static let tile = 1024

    /// The kernel of an op that can join a chain (float elementwise, no broadcasting
    /// beyond single elements), or nil.
    static func kernel(of op: DifferentiableOp) -> (unary: ck_unary_op?, binary: ck_binary_op?)? {
        switch op {
        case .unary(let u): return (u.fusionKernel, nil)
        case .binary(let b): return (nil, b.fusionKernel)
        case .sum, .prod, .max, .min, .matmul, .reshape, .transpose, .broadcast, .stridedSlice, .stridedEmbed,
             .concatenate, .gather, .scatterAdd, .select, .cast, .clip, .softmax, .logSoftmax, .reluGradient,
             .sigmoidGradient, .linear, .sparseSoftmaxCrossEntropy, .sparseSoftmaxCrossEntropyGradient, .customGradient,
             .cumsum, .takeAlongLastAxis, .putAlongLastAxis, .conv, .convRelu, .convBackpropInput, .convBackpropFilter, .maxPool,
             .maxPoolBackprop, .maxPoolSelect, .avgPool, .avgPoolBackprop, .linalg:
            return nil
        }
    }

    /// Runs the chain on `inputs` into a new tensor (which takes a planned buffer
    /// when the replay offers one), using `scratch` (two tiles of 8-byte elements).
    func run(_ inputs: [Tensor], scratch: UnsafeMutableRawPointer) -> Tensor {
        let out = Tensor.uninitialized(shape, dtype: dtype)
        let n = out.count
        let size = dtype.byteSize
        let ck = dtype.kernelType
        let tiles = [scratch, scratch + ElementwiseChain.tile * 8]
        var start = 0
        while start < n {
            let length = Swift.min(ElementwiseChain.tile, n - start)
            func pointer(_ k: Int) -> (UnsafeRawPointer, Int) {
                let t = inputs[k]
                return t.count == 1 ? (UnsafeRawPointer(t.unsafeElements), 0)
                                    : (UnsafeRawPointer(t.unsafeElements + start * size), 1)
            }
            var (current, currentStride) = pointer(firstInput)
            for (i, link) in links.enumerated() {
                let destination = i == links.count - 1 ? out.unsafeElements + start * size : tiles[i % 2]
                switch link.kernel {
                case .unary(let op):
                    ck_unary(op, ck, current, destination, length)
                case .binary(let op, let previousOnLeft):
                    let (other, otherStride) = pointer(link.operand!)
                    if previousOnLeft {
                        _ = ck_binary(op, ck, current, currentStride, other, otherStride, destination, length)
                    } else {
                        _ = ck_binary(op, ck, other, otherStride, current, currentStride, destination, length)
                    }
                }
                current = UnsafeRawPointer(destination)
                currentStride = 1
            }
            start += length
        }
        return out
    }
}
