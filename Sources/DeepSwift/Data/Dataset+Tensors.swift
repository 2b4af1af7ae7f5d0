extension Dataset where Element == Tensor {
    /// The rows of `x` (its slices along the first axis), as
    /// `tf.data.Dataset.from_tensor_slices(x)`.
    public static func fromTensorSlices(_ x: Tensor) -> Dataset<Tensor> {
        precondition(x.rank >= 1, "Dataset.fromTensorSlices: needs a tensor of rank >= 1, got shape \(x.shape)")
        let n = x.shape[0]
        return Dataset(cardinality: n, slices: Slices(indices: { RangeIndices(n) },
                                      element: { x[$0] },
                                      batch: { x.gathering(atIndices: Tensor(shape: [$0.count], scalars: $0.map(Int64.init))) }))
    }

    /// Consecutive elements stacked along a new first axis, `batchSize` at a time,
    /// as `dataset.batch`; the last, smaller batch is kept unless `dropRemainder`.
    public func batch(_ batchSize: Int, dropRemainder: Bool = false) -> Dataset<Tensor> {
        batched(batchSize, dropRemainder: dropRemainder) { Tensor(stacking: $0) }
    }
}

extension Dataset where Element == (Tensor, Tensor) {
    /// Pairs of rows of `x` and `y`, as `tf.data.Dataset.from_tensor_slices((x, y))`.
    public static func fromTensorSlices(_ xy: (Tensor, Tensor)) -> Dataset<(Tensor, Tensor)> {
        let (x, y) = xy
        precondition(x.rank >= 1 && y.rank >= 1 && x.shape[0] == y.shape[0],
                     "Dataset.fromTensorSlices: x \(x.shape) and y \(y.shape) need the same first dimension")
        let n = x.shape[0]
        return Dataset(cardinality: n, slices: Slices(
            indices: { RangeIndices(n) },
            element: { (x[$0], y[$0]) },
            batch: { rows in
                let indices = Tensor(shape: [rows.count], scalars: rows.map(Int64.init))
                return (x.gathering(atIndices: indices), y.gathering(atIndices: indices))
            }))
    }

    /// Consecutive pairs stacked into a pair of batches, as `dataset.batch`.
    public func batch(_ batchSize: Int, dropRemainder: Bool = false) -> Dataset<(Tensor, Tensor)> {
        batched(batchSize, dropRemainder: dropRemainder) {
            (Tensor(stacking: $0.map(\.0)), Tensor(stacking: $0.map(\.1)))
        }
    }
}

extension Dataset {
    /// Batches from row indices when the dataset still has them, else by `stack`ing elements.
    func batched(_ batchSize: Int, dropRemainder: Bool, stack: @escaping ([Element]) -> Element) -> Dataset<Element> {
        precondition(batchSize > 0, "Dataset.batch: batchSize must be positive, got \(batchSize)")
        let batches = cardinality.map { dropRemainder ? $0 / batchSize : ($0 + batchSize - 1) / batchSize }
        if let s = slices {
            return Dataset(cardinality: batches, elements: {
                let indices = s.indices()
                return AnyIterator {
                    var rows: [Int] = []
                    rows.reserveCapacity(batchSize)
                    indices.read(into: &rows, count: batchSize)
                    return rows.isEmpty || (dropRemainder && rows.count < batchSize) ? nil : s.batch(rows)
                }
            })
        }
        let base = elements
        return Dataset(cardinality: batches, elements: {
            var chunks = ChunkIterator(base: base(), size: batchSize, dropRemainder: dropRemainder)
            return AnyIterator { chunks.next().map(stack) }
        })
    }
}

/// Consecutive elements of another iterator in arrays of `size` (the last one
/// shorter unless `dropRemainder`).
struct ChunkIterator<Base: IteratorProtocol>: IteratorProtocol {
    var base: Base
    let size: Int
    let dropRemainder: Bool

    mutating func next() -> [Base.Element]? {
        var chunk: [Base.Element] = []
        chunk.reserveCapacity(size)
        while chunk.count < size, let e = base.next() { chunk.append(e) }
        return chunk.isEmpty || (dropRemainder && chunk.count < size) ? nil : chunk
    }
}
