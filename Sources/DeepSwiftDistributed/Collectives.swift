import CMPI
import DeepSwift
@_spi(Autodiff) import TensorCore

extension Distributed {
    /// How ``allreduce(_:op:)`` combines the processes' tensors.
    public enum ReduceOp: Sendable {
        /// The element-wise sum.
        case sum
        /// The element-wise mean (floating-point tensors), Horovod's default.
        case average
        /// The element-wise minimum.
        case min
        /// The element-wise maximum.
        case max
    }

    /// The element-wise sum (or mean, minimum, maximum) of `tensor` over all
    /// processes, on every process, as Horovod's `allreduce`. Every process
    /// passes a tensor of the same shape and dtype (float32, float64, int32 or
    /// int64).
    ///
    /// ```swift
    /// // let meanLoss = Distributed.allreduce(loss, op: .average)
    /// ```
    ///
    /// - Parameters:
    ///   - tensor: this process's tensor.
    ///   - op: `.average` (default), `.sum`, `.min` or `.max`.
    /// - Returns: the combined tensor, of `tensor`'s shape and dtype.
    public static func allreduce(_ tensor: Tensor, op: ReduceOp = .average) -> Tensor {
        let type = mpiType(tensor.dtype, "allreduce")
        precondition(op != .average || tensor.dtype.isFloatingPoint,
                     "Distributed.allreduce: .average needs a floating-point tensor, got \(tensor.dtype); use .sum")
        let world = Distributed.world
        world.arrive(.allreduce, bytes: tensor.count * tensor.dtype.byteSize)
        guard world.usesMPI, world.size > 1, tensor.count > 0 else { return tensor }
        var out = tensor
        let mpiOp: MPI_Op? = switch op {
        case .sum, .average: cmpi_sum()
        case .min: cmpi_min()
        case .max: cmpi_max()
        }
        out.withUnsafeMutableData {
            world.allreduceInPlace($0, count: tensor.count, type: type, elementSize: tensor.dtype.byteSize, op: mpiOp)
        }
        return op == .average ? out * (1 / Double(world.size)) : out
    }

    /// Rank `root`'s `tensor`, on every process, as Horovod's `broadcast`. Every
    /// process passes a tensor of the same shape and dtype.
    ///
    /// - Parameters:
    ///   - tensor: the value to send (on `root`), or a tensor of its shape.
    ///   - root: the rank whose tensor everyone receives.
    public static func broadcast(_ tensor: Tensor, root: Int = 0) -> Tensor {
        let world = Distributed.world
        precondition((0..<world.size).contains(root), "Distributed.broadcast: root \(root) is not a rank of 0..<\(world.size)")
        let bytes = tensor.count * tensor.dtype.byteSize
        world.arrive(.broadcast, bytes: bytes)
        guard world.usesMPI, world.size > 1, bytes > 0 else { return tensor }
        var out = tensor
        out.withUnsafeMutableData { world.broadcast($0, bytes: bytes, root: root) }
        return out
    }

    /// Sets every variable to its value on rank `root`, as Horovod's
    /// `broadcast_variables`: every process then starts from the same weights.
    ///
    /// ```swift
    /// // Distributed.broadcastVariables(model.weights)
    /// ```
    ///
    /// All processes pass the same variables (shapes and dtypes) in the same order;
    /// they travel in one message per 1 GiB.
    public static func broadcastVariables(_ variables: [Variable], root: Int = 0) {
        let world = Distributed.world
        precondition((0..<world.size).contains(root), "Distributed.broadcastVariables: root \(root) is not a rank of 0..<\(world.size)")
        let bytes = variables.reduce(0) { $0 + $1.value.count * $1.value.dtype.byteSize }
        world.arrive(.broadcast, bytes: bytes)
        guard world.usesMPI, world.size > 1, bytes > 0 else { return }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        for v in variables {
            let n = v.value.count * v.value.dtype.byteSize
            v.value.withUnsafeData { (buffer + offset).copyMemory(from: $0, byteCount: n) }
            offset += n
        }
        world.broadcast(buffer, bytes: bytes, root: root)
        guard world.rank != root else { return }
        offset = 0
        for v in variables {
            let n = v.value.count * v.value.dtype.byteSize
            var value = Tensor.zeros(v.value.shape, dtype: v.value.dtype)
            value.withUnsafeMutableData { $0.copyMemory(from: buffer + offset, byteCount: n) }
            v.assign(value)
            offset += n
        }
    }

    /// The sums of `values` over the processes (small control data: log sums,
    /// counts, seeds).
    static func sum(_ values: [Double]) -> [Double] {
        let world = Distributed.world
        world.arrive(.allreduce, bytes: values.count * 8)
        guard world.usesMPI, world.size > 1, !values.isEmpty else { return values }
        var out = values
        out.withUnsafeMutableBytes {
            world.allreduceInPlace($0.baseAddress!, count: values.count, type: cmpi_double(), elementSize: 8, op: cmpi_sum())
        }
        return out
    }

    static func mpiType(_ dtype: DType, _ op: String) -> MPI_Datatype? {
        switch dtype {
        case .float32: return cmpi_float()
        case .float64: return cmpi_double()
        case .int32: return cmpi_int32()
        case .int64: return cmpi_int64()
        default: preconditionFailure("Distributed.\(op): \(dtype) tensors cannot be reduced; use float32, float64, int32 or int64")
        }
    }
}
