/// An input pipeline, as `tf.data.Dataset`: a sequence of elements (a tensor, or an
/// `(x, y)` pair of tensors) built from in-memory tensors and transformed lazily.
///
/// ```swift
/// let dataset = Dataset.fromTensorSlices((xTrain, yTrain)).shuffle(bufferSize: 1024).batch(64)
/// for (step, (x, y)) in dataset.enumerated() { print(step, x.shape, y.shape) }
/// ```
///
/// Until `map` or `filter` is applied, a dataset made by `fromTensorSlices` works on
/// row indices: shuffling permutes indices and `batch` gathers each batch from the
/// source tensors in one copy, without a tensor per example.
public struct Dataset<Element>: Sequence {
    let elements: () -> AnyIterator<Element>
    let slices: Slices<Element>?
    /// The number of elements of a pass, when it is known without iterating
    /// (as `dataset.cardinality()`): nil after `filter` or an endless `repeat`.
    public let cardinality: Int?

    init(cardinality: Int?, elements: @escaping () -> AnyIterator<Element>) {
        self.elements = elements
        self.slices = nil
        self.cardinality = cardinality
    }

    init(cardinality: Int?, slices: Slices<Element>) {
        self.cardinality = cardinality
        self.slices = slices
        self.elements = {
            let indices = slices.indices()
            var block: [Int] = [], position = 0
            return AnyIterator {
                if position == block.count {
                    block.removeAll(keepingCapacity: true)
                    position = 0
                    indices.read(into: &block, count: 256)
                    if block.isEmpty { return nil }
                }
                defer { position += 1 }
                return slices.element(block[position])
            }
        }
    }

    /// A new pass over the elements (each pass of a shuffled dataset reshuffles,
    /// unless told not to).
    public func makeIterator() -> AnyIterator<Element> { elements() }

    /// Each element transformed by `transform`, as `dataset.map`.
    public func map<T>(_ transform: @escaping (Element) -> T) -> Dataset<T> {
        Dataset<T>(cardinality: cardinality) {
            let base = self.makeIterator()
            return AnyIterator { base.next().map(transform) }
        }
    }

    /// The elements for which `isIncluded` is true, as `dataset.filter`.
    public func filter(_ isIncluded: @escaping (Element) -> Bool) -> Dataset<Element> {
        Dataset(cardinality: nil) {
            let base = self.makeIterator()
            return AnyIterator {
                while let e = base.next() { if isIncluded(e) { return e } }
                return nil
            }
        }
    }

    /// Applies a transform to the row indices when the dataset still has them,
    /// else to the elements (the same transform, as an index stream and as a
    /// generic iterator).
    private func transformed(cardinality: Int?, _ indices: @escaping (IndexStream) -> IndexStream,
                             _ elements: @escaping (AnyIterator<Element>) -> AnyIterator<Element>)
        -> Dataset<Element>
    {
        if let s = slices {
            return Dataset(cardinality: cardinality,
                           slices: Slices(indices: { indices(s.indices()) }, element: s.element, batch: s.batch))
        }
        let base = self.elements
        return Dataset(cardinality: cardinality, elements: { elements(base()) })
    }

    /// At most the first `count` elements, as `dataset.take`.
    public func take(_ count: Int) -> Dataset<Element> {
        transformed(cardinality: cardinality.map { Swift.min($0, count) },
                    { TakenIndices(base: $0, count: count) },
                    { AnyIterator(TakeIterator(base: $0, count: count)) })
    }

    /// All but the first `count` elements, as `dataset.skip`.
    public func skip(_ count: Int) -> Dataset<Element> {
        transformed(cardinality: cardinality.map { Swift.max(0, $0 - count) },
                    { SkippedIndices(base: $0, count: count) },
                    { AnyIterator(SkipIterator(base: $0, count: count)) })
    }

    /// The elements repeated `count` times, or forever when `count` is nil, as
    /// `dataset.repeat` (each repetition is a new pass, so shuffles differ).
    public func `repeat`(_ count: Int? = nil) -> Dataset<Element> {
        let total = count.flatMap { n in cardinality.map { $0 * n } } ?? (cardinality == 0 ? 0 : nil)
        if let s = slices {
            return Dataset(cardinality: total,
                           slices: Slices(indices: { RepeatedIndices(makePass: s.indices, count: count) },
                                          element: s.element, batch: s.batch))
        }
        let base = self.elements
        return Dataset(cardinality: total, elements: { AnyIterator(RepeatIterator(makeBase: base, count: count)) })
    }

    /// The elements shuffled through a buffer of `bufferSize`, with TensorFlow's
    /// semantics: the buffer is filled from the input, and each output is a random
    /// buffer entry, replaced by the next input. A buffer as large as the dataset
    /// gives a uniform permutation. Each pass reshuffles unless
    /// `reshuffleEachIteration` is false. Without a seed, one is drawn from the
    /// global generator, so `setRandomSeed(_:)` makes the order reproducible.
    public func shuffle(bufferSize: Int, seed: UInt64? = nil, reshuffleEachIteration: Bool = true) -> Dataset<Element> {
        precondition(bufferSize > 0, "Dataset.shuffle: bufferSize must be positive, got \(bufferSize)")
        let base = seed ?? Random.uniform([1], min: 0, max: Double(1 << 52), dtype: .int64).scalar(as: Int64.self).magnitude
        let passes = PassCounter()
        let generator = { RandomGenerator(seed: base &+ (reshuffleEachIteration ? passes.next() : 0) &* 0x9E37_79B9_7F4A_7C15) }
        return transformed(cardinality: cardinality,
                           { ShuffledIndices(base: $0, bufferSize: bufferSize, generator: generator()) },
                           { AnyIterator(ShuffleIterator(base: $0, bufferSize: bufferSize, generator: generator())) })
    }
}

/// TensorFlow's shuffle buffer over another iterator.
struct ShuffleIterator<Base: IteratorProtocol>: IteratorProtocol {
    var base: Base
    let bufferSize: Int
    var generator: RandomGenerator
    var buffer: [Base.Element] = []

    init(base: Base, bufferSize: Int, generator: RandomGenerator) {
        self.base = base
        self.bufferSize = bufferSize
        self.generator = generator
        buffer.reserveCapacity(bufferSize)
    }

    mutating func next() -> Base.Element? {
        while buffer.count < bufferSize, let e = base.next() { buffer.append(e) }
        guard !buffer.isEmpty else { return nil }
        let i = Int.random(in: 0..<buffer.count, using: &generator)
        buffer.swapAt(i, buffer.count - 1)
        return buffer.removeLast()
    }
}

struct TakeIterator<Base: IteratorProtocol>: IteratorProtocol {
    var base: Base
    var count: Int
    mutating func next() -> Base.Element? {
        guard count > 0 else { return nil }
        count -= 1
        return base.next()
    }
}

struct SkipIterator<Base: IteratorProtocol>: IteratorProtocol {
    var base: Base
    var count: Int
    mutating func next() -> Base.Element? {
        while count > 0 { count -= 1; if base.next() == nil { return nil } }
        return base.next()
    }
}

/// Passes over `makeBase()` one after another, `count` times or forever; an empty
/// pass ends the repetition (it would otherwise spin forever).
struct RepeatIterator<Element>: IteratorProtocol {
    let makeBase: () -> AnyIterator<Element>
    let count: Int?
    var pass = 0
    var current: AnyIterator<Element>? = nil
    var currentYielded = false

    init(makeBase: @escaping () -> AnyIterator<Element>, count: Int?) {
        self.makeBase = makeBase
        self.count = count
    }

    mutating func next() -> Element? {
        while true {
            if current == nil {
                if let count, pass >= count { return nil }
                pass += 1
                current = makeBase()
                currentYielded = false
            }
            if let e = current!.next() {
                currentYielded = true
                return e
            }
            current = nil
            if !currentYielded { return nil }
        }
    }
}

/// A dataset that still reads rows of source tensors by index.
struct Slices<Element> {
    /// A new pass over the row indices.
    let indices: () -> IndexStream
    /// One row as an element.
    let element: (Int) -> Element
    /// Several rows stacked into one element (a batch).
    let batch: ([Int]) -> Element
}

/// Counts the passes over a shuffled dataset, so that each one reshuffles.
final class PassCounter {
    private var count: UInt64 = 0
    func next() -> UInt64 {
        count += 1
        return count
    }
}

extension Dataset {
    /// Every `count`-th element, starting with the `index`-th, as tf.data's
    /// `shard(num_shards, index)`: the shards of `0..<count` together hold every
    /// element exactly once. In data-parallel training each process reads its part:
    ///
    /// ```swift
    /// let shard = Dataset.fromTensorSlices(x).shard(count: 2, index: 1)   // rows 1, 3, 5, ...
    /// ```
    ///
    /// Shard before shuffling and batching, so that each process shuffles and
    /// batches only its own elements.
    ///
    /// - Parameters:
    ///   - count: the number of shards (processes), at least 1.
    ///   - index: this shard, in `0..<count`.
    public func shard(count: Int, index: Int) -> Dataset<Element> {
        precondition(count > 0, "Dataset.shard: count must be positive, got \(count)")
        precondition((0..<count).contains(index), "Dataset.shard: index must be in 0..<\(count), got \(index)")
        return transformed(cardinality: cardinality.map { Swift.max(0, $0 - index + count - 1) / count },
                           { ShardedIndices(base: $0, count: count, index: index) },
                           { AnyIterator(ShardIterator(base: $0, count: count, index: index)) })
    }
}

/// Every `count`-th element of another iterator, starting with its `index`-th.
struct ShardIterator<Base: IteratorProtocol>: IteratorProtocol {
    var base: Base
    let count: Int
    var skip: Int

    init(base: Base, count: Int, index: Int) {
        self.base = base
        self.count = count
        self.skip = index
    }

    mutating func next() -> Base.Element? {
        while skip > 0 {
            skip -= 1
            if base.next() == nil { return nil }
        }
        skip = count - 1
        return base.next()
    }
}
