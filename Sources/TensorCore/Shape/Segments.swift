extension Tensor {
    /// The sums of the rows of `self` that share a segment id, as
    /// `tf.math.unsorted_segment_sum`: row `s` of the result (of `segmentCount`
    /// rows) is the sum of the rows i with `segmentIDs[i] == s`; rows with a
    /// negative id are dropped, as TF drops them. `segmentIDs` index the leading
    /// axes of `self` (its shape is a prefix of `self`'s). Differentiable: the
    /// gradient gathers the upstream rows back (the same scatter as an embedding's
    /// gradient).
    ///
    /// ```swift
    /// Tensor([1, 2, 3, 4] as [Float]).unsortedSegmentSum(Tensor([0, 2, 0, -1] as [Int32]), segmentCount: 3)   // [4, 2, 0]
    /// ```
    public func unsortedSegmentSum(_ segmentIDs: Tensor, segmentCount: Int) -> Tensor {
        let ids = checkedSegmentIDs(segmentIDs, op: "unsortedSegmentSum")
        precondition(segmentCount >= 0, "unsortedSegmentSum: segmentCount must not be negative, got \(segmentCount)\(currentScopeDescription)")
        if let bad = ids.first(where: { $0 >= segmentCount }) {
            preconditionFailure("unsortedSegmentSum: segment id \(bad) is out of range for \(segmentCount) segments\(currentScopeDescription)")
        }
        guard ids.contains(where: { $0 < 0 }) else {
            return scatterAdded(atIndices: segmentIDs, alongAxis: 0, size: segmentCount)
        }
        // Dropped rows: sent to segment 0 with a weight of 0.
        let keep = Tensor(shape: segmentIDs.shape, scalars: ids.map { $0 < 0 ? 0.0 : 1.0 }).cast(to: dtype)
            .reshaped(to: TensorShape(segmentIDs.shape.dimensions + Array(repeating: 1, count: rank - segmentIDs.rank)))
        let clamped = Tensor(shape: segmentIDs.shape, scalars: ids.map { Swift.max($0, 0) })
        return (self * keep).scatterAdded(atIndices: clamped, alongAxis: 0, size: segmentCount)
    }

    /// ``unsortedSegmentSum(_:segmentCount:)`` for sorted, non-negative ids, as
    /// `tf.math.segment_sum`: the result has `last id + 1` rows.
    ///
    /// ```swift
    /// Tensor([1, 2, 3, 4] as [Float]).segmentSum(Tensor([0, 0, 1, 3] as [Int32]))   // [3, 3, 0, 4]
    /// ```
    public func segmentSum(_ segmentIDs: Tensor) -> Tensor {
        let ids = checkedSegmentIDs(segmentIDs, op: "segmentSum")
        precondition(segmentIDs.rank == 1, "segmentSum: segment ids must be a vector, got shape \(segmentIDs.shape)\(currentScopeDescription)")
        precondition((ids.first.map { $0 >= 0 } ?? true) && zip(ids, ids.dropFirst()).allSatisfy { $0 <= $1 },
                     "segmentSum: segment ids must be sorted and non-negative; use unsortedSegmentSum otherwise\(currentScopeDescription)")
        return unsortedSegmentSum(segmentIDs, segmentCount: Int(ids.last ?? -1) + 1)
    }

    private func checkedSegmentIDs(_ segmentIDs: Tensor, op: String) -> [Int64] {
        precondition(segmentIDs.dtype.isInteger, "\(op): segment ids must be integers, got \(segmentIDs.dtype)\(currentScopeDescription)")
        precondition(segmentIDs.rank <= rank && Array(shape.dimensions.prefix(segmentIDs.rank)) == segmentIDs.shape.dimensions,
                     "\(op): segment ids of shape \(segmentIDs.shape) do not match the leading axes of \(shape)\(currentScopeDescription)")
        return segmentIDs.scalars(as: Int64.self)
    }
}
