import CKernels

extension Tensor {
    /// Reduces the given axes (all when nil) with one kernel pass per run of
    /// adjacent axes.
    @usableFromInline
    func reduce(_ op: ck_reduce_op, axes: [Int]?, keepDims: Bool, _ name: StaticString) -> Tensor {
        let reduced = normalizedAxes(axes, name)
        // Reducing no axis still gives a new value, so that a tape never sees an op
        // whose output is its own input.
        var current = Tensor(storage: storage, shape: shape)
        // Walk runs of adjacent reduced axes from the innermost, so earlier axis
        // numbers stay valid; each run is one [outer, r, inner] kernel call.
        var i = reduced.count - 1
        while i >= 0 {
            var start = i
            while start > 0 && reduced[start - 1] == reduced[start] - 1 { start -= 1 }
            let lo = reduced[start], hi = reduced[i]
            let dims = current.shape.dimensions
            let outer = dims[..<lo].reduce(1, *)
            let r = dims[lo...hi].reduce(1, *)
            let inner = dims[(hi + 1)...].reduce(1, *)
            var outDims = Array(dims[..<lo])
            outDims.append(contentsOf: dims[(hi + 1)...])
            if r == 1 {
                // Reducing axes of size 1 changes only the shape (the bias gradient
                // of a batch of one): share the memory instead of copying it.
                current = Tensor(storage: current.storage, shape: TensorShape(outDims))
            } else {
                let out = Tensor(uninitializedShape: TensorShape(outDims), dtype: current.dtype)
                ck_reduce(op, dtype.ck, outer, r, inner, current.storage.data, out.storage.data)
                current = out
            }
            i = start - 1
        }
        if keepDims {
            var dims = shape.dimensions
            for a in reduced { dims[a] = 1 }
            current.shape = TensorShape(dims)
        }
        return current
    }

    /// Sorted, unique, non-negative axes; nil means every axis.
    @usableFromInline func normalizedAxes(_ axes: [Int]?, _ name: StaticString) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let sorted = axes.map { shape.normalizedAxis($0, op: "\(name)") }.sorted()
        for i in sorted.indices.dropFirst() {
            precondition(sorted[i] != sorted[i - 1], "\(name): repeated axis in \(axes)")
        }
        return sorted
    }

    @usableFromInline func requireNumeric(_ name: StaticString) {
        precondition(dtype != .bool, "\(name): not defined on bool tensors; cast(to:) a number type first\(currentScopeDescription)")
    }

    /// The sum over `axes` (every axis when nil), as `tf.reduce_sum`.
    ///
    /// ```swift
    /// Tensor([[1, 2], [3, 4]]).sum(axes: [0])   // [4 6]
    /// ```
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireNumeric("sum")
        return reduce(CK_SUM, axes: axes, keepDims: keepDims, "sum")
            .recorded(.sum(axes: normalizedAxes(axes, "sum"), keepDims: keepDims), OpInputs(self))
    }
    /// The sum along one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// The product over `axes` (every axis when nil).
    public func prod(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireNumeric("prod")
        return reduce(CK_PROD, axes: axes, keepDims: keepDims, "prod")
            .recorded(.prod(axes: normalizedAxes(axes, "prod"), keepDims: keepDims), OpInputs(self))
    }
    /// The product along one axis.
    public func prod(axis: Int, keepDims: Bool = false) -> Tensor { prod(axes: [axis], keepDims: keepDims) }

    /// The maximum over `axes` (every axis when nil); -inf for an empty float reduction.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireNumeric("max")
        return reduce(CK_MAXR, axes: axes, keepDims: keepDims, "max")
            .recorded(.max(axes: normalizedAxes(axes, "max"), keepDims: keepDims), OpInputs(self))
    }
    /// The maximum along one axis.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// The minimum over `axes` (every axis when nil); +inf for an empty float reduction.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireNumeric("min")
        return reduce(CK_MINR, axes: axes, keepDims: keepDims, "min")
            .recorded(.min(axes: normalizedAxes(axes, "min"), keepDims: keepDims), OpInputs(self))
    }
    /// The minimum along one axis.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    /// The mean over `axes` (every axis when nil). Integer means truncate, as in TensorFlow.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireNumeric("mean")
        let reduced = normalizedAxes(axes, "mean")
        let n = reduced.reduce(1) { $0 * shape[$1] }
        let s = sum(axes: reduced, keepDims: keepDims)
        if dtype.isFloatingPoint { return s * (1.0 / Double(n)) }
        return n == 0 ? s : s / Double(n)
    }
    /// The mean along one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Whether any element is true over `axes` (every axis when nil); bool tensors only.
    public func any(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireBool(self, "any")
        return reduce(CK_ANY, axes: axes, keepDims: keepDims, "any").traced("any", [self], replay: { $0[0].any(axes: axes, keepDims: keepDims) })
    }
    /// Whether every element is true over `axes` (every axis when nil); bool tensors only.
    public func all(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        requireBool(self, "all")
        return reduce(CK_ALL, axes: axes, keepDims: keepDims, "all").traced("all", [self], replay: { $0[0].all(axes: axes, keepDims: keepDims) })
    }
    /// Whether every element of a bool tensor is true (true when empty).
    public func all() -> Bool { all(axes: nil).scalar(as: Bool.self) }
    /// Whether any element of a bool tensor is true (false when empty).
    public func any() -> Bool { any(axes: nil).scalar(as: Bool.self) }

    /// The index of the largest element along `axis`, as int64 (first one on ties).
    ///
    /// NaN counts as the largest value: a slice holding NaN gives the index of its
    /// first NaN, as PyTorch's and NumPy's `argmax` do. (TensorFlow 2.21 skips NaN.)
    ///
    /// ```swift
    /// Tensor([1, .nan, 3] as [Float]).argmax()   // 1
    /// ```
    public func argmax(axis: Int = -1) -> Tensor { argReduce(isMax: true, axis: axis, "argmax") }
    /// The index of the smallest element along `axis`, as int64 (first one on ties).
    ///
    /// NaN counts as the smallest value: the index of the slice's first NaN, as in
    /// PyTorch and NumPy.
    public func argmin(axis: Int = -1) -> Tensor { argReduce(isMax: false, axis: axis, "argmin") }

    func argReduce(isMax: Bool, axis: Int, _ name: StaticString) -> Tensor {
        requireNumeric(name)
        let a = shape.normalizedAxis(axis, op: "\(name)")
        precondition(shape[a] > 0, "\(name): axis \(axis) of shape \(shape) is empty")
        let dims = shape.dimensions
        var outDims = dims
        outDims.remove(at: a)
        let out = Tensor(uninitializedShape: TensorShape(outDims), dtype: .int64)
        ck_argreduce(isMax ? 1 : 0, dtype.ck, dims[..<a].reduce(1, *), dims[a], dims[(a + 1)...].reduce(1, *),
                     storage.data, out.storage.data.assumingMemoryBound(to: Int64.self))
        return out.traced("argReduce", [self], replay: { $0[0].argReduce(isMax: isMax, axis: axis, name) })
    }

    /// log(sum(exp(x))) over `axes`, computed stably by shifting by the maximum.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        precondition(dtype.isFloatingPoint, "logSumExp: expected a float tensor, got \(dtype)")
        let m = max(axes: axes, keepDims: true)
        let shift = `where`(isFinite(m), m, Tensor(0, dtype: dtype))
        var result = log(exp(self - shift).sum(axes: axes, keepDims: true)) + shift
        if !keepDims {
            let reduced = Set(normalizedAxes(axes, "logSumExp"))
            result = result.reshaped(to: TensorShape(shape.indices.filter { !reduced.contains($0) }.map { shape[$0] }))
        }
        return result
    }
    /// log(sum(exp(x))) along one axis.
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { logSumExp(axes: [axis], keepDims: keepDims) }
}

/// Softmax or log-softmax in one fused kernel when `axis` is the last axis.
private func softmaxLastAxis(_ x: Tensor, axis: Int, log: Bool) -> Tensor? {
    guard x.rank >= 1, x.shape.normalizedAxis(axis, op: log ? "logSoftmax" : "softmax") == x.rank - 1,
          x.count > 0 else { return nil }
    let n = x.shape[x.rank - 1]
    let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
    ck_softmax_rows(log ? 1 : 0, x.dtype.ck, x.storage.data, out.storage.data, x.count / n, n)
    return out.recorded(log ? .logSoftmax(axis: x.rank - 1) : .softmax(axis: x.rank - 1), OpInputs(x))
}

/// Whether each element is finite (neither infinite nor NaN).
public func isFinite(_ x: some TensorConvertible) -> Tensor {
    let x = x.tensor
    precondition(x.dtype.isFloatingPoint, "isFinite: expected a float tensor, got \(x.dtype)")
    return (x - x) .== 0
}

/// exp(x) / sum(exp(x)) along `axis`, shifted by the maximum for stability.
public func softmax(_ x: some TensorConvertible, axis: Int = -1) -> Tensor {
    let x = x.tensor
    precondition(x.dtype.isFloatingPoint, "softmax: expected a float tensor, got \(x.dtype)")
    if let fused = softmaxLastAxis(x, axis: axis, log: false) { return fused }
    let e = exp(x - x.max(axis: axis, keepDims: true))
    return e / e.sum(axis: axis, keepDims: true)
}

/// log(softmax(x)) along `axis`, computed without forming softmax.
public func logSoftmax(_ x: some TensorConvertible, axis: Int = -1) -> Tensor {
    let x = x.tensor
    precondition(x.dtype.isFloatingPoint, "logSoftmax: expected a float tensor, got \(x.dtype)")
    if let fused = softmaxLastAxis(x, axis: axis, log: true) { return fused }
    // Shifting first keeps large logits exact: (x - m) - log Σ exp(x - m).
    let shifted = x - x.max(axis: axis, keepDims: true)
    return shifted - log(exp(shifted).sum(axis: axis, keepDims: true))
}

/// `-log softmax(logits)[label]` for each row of `logits` (…, classes) and its
/// integer label, in one fused pass: the per-example loss of sparse categorical
/// cross-entropy from logits. Labels outside [0, classes) are an error.
public func sparseSoftmaxCrossEntropy(logits: Tensor, labels: Tensor) -> Tensor {
    precondition(logits.dtype.isFloatingPoint && logits.rank >= 1,
                 "sparseSoftmaxCrossEntropy: logits must be a float tensor of rank >= 1, got \(logits.dtype) \(logits.shape)")
    precondition(labels.dtype.isInteger, "sparseSoftmaxCrossEntropy: labels must be integers, got \(labels.dtype)")
    let classes = logits.shape[logits.rank - 1]
    precondition(Array(labels.shape.dimensions) == Array(logits.shape.dimensions.dropLast()),
                 "sparseSoftmaxCrossEntropy: labels \(labels.shape) do not match logits \(logits.shape)\(currentScopeDescription)")
    let rows = classes == 0 ? 0 : logits.count / classes
    let logProbabilities = Tensor(uninitializedShape: logits.shape, dtype: logits.dtype)
    if logits.count > 0 {
        ck_softmax_rows(1, logits.dtype.ck, logits.storage.data, logProbabilities.storage.data, rows, classes)
    }
    let ids = labels.scalars(as: Int64.self)
    if let bad = ids.first(where: { $0 < 0 || $0 >= Int64(classes) }) {
        fatalError("sparseSoftmaxCrossEntropy: label \(bad) is outside [0, \(classes))\(currentScopeDescription)")
    }
    let out = Tensor(uninitializedShape: labels.shape, dtype: logits.dtype)
    let size = logits.dtype.byteSize
    for (i, label) in ids.enumerated() {
        let src = logProbabilities.storage.data + (i * classes + Int(label)) * size
        if logits.dtype == .float32 {
            out.storage.data.storeBytes(of: -src.load(as: Float.self), toByteOffset: i * size, as: Float.self)
        } else {
            out.storage.data.storeBytes(of: -src.load(as: Double.self), toByteOffset: i * size, as: Double.self)
        }
    }
    return out.recorded(.sparseSoftmaxCrossEntropy(labels: labels), OpInputs(logits))
}

/// The gradient of ``sparseSoftmaxCrossEntropy(logits:labels:)`` with respect to
/// the logits for an upstream gradient of the per-example losses, in one op:
/// `upstream[..., None] * (softmax(logits) - oneHot(labels))` (one softmax pass and
/// one fix-up pass instead of five ops and their temporaries). Differentiable.
@_spi(Autodiff)
public func sparseSoftmaxCrossEntropyGradient(logits: Tensor, labels: Tensor, upstream: Tensor) -> Tensor {
    precondition(upstream.shape == labels.shape && upstream.dtype == logits.dtype,
                 "sparseSoftmaxCrossEntropyGradient: upstream \(upstream.shape) \(upstream.dtype) does not match labels \(labels.shape) and logits \(logits.dtype)")
    let classes = logits.shape[logits.rank - 1]
    let rows = classes == 0 ? 0 : logits.count / classes
    let out = Tensor(uninitializedShape: logits.shape, dtype: logits.dtype)
    guard rows > 0 else { return out.recorded(.sparseSoftmaxCrossEntropyGradient(labels: labels), OpInputs(logits, upstream)) }
    ck_softmax_rows(0, logits.dtype.ck, logits.storage.data, out.storage.data, rows, classes)
    let ids = labels.dtype == .int64 ? labels : labels.cast(to: .int64)
    func fixUp<T: BinaryFloatingPoint>(_: T.Type) {
        let o = out.storage.data.assumingMemoryBound(to: T.self)
        let u = upstream.storage.data.assumingMemoryBound(to: T.self)
        let label = ids.storage.data.assumingMemoryBound(to: Int64.self)
        for r in 0..<rows {
            let ur = u[r], row = o + r * classes
            for j in 0..<classes { row[j] *= ur }
            let y = Int(label[r])
            precondition(y >= 0 && y < classes, "sparseSoftmaxCrossEntropy: label \(y) is outside [0, \(classes))")
            row[y] -= ur
        }
    }
    if logits.dtype == .float32 { fixUp(Float.self) } else { fixUp(Double.self) }
    return out.recorded(.sparseSoftmaxCrossEntropyGradient(labels: labels), OpInputs(logits, upstream))
}
