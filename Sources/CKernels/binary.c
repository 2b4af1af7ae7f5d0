// Elementwise binary ops: arithmetic, comparisons and logic, with stride-0
// (broadcast) operands handled by dedicated loops so each one vectorizes.
#include "internal.h"
#include <math.h>

typedef int (*ck_binary_fn)(ck_binary_op, const void *, ptrdiff_t, const void *, ptrdiff_t,
                            void *, ptrdiff_t);

#define CK_LOOP(OUT, EXPR) \
    if (sa == 1 && sb == 1) { \
        for (ptrdiff_t i = 0; i < n; i++) { T x = a[i], y = b[i]; OUT[i] = (EXPR); } \
    } else if (sa == 0 && sb == 1) { \
        const T x = a[0]; \
        for (ptrdiff_t i = 0; i < n; i++) { T y = b[i]; OUT[i] = (EXPR); } \
    } else if (sa == 1 && sb == 0) { \
        const T y = b[0]; \
        for (ptrdiff_t i = 0; i < n; i++) { T x = a[i]; OUT[i] = (EXPR); } \
    } else { \
        for (ptrdiff_t i = 0; i < n; i++) { T x = a[i * sa], y = b[i * sb]; OUT[i] = (EXPR); } \
    }

#define CK_COMPARISONS \
    case CK_EQ: CK_LOOP(ob, x == y) break; \
    case CK_NE: CK_LOOP(ob, x != y) break; \
    case CK_LT: CK_LOOP(ob, x < y) break; \
    case CK_LE: CK_LOOP(ob, x <= y) break; \
    case CK_GT: CK_LOOP(ob, x > y) break; \
    case CK_GE: CK_LOOP(ob, x >= y) break;

// Floating point: max/min propagate NaN as TensorFlow does.
#define CK_FLOAT_BINARY(NAME, ATTR, TYPE, POW) \
    ATTR static int NAME(ck_binary_op op, const void *pa, ptrdiff_t sa, const void *pb, \
                         ptrdiff_t sb, void *out, ptrdiff_t n) { \
        typedef TYPE T; \
        if (pa == out && sa == 1 && sb == 0 && op <= CK_DIV) { \
            /* In place with a scalar (x *= s): one pointer, so the loop vectorizes \
               (with two, it is versioned on their overlap and ran scalar). */ \
            T *restrict p = out; const T y = *(const T *)pb; \
            switch (op) { \
            case CK_ADD: for (ptrdiff_t i = 0; i < n; i++) p[i] = p[i] + y; break; \
            case CK_SUB: for (ptrdiff_t i = 0; i < n; i++) p[i] = p[i] - y; break; \
            case CK_MUL: for (ptrdiff_t i = 0; i < n; i++) p[i] = p[i] * y; break; \
            default: for (ptrdiff_t i = 0; i < n; i++) p[i] = p[i] / y; break; \
            } \
            return 0; \
        } \
        const T *restrict a = pa; const T *restrict b = pb; \
        T *restrict o = out; uint8_t *restrict ob = out; \
        switch (op) { \
        case CK_ADD: CK_LOOP(o, x + y) break; \
        case CK_SUB: CK_LOOP(o, x - y) break; \
        case CK_MUL: CK_LOOP(o, x * y) break; \
        case CK_DIV: CK_LOOP(o, x / y) break; \
        case CK_MAX: CK_LOOP(o, (x != x || x > y) ? x : y) break; \
        case CK_MIN: CK_LOOP(o, (x != x || x < y) ? x : y) break; \
        case CK_POW: CK_LOOP(o, POW(x, y)) break; \
        CK_COMPARISONS \
        default: break; \
        } \
        return 0; \
    }

static inline int64_t ck_ipow(int64_t base, int64_t e) {
    if (e < 0) return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
    uint64_t r = 1, b = (uint64_t)base;
    while (e) { if (e & 1) r *= b; b *= b; e >>= 1; }
    return (int64_t)r;
}

// Integers wrap on overflow (computed in the unsigned type); division truncates
// toward zero like Swift's, and a zero divisor yields 0 and is reported.
#define CK_INT_BINARY(NAME, ATTR, TYPE, UTYPE, SIGNED) \
    ATTR static int NAME(ck_binary_op op, const void *pa, ptrdiff_t sa, const void *pb, \
                         ptrdiff_t sb, void *out, ptrdiff_t n) { \
        typedef TYPE T; typedef UTYPE U; \
        const T *restrict a = pa; const T *restrict b = pb; \
        T *restrict o = out; uint8_t *restrict ob = out; \
        int err = 0; \
        switch (op) { \
        case CK_ADD: CK_LOOP(o, (T)((U)x + (U)y)) break; \
        case CK_SUB: CK_LOOP(o, (T)((U)x - (U)y)) break; \
        case CK_MUL: CK_LOOP(o, (T)((U)x * (U)y)) break; \
        case CK_DIV: CK_LOOP(o, y == 0 ? (err = 1, (T)0) \
                                : ((SIGNED) && y == (T)-1) ? (T)((U)0 - (U)x) : (T)(x / y)) break; \
        case CK_MAX: CK_LOOP(o, x > y ? x : y) break; \
        case CK_MIN: CK_LOOP(o, x < y ? x : y) break; \
        case CK_POW: CK_LOOP(o, (T)ck_ipow((int64_t)x, (int64_t)y)) break; \
        case CK_AND: CK_LOOP(o, x & y) break; \
        case CK_OR: CK_LOOP(o, x | y) break; \
        case CK_XOR: CK_LOOP(o, x ^ y) break; \
        CK_COMPARISONS \
        default: break; \
        } \
        return err; \
    }

CK_FLOAT_BINARY(bin_f32_avx512, CK_AVX512, float, powf)
CK_FLOAT_BINARY(bin_f64_avx512, CK_AVX512, double, pow)
CK_INT_BINARY(bin_i32_avx512, CK_AVX512, int32_t, uint32_t, 1)
CK_INT_BINARY(bin_i64_avx512, CK_AVX512, int64_t, uint64_t, 1)
CK_INT_BINARY(bin_u8_avx512, CK_AVX512, uint8_t, uint8_t, 0)
CK_FLOAT_BINARY(bin_f32_avx2, CK_AVX2, float, powf)
CK_FLOAT_BINARY(bin_f32_base, , float, powf)
CK_FLOAT_BINARY(bin_f64_avx2, CK_AVX2, double, pow)
CK_FLOAT_BINARY(bin_f64_base, , double, pow)
CK_INT_BINARY(bin_i32_avx2, CK_AVX2, int32_t, uint32_t, 1)
CK_INT_BINARY(bin_i32_base, , int32_t, uint32_t, 1)
CK_INT_BINARY(bin_i64_avx2, CK_AVX2, int64_t, uint64_t, 1)
CK_INT_BINARY(bin_i64_base, , int64_t, uint64_t, 1)
CK_INT_BINARY(bin_u8_avx2, CK_AVX2, uint8_t, uint8_t, 0)
CK_INT_BINARY(bin_u8_base, , uint8_t, uint8_t, 0)

// The table: one kernel per dtype (CK_F32 ... CK_BOOL; bool shares uint8's).
static ck_binary_fn binary_table[CK_BOOL + 1] = {
    bin_f32_base, bin_f64_base, bin_i32_base, bin_i64_base, bin_u8_base, bin_u8_base,
};

static inline ck_binary_fn ck_pick_binary(ck_dtype dt) {
    return binary_table[(unsigned)dt <= CK_BOOL ? dt : CK_U8];
}

typedef void (*ck_outer_f32_fn)(const float *restrict, const float *restrict, float *restrict, ptrdiff_t, ptrdiff_t);
typedef void (*ck_outer_f64_fn)(const double *restrict, const double *restrict, double *restrict, ptrdiff_t, ptrdiff_t);

int ck_binary(ck_binary_op op, ck_dtype dt, const void *a, ptrdiff_t sa,
              const void *b, ptrdiff_t sb, void *out, ptrdiff_t n) {
    ck_enter();
    return ck_pick_binary(dt)(op, a, sa, b, sb, out, n);
}

int ck_binary_nd(ck_binary_op op, ck_dtype dt, int rank, const ptrdiff_t *shape,
                 const void *a, const ptrdiff_t *astrides,
                 const void *b, const ptrdiff_t *bstrides, void *out) {
    ck_enter();
    ck_binary_fn fn = ck_pick_binary(dt);
    size_t in_size = ck_size(dt);
    size_t out_size = op >= CK_EQ && op <= CK_GE ? 1 : in_size;
    ptrdiff_t n = shape[rank - 1];
    int err = 0;
    ptrdiff_t out_off = 0;
    CK_ODOMETER_BEGIN(rank, shape)
        ptrdiff_t ao = ck_offset(rank, ck_idx_, astrides);
        ptrdiff_t bo = ck_offset(rank, ck_idx_, bstrides);
        err |= fn(op, (const char *)a + ao * in_size, astrides[rank - 1],
                  (const char *)b + bo * in_size, bstrides[rank - 1],
                  (char *)out + out_off * out_size, n);
        out_off += n;
    CK_ODOMETER_END(rank, shape)
    return err;
}

#define CK_OUTER(NAME, ATTR, T) \
    ATTR static void NAME(const T *restrict a, const T *restrict b, T *restrict out, ptrdiff_t m, ptrdiff_t n) { \
        for (ptrdiff_t i = 0; i < m; i++) { \
            T ai = a[i]; T *row = out + i * n; \
            for (ptrdiff_t j = 0; j < n; j++) row[j] = ai * b[j]; \
        } \
    }
CK_OUTER(outer_f32_avx512, CK_AVX512, float)
CK_OUTER(outer_f64_avx512, CK_AVX512, double)
CK_OUTER(outer_f32_avx2, CK_AVX2, float)
CK_OUTER(outer_f32_base, , float)
CK_OUTER(outer_f64_avx2, CK_AVX2, double)
CK_OUTER(outer_f64_base, , double)

static ck_outer_f32_fn outer_f32 = outer_f32_base;
static ck_outer_f64_fn outer_f64 = outer_f64_base;

static void ck_outer_serial(ck_dtype dt, const void *a, const void *b, void *out, ptrdiff_t m, ptrdiff_t n) {
    if (dt == CK_F32) outer_f32(a, b, out, m, n);
    else outer_f64(a, b, out, m, n);
}

typedef struct { ck_dtype dt; const char *a; const void *b; char *out; ptrdiff_t n; size_t size; } ck_outer_job;

static void ck_outer_rows(void *ctx, ptrdiff_t begin, ptrdiff_t end) {
    const ck_outer_job *job = ctx;
    ck_enter();
    ck_outer_serial(job->dt, job->a + (size_t)begin * job->size, job->b,
                    job->out + (size_t)begin * (size_t)job->n * job->size, end - begin, job->n);
}

void ck_outer(ck_dtype dt, const void *a, const void *b, void *out, ptrdiff_t m, ptrdiff_t n) {
    ck_enter();
    // Writing a large product is bound by one core's store bandwidth: rows split
    // over the intra-op threads from 128k elements (the hypernetwork's 16x51,050
    // weight gradient: 2x faster on two cores).
    if (m >= 2 && n > 0 && m * n >= (1 << 17)) {
        ck_outer_job job = { dt, a, b, out, n, ck_size(dt) };
        ptrdiff_t grain = ((1 << 16) + n - 1) / n;
        ck_parallel_for(m, grain, ck_outer_rows, &job);
        return;
    }
    ck_outer_serial(dt, a, b, out, m, n);
}

void ck_select_binary(int level) {
    binary_table[CK_F32] = CK_BY_LEVEL(level, bin_f32_base, bin_f32_avx2, bin_f32_avx512);
    binary_table[CK_F64] = CK_BY_LEVEL(level, bin_f64_base, bin_f64_avx2, bin_f64_avx512);
    binary_table[CK_I32] = CK_BY_LEVEL(level, bin_i32_base, bin_i32_avx2, bin_i32_avx512);
    binary_table[CK_I64] = CK_BY_LEVEL(level, bin_i64_base, bin_i64_avx2, bin_i64_avx512);
    binary_table[CK_U8] = binary_table[CK_BOOL] = CK_BY_LEVEL(level, bin_u8_base, bin_u8_avx2, bin_u8_avx512);
    outer_f32 = CK_BY_LEVEL(level, outer_f32_base, outer_f32_avx2, outer_f32_avx512);
    outer_f64 = CK_BY_LEVEL(level, outer_f64_base, outer_f64_avx2, outer_f64_avx512);
}
