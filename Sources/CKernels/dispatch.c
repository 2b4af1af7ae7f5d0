#include "internal.h"
#include <stdatomic.h>
#include <malloc.h>
#include <sys/mman.h>

int ck_isa = 0;

__attribute__((constructor)) static void ck_detect_isa(void) {
    __builtin_cpu_init();
    ck_isa = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 0;
    // Tensors of 128 KiB and more (a 64x784 float batch is 196 KiB) would each get
    // fresh pages from mmap, and the kernel's zeroing of them took a third of an
    // input-pipeline epoch. Serving them from the heap, and trimming it only
    // past 256 MiB of free space, reuses the same pages step after step, as
    // framework allocators do.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int ck_isa_level(void) { return ck_isa; }

int ck_set_isa_level(int level) {
    int supported = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 0;
    ck_isa = level >= 2 ? supported : 0;
    return ck_isa;
}

void ck_flush_denormals(void) {
    // FTZ (bit 15) and DAZ (bit 6): Adam's moments of always-zero gradients decay
    // into denormals, which are ~100x slower on x86; TensorFlow sets the same bits.
    _mm_setcsr(_mm_getcsr() | 0x8040);
}

// initial-exec: a plain %fs-relative load instead of a __tls_get_addr call per kernel.
static _Thread_local int ck_thread_ready __attribute__((tls_model("initial-exec"))) = 0;

void ck_enter(void) {
    if (__builtin_expect(!ck_thread_ready, 0)) {
        ck_flush_denormals();
        ck_thread_ready = 1;
    }
}

#define CK_TLS __attribute__((tls_model("initial-exec")))
_Thread_local uint64_t ck_id_next CK_TLS = 0;
_Thread_local uint64_t ck_id_end CK_TLS = 0;
static _Atomic uint64_t ck_id_blocks = 0;

uint64_t ck_next_id_block(void) {
    uint64_t block = atomic_fetch_add_explicit(&ck_id_blocks, 1, memory_order_relaxed);
    ck_id_next = (block << 20) + 1;
    ck_id_end = (block + 1) << 20;
    return ck_id_next++;
}

_Thread_local void *ck_tape CK_TLS = 0;

void ck_set_tape_context(void *context) { ck_tape = context; }

_Thread_local void *ck_trace CK_TLS = 0;
_Thread_local void *ck_reuse CK_TLS = 0;

void ck_set_trace_context(void *context) { ck_trace = context; }

static _Thread_local void *ck_call CK_TLS = 0;

void *ck_call_context(void) { return ck_call; }
void ck_set_call_context(void *context) { ck_call = context; }

void ck_advise_huge_pages(void *p, size_t bytes) {
    const uintptr_t huge = 2u << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
}
