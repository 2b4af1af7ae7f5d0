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
