#include "internal.h"
#include <stdatomic.h>

int ck_isa = 0;

__attribute__((constructor)) static void ck_detect_isa(void) {
    __builtin_cpu_init();
    ck_isa = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 0;
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

