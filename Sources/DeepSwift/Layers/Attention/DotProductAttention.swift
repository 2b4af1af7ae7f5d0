/// Scaled dot-product attention, as `keras.ops.dot_product_attention`:
/// `softmax(q·kᵀ · scale, masked) · v` for each batch entry and head.
///
/// ```swift
/// let q = Random.normal([2, 5, 4, 8])                  // (batch, queries, heads, depth)
/// let kv = Random.normal([2, 7, 4, 8])                 // (batch, keys, heads, depth)
/// let out = dotProductAttention(query: q, key: kv, value: kv)   // (2, 5, 4, 8)
/// ```
///
/// It is written in differentiable ops, so gradients of any order flow to the
/// query, key and value.
///
/// - Parameters:
///   - query: `(batch, T, heads, depth)`.
///   - key: `(batch, S, heads, depth)`.
///   - value: `(batch, S, heads, valueDepth)`.
///   - mask: a bool tensor broadcastable to `(batch, heads, T, S)`: true where a
///     query may attend to a key. A query whose keys are all masked gets zeros
///     (no NaN).
///   - scale: the factor of the scores; `1/√depth` by default.
///   - isCausal: also mask the keys after each query's position (query `i`
///     attends to keys `0...i`).
/// - Returns: `(batch, T, heads, valueDepth)`.
public func dotProductAttention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, scale: Double? = nil,
                                isCausal: Bool = false) -> Tensor {
    precondition(query.rank == 4 && key.rank == 4 && value.rank == 4,
                 "dotProductAttention: query, key and value must be (batch, length, heads, depth), got \(query.shape), \(key.shape), \(value.shape)\(currentScopeDescription)")
    precondition(key.shape[1] == value.shape[1] && query.shape[3] == key.shape[3] && query.shape[2] == key.shape[2]
                    && key.shape[2] == value.shape[2],
                 "dotProductAttention: query \(query.shape), key \(key.shape) and value \(value.shape) do not fit together\(currentScopeDescription)")
    let heads = [0, 2, 1, 3]   // (batch, length, heads, depth) ↔ (batch, heads, length, depth)
    let q = query.transposed(permutation: heads), k = key.transposed(permutation: heads)
    let v = value.transposed(permutation: heads)
    let factor = scale ?? 1 / Double(query.shape[3]).squareRoot()
    let scores = matmul(q * factor, k, transposeB: true)                     // (batch, heads, T, S)
    let weights = maskedSoftmax(scores, mask: attentionMask(mask, causal: isCausal, queries: query.shape[1], keys: key.shape[1]))
    return matmul(weights, v).transposed(permutation: heads)
}

/// `mask` and, when `causal`, the lower-triangular mask of `queries × keys`
/// combined (nil when neither is given).
func attentionMask(_ mask: Tensor?, causal: Bool, queries: Int, keys: Int) -> Tensor? {
    if let mask {
        precondition(mask.dtype == .bool, "attention: the mask must be a bool tensor, got \(mask.dtype)\(currentScopeDescription)")
    }
    guard causal else { return mask }
    let lower = causalMask(queries: queries, keys: keys)
    return mask.map { logicalAnd($0, lower) } ?? lower
}

/// True where query `i` may see key `j`: `j ≤ i`, as Keras's causal mask.
func causalMask(queries: Int, keys: Int) -> Tensor {
    var allowed = [Bool](repeating: false, count: queries * keys)
    for i in 0..<queries { for j in 0..<Swift.min(i + 1, keys) { allowed[i * keys + j] = true } }
    return Tensor(shape: [queries, keys], scalars: allowed)
}

/// Softmax over the last axis with the masked entries left out, as Keras's
/// `Softmax(mask)`: masked scores become -1e9 before the softmax and 0 after it,
/// so a row with every entry masked is all zeros.
func maskedSoftmax(_ scores: Tensor, mask: Tensor?) -> Tensor {
    guard let mask else { return softmax(scores, axis: -1) }
    let kept = `where`(mask, scores, Tensor(-1e9, dtype: scores.dtype))
    return `where`(mask, softmax(kept, axis: -1), Tensor(0, dtype: scores.dtype))
}
