import CKernels

extension Tensor {
    /// A tensor of `shape` with every element equal to `value`, as `tf.fill`.
    public static func full(_ shape: TensorShape, value: Double, dtype: DType = .float32) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "full: negative dimension in shape \(shape)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        ck_fill(dtype.ck, t.storage.data, value, t.count)
        return t
    }

    /// All zeros, as `tf.zeros`.
    ///
    /// ```swift
    /// print(Tensor.zeros([2, 1]))
    /// // DeepSwift.Tensor(
    /// // [[0.]
    /// //  [0.]], shape=(2, 1), dtype=float32)
    /// ```
    public static func zeros(_ shape: TensorShape, dtype: DType = .float32) -> Tensor {
        full(shape, value: 0, dtype: dtype)
    }

    /// All ones, as `tf.ones`.
    public static func ones(_ shape: TensorShape, dtype: DType = .float32) -> Tensor {
        full(shape, value: 1, dtype: dtype)
    }

    /// Zeros with the shape and dtype of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape, dtype: other.dtype) }

    /// Ones with the shape and dtype of `other`.
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape, dtype: other.dtype) }

    /// `start, start + delta, ...` up to but excluding `limit`, as `tf.range`.
    ///
    /// ```swift
    /// Tensor.range(0, 5)                      // [0 1 2 3 4], int32
    /// Tensor.range(0, 1, delta: 0.25)         // [0.   0.25 0.5  0.75], float32
    /// ```
    public static func range(_ start: Double, _ limit: Double, delta: Double = 1, dtype: DType? = nil) -> Tensor {
        precondition(delta != 0, "range: delta must not be zero")
        let integral = start.rounded() == start && limit.rounded() == limit && delta.rounded() == delta
        let type = dtype ?? (integral ? .int32 : .float32)
        let n = Swift.max(0, Int(((limit - start) / delta).rounded(.up)))
        return Tensor(shape: [n], scalars: (0..<n).map { start + Double($0) * delta }).cast(to: type)
    }

    /// The `n`×`n` identity matrix (or `n`×`m`), as `tf.eye`.
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor {
        let cols = m ?? n
        var scalars = [Double](repeating: 0, count: n * cols)
        for i in 0..<Swift.min(n, cols) { scalars[i * cols + i] = 1 }
        return Tensor(shape: [n, cols], scalars: scalars).cast(to: dtype)
    }
}
