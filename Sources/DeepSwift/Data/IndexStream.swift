/// A pass over the row indices of a dataset made by `fromTensorSlices`, read a
/// block at a time. Shuffling, `take`, `skip` and `repeat` transform the indices,
/// and a batch of 64 rows costs one call down the chain (with per-index closure
/// calls an iterator chain took a third of a shuffled epoch).
class IndexStream {
    /// Appends the next indices to `out`, at most `count` of them; fewer only
    /// when the pass has ended.
    func read(into out: inout [Int], count: Int) {
        fatalError("\(type(of: self)) must implement read(into:count:)")
    }
}

/// 0, 1, ..., n-1.
final class RangeIndices: IndexStream {
    private let n: Int
    private var position = 0

    init(_ n: Int) { self.n = n }

    override func read(into out: inout [Int], count: Int) {
        let end = position + Swift.min(count, n - position)
        guard end > position else { return }
        out.append(contentsOf: position..<end)
        position = end
    }
}

/// TensorFlow's shuffle buffer: filled from the input, each output is a random
/// buffer entry, replaced by the next input.
final class ShuffledIndices: IndexStream {
    private let base: IndexStream
    private let bufferSize: Int
    private var generator: RandomGenerator
    private var buffer: [Int] = []
    private var baseEnded = false

    init(base: IndexStream, bufferSize: Int, generator: RandomGenerator) {
        self.base = base
        self.bufferSize = bufferSize
        self.generator = generator
        buffer.reserveCapacity(bufferSize)
    }

    override func read(into out: inout [Int], count: Int) {
        // Worked on in locals: one exclusivity check per block, not per index.
        var buffer = self.buffer, generator = self.generator
        self.buffer = []
        defer { self.buffer = buffer; self.generator = generator }
        for _ in 0..<count {
            if !baseEnded && buffer.count < bufferSize {
                let wanted = bufferSize - buffer.count, before = buffer.count
                base.read(into: &buffer, count: wanted)
                if buffer.count - before < wanted { baseEnded = true }
            }
            guard !buffer.isEmpty else { return }
            let i = Int.random(in: 0..<buffer.count, using: &generator)
            buffer.swapAt(i, buffer.count - 1)
            out.append(buffer.removeLast())
        }
    }
}

/// At most the first `count` indices of another pass.
final class TakenIndices: IndexStream {
    private let base: IndexStream
    private var remaining: Int

    init(base: IndexStream, count: Int) {
        self.base = base
        self.remaining = Swift.max(0, count)
    }

    override func read(into out: inout [Int], count: Int) {
        let wanted = Swift.min(count, remaining)
        guard wanted > 0 else { return }
        let before = out.count
        base.read(into: &out, count: wanted)
        remaining -= out.count - before
    }
}

/// Another pass without its first `count` indices.
final class SkippedIndices: IndexStream {
    private let base: IndexStream
    private var toSkip: Int

    init(base: IndexStream, count: Int) {
        self.base = base
        self.toSkip = Swift.max(0, count)
    }

    override func read(into out: inout [Int], count: Int) {
        var scratch: [Int] = []
        while toSkip > 0 {
            let wanted = Swift.min(toSkip, 4096)
            scratch.removeAll(keepingCapacity: true)
            base.read(into: &scratch, count: wanted)
            toSkip = scratch.count < wanted ? 0 : toSkip - wanted
        }
        base.read(into: &out, count: count)
    }
}

/// Passes of `makePass()` one after another, `count` times or forever. A pass
/// that yields nothing ends the repetition (it would otherwise spin forever).
final class RepeatedIndices: IndexStream {
    private let makePass: () -> IndexStream
    private let count: Int?
    private var started = 0
    private var current: IndexStream? = nil
    private var currentYielded = false

    init(makePass: @escaping () -> IndexStream, count: Int?) {
        self.makePass = makePass
        self.count = count
    }

    override func read(into out: inout [Int], count wanted: Int) {
        var needed = wanted
        while needed > 0 {
            if current == nil {
                if let count, started >= count { return }
                started += 1
                current = makePass()
                currentYielded = false
            }
            let before = out.count
            current!.read(into: &out, count: needed)
            let got = out.count - before
            needed -= got
            if got > 0 { currentYielded = true }
            if needed > 0 {   // the pass ended
                if !currentYielded { return }
                current = nil
            }
        }
    }
}

/// Every `count`-th index of another pass, starting with its `index`-th.
final class ShardedIndices: IndexStream {
    private let base: IndexStream
    private let count: Int, index: Int
    /// The position in the base pass of the next index read, modulo `count`.
    private var phase = 0
    private var block: [Int] = []

    init(base: IndexStream, count: Int, index: Int) {
        self.base = base
        self.count = count
        self.index = index
    }

    override func read(into out: inout [Int], count wanted: Int) {
        // Any `k·count` consecutive indices hold exactly k of this shard.
        var missing = wanted
        while missing > 0 {
            block.removeAll(keepingCapacity: true)
            let asked = Swift.min(missing, 4096) * count
            base.read(into: &block, count: asked)
            var j = (index - phase + count) % count
            while j < block.count {
                out.append(block[j])
                missing -= 1
                j += count
            }
            phase = (phase + block.count) % count
            if block.count < asked { return }
        }
    }
}
