/// A sum of products over labelled axes, as `tf.einsum` / `numpy.einsum`:
/// `"bij,bjk->bik"` (batched matmul), `"ij->ji"` (transpose), `"ii->i"`
/// (diagonal), `"bhqd,bhkd->bhqk"` (attention scores), `"...ij,...jk->...ik"`
/// (ellipsis for leading axes); without `->` the output is the labels that appear
/// once, in alphabetical order, after the ellipsis axes. It is lowered to
/// diagonals, sums, transposes, reshapes and one batched `matmul` per pair of
/// operands (several are folded left to right), so it is differentiable to any
/// order and replays in compiled functions.
///
/// ```swift
/// let scores = einsum("bhqd,bhkd->bhqk", x, y)   // x·yᵀ over the last axes
/// let trace = einsum("ii->", x)
/// ```
public func einsum(_ equation: String, _ operands: Tensor...) -> Tensor { einsum(equation, operands) }

/// ``einsum(_:_:)-(String,Tensor...)`` with the operands in an array.
public func einsum(_ equation: String, _ operands: [Tensor]) -> Tensor {
    let spec = EinsumSpec(equation, operands)
    // Ellipsis axes of size 1 are broadcast to the others' size first.
    var terms = zip(operands, spec.inputs).map { operand, labels in
        let full = TensorShape(labels.map { spec.sizes[$0]! })
        return EinsumTerm(tensor: operand.shape == full ? operand : operand.broadcasted(to: full), labels: labels)
    }
    // Fold left: each intermediate keeps the labels that later operands or the output need.
    var result = terms.removeFirst()
    var later = terms.reduce(Set(spec.output)) { $0.union($1.labels) }
    result = result.reduced(keeping: later, spec: spec)
    for (k, term) in terms.enumerated() {
        later = terms[(k + 1)...].reduce(Set(spec.output)) { $0.union($1.labels) }
        result = result.contracted(with: term.reduced(keeping: later.union(result.labels), spec: spec), keeping: later, spec: spec)
    }
    return result.reduced(keeping: Set(spec.output), spec: spec).permuted(to: spec.output, spec: spec)
}

/// A parsed equation: each operand's labels (the ellipsis expanded to private
/// labels) and the output's.
private struct EinsumSpec {
    let equation: String
    var inputs: [[Character]] = []
    var output: [Character] = []
    var sizes: [Character: Int] = [:]

    init(_ equation: String, _ operands: [Tensor]) {
        self.equation = equation
        // Parsed by hand over characters: the standard library's string searches
        // cost more than the contraction of a small einsum.
        let compact = Array(equation.unicodeScalars.filter { $0 != " " }.map(Character.init))
        check(compact.allSatisfy { $0.isLetter || $0 == "." || $0 == "," || $0 == "-" || $0 == ">" },
              "only letters, ',', '->' and '...' may appear")
        var arrow: Int?
        for i in compact.indices.dropLast() where compact[i] == "-" && compact[i + 1] == ">" {
            check(arrow == nil, "more than one '->'")
            arrow = i
        }
        check(compact.enumerated().allSatisfy { ($0.element != "-" || $0.offset == arrow) && ($0.element != ">" || $0.offset == arrow.map { $0 + 1 }) },
              "'-' or '>' outside '->'")
        let left = arrow.map { Array(compact[..<$0]) } ?? compact
        let terms = left.split(separator: ",", omittingEmptySubsequences: false).map(Array.init)
        check(terms.count == operands.count, "\(terms.count) input terms for \(operands.count) operands")
        /// The labels before and after a term's "..." (nil after: no ellipsis).
        func ellipsisSplit(_ term: [Character]) -> ([Character], [Character]?) {
            guard let dot = term.firstIndex(of: ".") else { return (term, nil) }
            check(dot + 2 < term.count && term[dot + 1] == "." && term[dot + 2] == "." && !term[(dot + 3)...].contains("."),
                  "a '.' outside '...'")
            return (Array(term[..<dot]), Array(term[(dot + 3)...]))
        }
        // The ellipsis covers the axes the explicit labels leave; ellipses of
        // different lengths are aligned at their ends, as broadcasting aligns axes.
        let split = terms.map(ellipsisSplit)
        var extras: [Int] = []
        for ((before, after), (term, operand)) in zip(split, zip(terms, operands)) {
            let explicit = before.count + (after?.count ?? 0)
            let extra = operand.rank - explicit
            check(after != nil ? extra >= 0 : extra == 0,
                  "the term '\(String(term))' has \(explicit) labels for an operand of rank \(operand.rank) (shape \(operand.shape))")
            extras.append(extra)
        }
        let ellipsisRank = extras.max() ?? 0
        for ((before, after), extra) in zip(split, extras) {
            guard let after else { inputs.append(before); continue }
            inputs.append(before + (0..<extra).map { EinsumSpec.ellipsisLabel(ellipsisRank - extra + $0) } + after)
        }
        if let arrow {
            let (before, after) = ellipsisSplit(Array(compact[(arrow + 2)...]))
            output = after.map { before + (0..<ellipsisRank).map(EinsumSpec.ellipsisLabel) + $0 } ?? before
        } else {
            let counts = inputs.joined().reduce(into: [Character: Int]()) { $0[$1, default: 0] += 1 }
            output = (0..<ellipsisRank).map(EinsumSpec.ellipsisLabel)
                + counts.filter { $0.value == 1 && EinsumSpec.ellipsisIndex($0.key) == nil }.keys.sorted()
        }
        check(Set(output).count == output.count, "a label repeats in the output")
        let all = Set(inputs.joined())
        for label in output { check(all.contains(label), "the output label '\(label)' is in no input") }
        for (labels, operand) in zip(inputs, operands) {
            for (axis, label) in labels.enumerated() {
                let size = operand.shape[axis]
                if let known = sizes[label], EinsumSpec.ellipsisIndex(label) != nil, known == 1 || size == 1 {
                    sizes[label] = max(known, size)   // ellipsis axes broadcast
                } else if let known = sizes[label] {
                    check(known == size,
                          "the label '\(EinsumSpec.printable(label))' has size \(known) and \(operand.shape[axis]) (shapes \(operands.map(\.shape)))")
                } else {
                    sizes[label] = operand.shape[axis]
                }
            }
        }
    }

    func check(_ condition: Bool, _ reason: @autoclosure () -> String) {
        precondition(condition, "einsum(\"\(equation)\"): \(reason())\(currentScopeDescription)")
    }

    static func ellipsisLabel(_ k: Int) -> Character { Character(Unicode.Scalar(0xE000 + UInt32(k))!) }
    static func ellipsisIndex(_ c: Character) -> Int? {
        guard let v = c.unicodeScalars.first?.value, v >= 0xE000, v < 0xE100 else { return nil }
        return Int(v - 0xE000)
    }
    static func printable(_ c: Character) -> String { ellipsisIndex(c).map { "...[\($0)]" } ?? String(c) }
}

/// A tensor with a label per axis.
private struct EinsumTerm {
    var tensor: Tensor
    var labels: [Character]

    /// Repeated labels become one axis (the diagonal); labels not in `keep` are summed out.
    func reduced(keeping keep: Set<Character>, spec: EinsumSpec) -> EinsumTerm {
        var t = tensor, labels = labels
        while let (first, second) = repeatedPair(labels) {
            // The diagonal over two axes: mask with the identity, sum one of them away.
            let n = t.shape[first]
            var maskShape = [Int](repeating: 1, count: t.rank)
            maskShape[first] = n
            maskShape[second] = n
            let identity = Tensor.eye(n, dtype: t.dtype).reshaped(to: TensorShape(maskShape))
            t = (t * identity).sum(axis: second)
            labels.remove(at: second)
        }
        let summed = labels.indices.filter { !keep.contains(labels[$0]) }
        if !summed.isEmpty {
            t = t.sum(axes: summed)
            labels = labels.enumerated().filter { !summed.contains($0.offset) }.map(\.element)
        }
        return EinsumTerm(tensor: t, labels: labels)
    }

    private func repeatedPair(_ labels: [Character]) -> (Int, Int)? {
        for i in labels.indices { if let j = labels[(i + 1)...].firstIndex(of: labels[i]) { return (i, j) } }
        return nil
    }

    /// The axes reordered to `order` (the same labels).
    func permuted(to order: [Character], spec: EinsumSpec) -> Tensor {
        let permutation = order.map { labels.firstIndex(of: $0)! }
        return permutation == Array(0..<labels.count) ? tensor : tensor.transposed(permutation: permutation)
    }

    /// The product with `other`, summed over the shared labels that `keep` lacks,
    /// as one batched matmul: batch (shared, kept), left (this only), contracted,
    /// right (other only).
    func contracted(with other: EinsumTerm, keeping keep: Set<Character>, spec: EinsumSpec) -> EinsumTerm {
        let shared = labels.filter(other.labels.contains)
        let batch = shared.filter(keep.contains), contracted = shared.filter { !keep.contains($0) }
        let left = labels.filter { !shared.contains($0) }, right = other.labels.filter { !shared.contains($0) }
        func size(_ ls: [Character]) -> Int { ls.reduce(1) { $0 * spec.sizes[$1]! } }
        // An operand already laid out as the transposed matrix is read transposed
        // by the GEMM rather than copied (attention's keys, "bhkd").
        let transposeA = labels == batch + contracted + left && !left.isEmpty && !contracted.isEmpty
        let transposeB = other.labels == batch + right + contracted && !right.isEmpty && !contracted.isEmpty
        let a = permuted(to: transposeA ? labels : batch + left + contracted, spec: spec)
        let b = other.permuted(to: transposeB ? other.labels : batch + contracted + right, spec: spec)
        let (m, k, n) = (size(left), size(contracted), size(right))
        let product = matmul(a.reshaped(to: transposeA ? [size(batch), k, m] : [size(batch), m, k]),
                             b.reshaped(to: transposeB ? [size(batch), n, k] : [size(batch), k, n]),
                             transposeA: transposeA, transposeB: transposeB)
        let labels = batch + left + right
        return EinsumTerm(tensor: product.reshaped(to: TensorShape(labels.map { spec.sizes[$0]! })), labels: labels)
    }
}
