/// NumPy broadcasting: the shapes are aligned at their last axis and each axis
/// must match or be 1 on one side.
@usableFromInline
func broadcastShape(_ a: TensorShape, _ b: TensorShape, op: String) -> TensorShape {
    if a == b { return a }
    let rank = Swift.max(a.rank, b.rank)
    var dims = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.rank ? 1 : a[i - (rank - a.rank)]
        let db = i < rank - b.rank ? 1 : b[i - (rank - b.rank)]
        precondition(da == db || da == 1 || db == 1,
                     "\(op): shapes \(a) and \(b) cannot be broadcast together (axis \(i - rank): \(da) vs \(db))\(currentScopeDescription)")
        dims[i] = da == 1 ? db : da
    }
    return TensorShape(dims)
}

/// Strides (in elements) that read a contiguous tensor of `shape` as if it had
/// `target`'s shape: 0 on broadcast axes.
@usableFromInline
func broadcastStrides(_ shape: TensorShape, to target: TensorShape) -> [Int] {
    let offset = target.rank - shape.rank
    var strides = [Int](repeating: 0, count: target.rank)
    var s = 1
    for i in stride(from: shape.rank - 1, through: 0, by: -1) {
        strides[i + offset] = shape[i] == 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

/// Merges adjacent axes that every operand walks contiguously, so that e.g. a
/// (64, 32) + (64, 32) add becomes one flat loop and the N-d kernels do few rows.
@usableFromInline
func coalesceAxes(_ shape: [Int], _ strides: inout [[Int]]) -> [Int] {
    guard shape.count > 1 else { return shape }
    var outShape = [shape[0]]
    var outStrides = strides.map { [$0[0]] }
    for axis in 1..<shape.count {
        let last = outShape.count - 1
        let mergeable = strides.indices.allSatisfy { k in
            outStrides[k][last] == strides[k][axis] * shape[axis]
        }
        if mergeable {
            outShape[last] *= shape[axis]
            for k in strides.indices { outStrides[k][last] = strides[k][axis] }
        } else {
            outShape.append(shape[axis])
            for k in strides.indices { outStrides[k].append(strides[k][axis]) }
        }
    }
    strides = outStrides
    return outShape
}
