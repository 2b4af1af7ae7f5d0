// Shared helpers of the kernel files (not part of the public header).
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "ckernels.h"
#include <immintrin.h>
#include <string.h>

#define CK_AVX2 __attribute__((target("avx2,fma")))
#define CK_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

void ck_enter(void); // per-thread set-up before a kernel runs (denormal flushing)

// The function of a kernel family for `level`: the AVX-512 one, else AVX2, else baseline.
#define CK_BY_LEVEL(level, base, avx2, avx512) \
    ((level) >= CK_ISA_AVX512 ? (avx512) : (level) >= CK_ISA_AVX2 ? (avx2) : (base))

// Each kernel family fills its function table for a level (dispatch.c calls them
// at load and whenever the level changes).
void ck_select_unary(int level);
void ck_select_binary(int level);
void ck_select_reduce(int level);
void ck_select_optimizers(int level);
void ck_select_random(int level);
void ck_select_softmax(int level);
void ck_select_window(int level);

// SLEEF's AVX2 entry points. sleef.h declares them only when the whole file is
// compiled with -mavx, which a SwiftPM target cannot ask for without unsafeFlags;
// these functions are only called from code compiled for AVX2.
CK_AVX2 __m256 Sleef_logf8_u10avx2(__m256);
CK_AVX2 __m256 Sleef_log1pf8_u10avx2(__m256);
CK_AVX2 __m256 Sleef_expm1f8_u10avx2(__m256);
CK_AVX2 __m256 Sleef_tanhf8_u10avx2(__m256);
CK_AVX2 __m256 Sleef_sinf8_u10avx2(__m256);
CK_AVX2 __m256 Sleef_cosf8_u10avx2(__m256);
CK_AVX2 __m256 Sleef_powf8_u10avx2(__m256, __m256);
CK_AVX2 __m256d Sleef_expd4_u10avx2(__m256d);
CK_AVX2 __m256d Sleef_logd4_u10avx2(__m256d);
CK_AVX2 __m256d Sleef_log1pd4_u10avx2(__m256d);
CK_AVX2 __m256d Sleef_expm1d4_u10avx2(__m256d);
CK_AVX2 __m256d Sleef_tanhd4_u10avx2(__m256d);
CK_AVX2 __m256d Sleef_sind4_u10avx2(__m256d);
CK_AVX2 __m256d Sleef_cosd4_u10avx2(__m256d);
CK_AVX2 __m256d Sleef_powd4_u10avx2(__m256d, __m256d);
CK_AVX2 __m256 Sleef_erff8_u10avx2(__m256);
CK_AVX2 __m256d Sleef_erfd4_u10avx2(__m256d);

// SLEEF's AVX-512 entry points, declared for the same reason.
CK_AVX512 __m512 Sleef_logf16_u10avx512f(__m512);
CK_AVX512 __m512 Sleef_log1pf16_u10avx512f(__m512);
CK_AVX512 __m512 Sleef_expm1f16_u10avx512f(__m512);
CK_AVX512 __m512 Sleef_tanhf16_u10avx512f(__m512);
CK_AVX512 __m512 Sleef_sinf16_u10avx512f(__m512);
CK_AVX512 __m512 Sleef_cosf16_u10avx512f(__m512);
CK_AVX512 __m512 Sleef_erff16_u10avx512f(__m512);
CK_AVX512 __m512d Sleef_expd8_u10avx512f(__m512d);
CK_AVX512 __m512d Sleef_logd8_u10avx512f(__m512d);
CK_AVX512 __m512d Sleef_log1pd8_u10avx512f(__m512d);
CK_AVX512 __m512d Sleef_expm1d8_u10avx512f(__m512d);
CK_AVX512 __m512d Sleef_tanhd8_u10avx512f(__m512d);
CK_AVX512 __m512d Sleef_sind8_u10avx512f(__m512d);
CK_AVX512 __m512d Sleef_cosd8_u10avx512f(__m512d);
CK_AVX512 __m512d Sleef_erfd8_u10avx512f(__m512d);

// Iterates an N-d index over all axes but the last one ("odometer"), running BODY
// with `off_k` the element offset of operand k at the start of the inner row.
#define CK_MAX_RANK 16
#define CK_ODOMETER_BEGIN(rank, shape) \
    ptrdiff_t ck_idx_[CK_MAX_RANK] = {0}; \
    ptrdiff_t ck_rows_ = 1; \
    for (int d_ = 0; d_ < (rank) - 1; d_++) ck_rows_ *= (shape)[d_]; \
    for (ptrdiff_t row_ = 0; row_ < ck_rows_; row_++) {

#define CK_ODOMETER_END(rank, shape) \
        for (int d_ = (rank) - 2; d_ >= 0; d_--) { \
            if (++ck_idx_[d_] < (shape)[d_]) break; \
            ck_idx_[d_] = 0; \
        } \
    }

static inline ptrdiff_t ck_offset(int rank, const ptrdiff_t *idx, const ptrdiff_t *strides) {
    ptrdiff_t off = 0;
    for (int d = 0; d < rank - 1; d++) off += idx[d] * strides[d];
    return off;
}

static inline size_t ck_size(ck_dtype dt) {
    switch (dt) {
    case CK_F32: case CK_I32: return 4;
    case CK_F64: case CK_I64: return 8;
    default: return 1;
    }
}

#endif
