extension Tensor {
    /// The tensor with zeros added before and after each axis, as `tf.pad` with
    /// constant 0: `paddings[i]` is (before, after) for axis i. Differentiable (the
    /// gradient is the slice of the original positions).
    ///
    /// ```swift
    /// Tensor.ones([2, 2]).padded([(1, 0), (0, 2)]).shape   // (3, 4)
    /// ```
    public func padded(_ paddings: [(before: Int, after: Int)]) -> Tensor {
        precondition(paddings.count == rank && paddings.allSatisfy { $0.before >= 0 && $0.after >= 0 },
                     "padded: expected \(rank) non-negative (before, after) pairs for shape \(shape), got \(paddings.map { [$0.before, $0.after] })\(currentScopeDescription)")
        let out = TensorShape(zip(shape.dimensions, paddings).map { $0 + $1.before + $1.after })
        let strides = out.contiguousStrides
        let offset = zip(paddings, strides).reduce(0) { $0 + $1.0.before * $1.1 }
        return stridedEmbedded(into: out, strides: strides, offset: offset)
    }
}
