// The instruction-set level: detected once at load (or taken from DEEPSWIFT_ISA),
// and every kernel family's function table filled for it.
#include "internal.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static int ck_level = CK_ISA_BASELINE;

int ck_isa_supported(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
    return CK_ISA_BASELINE;
}

int ck_isa_parse(const char *name) {
    if (!name) return -1;
    if (!strcasecmp(name, "baseline")) return CK_ISA_BASELINE;
    if (!strcasecmp(name, "avx2")) return CK_ISA_AVX2;
    if (!strcasecmp(name, "avx512")) return CK_ISA_AVX512;
    return -1;
}

const char *ck_isa_name(int level) {
    return level >= CK_ISA_AVX512 ? "avx512" : level >= CK_ISA_AVX2 ? "avx2" : "baseline";
}

int ck_isa_level(void) { return ck_level; }

int ck_set_isa_level(int level) {
    int supported = ck_isa_supported();
    int chosen = level >= CK_ISA_AVX512 ? CK_ISA_AVX512 : level >= CK_ISA_AVX2 ? CK_ISA_AVX2 : CK_ISA_BASELINE;
    if (chosen > supported) chosen = supported;
    ck_select_unary(chosen);
    ck_select_binary(chosen);
    ck_select_reduce(chosen);
    ck_select_optimizers(chosen);
    ck_select_random(chosen);
    ck_select_softmax(chosen);
    ck_select_window(chosen);
    ck_level = chosen;
    return chosen;
}

__attribute__((constructor)) static void ck_detect_isa(void) {
    int level = ck_isa_supported();
    const char *asked = getenv("DEEPSWIFT_ISA");
    if (asked && *asked) {
        int parsed = ck_isa_parse(asked);
        if (parsed < 0) {
            fprintf(stderr, "DeepSwift: DEEPSWIFT_ISA=%s is not one of baseline, avx2, avx512; using %s\n",
                    asked, ck_isa_name(level));
        } else {
            if (parsed > level)
                fprintf(stderr, "DeepSwift: DEEPSWIFT_ISA=%s, but this CPU supports up to %s; using %s\n",
                        asked, ck_isa_name(level), ck_isa_name(level));
            level = parsed < level ? parsed : level;
        }
    }
    ck_set_isa_level(level);
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
