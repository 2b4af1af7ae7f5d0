import CKernels

extension Tensor {
    /// The tensors joined along an existing axis, as `tf.concat`.
    ///
    /// ```swift
    /// Tensor(concatenating: [Tensor.ones([2, 1]), Tensor.zeros([2, 2])], alongAxis: 1).shape  // (2, 3)
    /// ```
    public init(concatenating tensors: [Tensor], alongAxis axis: Int = 0) {
        precondition(!tensors.isEmpty, "Tensor(concatenating:): no tensors given")
        let first = tensors[0]
        let a = first.shape.normalizedAxis(axis, op: "concatenate")
        var total = 0
        for t in tensors {
            precondition(t.dtype == first.dtype,
                         "concatenate: dtype mismatch: \(first.dtype) vs \(t.dtype)\(currentScopeDescription)")
            precondition(t.rank == first.rank && t.shape.indices.allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concatenate: shapes \(first.shape) and \(t.shape) differ outside axis \(a)\(currentScopeDescription)")
            total += t.shape[a]
        }
        var dims = first.shape.dimensions
        dims[a] = total
        self.init(uninitializedShape: TensorShape(dims), dtype: first.dtype)
        let outStrides = shape.contiguousStrides
        let size = dtype.byteSize
        var offset = 0
        for t in tensors where t.count > 0 {
            ck_copy_nd(size, Int32(t.rank), t.shape.dimensions, t.storage.data, t.shape.contiguousStrides,
                       storage.data + offset * outStrides[a] * size, outStrides)
            offset += t.shape[a]
        }
        if let set = RecorderSet.current { set.opRan(.concatenate(axis: a), OpInputs(tensors), self) }
    }

    /// The tensors, all of one shape, stacked along a new axis, as `tf.stack`.
    public init(stacking tensors: [Tensor], alongAxis axis: Int = 0) {
        precondition(!tensors.isEmpty, "Tensor(stacking:): no tensors given")
        for t in tensors {
            precondition(t.shape == tensors[0].shape,
                         "stack: shapes \(tensors[0].shape) and \(t.shape) differ\(currentScopeDescription)")
        }
        self.init(concatenating: tensors.map { $0.expandingShape(at: axis) }, alongAxis: axis)
    }

    /// This tensor and `other` joined along `axis`.
    public func concatenated(with other: Tensor, alongAxis axis: Int = 0) -> Tensor {
        Tensor(concatenating: [self, other], alongAxis: axis)
    }

    /// Pieces of the given sizes along `axis`, as `tf.split`.
    public func split(sizes: [Int], alongAxis axis: Int = 0) -> [Tensor] {
        let a = shape.normalizedAxis(axis, op: "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split: sizes \(sizes) do not add up to \(shape[a]), the size of axis \(a) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: a, start: start, count: size, step: 1)
        }
    }

    /// `count` equal pieces along `axis`.
    public func split(count: Int, alongAxis axis: Int = 0) -> [Tensor] {
        let a = shape.normalizedAxis(axis, op: "split")
        precondition(count > 0 && shape[a] % count == 0,
                     "split: axis \(a) of shape \(shape) cannot be split into \(count) equal pieces")
        return split(sizes: Array(repeating: shape[a] / count, count: count), alongAxis: a)
    }

    /// Elements `start, start+step, ...` (count of them) along one axis.
    @usableFromInline func slice(axis: Int, start: Int, count n: Int, step: Int) -> Tensor {
        var dims = shape.dimensions
        dims[axis] = n
        var strides = shape.contiguousStrides
        let offset = start * strides[axis]
        strides[axis] *= step
        return gathered(shape: TensorShape(dims), strides: strides, offset: offset)
            .recorded(.stridedSlice(strides: strides, offset: offset), OpInputs(self))
    }
}
