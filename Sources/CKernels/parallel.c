// Intra-op parallelism: a kernel with enough work splits its range over the
// machine's cores, as TensorFlow's and PyTorch's intra-op pools do. Each caller
// says how much work makes splitting worth it (its grain); below two grains a
// kernel stays on the calling thread, where handing work over costs more than it
// saves. Workers stay awake for a moment after each job, so the kernels of one
// training step find them ready.
//
// The pool is one job at a time. A caller that finds it busy (another thread's
// job, or a kernel running inside a worker) runs the same chunks itself, so nested
// and concurrent calls are always correct, only not parallel, and give the same
// results. Another thread's job also marks the process contended for a while
// (CK_CONTENDED_TICKS): then every caller runs its chunks itself and idle workers
// sleep at once instead of spinning, so two threads training at once on two cores
// each keep a core, rather than three threads (two callers and a spinning worker)
// sharing them.
#define _GNU_SOURCE   // sched_getaffinity, CPU_COUNT
#include "internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <unistd.h>
#include <x86intrin.h>

#define CK_MAX_THREADS 16

static pthread_mutex_t ck_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ck_pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ck_pool_done = PTHREAD_COND_INITIALIZER;
static atomic_flag ck_pool_busy = ATOMIC_FLAG_INIT;
static _Atomic int ck_threads = 0;   // 0 until decided; counts the calling thread
static int ck_workers = 0;           // started so far (under the lock)

// The job, written under the lock before `generation` moves on. Chunks are claimed
// through `ticket` = generation << 32 | next chunk, so a worker that wakes late,
// after its job has finished and another begun, can never claim a chunk of a job
// whose description it did not copy.
typedef struct {
    ck_range_fn fn;
    void *ctx;
    ptrdiff_t n, chunk;
    uint32_t chunks;
    uint32_t generation;
} ck_job;
static ck_job ck_current;
static _Atomic uint64_t ck_ticket = 0;
static _Atomic uint32_t ck_pending = 0;
static _Atomic uint32_t ck_posted = 0;   // the latest generation, read without the lock

// About 10 ms at 2.5 GHz: long enough to cover many kernels of the other thread's
// steps, short enough that a thread left alone gets the pool back soon.
#define CK_CONTENDED_TICKS 25000000ull
static _Atomic uint64_t ck_contended_until = 0;   // a TSC value
// Nonzero while this thread runs a chunk: a kernel called from inside one finds
// the pool busy with its own job, which is not contention.
static _Thread_local int ck_in_chunk = 0;

static inline int ck_contended(void) {
    return __rdtsc() < atomic_load_explicit(&ck_contended_until, memory_order_relaxed);
}

int ck_cpu_quota_limit(const char *cpu_max, const char *cfs_quota, const char *cfs_period) {
    long long quota = -1, period = 0;
    if (cpu_max) {
        // cgroup v2: "max 100000" (no limit) or "<quota> <period>"
        if (sscanf(cpu_max, "%lld %lld", &quota, &period) != 2) return 0;
    } else if (cfs_quota && cfs_period) {
        // cgroup v1: quota -1 means no limit
        if (sscanf(cfs_quota, "%lld", &quota) != 1 || sscanf(cfs_period, "%lld", &period) != 1) return 0;
    }
    if (quota <= 0 || period <= 0) return 0;
    long long cpus = (quota + period - 1) / period;
    return cpus > 1024 ? 1024 : (int)cpus;
}

static int ck_read_small_file(const char *path, char *buffer, size_t size) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t got = fread(buffer, 1, size - 1, f);
    fclose(f);
    buffer[got] = 0;
    return got > 0;
}

// The CPUs this process may use: its affinity mask, lowered to its container's
// CPU quota (a container given 2 CPUs of a 64-core host sees 64 in its mask, and
// 15 spinning workers would spend its quota on waiting).
static int ck_online_cpus(void) {
    int n;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        n = CPU_COUNT(&set);
    } else {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        n = online > 0 ? (int)online : 1;
    }
    char v2[64], quota[64], period[64];
    int limit = 0;
    if (ck_read_small_file("/sys/fs/cgroup/cpu.max", v2, sizeof v2)) {
        limit = ck_cpu_quota_limit(v2, 0, 0);
    } else if (ck_read_small_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", quota, sizeof quota)
               && ck_read_small_file("/sys/fs/cgroup/cpu/cpu.cfs_period_us", period, sizeof period)) {
        limit = ck_cpu_quota_limit(0, quota, period);
    }
    if (limit > 0 && limit < n) n = limit;
    return n > 0 ? n : 1;
}

int ck_thread_count(void) {
    int n = atomic_load_explicit(&ck_threads, memory_order_relaxed);
    if (n == 0) {
        n = ck_online_cpus();
        if (n > CK_MAX_THREADS) n = CK_MAX_THREADS;
        int expected = 0;
        if (!atomic_compare_exchange_strong(&ck_threads, &expected, n)) n = expected;
    }
    return n;
}

int ck_set_thread_count(int count) {
    if (count <= 0) count = ck_online_cpus();
    if (count > CK_MAX_THREADS) count = CK_MAX_THREADS;
    atomic_store(&ck_threads, count);
    return count;
}

// Claims and runs chunks of the job `job` until none are left (or the job is over).
static void ck_run_chunks(const ck_job *job) {
    uint64_t gen = (uint64_t)job->generation << 32;
    for (;;) {
        uint64_t t = atomic_load_explicit(&ck_ticket, memory_order_acquire);
        if ((t & ~0xffffffffull) != gen || (uint32_t)t >= job->chunks) return;
        if (!atomic_compare_exchange_weak_explicit(&ck_ticket, &t, t + 1, memory_order_acq_rel,
                                                   memory_order_acquire)) continue;
        ptrdiff_t begin = (ptrdiff_t)(uint32_t)t * job->chunk;
        ptrdiff_t end = begin + job->chunk < job->n ? begin + job->chunk : job->n;
        ck_in_chunk++;
        job->fn(job->ctx, begin, end);
        ck_in_chunk--;
        if (atomic_fetch_sub_explicit(&ck_pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&ck_pool_lock);
            pthread_cond_signal(&ck_pool_done);
            pthread_mutex_unlock(&ck_pool_lock);
        }
    }
}

// A worker that finished a job watches for the next one this many TSC ticks
// (~40 us at 2-3 GHz) before it sleeps: the kernels of a training step come
// microseconds apart, and waking a sleeping thread costs about as much as a
// small GEMM's half.
#define CK_WORKER_SPIN_TICKS 100000

// `arg` is the generation of the last job posted before this worker started:
// it waits for a newer one.
static void *ck_worker_main(void *arg) {
    ck_enter();
    uint32_t seen = (uint32_t)(uintptr_t)arg;
    for (;;) {
        uint64_t start = __rdtsc();
        while (atomic_load_explicit(&ck_posted, memory_order_acquire) == seen
               && __rdtsc() - start < CK_WORKER_SPIN_TICKS && !ck_contended())
            __builtin_ia32_pause();
        pthread_mutex_lock(&ck_pool_lock);
        while (ck_current.generation == seen) pthread_cond_wait(&ck_pool_wake, &ck_pool_lock);
        ck_job job = ck_current;
        seen = job.generation;
        pthread_mutex_unlock(&ck_pool_lock);
        ck_run_chunks(&job);
    }
    return 0;
}

// Runs the chunks one after another on this thread: the same split as in
// parallel, so that results (a split GEMM's rounding) never depend on whether
// the pool was free.
static void ck_run_serially(ptrdiff_t n, ptrdiff_t chunk, ck_range_fn fn, void *ctx) {
    ck_in_chunk++;
    for (ptrdiff_t begin = 0; begin < n; begin += chunk)
        fn(ctx, begin, begin + chunk < n ? begin + chunk : n);
    ck_in_chunk--;
}

// A forked child has none of its parent's workers: it starts its own pool.
static void ck_pool_after_fork_in_child(void) {
    pthread_mutex_init(&ck_pool_lock, 0);
    pthread_cond_init(&ck_pool_wake, 0);
    pthread_cond_init(&ck_pool_done, 0);
    atomic_flag_clear(&ck_pool_busy);
    ck_workers = 0;
    // A job the parent was running is not this process's: no chunk of it is left.
    atomic_store(&ck_ticket, ((uint64_t)ck_current.generation << 32) | 0xffffffffu);
    atomic_store(&ck_pending, 0);
    atomic_store(&ck_contended_until, 0);   // the child has one thread so far
}

static pthread_once_t ck_pool_fork_once = PTHREAD_ONCE_INIT;
static void ck_pool_register_fork_handler(void) { pthread_atfork(0, 0, ck_pool_after_fork_in_child); }

void ck_parallel_for(ptrdiff_t n, ptrdiff_t grain, ck_range_fn fn, void *ctx) {
    ptrdiff_t parts = grain > 0 ? n / grain : 1;
    int threads = ck_thread_count();
    if (parts > threads) parts = threads;
    if (parts < 2) {
        fn(ctx, 0, n);
        return;
    }
    // One chunk per thread (a GEMM loses efficiency in smaller pieces); chunks of
    // many elements end on cache-line multiples (16 floats), while a loop over
    // rows has few, large elements: no rounding there.
    ptrdiff_t chunks = parts;
    ptrdiff_t chunk = (n + chunks - 1) / chunks;
    if (chunk >= 1024) chunk = (chunk + 15) & ~(ptrdiff_t)15;
    chunks = (n + chunk - 1) / chunk;
    if (ck_in_chunk || ck_contended()) {
        ck_run_serially(n, chunk, fn, ctx);
        return;
    }
    if (atomic_flag_test_and_set_explicit(&ck_pool_busy, memory_order_acquire)) {
        // Another thread's job: both threads stay on their own cores for a while.
        atomic_store_explicit(&ck_contended_until, __rdtsc() + CK_CONTENDED_TICKS, memory_order_relaxed);
        ck_run_serially(n, chunk, fn, ctx);
        return;
    }

    pthread_once(&ck_pool_fork_once, ck_pool_register_fork_handler);
    pthread_mutex_lock(&ck_pool_lock);
    while (ck_workers < threads - 1) {
        pthread_t thread;
        if (pthread_create(&thread, 0, ck_worker_main, (void *)(uintptr_t)ck_current.generation) != 0) break;
        pthread_detach(thread);
        ck_workers++;
    }
    if (ck_workers == 0) {   // no worker could be started: run here
        pthread_mutex_unlock(&ck_pool_lock);
        atomic_flag_clear_explicit(&ck_pool_busy, memory_order_release);
        ck_run_serially(n, chunk, fn, ctx);
        return;
    }
    uint32_t generation = ck_current.generation + 1;
    ck_current = (ck_job){ fn, ctx, n, chunk, (uint32_t)chunks, generation };
    atomic_store_explicit(&ck_pending, (uint32_t)chunks, memory_order_relaxed);
    atomic_store_explicit(&ck_ticket, (uint64_t)generation << 32, memory_order_release);
    atomic_store_explicit(&ck_posted, generation, memory_order_release);
    pthread_cond_broadcast(&ck_pool_wake);
    ck_job job = ck_current;
    pthread_mutex_unlock(&ck_pool_lock);

    ck_run_chunks(&job);
    // The last chunks are finishing on workers: spin briefly, then sleep.
    for (int spin = 0; spin < 4096 && atomic_load_explicit(&ck_pending, memory_order_acquire); spin++)
        __builtin_ia32_pause();
    if (atomic_load_explicit(&ck_pending, memory_order_acquire)) {
        pthread_mutex_lock(&ck_pool_lock);
        while (atomic_load_explicit(&ck_pending, memory_order_acquire))
            pthread_cond_wait(&ck_pool_done, &ck_pool_lock);
        pthread_mutex_unlock(&ck_pool_lock);
    }
    atomic_flag_clear_explicit(&ck_pool_busy, memory_order_release);
}
