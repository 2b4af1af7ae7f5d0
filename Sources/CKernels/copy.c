// Data movement and conversion: strided copies (transpose, slicing, broadcasting,
// concatenation), select, casts, fills and clipping.
#include "internal.h"
#include <math.h>

#define CK_STRIDED_ROW(T) { \
        const T *s = (const T *)src + so; T *d = (T *)dst + dof; \
        for (ptrdiff_t i = 0; i < n; i++) d[i * ds] = s[i * ss]; }

void ck_copy_nd(size_t elem_size, int rank, const ptrdiff_t *shape,
                const void *src, const ptrdiff_t *sstrides,
                void *dst, const ptrdiff_t *dstrides) {
    if (rank == 0) { memcpy(dst, src, elem_size); return; }
    ptrdiff_t n = shape[rank - 1], ss = sstrides[rank - 1], ds = dstrides[rank - 1];
    CK_ODOMETER_BEGIN(rank, shape)
        ptrdiff_t so = ck_offset(rank, ck_idx_, sstrides);
        ptrdiff_t dof = ck_offset(rank, ck_idx_, dstrides);
        if (ss == 1 && ds == 1) {
            memcpy((char *)dst + dof * elem_size, (const char *)src + so * elem_size, (size_t)n * elem_size);
        } else {
            switch (elem_size) {
            case 1: CK_STRIDED_ROW(uint8_t) break;
            case 2: CK_STRIDED_ROW(uint16_t) break;
            case 4: CK_STRIDED_ROW(uint32_t) break;
            default: CK_STRIDED_ROW(uint64_t) break;
            }
        }
    CK_ODOMETER_END(rank, shape)
}

#define CK_SELECT_ROW(T) { \
        const T *pa = (const T *)a + ao, *pb = (const T *)b + bo; T *d = (T *)out + oo; \
        const uint8_t *pc = cond + co; \
        for (ptrdiff_t i = 0; i < n; i++) d[i] = pc[i * cs] ? pa[i * as] : pb[i * bs]; }

void ck_select_nd(size_t elem_size, int rank, const ptrdiff_t *shape,
                  const uint8_t *cond, const ptrdiff_t *cstrides,
                  const void *a, const ptrdiff_t *astrides,
                  const void *b, const ptrdiff_t *bstrides, void *out) {
    ptrdiff_t n = shape[rank - 1];
    ptrdiff_t cs = cstrides[rank - 1], as = astrides[rank - 1], bs = bstrides[rank - 1];
    ptrdiff_t oo = 0;
    CK_ODOMETER_BEGIN(rank, shape)
        ptrdiff_t co = ck_offset(rank, ck_idx_, cstrides);
        ptrdiff_t ao = ck_offset(rank, ck_idx_, astrides);
        ptrdiff_t bo = ck_offset(rank, ck_idx_, bstrides);
        switch (elem_size) {
        case 1: CK_SELECT_ROW(uint8_t) break;
        case 4: CK_SELECT_ROW(uint32_t) break;
        default: CK_SELECT_ROW(uint64_t) break;
        }
        oo += n;
    CK_ODOMETER_END(rank, shape)
}

// Casts: every pair of dtypes; to bool means "is nonzero".
#define CK_CAST_TO(FROMT, x, to, out, n) \
    switch (to) { \
    case CK_F32: { float *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = (float)x[i]; } break; \
    case CK_F64: { double *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = (double)x[i]; } break; \
    case CK_I32: { int32_t *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = (int32_t)x[i]; } break; \
    case CK_I64: { int64_t *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = (int64_t)x[i]; } break; \
    case CK_U8: { uint8_t *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = (uint8_t)x[i]; } break; \
    case CK_BOOL: { uint8_t *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = x[i] != 0; } break; \
    }

void ck_cast(ck_dtype from, const void *px, ck_dtype to, void *out, ptrdiff_t n) {
    switch (from) {
    case CK_F32: { const float *x = px; CK_CAST_TO(float, x, to, out, n) } break;
    case CK_F64: { const double *x = px; CK_CAST_TO(double, x, to, out, n) } break;
    case CK_I32: { const int32_t *x = px; CK_CAST_TO(int32_t, x, to, out, n) } break;
    case CK_I64: { const int64_t *x = px; CK_CAST_TO(int64_t, x, to, out, n) } break;
    default: { const uint8_t *x = px; CK_CAST_TO(uint8_t, x, to, out, n) } break;
    }
}

void ck_fill(ck_dtype dt, void *out, double value, ptrdiff_t n) {
    if (value == 0 && !signbit(value)) {   // +0 is all zero bits in every dtype
        memset(out, 0, (size_t)n * ck_size(dt));
        return;
    }
    switch (dt) {
    case CK_F32: { float v = (float)value, *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = v; } break;
    case CK_F64: { double *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = value; } break;
    case CK_I32: { int32_t v = (int32_t)value, *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = v; } break;
    case CK_I64: { int64_t v = (int64_t)value, *o = out; for (ptrdiff_t i = 0; i < n; i++) o[i] = v; } break;
    case CK_U8: memset(out, (uint8_t)value, (size_t)n); break;
    case CK_BOOL: memset(out, value != 0, (size_t)n); break;
    }
}

#define CK_CLIP(T) { \
        const T *x = px; T *o = out; T l = (T)lo, h = (T)hi; \
        for (ptrdiff_t i = 0; i < n; i++) { T v = x[i]; o[i] = v < l ? l : (v > h ? h : v); } }

void ck_clip(ck_dtype dt, const void *px, double lo, double hi, void *out, ptrdiff_t n) {
    switch (dt) {
    case CK_F32: CK_CLIP(float) break;
    case CK_F64: CK_CLIP(double) break;
    case CK_I32: CK_CLIP(int32_t) break;
    case CK_I64: CK_CLIP(int64_t) break;
    default: CK_CLIP(uint8_t) break;
    }
}

typedef struct { const char *src; size_t row_bytes; const int64_t *indices; char *dst; } ck_gather_job;

// Rows [begin, end) of a gather of rows longer than a word.
static void ck_gather_long_rows(void *ctx, ptrdiff_t begin, ptrdiff_t end) {
    const ck_gather_job *job = ctx;
    size_t row_bytes = job->row_bytes;
    for (ptrdiff_t j = begin; j < end; j++) {
        // Rows come in random order (shuffled batches): start loading the next
        // one but one while this one is copied.
        if (j + 2 < end) {
            const char *next = job->src + (size_t)job->indices[j + 2] * row_bytes;
            for (size_t b = 0; b < row_bytes && b < 8192; b += 64) __builtin_prefetch(next + b);
        }
        memcpy(job->dst + (size_t)j * row_bytes, job->src + (size_t)job->indices[j] * row_bytes, row_bytes);
    }
}

ptrdiff_t ck_gather_rows(const void *src, ptrdiff_t outer, ptrdiff_t rows, size_t row_bytes,
                         const int64_t *indices, ptrdiff_t count, void *dst) {
    for (ptrdiff_t j = 0; j < count; j++)
        if (indices[j] < 0 || indices[j] >= rows) return j;
    const char *s = src; char *d = dst;
    for (ptrdiff_t o = 0; o < outer; o++) {
        const char *block = s + (size_t)o * (size_t)rows * row_bytes;
        char *out = d + (size_t)o * (size_t)count * row_bytes;
        switch (row_bytes) {
        case 1: for (ptrdiff_t j = 0; j < count; j++) out[j] = block[indices[j]]; break;
        case 4: for (ptrdiff_t j = 0; j < count; j++) ((uint32_t *)out)[j] = ((const uint32_t *)block)[indices[j]]; break;
        case 8: for (ptrdiff_t j = 0; j < count; j++) ((uint64_t *)out)[j] = ((const uint64_t *)block)[indices[j]]; break;
        default: {
            // A batch of dataset rows: one core's copy is bound by its own memory
            // bandwidth, so gathers of 64 KiB and more split over the intra-op threads.
            ck_gather_job job = { block, row_bytes, indices, out };
            ck_parallel_for(count, (ptrdiff_t)((32u << 10) / row_bytes) + 1, ck_gather_long_rows, &job);
        }
        }
    }
    return -1;
}

int ck_take_along_last(size_t size, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t k, const void *x, const int64_t *idx,
                       void *out) {
    ck_enter();
    const char *src = x;
    char *dst = out;
    for (ptrdiff_t r = 0; r < rows; r++) {
        for (ptrdiff_t j = 0; j < k; j++) {
            int64_t i = idx[r * k + j];
            if (i < 0 || i >= n) return 1;
            memcpy(dst + (size_t)(r * k + j) * size, src + (size_t)(r * n + i) * size, size);
        }
    }
    return 0;
}

#define CK_PUT_ALONG(NAME, T) \
    static int NAME(ptrdiff_t rows, ptrdiff_t n, ptrdiff_t k, const T *g, const int64_t *idx, T *out) { \
        memset(out, 0, sizeof(T) * (size_t)(rows * n)); \
        for (ptrdiff_t r = 0; r < rows; r++) \
            for (ptrdiff_t j = 0; j < k; j++) { \
                int64_t i = idx[r * k + j]; \
                if (i < 0 || i >= n) return 1; \
                out[r * n + i] += g[r * k + j]; \
            } \
        return 0; \
    }
CK_PUT_ALONG(put_along_f32, float)
CK_PUT_ALONG(put_along_f64, double)

int ck_put_along_last(ck_dtype dt, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t k, const void *g, const int64_t *idx,
                      void *out) {
    ck_enter();
    return dt == CK_F32 ? put_along_f32(rows, n, k, g, idx, out) : put_along_f64(rows, n, k, g, idx, out);
}
