import CKernels

/// How many threads one op may use: TensorFlow's intra-op parallelism setting,
/// PyTorch's `torch.set_num_threads`.
///
/// Kernels with enough work split it over this many threads: matrix products
/// from 2^18 multiply-adds (32×64 by 64×128), transcendental elementwise
/// ops (`exp`, `log`, `tanh`, `sigmoid`, `sqrt`, …) from 16k elements, optimizer
/// updates of variables from 16k elements, large outer products and batches of
/// long rows. Everything smaller runs on the calling thread, where handing work
/// to another core costs more than it saves. Elementwise results do not depend
/// on the count; matrix products may differ in the last bits, as in every BLAS.
/// The default is the number of CPUs the process may run on: its affinity mask,
/// lowered to its container's CPU quota (cgroup v1 or v2), at most 16.
///
/// ```swift
/// Threading.intraOpThreads = 1      // everything on the calling thread
/// Threading.intraOpThreads = 0      // back to the default
/// ```
public enum Threading {
    /// The thread count, the calling thread included; setting 0 or less
    /// restores the default, and counts above 16 are lowered to 16.
    public static var intraOpThreads: Int {
        get { Int(ck_thread_count()) }
        set { _ = ck_set_thread_count(Int32(clamping: newValue)) }
    }
}

extension Threading {
    /// Runs `body` over `0..<count` in parts on the intra-op threads when the range
    /// holds at least two `grain`s, else as one call on this thread. Every part
    /// has run when it returns. For kernels whose work splits by element.
    @_spi(Kernels)
    public static func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        guard count >= 2 * grain, ck_thread_count() > 1 else { return body(0..<count) }
        withoutActuallyEscaping(body) { body in
            var job = body
            withUnsafeMutablePointer(to: &job) { pointer in
                ck_parallel_for(count, grain, { context, begin, end in
                    context!.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee(begin..<end)
                }, pointer)
            }
        }
    }
}
