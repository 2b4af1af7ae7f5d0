import CKernels

/// One entry of a subscript: an index, a strided range, all of an axis, a new
/// axis of size 1, or an ellipsis standing for as many `.all` as needed.
///
/// ```swift
/// let w = Tensor.zeros([4, 10])
/// w[.all, 2..<5].shape                         // (4, 3)
/// w[1].shape                                   // (10,)
/// w[.ellipsis, .range(nil, nil, stride: -1)]   // columns reversed
/// ```
public struct TensorIndex: Sendable, TensorIndexConvertible {
    enum Kind: Sendable {
        case index(Int)
        case range(Int?, Int?, stride: Int)
        case all, newAxis, ellipsis
    }
    let kind: Kind

    public var tensorIndex: TensorIndex { self }
}

/// Values that can stand in a ``Tensor`` subscript: `Int`, Swift ranges, and ``TensorIndex``.
public protocol TensorIndexConvertible {
    var tensorIndex: TensorIndex { get }
}

extension TensorIndexConvertible where Self == TensorIndex {
    /// The whole axis (NumPy's `:`).
    public static var all: TensorIndex { TensorIndex(kind: .all) }
    /// A new axis of size 1 (NumPy's `None`).
    public static var newAxis: TensorIndex { TensorIndex(kind: .newAxis) }
    /// As many whole axes as needed (NumPy's `...`).
    public static var ellipsis: TensorIndex { TensorIndex(kind: .ellipsis) }
    /// One position; negative counts from the end. The axis is dropped.
    public static func index(_ i: Int) -> TensorIndex { TensorIndex(kind: .index(i)) }
    /// Python's `start:stop:stride`: nil bounds mean "from the start" / "to the end",
    /// negative bounds count from the end, out-of-range bounds are clamped.
    public static func range(_ start: Int?, _ stop: Int?, stride: Int = 1) -> TensorIndex {
        TensorIndex(kind: .range(start, stop, stride: stride))
    }
}

extension Int: TensorIndexConvertible { public var tensorIndex: TensorIndex { .index(self) } }
extension Range: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lowerBound, upperBound, stride: 1) }
}
extension ClosedRange: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lowerBound, upperBound == -1 ? nil : upperBound + 1, stride: 1) }
}
extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lowerBound, nil, stride: 1) }
}
extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(nil, upperBound, stride: 1) }
}
extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(nil, upperBound == -1 ? nil : upperBound + 1, stride: 1) }
}

extension Tensor {
    /// NumPy basic indexing: integers pick (and drop) an axis, ranges slice it.
    /// Missing trailing entries mean whole axes. The result is a new tensor.
    ///
    /// ```swift
    /// let x = Tensor([[5, 2], [1, 3]])
    /// x[0, 1]          // 2, a rank-0 tensor
    /// x[.all, 1]       // [2 3]
    /// ```
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        self[indices: indices]
    }

    /// The subscript with its entries given as an array.
    public subscript(indices indices: [any TensorIndexConvertible]) -> Tensor {
        let (outShape, strides, offset) = resolve(indices.map(\.tensorIndex.kind))
        return gathered(shape: outShape, strides: strides, offset: offset)
            .recorded(.stridedSlice(strides: strides, offset: offset), OpInputs(self))
    }

    private func resolve(_ raw: [TensorIndex.Kind]) -> (TensorShape, [Int], Int) {
        let consuming = raw.filter { if case .newAxis = $0 { return false }; if case .ellipsis = $0 { return false }; return true }.count
        let ellipses = raw.filter { if case .ellipsis = $0 { return true }; return false }.count
        precondition(ellipses <= 1, "subscript: more than one ellipsis in \(raw)")
        precondition(consuming <= rank, "subscript: \(consuming) indices for a tensor of rank \(rank) (shape \(shape))")
        var indices: [TensorIndex.Kind] = []
        for i in raw {
            if case .ellipsis = i {
                indices += Array(repeating: .all, count: rank - consuming)
            } else {
                indices.append(i)
            }
        }
        if ellipses == 0 { indices += Array(repeating: .all, count: rank - consuming) }

        let base = shape.contiguousStrides
        var dims: [Int] = [], strides: [Int] = []
        var offset = 0, axis = 0
        for index in indices {
            switch index {
            case .newAxis:
                dims.append(1); strides.append(0)
            case .all:
                dims.append(shape[axis]); strides.append(base[axis]); axis += 1
            case .index(let i):
                let n = shape[axis]
                precondition(i >= -n && i < n,
                             "subscript: index \(i) is out of range for axis \(axis) of size \(n) (shape \(shape))")
                offset += (i < 0 ? i + n : i) * base[axis]
                axis += 1
            case .range(let lo, let hi, let step):
                let (start, count) = Tensor.sliceBounds(lo, hi, step, length: shape[axis])
                offset += start * base[axis]
                dims.append(count); strides.append(base[axis] * step)
                axis += 1
            case .ellipsis:
                break
            }
        }
        return (TensorShape(dims), strides, offset)
    }

    /// Python's `slice.indices`: the first index and the number of elements.
    static func sliceBounds(_ lo: Int?, _ hi: Int?, _ step: Int, length n: Int) -> (Int, Int) {
        precondition(step != 0, "subscript: slice stride must not be zero")
        let (lower, upper) = step > 0 ? (0, n) : (-1, n - 1)
        func clamp(_ v: Int?, default d: Int) -> Int {
            guard let v else { return d }
            return v < 0 ? Swift.max(v + n, lower) : Swift.min(v, upper)
        }
        let start = clamp(lo, default: step > 0 ? lower : upper)
        let stop = clamp(hi, default: step > 0 ? upper : lower)
        let count = step > 0 ? Swift.max(0, (stop - start + step - 1) / step)
                             : Swift.max(0, (start - stop - step - 1) / -step)
        return (start, count)
    }

    /// Slices of this tensor along `axis` picked by integer `indices`, as `tf.gather`:
    /// the result's shape is `shape[..<axis] + indices.shape + shape[(axis+1)...]`.
    public func gathering(atIndices indices: Tensor, alongAxis axis: Int = 0) -> Tensor {
        precondition(indices.dtype == .int32 || indices.dtype == .int64,
                     "gathering(atIndices:): indices must be int32 or int64, got \(indices.dtype)")
        let a = shape.normalizedAxis(axis, op: "gathering(atIndices:)")
        let idx = indices.cast(to: .int64)
        let n = shape[a]
        let outer = shape.dimensions[..<a].reduce(1, *)
        let inner = shape.dimensions[(a + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: TensorShape(Array(shape.dimensions[..<a]) + indices.shape.dimensions
                                                         + Array(shape.dimensions[(a + 1)...])), dtype: dtype)
        let bad = ck_gather_rows(storage.data, outer, n, inner * dtype.byteSize,
                                 idx.storage.data.assumingMemoryBound(to: Int64.self), idx.count, out.storage.data)
        precondition(bad < 0, "gathering(atIndices:): index \(bad < 0 ? 0 : idx.reshaped(to: [-1])[bad].scalar(as: Int64.self)) is out of range for axis \(a) of size \(n)\(currentScopeDescription)")
        return out.recorded(.gather(indices: indices, axis: a), OpInputs(self))
    }
}

/// Vectors with `onValue` at each index and `offValue` elsewhere, along a new last
/// axis of size `depth`, as `tf.one_hot`; out-of-range indices give all `offValue`.
///
/// ```swift
/// oneHot(Tensor([0, 2]), depth: 3)   // [[1. 0. 0.] [0. 0. 1.]]
/// ```
public func oneHot(_ indices: Tensor, depth: Int, onValue: Double = 1, offValue: Double = 0,
                   dtype: DType = .float32) -> Tensor {
    precondition(indices.dtype.isInteger, "oneHot: indices must be integers, got \(indices.dtype)")
    precondition(depth >= 0, "oneHot: depth must be non-negative, got \(depth)")
    let idx = indices.scalars(as: Int64.self)
    // A fresh tensor: written directly (a compiled function's planned buffer is
    // also referenced by its plan, so makeUnique would copy it).
    let out = Tensor.full(TensorShape(indices.shape.dimensions + [depth]), value: offValue, dtype: dtype)
    let on = Tensor(onValue, dtype: dtype)
    let size = dtype.byteSize
    for (j, i) in idx.enumerated() where i >= 0 && i < depth {
        (out.storage.data + (j * depth + Int(i)) * size).copyMemory(from: on.storage.data, byteCount: size)
    }
    return out.traced("oneHot", [indices], replay: {
        oneHot($0[0], depth: depth, onValue: onValue, offValue: offValue, dtype: dtype)
    })
}

/// Elements of `a` where `condition` is true and of `b` elsewhere, broadcasting all
/// three, as `tf.where(condition, a, b)`.
public func `where`(_ condition: Tensor, _ a: some TensorConvertible, _ b: some TensorConvertible) -> Tensor {
    let (a, b) = (a.tensor, b.tensor)
    precondition(condition.dtype == .bool, "where: the condition must be a bool tensor, got \(condition.dtype)")
    precondition(a.dtype == b.dtype, "where: dtype mismatch: \(a.dtype) vs \(b.dtype)\(currentScopeDescription)")
    let shape = broadcastShape(broadcastShape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
    let out = Tensor(uninitializedShape: shape, dtype: a.dtype)
    guard out.count > 0 else { return out.recorded(.select(condition: condition), OpInputs(a, b)) }
    guard shape.rank > 0 else {
        let pick = condition.scalar(as: Bool.self) ? a : b
        out.storage.data.copyMemory(from: pick.storage.data, byteCount: a.dtype.byteSize)
        return out.recorded(.select(condition: condition), OpInputs(a, b))
    }
    var strides = [broadcastStrides(condition.shape, to: shape), broadcastStrides(a.shape, to: shape),
                   broadcastStrides(b.shape, to: shape), shape.contiguousStrides]
    let dims = coalesceAxes(shape.dimensions, &strides)
    ck_select_nd(a.dtype.byteSize, Int32(dims.count), dims,
                 condition.storage.data.assumingMemoryBound(to: UInt8.self), strides[0],
                 a.storage.data, strides[1], b.storage.data, strides[2], out.storage.data)
    return out.recorded(.select(condition: condition), OpInputs(a, b))
}
