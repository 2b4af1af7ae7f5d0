import CKernels

/// What a ``TensorStorage`` knows about its elements.
@usableFromInline
struct StorageHeader {
    @usableFromInline var count: Int
    @usableFromInline var dtype: DType
}

/// The memory behind one or more ``Tensor`` values: one allocation holding the
/// header and the elements (a separate buffer would cost a second malloc and free
/// per op, a sizeable part of a small op's time). Tensors share it until one of
/// them is mutated (copy-on-write); reshaping shares it too.
///
/// The header is read through `withUnsafeMutablePointerToHeader`, not the
/// `header` property: the property is a class `var`, and every access to it
/// costs a dynamic exclusivity check (a thread-local lookup) on the hot path.
@usableFromInline
final class TensorStorage: ManagedBuffer<StorageHeader, UInt8> {
    /// Buffers of this many bytes and more start on a 64-byte boundary so vector
    /// loads never straddle cache lines; smaller ones on a 16-byte boundary. (The
    /// elements after the header would otherwise start at an odd address, which
    /// breaks BLAS kernels that use aligned SSE stores.)
    @usableFromInline static let alignedSize = 4096

    @inlinable static func alignmentMask(bytes: Int) -> Int { bytes >= alignedSize ? 63 : 15 }

    /// Uninitialized memory for `count` elements of `dtype`.
    @usableFromInline
    static func allocate(count: Int, dtype: DType) -> TensorStorage {
        // A replaying compiled function offers the planned buffer of the op it runs.
        if let offered = ck_reusable_storage() {
            let storage = Unmanaged<TensorStorage>.fromOpaque(offered).takeUnretainedValue()
            if storage.count == count && storage.dtype == dtype {
                ck_set_reusable_storage(nil)
                return storage
            }
        }
        let bytes = count * dtype.byteSize
        let buffer = create(minimumCapacity: bytes + alignmentMask(bytes: bytes)) { _ in
            StorageHeader(count: count, dtype: dtype)
        }
        let storage = unsafeDowncast(buffer, to: TensorStorage.self)
        if bytes >= 8 << 20 { ck_advise_huge_pages(storage.data, bytes) }
        return storage
    }

    @inlinable var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }
    @inlinable var dtype: DType { withUnsafeMutablePointerToHeader { $0.pointee.dtype } }

    /// The first element.
    @inlinable var data: UnsafeMutableRawPointer {
        let base = withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
        let h = withUnsafeMutablePointerToHeader { $0.pointee }
        let mask = TensorStorage.alignmentMask(bytes: h.count * h.dtype.byteSize)
        return UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: base) + mask) & ~mask)!
    }

    @usableFromInline func copy() -> TensorStorage {
        let s = TensorStorage.allocate(count: count, dtype: dtype)
        s.data.copyMemory(from: data, byteCount: count * dtype.byteSize)
        return s
    }
}

/// A buffer a compiled graph plans for one op's results: the replay offers it to
/// the allocation the op makes (through the thread's buffer-offer slot, which
/// ``TensorStorage/allocate(count:dtype:)`` checks) whenever nothing else holds it.
@_spi(Autodiff)
public struct PlannedBuffer {
    var storage: TensorStorage?

    public init() {}

    /// Runs `make`, offering it this buffer when nothing outside holds it; returns
    /// the result and whether the result landed somewhere else (a fresh
    /// allocation, which becomes the buffer from now on).
    @inline(__always)
    public mutating func produce(_ make: () -> Tensor) -> (Tensor, allocated: Bool) {
        if isKnownUniquelyReferenced(&storage) {
            ck_set_reusable_storage(Unmanaged.passUnretained(storage.unsafelyUnwrapped).toOpaque())
        }
        let out = make()
        ck_set_reusable_storage(nil)
        guard storage !== out.storage else { return (out, false) }
        storage = out.storage
        return (out, true)
    }
}

@_spi(Autodiff)
extension Tensor {
    /// Whether `self` and `other` share memory (one is a view of the other).
    public func sharesMemory(with other: Tensor) -> Bool { storage === other.storage }

    /// The first element's address, for kernels (the caller keeps the tensor alive).
    public var unsafeElements: UnsafeMutableRawPointer { storage.data }

    /// A tensor of `shape` and `dtype` whose elements are not yet written.
    public static func uninitialized(_ shape: TensorShape, dtype: DType) -> Tensor {
        Tensor(uninitializedShape: shape, dtype: dtype)
    }
}
