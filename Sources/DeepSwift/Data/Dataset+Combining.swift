import Foundation

extension Dataset {
    /// Elements of two datasets side by side, as `tf.data.Dataset.zip`; it ends
    /// with the shorter one.
    ///
    /// ```swift
    /// let pairs = Dataset.zip(Dataset.fromTensorSlices(x), Dataset.fromTensorSlices(y))
    /// ```
    public static func zip<A, B>(_ a: Dataset<A>, _ b: Dataset<B>) -> Dataset<(A, B)> where Element == (A, B) {
        let count: Int? = switch (a.cardinality, b.cardinality) {
        case let (x?, y?): Swift.min(x, y)
        default: nil
        }
        return Dataset<(A, B)>(cardinality: count) {
            let (i, j) = (a.makeIterator(), b.makeIterator())
            return AnyIterator {
                guard let x = i.next(), let y = j.next() else { return nil }
                return (x, y)
            }
        }
    }

    /// This dataset's elements, then `other`'s, as `dataset.concatenate`.
    public func concatenate(_ other: Dataset<Element>) -> Dataset<Element> {
        let count: Int? = switch (cardinality, other.cardinality) {
        case let (x?, y?): x + y
        default: nil
        }
        return Dataset(cardinality: count) {
            let first = self.makeIterator()
            var second: AnyIterator<Element>?
            return AnyIterator {
                if second == nil, let e = first.next() { return e }
                if second == nil { second = other.makeIterator() }
                return second!.next()
            }
        }
    }

    /// Each element with its position, counting from `start`, as `dataset.enumerate`.
    public func enumerate(start: Int = 0) -> Dataset<(Int, Element)> {
        Dataset<(Int, Element)>(cardinality: cardinality) {
            let base = self.makeIterator()
            var index = start
            return AnyIterator {
                guard let e = base.next() else { return nil }
                defer { index += 1 }
                return (index, e)
            }
        }
    }

    /// The elements of the first complete pass, kept in memory and replayed by every
    /// later pass, as `dataset.cache()`: the work before the cache (reading,
    /// `map`, a shuffle) runs once. A pass stopped early caches nothing.
    public func cache() -> Dataset<Element> {
        let store = CacheStore<Element>()
        return Dataset(cardinality: cardinality) {
            if let cached = store.elements {
                var position = 0
                return AnyIterator {
                    guard position < cached.count else { return nil }
                    defer { position += 1 }
                    return cached[position]
                }
            }
            let base = self.makeIterator()
            var seen: [Element] = []
            return AnyIterator {
                if let e = base.next() {
                    seen.append(e)
                    return e
                }
                store.finish(seen)
                return nil
            }
        }
    }

    /// A dataset whose passes each call `makeIterator` for a new iterator, as
    /// `tf.data.Dataset.from_generator`.
    ///
    /// ```swift
    /// let squares = Dataset<Tensor>.fromGenerator { (0..<10).lazy.map { Tensor(Float($0 * $0)) }.makeIterator() }
    /// ```
    public static func fromGenerator<I: IteratorProtocol>(cardinality: Int? = nil, _ makeIterator: @escaping () -> I)
        -> Dataset<Element> where I.Element == Element
    {
        Dataset(cardinality: cardinality) { AnyIterator(makeIterator()) }
    }
}

/// The elements a cached dataset's first complete pass saw.
final class CacheStore<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Element]?

    var elements: [Element]? { lock.withLock { stored } }

    func finish(_ all: [Element]) { lock.withLock { if stored == nil { stored = all } } }
}

extension Dataset where Element == Tensor {
    /// The rows of each element as elements of their own, as `dataset.unbatch()`.
    public func unbatch() -> Dataset<Tensor> {
        Dataset(cardinality: nil) {
            let base = self.makeIterator()
            var current: Tensor?, row = 0
            return AnyIterator {
                while current == nil || row >= current!.shape[0] {
                    guard let next = base.next() else { return nil }
                    precondition(next.rank >= 1, "Dataset.unbatch: elements need a batch axis, got \(next.shape)")
                    (current, row) = (next, 0)
                }
                defer { row += 1 }
                return current![row]
            }
        }
    }
}

extension Dataset where Element == (Tensor, Tensor) {
    /// The rows of each pair of batches as pairs of their own, as `dataset.unbatch()`.
    public func unbatch() -> Dataset<(Tensor, Tensor)> {
        Dataset(cardinality: nil) {
            let base = self.makeIterator()
            var current: (Tensor, Tensor)?, row = 0
            return AnyIterator {
                while current == nil || row >= current!.0.shape[0] {
                    guard let next = base.next() else { return nil }
                    precondition(next.0.rank >= 1 && next.1.rank >= 1 && next.0.shape[0] == next.1.shape[0],
                                 "Dataset.unbatch: x \(next.0.shape) and y \(next.1.shape) need the same batch axis")
                    (current, row) = (next, 0)
                }
                defer { row += 1 }
                return (current!.0[row], current!.1[row])
            }
        }
    }
}
