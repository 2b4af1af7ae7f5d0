import Glibc
import Synchronization
import CKernels

/// A fast, seedable generator (xoshiro256**, seeded through SplitMix64).
///
/// ```swift
/// var g = RandomGenerator(seed: 7)
/// let x = Random.normal([2, 2], using: &g)   // the same numbers for the same seed
/// ```
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Two independent standard normal samples (Box–Muller).
    mutating func normalPair() -> (Double, Double) {
        let u1 = 1 - nextUnit()   // in (0, 1], so log is finite
        let u2 = nextUnit()
        let r = (-2 * Glibc.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * Glibc.cos(theta), r * Glibc.sin(theta))
    }
}

/// The seed ``setRandomSeed(_:)`` set last, if it was called.
let globalSeed = Mutex<UInt64?>(nil)

/// Makes every later random op that uses the global generator (initializers,
/// dropout, shuffling, sampling) reproducible, as `keras.utils.set_random_seed`.
///
/// Each thread draws from its own generator, so a model trained on one thread
/// gives the same numbers whatever other threads draw at the same time. This call
/// seeds the calling thread's generator, and the seed that threads which have not
/// drawn yet start from: two threads started after `setRandomSeed(42)` that run
/// the same code get the same results as a solo run. A thread that has drawn
/// already keeps its own sequence until it calls `setRandomSeed` itself.
///
/// ```swift
/// setRandomSeed(42)
/// let a = Random.normal([3])
/// setRandomSeed(42)
/// let b = Random.normal([3])   // a == b
/// ```
public func setRandomSeed(_ seed: UInt64) {
    globalSeed.withLock { $0 = seed }
    let slot = ck_thread_random_state()!
    RandomGenerator(seed: seed).store(into: slot)
    slot[4] = 1
}

extension RandomGenerator {
    init(state: UnsafePointer<UInt64>) {
        self.init(seed: 0)
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    func store(into state: UnsafeMutablePointer<UInt64>) {
        (state[0], state[1], state[2], state[3]) = (s0, s1, s2, s3)
    }
}

/// Runs `body` with the calling thread's generator, which a thread's first draw
/// seeds from the global seed (or, if none was set, from the system's randomness).
func withGlobalGenerator<R>(_ body: (inout RandomGenerator) -> R) -> R {
    let slot = ck_thread_random_state()!
    var generator: RandomGenerator
    if slot[4] == 0 {
        generator = RandomGenerator(seed: globalSeed.withLock { $0 } ?? UInt64.random(in: .min ... .max))
        slot[4] = 1
    } else {
        generator = RandomGenerator(state: slot)
    }
    defer { generator.store(into: slot) }
    return body(&generator)
}
