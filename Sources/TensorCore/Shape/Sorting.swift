import CKernels

extension Tensor {
    /// The elements at `indices` along the last axis, row by row, as
    /// `np.take_along_axis(x, indices, -1)`: `indices` (int32 or int64) has the
    /// tensor's leading axes and any length `k` last; the result has shape
    /// `leading + [k]`. Differentiable (the gradient adds back at the indices).
    public func takingAlongLastAxis(_ indices: Tensor) -> Tensor {
        precondition(rank >= 1 && indices.rank == rank && indices.shape.dimensions.dropLast() == shape.dimensions.dropLast(),
                     "takingAlongLastAxis: indices of shape \(indices.shape) do not match the leading axes of \(shape)\(currentScopeDescription)")
        precondition(!indices.dtype.isFloatingPoint && indices.dtype != .bool,
                     "takingAlongLastAxis: indices must be integers, got \(indices.dtype)\(currentScopeDescription)")
        let n = shape[rank - 1], k = indices.shape[rank - 1], rows = k == 0 ? 0 : indices.count / k
        let idx = indices.dtype == .int64 ? indices : indices.cast(to: .int64)
        let out = Tensor(uninitializedShape: indices.shape, dtype: dtype)
        let err = ck_take_along_last(dtype.byteSize, rows, n, k, storage.data,
                                     idx.storage.data.assumingMemoryBound(to: Int64.self), out.storage.data)
        precondition(err == 0, "takingAlongLastAxis: an index is outside 0..<\(n)\(currentScopeDescription)")
        return out.recorded(.takeAlongLastAxis(indices: idx), OpInputs(self))
    }

    /// Zeros with `size` elements along the last axis and `self` added at
    /// `indices`, row by row: the adjoint of ``takingAlongLastAxis(_:)``.
    @_spi(Autodiff) public func puttingAlongLastAxis(_ indices: Tensor, size: Int) -> Tensor {
        precondition(dtype.isFloatingPoint && indices.shape == shape && indices.dtype == .int64,
                     "puttingAlongLastAxis: needs float values and int64 indices of one shape, got \(shape) \(dtype) and \(indices.shape) \(indices.dtype)")
        let k = shape[rank - 1], rows = k == 0 ? 0 : count / k
        var dims = shape.dimensions
        dims[rank - 1] = size
        let out = Tensor(uninitializedShape: TensorShape(dims), dtype: dtype)
        let err = ck_put_along_last(dtype.ck, rows, size, k, storage.data,
                                    indices.storage.data.assumingMemoryBound(to: Int64.self), out.storage.data)
        precondition(err == 0, "puttingAlongLastAxis: an index is outside 0..<\(size)")
        return out.recorded(.putAlongLastAxis(indices: indices, size: size), OpInputs(self))
    }

    /// The indices that sort each row along the last axis (ascending, or
    /// `descending`), as int64; ties keep their order (a stable sort), as
    /// `tf.argsort(stable=True)`. NaN sorts last in either order.
    public func argsort(descending: Bool = false) -> Tensor {
        precondition(rank >= 1 && dtype != .bool, "argsort: needs a numeric tensor of rank >= 1, got \(shape) \(dtype)\(currentScopeDescription)")
        let n = shape[rank - 1], rows = n == 0 ? 0 : count / n
        let values = cast(to: .float64).scalars(as: Double.self)
        var order = [Int64](repeating: 0, count: count)
        for r in 0..<rows {
            let base = r * n
            // A total order (ties broken by index), so the result is a stable sort.
            let sorted = (0..<n).sorted { a, b in
                let (x, y) = (values[base + a], values[base + b])
                switch (x.isNaN, y.isNaN) {
                case (true, true): return a < b
                case (true, false): return false
                case (false, true): return true
                case (false, false): return x != y ? (descending ? x > y : x < y) : a < b
                }
            }
            for (j, i) in sorted.enumerated() { order[base + j] = Int64(i) }
        }
        return Tensor(shape: shape, scalars: order)
    }

    /// Each row sorted along the last axis, as `tf.sort`; differentiable (the
    /// gradient goes back to each element's original place).
    public func sorted(descending: Bool = false) -> Tensor { takingAlongLastAxis(argsort(descending: descending)) }

    /// The `k` largest elements of each row along the last axis, largest first, and
    /// their indices (int64; the lower index first among ties), as `tf.math.top_k`.
    /// The values are differentiable.
    public func topK(_ k: Int) -> (values: Tensor, indices: Tensor) {
        precondition(rank >= 1 && k >= 0 && k <= shape[rank - 1],
                     "topK: k = \(k) is not in 0...\(rank >= 1 ? shape[rank - 1] : 0) for shape \(shape)\(currentScopeDescription)")
        let indices = argsort(descending: true)[.ellipsis, 0..<k]
        return (takingAlongLastAxis(indices), indices)
    }
}
