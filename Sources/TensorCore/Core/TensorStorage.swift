/// The memory behind one or more ``Tensor`` values. Tensors share it until one of
/// them is mutated (copy-on-write); reshaping shares it too.
@usableFromInline
final class TensorStorage: @unchecked Sendable {
    @usableFromInline let data: UnsafeMutableRawPointer
    @usableFromInline let count: Int
    @usableFromInline let dtype: DType

    /// Uninitialized memory for `count` elements of `dtype`. Large buffers are
    /// aligned to cache lines so vector loads never straddle them.
    @usableFromInline init(count: Int, dtype: DType) {
        let bytes = Swift.max(count * dtype.byteSize, 1)
        self.data = UnsafeMutableRawPointer.allocate(
            byteCount: bytes, alignment: bytes >= 4096 ? 64 : 16)
        self.count = count
        self.dtype = dtype
    }

    deinit { data.deallocate() }

    @usableFromInline func copy() -> TensorStorage {
        let s = TensorStorage(count: count, dtype: dtype)
        s.data.copyMemory(from: data, byteCount: count * dtype.byteSize)
        return s
    }
}
