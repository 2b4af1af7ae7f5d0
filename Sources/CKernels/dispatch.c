#include "internal.h"

int ck_isa = 0;

__attribute__((constructor)) static void ck_detect_isa(void) {
    __builtin_cpu_init();
    ck_isa = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 0;
}

int ck_isa_level(void) { return ck_isa; }

void ck_flush_denormals(void) {
    // FTZ (bit 15) and DAZ (bit 6): Adam's moments of always-zero gradients decay
    // into denormals, which are ~100x slower on x86; TensorFlow sets the same bits.
    _mm_setcsr(_mm_getcsr() | 0x8040);
}

static _Thread_local int ck_thread_ready = 0;

void ck_enter(void) {
    if (__builtin_expect(!ck_thread_ready, 0)) {
        ck_flush_denormals();
        ck_thread_ready = 1;
    }
}
