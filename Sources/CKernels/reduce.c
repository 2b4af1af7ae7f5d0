// Reductions over the middle axis of a contiguous [outer, r, inner] buffer.
#include "internal.h"

// Float32 sums of contiguous rows: 32 lanes of float accumulators, folded into a
// double every 512 elements (16 additions per lane), so rounding cannot build up
// over long rows the way a float running sum's does.
CK_AVX2 static double sum_row_f32_avx2(const float *x, ptrdiff_t n) {
    double total = 0;
    ptrdiff_t i = 0;
    while (i + 32 <= n) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        ptrdiff_t end = i + 512 < n ? i + 512 : n;
        for (; i + 32 <= end; i += 32) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
        }
        __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(s));
        __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1));
        double t[4];
        _mm256_storeu_pd(t, _mm256_add_pd(lo, hi));
        total += (t[0] + t[1]) + (t[2] + t[3]);
    }
    for (; i < n; i++) total += x[i];
    return total;
}

CK_AVX2 static double sum_row_f64_avx2(const double *x, ptrdiff_t n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_pd(a0, _mm256_loadu_pd(x + i));
        a1 = _mm256_add_pd(a1, _mm256_loadu_pd(x + i + 4));
        a2 = _mm256_add_pd(a2, _mm256_loadu_pd(x + i + 8));
        a3 = _mm256_add_pd(a3, _mm256_loadu_pd(x + i + 12));
    }
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
    double total = (t[0] + t[1]) + (t[2] + t[3]);
    for (; i < n; i++) total += x[i];
    return total;
}

// The AVX-512 sums: 64 float lanes folded into a double every 1,024 elements
// (the same 16 additions per lane), 32 double lanes.
CK_AVX512 static double sum_row_f32_avx512(const float *x, ptrdiff_t n) {
    double total = 0;
    ptrdiff_t i = 0;
    while (i + 64 <= n) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        ptrdiff_t end = i + 1024 < n ? i + 1024 : n;
        for (; i + 64 <= end; i += 64) {
            a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
            a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
            a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
            a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
        }
        __m512 s = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(s));
        __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
        total += _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
    }
    for (; i < n; i++) total += x[i];
    return total;
}

CK_AVX512 static double sum_row_f64_avx512(const double *x, ptrdiff_t n) {
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_add_pd(a0, _mm512_loadu_pd(x + i));
        a1 = _mm512_add_pd(a1, _mm512_loadu_pd(x + i + 8));
        a2 = _mm512_add_pd(a2, _mm512_loadu_pd(x + i + 16));
        a3 = _mm512_add_pd(a3, _mm512_loadu_pd(x + i + 24));
    }
    double total = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
    for (; i < n; i++) total += x[i];
    return total;
}

static double sum_row_f32_base(const float *x, ptrdiff_t n) {
    double total = 0;
    for (ptrdiff_t i = 0; i < n; i++) total += x[i];
    return total;
}

static double sum_row_f64_base(const double *x, ptrdiff_t n) {
    double s0 = 0, s1 = 0;
    ptrdiff_t i = 0;
    for (; i + 2 <= n; i += 2) { s0 += x[i]; s1 += x[i + 1]; }
    if (i < n) s0 += x[i];
    return s0 + s1;
}

// Generic reduction for one dtype: ACC(acc, v) folds v into acc; INIT is the identity.
#define CK_REDUCE_LOOPS(T, INIT, ACC) \
    for (ptrdiff_t o = 0; o < outer; o++) { \
        const T *src = x + o * r * inner; \
        T *dst = out + o * inner; \
        if (inner == 1) { \
            T acc = INIT; \
            for (ptrdiff_t k = 0; k < r; k++) { T v = src[k]; ACC(acc, v); } \
            dst[0] = acc; \
        } else { \
            for (ptrdiff_t j = 0; j < inner; j++) dst[j] = INIT; \
            for (ptrdiff_t k = 0; k < r; k++) { \
                const T *row = src + k * inner; \
                for (ptrdiff_t j = 0; j < inner; j++) { T v = row[j]; ACC(dst[j], v); } \
            } \
        } \
    }

#define ACC_SUM(a, v) a = a + v
#define ACC_PROD(a, v) a = a * v
#define ACC_FMAX(a, v) a = (v > a || v != v) ? v : a
#define ACC_FMIN(a, v) a = (v < a || v != v) ? v : a
#define ACC_IMAX(a, v) a = v > a ? v : a
#define ACC_IMIN(a, v) a = v < a ? v : a
#define ACC_USUM(a, v) a = (T)((U)a + (U)v)
#define ACC_UPROD(a, v) a = (T)((U)a * (U)v)
#define ACC_ANY(a, v) a = a | (v != 0)
#define ACC_ALL(a, v) a = a & (v != 0)

// The row sums of the level in force.
static double (*sum_row_f32)(const float *, ptrdiff_t) = sum_row_f32_base;
static double (*sum_row_f64)(const double *, ptrdiff_t) = sum_row_f64_base;

void ck_select_reduce(int level) {
    sum_row_f32 = CK_BY_LEVEL(level, sum_row_f32_base, sum_row_f32_avx2, sum_row_f32_avx512);
    sum_row_f64 = CK_BY_LEVEL(level, sum_row_f64_base, sum_row_f64_avx2, sum_row_f64_avx512);
}

#define CK_FLOAT_REDUCE(NAME, TYPE, SUMROW, INF) \
    static void NAME(ck_reduce_op op, ptrdiff_t outer, ptrdiff_t r, ptrdiff_t inner, \
                     const TYPE *x, TYPE *out) { \
        typedef TYPE T; \
        switch (op) { \
        case CK_SUM: \
            if (inner == 1) { \
                for (ptrdiff_t o = 0; o < outer; o++) \
                    out[o] = (T)SUMROW(x + o * r, r); \
            } else { CK_REDUCE_LOOPS(T, 0, ACC_SUM) } \
            break; \
        case CK_PROD: CK_REDUCE_LOOPS(T, 1, ACC_PROD) break; \
        case CK_MAXR: CK_REDUCE_LOOPS(T, -INF, ACC_FMAX) break; \
        case CK_MINR: CK_REDUCE_LOOPS(T, INF, ACC_FMIN) break; \
        default: break; \
        } \
    }
CK_FLOAT_REDUCE(reduce_f32, float, sum_row_f32, __builtin_inff())
CK_FLOAT_REDUCE(reduce_f64, double, sum_row_f64, __builtin_inf())

#define CK_INT_REDUCE(NAME, TYPE, UTYPE, MINV, MAXV) \
    static void NAME(ck_reduce_op op, ptrdiff_t outer, ptrdiff_t r, ptrdiff_t inner, \
                     const TYPE *x, TYPE *out) { \
        typedef TYPE T; typedef UTYPE U; \
        switch (op) { \
        case CK_SUM: CK_REDUCE_LOOPS(T, 0, ACC_USUM) break; \
        case CK_PROD: CK_REDUCE_LOOPS(T, 1, ACC_UPROD) break; \
        case CK_MAXR: CK_REDUCE_LOOPS(T, MINV, ACC_IMAX) break; \
        case CK_MINR: CK_REDUCE_LOOPS(T, MAXV, ACC_IMIN) break; \
        case CK_ANY: CK_REDUCE_LOOPS(T, 0, ACC_ANY) break; \
        case CK_ALL: CK_REDUCE_LOOPS(T, 1, ACC_ALL) break; \
        } \
    }
CK_INT_REDUCE(reduce_i32, int32_t, uint32_t, INT32_MIN, INT32_MAX)
CK_INT_REDUCE(reduce_i64, int64_t, uint64_t, INT64_MIN, INT64_MAX)
CK_INT_REDUCE(reduce_u8, uint8_t, uint8_t, 0, UINT8_MAX)

void ck_reduce(ck_reduce_op op, ck_dtype dt, ptrdiff_t outer, ptrdiff_t r, ptrdiff_t inner,
               const void *x, void *out) {
    ck_enter();
    switch (dt) {
    case CK_F32: reduce_f32(op, outer, r, inner, x, out); break;
    case CK_F64: reduce_f64(op, outer, r, inner, x, out); break;
    case CK_I32: reduce_i32(op, outer, r, inner, x, out); break;
    case CK_I64: reduce_i64(op, outer, r, inner, x, out); break;
    default: reduce_u8(op, outer, r, inner, x, out); break;
    }
}

// NaN counts as the extreme value: the first NaN's index, as PyTorch's and NumPy's
// argmax/argmin (TensorFlow 2.21 skips NaN instead).
#define CK_ARGREDUCE(NAME, TYPE) \
    static void NAME(int is_max, ptrdiff_t outer, ptrdiff_t r, ptrdiff_t inner, \
                     const TYPE *x, int64_t *out) { \
        for (ptrdiff_t o = 0; o < outer; o++) \
            for (ptrdiff_t j = 0; j < inner; j++) { \
                const TYPE *p = x + o * r * inner + j; \
                TYPE best = p[0]; int64_t bi = 0; \
                for (ptrdiff_t k = 1; k < r && best == best; k++) { \
                    TYPE v = p[k * inner]; \
                    if (v != v || (is_max ? v > best : v < best)) { best = v; bi = k; } \
                } \
                out[o * inner + j] = bi; \
            } \
    }
CK_ARGREDUCE(arg_f32, float)
CK_ARGREDUCE(arg_f64, double)
CK_ARGREDUCE(arg_i32, int32_t)
CK_ARGREDUCE(arg_i64, int64_t)
CK_ARGREDUCE(arg_u8, uint8_t)

void ck_argreduce(int is_max, ck_dtype dt, ptrdiff_t outer, ptrdiff_t r, ptrdiff_t inner,
                  const void *x, int64_t *out) {
    switch (dt) {
    case CK_F32: arg_f32(is_max, outer, r, inner, x, out); break;
    case CK_F64: arg_f64(is_max, outer, r, inner, x, out); break;
    case CK_I32: arg_i32(is_max, outer, r, inner, x, out); break;
    case CK_I64: arg_i64(is_max, outer, r, inner, x, out); break;
    default: arg_u8(is_max, outer, r, inner, x, out); break;
    }
}

#define CK_CUMSUM(NAME, T) \
    static void NAME(ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner, const T *x, T *out, int exclusive, int reverse) { \
        for (ptrdiff_t o = 0; o < outer; o++) { \
            for (ptrdiff_t i = 0; i < inner; i++) { \
                double acc = 0; \
                for (ptrdiff_t s = 0; s < n; s++) { \
                    ptrdiff_t k = reverse ? n - 1 - s : s; \
                    ptrdiff_t at = (o * n + k) * inner + i; \
                    double v = x[at]; \
                    if (exclusive) { out[at] = (T)acc; acc += v; } else { acc += v; out[at] = (T)acc; } \
                } \
            } \
        } \
    }
CK_CUMSUM(cumsum_f32, float)
CK_CUMSUM(cumsum_f64, double)

void ck_cumsum(ck_dtype dt, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner, const void *x, void *out,
               int exclusive, int reverse) {
    ck_enter();
    if (dt == CK_F32) cumsum_f32(outer, n, inner, x, out, exclusive, reverse);
    else cumsum_f64(outer, n, inner, x, out, exclusive, reverse);
}
