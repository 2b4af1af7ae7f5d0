import Foundation

extension Dataset where Element == Tensor {
    /// Consecutive elements of different shapes padded to a common shape and
    /// stacked, `batchSize` at a time, as `dataset.padded_batch`: each axis is
    /// padded at its end to the batch's longest element, or to a fixed size where
    /// `paddedShape` gives one (nil entries take the batch's longest).
    ///
    /// ```swift
    /// let sentences = Dataset<Tensor>.fromGenerator { [[1, 2, 3], [4], [5, 6]].lazy.map { Tensor($0 as [Int32]) }.makeIterator() }
    /// for batch in sentences.paddedBatch(2) { print(batch.shape) }   // (2, 3), then (1, 2)
    /// ```
    ///
    /// - Parameters:
    ///   - batchSize: the elements per batch.
    ///   - paddedShape: a size per axis of the elements (nil for the batch's
    ///     longest); nil pads every axis to the batch's longest.
    ///   - paddingValue: what the new positions hold (finite; default 0).
    ///   - dropRemainder: leaves out a last, smaller batch.
    public func paddedBatch(_ batchSize: Int, paddedShape: [Int?]? = nil, paddingValue: Double = 0,
                            dropRemainder: Bool = false) -> Dataset<Tensor> {
        checkPaddedBatch(batchSize, paddingValue)
        let base = elements
        return Dataset(cardinality: cardinality.map { dropRemainder ? $0 / batchSize : ($0 + batchSize - 1) / batchSize }) {
            var chunks = ChunkIterator(base: base(), size: batchSize, dropRemainder: dropRemainder)
            return AnyIterator { chunks.next().map { padAndStack($0, paddedShape, paddingValue, component: nil) } }
        }
    }
}

extension Dataset where Element == (Tensor, Tensor) {
    /// Consecutive pairs padded and stacked into a pair of batches, as
    /// `dataset.padded_batch` on `(x, y)` elements: each component is padded on
    /// its own, as in ``Dataset/paddedBatch(_:paddedShape:paddingValue:dropRemainder:)``.
    ///
    /// ```swift
    /// let batches = pairs.paddedBatch(32, paddingValues: (0, -1))
    /// ```
    public func paddedBatch(_ batchSize: Int, paddedShapes: ([Int?]?, [Int?]?) = (nil, nil),
                            paddingValues: (Double, Double) = (0, 0), dropRemainder: Bool = false) -> Dataset<(Tensor, Tensor)> {
        checkPaddedBatch(batchSize, paddingValues.0)
        checkPaddedBatch(batchSize, paddingValues.1)
        let base = elements
        return Dataset(cardinality: cardinality.map { dropRemainder ? $0 / batchSize : ($0 + batchSize - 1) / batchSize }) {
            var chunks = ChunkIterator(base: base(), size: batchSize, dropRemainder: dropRemainder)
            return AnyIterator {
                chunks.next().map {
                    (padAndStack($0.map(\.0), paddedShapes.0, paddingValues.0, component: "x"),
                     padAndStack($0.map(\.1), paddedShapes.1, paddingValues.1, component: "y"))
                }
            }
        }
    }
}

private func checkPaddedBatch(_ batchSize: Int, _ value: Double) {
    precondition(batchSize > 0, "Dataset.paddedBatch: batchSize must be positive, got \(batchSize)")
    precondition(value.isFinite, "Dataset.paddedBatch: the padding value must be finite, got \(value)")
}

/// Pads each element at the end of each axis to the common shape and stacks them.
private func padAndStack(_ items: [Tensor], _ fixed: [Int?]?, _ value: Double, component: String?) -> Tensor {
    let what = component.map { "the \($0) of an element" } ?? "an element"
    let rank = items[0].rank, dtype = items[0].dtype
    for t in items {
        precondition(t.rank == rank && t.dtype == dtype,
                     "Dataset.paddedBatch: \(what) has shape \(t.shape) and dtype \(t.dtype), another \(items[0].shape) and \(dtype); elements of a batch need the same rank and dtype")
    }
    if let fixed {
        precondition(fixed.count == rank,
                     "Dataset.paddedBatch: the padded shape [\(fixed.map { $0.map(String.init) ?? "nil" }.joined(separator: ", "))] needs \(rank) entries for elements of shape \(items[0].shape)")
    }
    let target = (0..<rank).map { axis -> Int in
        let longest = items.map { $0.shape[axis] }.max() ?? 0
        guard let size = fixed?[axis] else { return longest }
        precondition(size >= longest,
                     "Dataset.paddedBatch: \(what) has \(longest) positions on axis \(axis), more than the padded shape's \(size)")
        return size
    }
    let padded = items.map { t -> Tensor in
        let pads = (0..<rank).map { (before: 0, after: target[$0] - t.shape[$0]) }
        guard pads.contains(where: { $0.after > 0 }) else { return t }
        let zeroPadded = t.padded(pads)
        if value == 0 { return zeroPadded }
        // 1 at the new positions, 0 at the element's own: exact for the kept values.
        let fill = Tensor.ones(t.shape, dtype: dtype).padded(pads)
        return zeroPadded + (Tensor.ones(TensorShape(target), dtype: dtype) - fill) * Tensor(value, dtype: dtype)
    }
    return Tensor(stacking: padded)
}

extension Dataset {
    /// The datasets that `transform` makes of each element, read `cycleLength` at a
    /// time, `blockLength` consecutive elements from each in turn, as
    /// `dataset.interleave`: when one ends, the next input element's dataset takes
    /// its place in the cycle. The order is TensorFlow's deterministic one.
    ///
    /// ```swift
    /// // Lines of several files, two files at a time, 4 lines from each in turn.
    /// let lines = files.interleave(cycleLength: 2, blockLength: 4) { file in linesDataset(file) }
    /// ```
    ///
    /// - Parameters:
    ///   - cycleLength: how many datasets are open at once (default: the number of
    ///     cores, as TensorFlow's `AUTOTUNE`).
    ///   - blockLength: consecutive elements taken from one dataset before the next.
    ///   - transform: the dataset of each element.
    public func interleave<T>(cycleLength: Int? = nil, blockLength: Int = 1,
                              _ transform: @escaping (Element) -> Dataset<T>) -> Dataset<T> {
        let cycle = cycleLength ?? ProcessInfo.processInfo.activeProcessorCount
        precondition(cycle > 0 && blockLength > 0,
                     "Dataset.interleave: cycleLength and blockLength must be positive, got \(cycle) and \(blockLength)")
        return Dataset<T>(cardinality: nil) {
            let input = self.makeIterator()
            var open = [AnyIterator<T>?](repeating: nil, count: cycle)
            var (slot, taken, openCount, inputEnded) = (0, 0, 0, false)
            func advance() { (slot, taken) = ((slot + 1) % cycle, 0) }
            return AnyIterator {
                while !inputEnded || openCount > 0 {
                    if let current = open[slot] {
                        if let e = current.next() {
                            taken += 1
                            if taken == blockLength { advance() }
                            return e
                        }
                        open[slot] = nil
                        openCount -= 1
                        advance()
                    } else if !inputEnded, let e = input.next() {
                        open[slot] = transform(e).makeIterator()
                        openCount += 1
                    } else {
                        inputEnded = true
                        advance()
                    }
                }
                return nil
            }
        }
    }
}
