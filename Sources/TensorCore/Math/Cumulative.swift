import CKernels

extension Tensor {
    /// Running sums along `axis`, as `tf.math.cumsum`: element k is the sum of
    /// elements 0...k (0..<k with `exclusive`; counted from the end with `reverse`).
    ///
    /// ```swift
    /// Tensor([1, 2, 3] as [Float]).cumsum()                    // [1, 3, 6]
    /// Tensor([1, 2, 3] as [Float]).cumsum(exclusive: true)     // [0, 1, 3]
    /// Tensor([1, 2, 3] as [Float]).cumsum(reverse: true)       // [6, 5, 3]
    /// ```
    public func cumsum(axis: Int = 0, exclusive: Bool = false, reverse: Bool = false) -> Tensor {
        precondition(dtype.isFloatingPoint, "cumsum: expected a float32 or float64 tensor, got \(dtype)\(currentScopeDescription)")
        let a = shape.normalizedAxis(axis, op: "cumsum")
        let dims = shape.dimensions
        let outer = dims[..<a].reduce(1, *), n = dims[a], inner = dims[(a + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        if count > 0 {
            ck_cumsum(dtype.ck, outer, n, inner, storage.data, out.storage.data, exclusive ? 1 : 0, reverse ? 1 : 0)
        }
        return out.recorded(.cumsum(axis: a, exclusive: exclusive, reverse: reverse), OpInputs(self))
    }
}

extension Tensor {
    /// Running products along `axis`, as `tf.math.cumprod`: element k is the
    /// product of elements 0...k (0..<k with `exclusive`; counted from the end with
    /// `reverse`). Computed as ⌈log₂ n⌉ rounds of shifted products (Hillis–Steele),
    /// so its gradient is exact at zeros (no division) and differentiable again.
    ///
    /// ```swift
    /// Tensor([1, 2, 3, 4] as [Float]).cumprod()                   // [1, 2, 6, 24]
    /// Tensor([1, 2, 3, 4] as [Float]).cumprod(exclusive: true)    // [1, 1, 2, 6]
    /// Tensor([1, 2, 3, 4] as [Float]).cumprod(reverse: true)      // [24, 24, 12, 4]
    /// ```
    public func cumprod(axis: Int = 0, exclusive: Bool = false, reverse: Bool = false) -> Tensor {
        precondition(dtype.isFloatingPoint, "cumprod: expected a float32 or float64 tensor, got \(dtype)\(currentScopeDescription)")
        let a = shape.normalizedAxis(axis, op: "cumprod")
        let n = shape[a]
        func along(_ index: TensorIndex) -> [TensorIndex] { (0..<rank).map { $0 == a ? index : .all } }
        func flipped(_ t: Tensor) -> Tensor { t[indices: along(.range(nil, nil, stride: -1))] }
        /// `t` moved `d` places along the axis, with ones coming in.
        func shifted(_ t: Tensor, by d: Int) -> Tensor {
            var onesShape = t.shape
            onesShape[a] = Swift.min(d, n)
            let ones = Tensor.ones(onesShape, dtype: dtype)
            return d >= n ? ones : Tensor(concatenating: [ones, t[indices: along(.range(0, n - d))]], alongAxis: a)
        }
        guard n > 0 else { return self }
        var y = reverse ? flipped(self) : self
        if exclusive { y = shifted(y, by: 1) }
        var d = 1
        while d < n {
            y = y * shifted(y, by: d)
            d *= 2
        }
        return reverse ? flipped(y) : y
    }
}
