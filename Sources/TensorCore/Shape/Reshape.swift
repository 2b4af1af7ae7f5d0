import CKernels

extension Tensor {
    /// The same elements with a new shape; one dimension may be -1 and is inferred.
    /// Shares memory with `self`.
    ///
    /// ```swift
    /// Tensor.zeros([60000, 28, 28]).reshaped(to: [60000, -1]).shape   // (60000, 784)
    /// ```
    public func reshaped(to newShape: TensorShape) -> Tensor {
        var dims = newShape.dimensions
        let inferred = dims.indices.filter { dims[$0] == -1 }
        precondition(inferred.count <= 1, "reshaped(to:): more than one -1 in \(newShape)")
        precondition(dims.allSatisfy { $0 >= -1 }, "reshaped(to:): negative dimension in \(newShape)")
        if let i = inferred.first {
            let known = dims.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0,
                         "reshaped(to:): cannot reshape \(count) elements of shape \(shape) into \(newShape)\(currentScopeDescription)")
            dims[i] = count / known
        }
        let target = TensorShape(dims)
        precondition(target.elementCount == count,
                     "reshaped(to:): cannot reshape \(count) elements of shape \(shape) into \(newShape) (\(target.elementCount) elements)\(currentScopeDescription)")
        return Tensor(storage: storage, shape: target).recorded(.reshape, OpInputs(self))
    }

    /// A new axis of size 1 inserted at `axis` (negative counts from the end).
    public func expandingShape(at axis: Int) -> Tensor {
        let a = shape.normalizedAxis(axis, op: "expandingShape(at:)", rankOffset: 1)
        var dims = shape.dimensions
        dims.insert(1, at: a)
        return Tensor(storage: storage, shape: TensorShape(dims)).recorded(.reshape, OpInputs(self))
    }

    /// The given axes of size 1 removed; with no axes, every axis of size 1.
    public func squeezingShape(at axes: Int...) -> Tensor {
        let normalized = axes.map { shape.normalizedAxis($0, op: "squeezingShape(at:)") }
        for a in normalized {
            precondition(shape[a] == 1, "squeezingShape(at:): axis \(a) of shape \(shape) has size \(shape[a]), not 1")
        }
        let keep = shape.indices.filter { normalized.isEmpty ? shape[$0] != 1 : !normalized.contains($0) }
        return Tensor(storage: storage, shape: TensorShape(keep.map { shape[$0] })).recorded(.reshape, OpInputs(self))
    }

    /// Copies this tensor's elements read through `strides` (in elements, from
    /// `offset`) into a new contiguous tensor of `shape`.
    @usableFromInline
    func gathered(shape outShape: TensorShape, strides: [Int], offset: Int = 0) -> Tensor {
        let out = Tensor(uninitializedShape: outShape, dtype: dtype)
        guard out.count > 0 else { return out }
        var allStrides = [strides, outShape.contiguousStrides]
        let dims = coalesceAxes(outShape.dimensions, &allStrides)
        let size = dtype.byteSize
        ck_copy_nd(size, Int32(dims.count), dims, storage.data + offset * size, allStrides[0],
                   out.storage.data, allStrides[1])
        return out
    }

    /// The axes reordered: axis `i` of the result is axis `permutation[i]` of `self`.
    /// With no permutation, the axes are reversed (a matrix transpose for rank 2).
    public func transposed(permutation: [Int]? = nil) -> Tensor {
        let perm = permutation.map { $0.map { shape.normalizedAxis($0, op: "transposed") } }
            ?? Array((0..<rank).reversed())
        precondition(perm.count == rank && Set(perm).count == rank,
                     "transposed(permutation:): \(permutation ?? []) is not a permutation of the \(rank) axes of shape \(shape)")
        let strides = shape.contiguousStrides
        return gathered(shape: TensorShape(perm.map { shape[$0] }), strides: perm.map { strides[$0] })
            .recorded(.transpose(permutation: perm), OpInputs(self))
    }

    /// The tensor repeated to `shape` by NumPy's broadcasting rules.
    public func broadcasted(to target: TensorShape) -> Tensor {
        let result = broadcastShape(shape, target, op: "broadcasted(to:)")
        precondition(result == target, "broadcasted(to:): shape \(shape) cannot be broadcast to \(target)")
        if shape == target { return self }
        return gathered(shape: target, strides: broadcastStrides(shape, to: target)).recorded(.broadcast, OpInputs(self))
    }

    /// The tensor repeated `multiples[i]` times along axis `i`, as `tf.tile`.
    public func tiled(multiples: [Int]) -> Tensor {
        precondition(multiples.count == rank && multiples.allSatisfy { $0 >= 0 },
                     "tiled(multiples:): need \(rank) non-negative multiples for shape \(shape), got \(multiples)")
        // View as (1, d0, 1, d1, ...) broadcast to (m0, d0, m1, d1, ...), then merge pairs.
        var interleaved: [Int] = [], target: [Int] = []
        for i in 0..<rank {
            interleaved += [1, shape[i]]
            target += [multiples[i], shape[i]]
        }
        let expanded = reshaped(to: TensorShape(interleaved)).broadcasted(to: TensorShape(target))
        return expanded.reshaped(to: TensorShape((0..<rank).map { multiples[$0] * shape[$0] }))
    }
}
