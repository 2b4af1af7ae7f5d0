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
    var terms = zip(operands, spec.inputs).map { EinsumTerm(tensor: $0, labels: $1) }
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
        let compact = equation.filter { $0 != " " }
        let sides = compact.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
        check(sides.count <= 2, "more than one '->'")
        let inputTexts = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        check(inputTexts.count == operands.count, "\(inputTexts.count) input terms for \(operands.count) operands")
        check(compact.allSatisfy { $0.isLetter || $0 == "." || $0 == "," || $0 == "-" || $0 == ">" },
              "only letters, ',', '->' and '...' may appear")
        // The ellipsis covers the axes the explicit labels leave; ellipses of
        // different lengths are aligned at their ends, as broadcasting aligns axes.
        var extras: [Int] = []
        for (text, operand) in zip(inputTexts, operands) {
            let explicit = text.replacing("...", with: "")
            check(!explicit.contains("."), "a '.' outside '...'")
            let hasEllipsis = text.contains("...")
            let extra = operand.rank - explicit.count
            check(hasEllipsis ? extra >= 0 : extra == 0,
                  "the term '\(text)' has \(explicit.count) labels for an operand of rank \(operand.rank) (shape \(operand.shape))")
            extras.append(extra)
        }
        let ellipsisRank = extras.max() ?? 0
        for (text, extra) in zip(inputTexts, extras) {
            var labels: [Character] = []
            for part in text.split(separator: "...", omittingEmptySubsequences: false).map(String.init).enumerated() {
                if part.offset == 1 { labels += (0..<extra).map { EinsumSpec.ellipsisLabel(ellipsisRank - extra + $0) } }
                labels += Array(part.element)
            }
            inputs.append(labels)
        }
        if sides.count == 2 {
            let text = sides[1]
            check(!text.replacing("...", with: "").contains("."), "a '.' outside '...' in the output")
            var labels: [Character] = []
            for part in text.split(separator: "...", omittingEmptySubsequences: false).map(String.init).enumerated() {
                if part.offset == 1 { labels += (0..<ellipsisRank).map(EinsumSpec.ellipsisLabel) }
                labels += Array(part.element)
            }
            output = labels
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
                if let known = sizes[label] {
                    check(known == operand.shape[axis],
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
        let a = EinsumTerm(tensor: permuted(to: batch + left + contracted, spec: spec), labels: batch + left + contracted)
        let b = EinsumTerm(tensor: other.permuted(to: batch + contracted + right, spec: spec), labels: batch + contracted + right)
        let product = matmul(a.tensor.reshaped(to: [size(batch), size(left), size(contracted)]),
                             b.tensor.reshaped(to: [size(batch), size(contracted), size(right)]))
        let labels = batch + left + right
        return EinsumTerm(tensor: product.reshaped(to: TensorShape(labels.map { spec.sizes[$0]! })), labels: labels)
    }
}
