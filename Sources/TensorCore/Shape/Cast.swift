import CKernels

extension Tensor {
    /// The same values converted to `dtype`, as `tf.cast`: floats truncate toward
    /// zero when converted to integers, and any nonzero value becomes `true`.
    ///
    /// ```swift
    /// let images = Tensor(shape: [2], scalars: [0, 255] as [UInt8])
    /// let scaled = images.cast(to: .float32) / 255   // [0. 1.]
    /// ```
    public func cast(to dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        ck_cast(self.dtype.ck, storage.data, dtype.ck, out.storage.data, count)
        return self.dtype.isFloatingPoint && dtype.isFloatingPoint
            ? out.recorded(.cast, OpInputs(self))
            : out.traced("cast", [self], replay: { $0[0].cast(to: dtype) })
    }

    /// Each element limited to `[min, max]`, as `tf.clip_by_value`.
    public func clipped(min lo: Double, max hi: Double) -> Tensor {
        precondition(dtype != .bool, "clipped: not defined on bool tensors")
        precondition(lo <= hi, "clipped: min \(lo) is greater than max \(hi)")
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        ck_clip(dtype.ck, storage.data, lo, hi, out.storage.data, count)
        return out.recorded(.clip(min: lo, max: hi), OpInputs(self))
    }

    /// Each element limited to `[min, max]` given as tensors (broadcasting).
    public func clipped(min lo: Tensor, max hi: Tensor) -> Tensor {
        minimum(maximum(self, lo), hi)
    }
}
