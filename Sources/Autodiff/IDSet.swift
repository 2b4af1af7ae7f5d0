/// A set of tensor identities (nonzero 64-bit ids) with open addressing and a
/// multiplicative hash: a tape looks up every input of every op, and Swift's
/// `Set` spends most of that time in its seeded SipHash.
struct IDSet {
    /// Slots of a power-of-two table; 0 marks an empty slot (no id is 0).
    private var slots: [UInt64]
    private var shift: UInt64
    private(set) var count = 0

    init(minimumCapacity: Int = 64) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    init<S: Sequence>(_ ids: S) where S.Element == UInt64 {
        self.init()
        for id in ids { insert(id) }
    }

    @inline(__always) private func home(_ id: UInt64) -> Int {
        Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    @inline(__always) func contains(_ id: UInt64) -> Bool {
        let mask = slots.count - 1
        var i = home(id)
        while true {
            let s = slots[i]
            if s == id { return true }
            if s == 0 { return false }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ id: UInt64) {
        precondition(id != 0, "IDSet: tensor ids are never 0")
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = home(id)
        while true {
            let s = slots[i]
            if s == id { return }
            if s == 0 {
                slots[i] = id
                count += 1
                return
            }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        self = IDSet(minimumCapacity: old.count)
        for id in old where id != 0 { insert(id) }
    }

    /// Empties the set, keeping its table.
    mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        count = 0
    }
}
