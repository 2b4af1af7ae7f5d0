import CKernels

/// The adjoints of slicing and gathering, which gradient rules need and which are
/// differentiable themselves (each one's gradient is the other), so that second
/// derivatives flow through slices and gathers.
@_spi(Autodiff)
extension Tensor {
    /// The elements read at `offset + Σ index[i] * strides[i]` of `self`, as a new
    /// tensor of `shape` (a strided slice).
    public func stridedSliced(shape: TensorShape, strides: [Int], offset: Int) -> Tensor {
        gathered(shape: shape, strides: strides, offset: offset)
            .recorded(.stridedSlice(strides: strides, offset: offset), OpInputs(self))
    }

    /// Zeros of `shape` with `self` written at the strided positions: the transpose
    /// of ``stridedSliced(shape:strides:offset:)``.
    public func stridedEmbedded(into shape: TensorShape, strides: [Int], offset: Int) -> Tensor {
        let out = Tensor.zeros(shape, dtype: dtype)
        if count > 0 {
            var allStrides = [self.shape.contiguousStrides, strides]
            let dims = coalesceAxes(self.shape.dimensions, &allStrides)
            let size = dtype.byteSize
            ck_copy_nd(size, Int32(dims.count), dims, storage.data, allStrides[0],
                       out.storage.data + offset * size, allStrides[1])
        }
        return out.recorded(.stridedEmbed(shape: shape, strides: strides, offset: offset), OpInputs(self))
    }

    /// Slices of `self` along `axis` summed into zeros with `size` slices at
    /// `indices`: the transpose of ``gathering(atIndices:alongAxis:)``.
    public func scatterAdded(atIndices indices: Tensor, alongAxis axis: Int, size: Int) -> Tensor {
        let idx = indices.scalars(as: Int64.self)
        let outer = shape.dimensions[..<axis].reduce(1, *)
        let inner = shape.dimensions[(axis + indices.rank)...].reduce(1, *)
        var dims = Array(shape.dimensions[..<axis])
        dims.append(size)
        dims.append(contentsOf: shape.dimensions[(axis + indices.rank)...])
        let out = Tensor.zeros(TensorShape(dims), dtype: dtype)
        let bytes = dtype.byteSize
        for o in 0..<outer {
            for (j, i) in idx.enumerated() {
                precondition(i >= 0 && Int(i) < size, "scatterAdded: index \(i) is out of range for size \(size)")
                let dst = out.storage.data + (o * size + Int(i)) * inner * bytes
                let src = storage.data + (o * idx.count + j) * inner * bytes
                _ = ck_binary(CK_ADD, dtype.ck, dst, 1, src, 1, dst, inner)
            }
        }
        return out.recorded(.scatterAdd(indices: indices, axis: axis, size: size), OpInputs(self))
    }

    /// `self > 0 ? g : 0` elementwise: relu's gradient as one differentiable op
    /// (its own gradient with respect to `g` is the same mask).
    public func reluGradient(_ g: Tensor) -> Tensor {
        activationGradient(g, .reluGradient, "reluGradient", ck_relu_grad)
    }

    /// `g·self·(1 - self)` elementwise, where `self` is a sigmoid's output: its
    /// gradient in one pass (differentiable in both inputs).
    public func sigmoidGradient(_ g: Tensor) -> Tensor {
        activationGradient(g, .sigmoidGradient, "sigmoidGradient", ck_sigmoid_grad)
    }

    /// An activation's gradient `kernel(g, self)` as one recorded op.
    private func activationGradient(
        _ g: Tensor, _ op: DifferentiableOp, _ name: StaticString,
        _ kernel: (ck_dtype, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeMutableRawPointer?, Int) -> Void
    ) -> Tensor {
        precondition(g.shape == shape && g.dtype == dtype && dtype.isFloatingPoint,
                     "\(name): gradient \(g.shape) \(g.dtype) does not match \(shape) \(dtype)")
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        kernel(dtype.ck, g.storage.data, storage.data, out.storage.data, count)
        return out.recorded(op, OpInputs(g, self))
    }

    /// Adds `other` (of the same shape and dtype) into this tensor's memory, without
    /// recording: variable updates are state changes, not differentiable ops.
    public mutating func addInPlace(_ other: Tensor, scale: Double = 1) {
        precondition(shape == other.shape && dtype == other.dtype,
                     "assignAdd: value of shape \(other.shape) and dtype \(other.dtype) does not match \(shape), \(dtype)")
        makeUnique()
        // ±1 is one pass (SGD's assignSub is the common case); other scales need the product first.
        if scale == 1 || scale == -1 {
            _ = ck_binary(scale == 1 ? CK_ADD : CK_SUB, dtype.ck, storage.data, 1, other.storage.data, 1, storage.data, count)
        } else {
            let addend = Tensor.binary(CK_MUL, other, Tensor(scale, dtype: dtype), "assignAdd")
            _ = ck_binary(CK_ADD, dtype.ck, storage.data, 1, addend.storage.data, 1, storage.data, count)
        }
    }

    /// Whether this value's memory may be changed in place as a gradient tape
    /// accumulates into it: nothing else holds it, and nothing records ops (a
    /// recorder would keep the old value as an op's input).
    private mutating func isPrivateAccumulator() -> Bool {
        RecorderSet.current == nil && isKnownUniquelyReferenced(&storage)
    }

    /// `self + g` (same shape and dtype) for a tape summing gradients: in place
    /// when ``isPrivateAccumulator()``, else as the recorded op.
    public mutating func accumulate(_ g: Tensor) {
        guard g.shape == shape, g.dtype == dtype, dtype.isFloatingPoint, isPrivateAccumulator() else {
            self = self + g
            return
        }
        id = ck_next_id()
        _ = ck_binary(CK_ADD, dtype.ck, storage.data, 1, g.storage.data, 1, storage.data, count)
    }

    /// `self + g.stridedEmbedded(into: shape, strides:, offset:)` for a tape
    /// summing the gradients of several slices of one tensor: adds `g` into the
    /// sliced positions in place when ``isPrivateAccumulator()`` (no full-size
    /// zeros, no full-size sum). While every recorder takes accumulations as one op
    /// (a compiled function traces and no tape records), it is reported as one, which
    /// a replay runs in place when the sum has no other use. Otherwise it is the
    /// recorded ops.
    public mutating func accumulate(_ g: Tensor, atStrides strides: [Int], offset: Int) {
        guard let region = addableRegion(g, strides) else {
            self = self + g.stridedEmbedded(into: shape, strides: strides, offset: offset)
            return
        }
        if isPrivateAccumulator() {
            id = ck_next_id()
            addRegion(g, region, offset)
        } else if let set = RecorderSet.current, set.recorders.allSatisfy(\.takesAccumulations) {
            let before = self
            self = before.accumulatedCopy(g, atStrides: strides, offset: offset)
            for r in set.recorders { r.accumulated(self, into: before, g, strides: strides, offset: offset) }
        } else {
            self = self + g.stridedEmbedded(into: shape, strides: strides, offset: offset)
        }
    }

    /// A copy of `self` with `g` added at the strided positions (the replay of an
    /// accumulation whose sum is still used elsewhere).
    @_spi(Autodiff) public func accumulatedCopy(_ g: Tensor, atStrides strides: [Int], offset: Int) -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        out.storage.data.copyMemory(from: storage.data, byteCount: count * dtype.byteSize)
        out.addRegion(g, addableRegion(g, strides)!, offset)
        return out
    }

    /// Adds `g` at the strided positions into this value's memory, whoever else
    /// holds it: for a compiled graph's replay, whose plan guarantees that only
    /// this value (and the plan's own buffer list) uses the memory.
    @_spi(Autodiff) public func addInPlaceForReplay(_ g: Tensor, atStrides strides: [Int], offset: Int) {
        addRegion(g, addableRegion(g, strides)!, offset)
    }

    /// The coalesced shape and strides of `g`'s positions when each innermost run
    /// is contiguous on both sides (so a plain add covers it), else nil.
    private func addableRegion(_ g: Tensor, _ strides: [Int]) -> (dims: [Int], strides: [[Int]])? {
        guard g.dtype == dtype, dtype.isFloatingPoint, g.count > 0 else { return nil }
        var allStrides = [g.shape.contiguousStrides, strides]
        let dims = coalesceAxes(g.shape.dimensions, &allStrides)
        guard allStrides[0].last == 1, allStrides[1].last == 1 else { return nil }
        return (dims, allStrides)
    }

    /// Adds `g` into this memory at `region` (from ``addableRegion(_:_:)``).
    private func addRegion(_ g: Tensor, _ region: (dims: [Int], strides: [[Int]]), _ offset: Int) {
        let size = dtype.byteSize
        let inner = region.dims.last!
        let outer = region.dims.dropLast()
        var index = [Int](repeating: 0, count: outer.count)
        for _ in 0..<outer.reduce(1, *) {
            var src = 0, dst = offset
            for (a, i) in index.enumerated() { src += i * region.strides[0][a]; dst += i * region.strides[1][a] }
            let p = storage.data + dst * size
            _ = ck_binary(CK_ADD, dtype.ck, p, 1, g.storage.data + src * size, 1, p, inner)
            var a = index.count - 1
            while a >= 0 { index[a] += 1; if index[a] < outer[a] { break }; index[a] = 0; a -= 1 }
        }
    }

    /// The memory, for a kernel to read.
    public func withUnsafeData<R>(_ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawPointer(storage.data))
    }

    /// The memory, made unique first, for a kernel to update in place (the tensor
    /// takes a new identity, as its value changes).
    public mutating func withUnsafeMutableData<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        makeUnique()
        return try body(storage.data)
    }
}
