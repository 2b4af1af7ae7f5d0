import Foundation

extension Dataset {
    /// Produces up to `bufferSize` elements ahead on a background thread while the
    /// consumer works, as `dataset.prefetch`.
    public func prefetch(_ bufferSize: Int = 2) -> Dataset<Element> {
        precondition(bufferSize > 0, "Dataset.prefetch: bufferSize must be positive, got \(bufferSize)")
        return Dataset(cardinality: cardinality, elements: {
            let queue = PrefetchQueue<Element>(capacity: bufferSize)
            let source = UncheckedBox(self.makeIterator())
            let thread = Thread {
                while let e = source.value.next() {
                    if !queue.put(e) { return }
                }
                queue.finish()
            }
            thread.start()
            let consumer = PrefetchConsumer(queue)
            return AnyIterator { consumer.queue.take() }
        })
    }
}

/// Moves a non-Sendable value to the one thread that will use it from then on.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A bounded queue between one producer thread and one consumer. When the
/// consumer's iterator is released, the producer is told to stop.
final class PrefetchQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var finished = false
    private var abandoned = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Whether a side sleeps on the condition: only then does the other wake it
    /// (a wake-up costs a context switch, more than a small batch takes to make).
    private var producerWaits = false, consumerWaits = false

    /// Adds an element, waiting for room; false when the consumer has gone.
    func put(_ e: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !abandoned {
            producerWaits = true
            condition.wait()
            producerWaits = false
        }
        guard !abandoned else { return false }
        items.append(e)
        if consumerWaits { condition.broadcast() }
        return true
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next element, waiting for the producer; nil at the end.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished {
            consumerWaits = true
            condition.wait()
            consumerWaits = false
        }
        guard !items.isEmpty else { return nil }
        let e = items.removeFirst()
        // Wake a waiting producer only once half the room is free, so that it
        // makes several elements per wake-up.
        if producerWaits && items.count <= capacity / 2 { condition.broadcast() }
        return e
    }

    /// Tells the producer to stop: the consumer will take nothing more.
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The consumer's end of a prefetch queue: when the iterator holding it is released
/// (the loop ended or broke off), the producer thread stops.
final class PrefetchConsumer<Element> {
    let queue: PrefetchQueue<Element>
    init(_ queue: PrefetchQueue<Element>) { self.queue = queue }
    deinit { queue.abandon() }
}
