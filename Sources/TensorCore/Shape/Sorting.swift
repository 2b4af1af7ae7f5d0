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
        var order = [Int64](repeating: 0, count: count)
        /// Sorts each row of `values` (integers exactly, not through Double).
        func sortRows<T: Comparable>(_ values: [T], isNaN: (T) -> Bool) {
            for r in 0..<rows {
                let base = r * n
                // A total order (ties broken by index), so the result is a stable sort.
                let sorted = (0..<n).sorted { a, b in
                    let (x, y) = (values[base + a], values[base + b])
                    switch (isNaN(x), isNaN(y)) {
                    case (true, true): return a < b
                    case (true, false): return false
                    case (false, true): return true
                    case (false, false): return x != y ? (descending ? x > y : x < y) : a < b
                    }
                }
                for (j, i) in sorted.enumerated() { order[base + j] = Int64(i) }
            }
        }
        if dtype.isInteger { sortRows(scalars(as: Int64.self)) { _ in false } } else { sortRows(scalars(as: Double.self)) { $0.isNaN } }
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

extension Tensor {
    /// Where each of `values` would go in the sorted rows of `self` (its last
    /// axis), as `tf.searchsorted`: the first position whose element is not less
    /// than the value (`.left`), or greater than it (`.right`). `self` is
    /// (..., n) and `values` (..., m) with the same leading axes; the result is
    /// int64 of `values`' shape. Not differentiable (indices).
    ///
    /// ```swift
    /// Tensor([1, 3, 5, 7] as [Float]).searchSorted(Tensor([0, 3, 6] as [Float]))                // [0, 1, 3]
    /// Tensor([1, 3, 5, 7] as [Float]).searchSorted(Tensor([0, 3, 6] as [Float]), side: .right)  // [0, 2, 3]
    /// ```
    public func searchSorted(_ values: Tensor, side: SearchSide = .left) -> Tensor {
        precondition(rank >= 1 && values.rank == rank && Array(shape.dimensions.dropLast()) == Array(values.shape.dimensions.dropLast()),
                     "searchSorted: expected sorted rows (..., n) and values (..., m) with the same leading axes, got \(shape) and \(values.shape)\(currentScopeDescription)")
        precondition(dtype != .bool && values.dtype != .bool, "searchSorted: not defined on bool tensors\(currentScopeDescription)")
        let n = shape[rank - 1], m = values.shape[rank - 1]
        var out = [Int64](repeating: 0, count: values.count)
        /// Binary searches (integers compared exactly, not through Double).
        func search<T: Comparable>(_ sorted: [T], _ wanted: [T]) {
            for row in 0..<(m == 0 ? 0 : wanted.count / m) {
                let base = row * n
                for j in 0..<m {
                    let v = wanted[row * m + j]
                    var (lo, hi) = (0, n)
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if side == .left ? sorted[base + mid] < v : sorted[base + mid] <= v { lo = mid + 1 } else { hi = mid }
                    }
                    out[row * m + j] = Int64(lo)
                }
            }
        }
        if dtype.isInteger && values.dtype.isInteger {
            search(scalars(as: Int64.self), values.scalars(as: Int64.self))
        } else {
            search(scalars(as: Double.self), values.scalars(as: Double.self))
        }
        return Tensor(shape: values.shape, scalars: out)
    }

    /// The distinct elements of a vector in the order they first appear, and for
    /// each element its position among them, as `tf.unique`. Not differentiable.
    ///
    /// ```swift
    /// let (values, indices) = Tensor([1, 1, 2, 4, 4, 4, 7, 8, 8] as [Int32]).unique()
    /// // values [1, 2, 4, 7, 8], indices [0, 0, 1, 2, 2, 2, 3, 4, 4]
    /// ```
    public func unique() -> (values: Tensor, indices: Tensor) {
        precondition(rank == 1, "unique: expected a vector, got shape \(shape)\(currentScopeDescription)")
        var firsts: [Int] = [], indices: [Int64] = []
        indices.reserveCapacity(count)
        /// First occurrences (integers compared exactly, not through Double).
        func collect<T: Hashable>(_ elements: [T], isNaN: (T) -> Bool) {
            var position: [T: Int64] = [:]
            for (i, e) in elements.enumerated() {
                // NaN is never equal to itself: each NaN is its own value, as TF's.
                if !isNaN(e), let p = position[e] { indices.append(p); continue }
                let p = Int64(firsts.count)
                if !isNaN(e) { position[e] = p }
                firsts.append(i)
                indices.append(p)
            }
        }
        if dtype.isInteger || dtype == .bool { collect(scalars(as: Int64.self)) { _ in false } } else { collect(scalars(as: Double.self)) { $0.isNaN } }
        return (gathering(atIndices: Tensor(shape: [firsts.count], scalars: firsts.map(Int64.init))), Tensor(shape: [count], scalars: indices))
    }
}

/// Which end of a run of equal elements ``Tensor/searchSorted(_:side:)`` returns.
public enum SearchSide: Sendable {
    /// The first position whose element is not less than the value.
    case left
    /// The first position whose element is greater than the value.
    case right
}
