// Sliding-window kernels: im2col / col2im for convolutions, and pooling.
//
// A window geometry (ck_window in the header) describes up to three spatial axes
// of channels-last data (N, D0, D1, D2, C); fewer axes are padded with leading
// axes of size 1. The caller splits the work by rows or images over its threads.
#include "internal.h"
#include <stdlib.h>

typedef struct {
    ptrdiff_t batch, channels;
    ptrdiff_t in[3], k[3], out[3], stride[3], dil[3], pad[3];
} geom_t;

static geom_t unpack(const ptrdiff_t *g) {
    geom_t w;
    w.batch = g[0];
    w.channels = g[1];
    for (int i = 0; i < 3; i++) {
        w.in[i] = g[2 + i];
        w.k[i] = g[5 + i];
        w.out[i] = g[8 + i];
        w.stride[i] = g[11 + i];
        w.dil[i] = g[14 + i];
        w.pad[i] = g[17 + i];
    }
    return w;
}

// The output position of row r (r = ((n·O0 + o0)·O1 + o1)·O2 + o2).
static void position(const geom_t *w, ptrdiff_t r, ptrdiff_t *n, ptrdiff_t o[3]) {
    o[2] = r % w->out[2];
    r /= w->out[2];
    o[1] = r % w->out[1];
    r /= w->out[1];
    o[0] = r % w->out[0];
    *n = r / w->out[0];
}

// Steps (n, o) to the next output row.
static inline void advance(const geom_t *w, ptrdiff_t *n, ptrdiff_t o[3]) {
    if (++o[2] < w->out[2]) return;
    o[2] = 0;
    if (++o[1] < w->out[1]) return;
    o[1] = 0;
    if (++o[0] < w->out[0]) return;
    o[0] = 0;
    ++*n;
}

#define POOL_CHUNK 64

// Whether pooling windows never overlap (undilated, stride ≥ window on every axis),
// so that every input element lies in at most one window.
static int pool_tiles(const geom_t *w) {
    for (int d = 0; d < 3; d++)
        if (w->dil[d] != 1 || w->stride[d] < w->k[d]) return 0;
    return 1;
}

// covered[d][i]: whether position i of axis d lies in some window (one allocation,
// freed through covered[0]).
static int pool_coverage(const geom_t *w, unsigned char *covered[3]) {
    unsigned char *all = calloc((size_t)(w->in[0] + w->in[1] + w->in[2]), 1);
    if (!all) return 0;
    covered[0] = all;
    covered[1] = all + w->in[0];
    covered[2] = all + w->in[0] + w->in[1];
    for (int d = 0; d < 3; d++)
        for (ptrdiff_t o = 0; o < w->out[d]; o++)
            for (ptrdiff_t a = 0; a < w->k[d]; a++) {
                ptrdiff_t i = o * w->stride[d] + a - w->pad[d];
                if (i >= 0 && i < w->in[d]) covered[d][i] = 1;
            }
    return 1;
}

#define WINDOW_KERNELS(T, SUFFIX, ATTR)                                                                           \
    /* Along the innermost spatial axis a window row is one run of k2·C */         \
    /* contiguous elements when it is undilated and inside the input; otherwise */ \
    /* its taps go one by one. */                                                   \
    ATTR static void im2col_##SUFFIX(const geom_t *w, const T *x, T *col, ptrdiff_t r0, ptrdiff_t r1) {        \
        const ptrdiff_t C = w->channels, K = w->k[0] * w->k[1] * w->k[2] * C, run = w->k[2] * C;           \
        const ptrdiff_t span2 = (w->k[2] - 1) * w->dil[2] + 1;                                             \
        ptrdiff_t n, o[3];                                                                                 \
        position(w, r0, &n, o);                                                                            \
        for (ptrdiff_t r = r0; r < r1; r++, advance(w, &n, o)) {                                           \
            T *restrict dst = col + (r - r0) * K;                                                          \
            const T *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;                                   \
            const ptrdiff_t s2 = o[2] * w->stride[2] - w->pad[2];                                          \
            const int whole = (w->dil[2] == 1 || w->k[2] == 1) && s2 >= 0 && s2 + span2 <= w->in[2];       \
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                      \
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                            \
                int in0 = i0 >= 0 && i0 < w->in[0];                                                        \
                for (ptrdiff_t b = 0; b < w->k[1]; b++, dst += run) {                                      \
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                        \
                    if (!(in0 && i1 >= 0 && i1 < w->in[1])) {                                              \
                        for (ptrdiff_t j = 0; j < run; j++) dst[j] = 0;                                    \
                        continue;                                                                          \
                    }                                                                                      \
                    const T *restrict row = image + (i0 * w->in[1] + i1) * w->in[2] * C;                   \
                    if (whole) {                                                                           \
                        const T *restrict src = row + s2 * C;                                              \
                        for (ptrdiff_t j = 0; j < run; j++) dst[j] = src[j];                               \
                        continue;                                                                          \
                    }                                                                                      \
                    for (ptrdiff_t c = 0; c < w->k[2]; c++) {                                              \
                        ptrdiff_t i2 = s2 + c * w->dil[2];                                                 \
                        T *restrict d = dst + c * C;                                                       \
                        if (i2 >= 0 && i2 < w->in[2]) {                                                    \
                            const T *restrict src = row + i2 * C;                                          \
                            for (ptrdiff_t j = 0; j < C; j++) d[j] = src[j];                               \
                        } else {                                                                           \
                            for (ptrdiff_t j = 0; j < C; j++) d[j] = 0;                                    \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    ATTR static void col2im_##SUFFIX(const geom_t *w, const T *col, T *x, ptrdiff_t r0, ptrdiff_t r1) {         \
        const ptrdiff_t C = w->channels, K = w->k[0] * w->k[1] * w->k[2] * C, run = w->k[2] * C;           \
        const ptrdiff_t span2 = (w->k[2] - 1) * w->dil[2] + 1;                                             \
        ptrdiff_t n, o[3];                                                                                 \
        position(w, r0, &n, o);                                                                            \
        for (ptrdiff_t r = r0; r < r1; r++, advance(w, &n, o)) {                                           \
            const T *restrict src = col + (r - r0) * K;                                                    \
            T *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;                                         \
            const ptrdiff_t s2 = o[2] * w->stride[2] - w->pad[2];                                          \
            const int whole = (w->dil[2] == 1 || w->k[2] == 1) && s2 >= 0 && s2 + span2 <= w->in[2];       \
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                      \
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                            \
                int in0 = i0 >= 0 && i0 < w->in[0];                                                        \
                for (ptrdiff_t b = 0; b < w->k[1]; b++, src += run) {                                      \
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                        \
                    if (!(in0 && i1 >= 0 && i1 < w->in[1])) continue;                                      \
                    T *restrict row = image + (i0 * w->in[1] + i1) * w->in[2] * C;                         \
                    if (whole) {                                                                           \
                        T *restrict dst = row + s2 * C;                                                    \
                        for (ptrdiff_t j = 0; j < run; j++) dst[j] += src[j];                              \
                        continue;                                                                          \
                    }                                                                                      \
                    for (ptrdiff_t c = 0; c < w->k[2]; c++) {                                              \
                        ptrdiff_t i2 = s2 + c * w->dil[2];                                                 \
                        if (i2 < 0 || i2 >= w->in[2]) continue;                                            \
                        T *restrict dst = row + i2 * C;                                                    \
                        const T *restrict s = src + c * C;                                                 \
                        for (ptrdiff_t j = 0; j < C; j++) dst[j] += s[j];                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    ATTR static void max_pool_##SUFFIX(const geom_t *w, const T *x, T *y, ptrdiff_t n0, ptrdiff_t n1) {         \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        ptrdiff_t n = n0, o[3] = {0, 0, 0};                                                                \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++, advance(w, &n, o)) {                             \
            const T *image = x + n * ins;                                                                  \
            T *dst = y + r * C;                                                                            \
            int first = 1;                                                                                 \
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                      \
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                            \
                if (i0 < 0 || i0 >= w->in[0]) continue;                                                    \
                for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                                  \
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                        \
                    if (i1 < 0 || i1 >= w->in[1]) continue;                                                \
                    for (ptrdiff_t c = 0; c < w->k[2]; c++) {                                              \
                        ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                    \
                        if (i2 < 0 || i2 >= w->in[2]) continue;                                            \
                        const T *src = image + ((i0 * w->in[1] + i1) * w->in[2] + i2) * C;                 \
                        if (first) {                                                                       \
                            memcpy(dst, src, (size_t)C * sizeof(T));                                       \
                            first = 0;                                                                     \
                        } else {                                                                           \
                            for (ptrdiff_t j = 0; j < C; j++) {                                            \
                                T v = src[j], m = dst[j];                                                  \
                                dst[j] = (v > m || (v != v)) ? v : m;                                      \
                            }                                                                              \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
            if (first) for (ptrdiff_t j = 0; j < C; j++) dst[j] = 0;                                       \
        }                                                                                                  \
    }                                                                                                      \
    /* The first maximum (row-major over the window) of channels [c0, c0 + cn) */  \
    /* of the window at o: best = its values, at = its offsets in the image. */    \
    /* Returns 0 when the window holds no real element. */                          \
    ATTR static int window_max_##SUFFIX(const geom_t *w, const T *image, const ptrdiff_t o[3], ptrdiff_t c0,   \
                                        ptrdiff_t cn, T *restrict best, int32_t *restrict at) {              \
        const ptrdiff_t C = w->channels;                                                                   \
        int first = 1;                                                                                     \
        for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                          \
            ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                                \
            if (i0 < 0 || i0 >= w->in[0]) continue;                                                        \
            for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                                      \
                ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                            \
                if (i1 < 0 || i1 >= w->in[1]) continue;                                                    \
                for (ptrdiff_t c = 0; c < w->k[2]; c++) {                                                  \
                    ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                        \
                    if (i2 < 0 || i2 >= w->in[2]) continue;                                                \
                    const int32_t off = (int32_t)(((i0 * w->in[1] + i1) * w->in[2] + i2) * C + c0);        \
                    const T *restrict src = image + off;                                                   \
                    if (first) {                                                                           \
                        for (ptrdiff_t j = 0; j < cn; j++) {                                               \
                            best[j] = src[j];                                                              \
                            at[j] = off + (int32_t)j;                                                      \
                        }                                                                                  \
                        first = 0;                                                                         \
                    } else {                                                                               \
                        for (ptrdiff_t j = 0; j < cn; j++) {                                               \
                            T v = src[j], m = best[j];                                                     \
                            int take = v > m || (v != v && m == m);                                        \
                            best[j] = take ? v : m;                                                        \
                            at[j] = take ? off + (int32_t)j : at[j];                                       \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        return !first;                                                                                     \
    }                                                                                                      \
    /* Max pooling's gradient when windows do not overlap (pool_tiles): every */    \
    /* element is written once, the window's maximum with its gradient and the */    \
    /* rest of the window with 0, so no pass zeroes dx first; only elements */       \
    /* outside every window are zeroed. */                                             \
    ATTR static int max_pool_backprop_tiled_##SUFFIX(const geom_t *w, const T *x, const T *g, T *dx,          \
                                                     ptrdiff_t n0, ptrdiff_t n1) {                         \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        T best[POOL_CHUNK];                                                                                \
        int32_t at[POOL_CHUNK];                                                                            \
        unsigned char *covered[3];                                                                         \
        if (!pool_coverage(w, covered)) return 0;                                                          \
        for (ptrdiff_t n = n0; n < n1; n++) {                                                              \
            T *image = dx + n * ins;                                                                       \
            for (ptrdiff_t i0 = 0; i0 < w->in[0]; i0++)                                                    \
                for (ptrdiff_t i1 = 0; i1 < w->in[1]; i1++) {                                              \
                    T *row = image + (i0 * w->in[1] + i1) * w->in[2] * C;                                  \
                    if (!covered[0][i0] || !covered[1][i1]) {                                              \
                        memset(row, 0, (size_t)(w->in[2] * C) * sizeof(T));                                \
                        continue;                                                                          \
                    }                                                                                      \
                    for (ptrdiff_t i2 = 0; i2 < w->in[2]; i2++)                                            \
                        if (!covered[2][i2]) memset(row + i2 * C, 0, (size_t)C * sizeof(T));               \
                }                                                                                          \
        }                                                                                                  \
        free(covered[0]);                                                                                  \
        ptrdiff_t n = n0, o[3] = {0, 0, 0};                                                                \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++, advance(w, &n, o)) {                             \
            T *image = dx + n * ins;                                                                       \
            for (ptrdiff_t c0 = 0; c0 < C; c0 += POOL_CHUNK) {                                             \
                ptrdiff_t cn = C - c0 < POOL_CHUNK ? C - c0 : POOL_CHUNK;                                  \
                if (!window_max_##SUFFIX(w, x + n * ins, o, c0, cn, best, at)) continue;                   \
                const T *restrict grad = g + r * C + c0;                                                   \
                for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                  \
                    ptrdiff_t i0 = o[0] * w->stride[0] + a - w->pad[0];                                    \
                    if (i0 < 0 || i0 >= w->in[0]) continue;                                                \
                    for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                              \
                        ptrdiff_t i1 = o[1] * w->stride[1] + b - w->pad[1];                                \
                        if (i1 < 0 || i1 >= w->in[1]) continue;                                            \
                        for (ptrdiff_t c = 0; c < w->k[2]; c++) {                                          \
                            ptrdiff_t i2 = o[2] * w->stride[2] + c - w->pad[2];                            \
                            if (i2 < 0 || i2 >= w->in[2]) continue;                                        \
                            const int32_t off = (int32_t)(((i0 * w->in[1] + i1) * w->in[2] + i2) * C + c0);\
                            T *restrict dst = image + off;                                                 \
                            for (ptrdiff_t j = 0; j < cn; j++) dst[j] = at[j] == off + (int32_t)j ? grad[j] : 0; \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        return 1;                                                                                          \
    }                                                                                                      \
    ATTR static void max_pool_backprop_##SUFFIX(const geom_t *w, const T *x, const T *g, T *dx, ptrdiff_t n0,  \
                                                ptrdiff_t n1) {                                            \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        T best[POOL_CHUNK];                                                                                \
        int32_t at[POOL_CHUNK];                                                                            \
        if (pool_tiles(w) && max_pool_backprop_tiled_##SUFFIX(w, x, g, dx, n0, n1)) return;                \
        memset(dx + n0 * ins, 0, (size_t)((n1 - n0) * ins) * sizeof(T));                                  \
        ptrdiff_t n = n0, o[3] = {0, 0, 0};                                                                \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++, advance(w, &n, o)) {                             \
            T *image = dx + n * ins;                                                                       \
            for (ptrdiff_t c0 = 0; c0 < C; c0 += POOL_CHUNK) {                                             \
                ptrdiff_t cn = C - c0 < POOL_CHUNK ? C - c0 : POOL_CHUNK;                                  \
                if (!window_max_##SUFFIX(w, x + n * ins, o, c0, cn, best, at)) continue;                   \
                const T *grad = g + r * C + c0;                                                            \
                for (ptrdiff_t j = 0; j < cn; j++) image[at[j]] += grad[j];                                \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    ATTR static void max_pool_select_##SUFFIX(const geom_t *w, const T *x, const T *gg, T *out, ptrdiff_t n0,  \
                                              ptrdiff_t n1) {                                              \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        T best[POOL_CHUNK];                                                                                \
        int32_t at[POOL_CHUNK];                                                                            \
        ptrdiff_t n = n0, o[3] = {0, 0, 0};                                                                \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++, advance(w, &n, o)) {                             \
            const T *image = gg + n * ins;                                                                 \
            for (ptrdiff_t c0 = 0; c0 < C; c0 += POOL_CHUNK) {                                             \
                ptrdiff_t cn = C - c0 < POOL_CHUNK ? C - c0 : POOL_CHUNK;                                  \
                T *dst = out + r * C + c0;                                                                 \
                if (!window_max_##SUFFIX(w, x + n * ins, o, c0, cn, best, at)) {                           \
                    for (ptrdiff_t j = 0; j < cn; j++) dst[j] = 0;                                         \
                    continue;                                                                              \
                }                                                                                          \
                for (ptrdiff_t j = 0; j < cn; j++) dst[j] = image[at[j]];                                  \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    /* Direct convolution for few input channels (where im2col + GEMM has a */     \
    /* tiny inner dimension): y[r, :] = Σ over the window's real taps and the */      \
    /* input channels of x · kernel, over output rows [r0, r1). */                      \
    ATTR static void conv_direct_##SUFFIX(const geom_t *w, const T *x, const T *kernel, const T *bias,      \
                                          int relu, ptrdiff_t outs, T *y, ptrdiff_t r0, ptrdiff_t r1) {    \
        const ptrdiff_t C = w->channels, N = outs;                                                         \
        T acc[POOL_CHUNK];                                                                                 \
        ptrdiff_t n, o[3];                                                                                 \
        position(w, r0, &n, o);                                                                            \
        for (ptrdiff_t r = r0; r < r1; r++, advance(w, &n, o)) {                                           \
            const T *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;                                   \
            for (ptrdiff_t c0 = 0; c0 < N; c0 += POOL_CHUNK) {                                             \
                ptrdiff_t cn = N - c0 < POOL_CHUNK ? N - c0 : POOL_CHUNK;                                  \
                for (ptrdiff_t j = 0; j < cn; j++) acc[j] = bias ? bias[c0 + j] : 0;                       \
                ptrdiff_t tap = 0;                                                                         \
                for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                  \
                    ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                        \
                    int in0 = i0 >= 0 && i0 < w->in[0];                                                    \
                    for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                              \
                        ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                    \
                        int in1 = in0 && i1 >= 0 && i1 < w->in[1];                                         \
                        for (ptrdiff_t c = 0; c < w->k[2]; c++, tap++) {                                   \
                            ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                \
                            if (!(in1 && i2 >= 0 && i2 < w->in[2])) continue;                              \
                            const T *src = image + ((i0 * w->in[1] + i1) * w->in[2] + i2) * C;             \
                            for (ptrdiff_t ci = 0; ci < C; ci++) {                                         \
                                const T v = src[ci];                                                       \
                                const T *restrict k = kernel + (tap * C + ci) * N + c0;                    \
                                for (ptrdiff_t j = 0; j < cn; j++) acc[j] += v * k[j];                     \
                            }                                                                              \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
                T *dst = y + r * N + c0;                                                                   \
                if (relu)                                                                                  \
                    for (ptrdiff_t j = 0; j < cn; j++) dst[j] = acc[j] > 0 || acc[j] != acc[j] ? acc[j] : 0;   \
                else                                                                                       \
                    for (ptrdiff_t j = 0; j < cn; j++) dst[j] = acc[j];                                    \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    /* The direct kernel gradient for few input channels: dw (window·C × N) += */   \
    /* each real tap's x times dy's row, over output rows [r0, r1). */                 \
    ATTR static void conv_filter_direct_##SUFFIX(const geom_t *w, const T *x, const T *dy, ptrdiff_t N,      \
                                                 T *dw, ptrdiff_t r0, ptrdiff_t r1) {                      \
        const ptrdiff_t C = w->channels;                                                                   \
        ptrdiff_t n, o[3];                                                                                 \
        position(w, r0, &n, o);                                                                            \
        for (ptrdiff_t r = r0; r < r1; r++, advance(w, &n, o)) {                                           \
            const T *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;                                   \
            const T *restrict g = dy + r * N;                                                              \
            ptrdiff_t tap = 0;                                                                             \
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                      \
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                            \
                int in0 = i0 >= 0 && i0 < w->in[0];                                                        \
                for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                                  \
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                        \
                    int in1 = in0 && i1 >= 0 && i1 < w->in[1];                                             \
                    for (ptrdiff_t c = 0; c < w->k[2]; c++, tap++) {                                       \
                        ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                    \
                        if (!(in1 && i2 >= 0 && i2 < w->in[2])) continue;                                  \
                        const T *src = image + ((i0 * w->in[1] + i1) * w->in[2] + i2) * C;                 \
                        for (ptrdiff_t ci = 0; ci < C; ci++) {                                             \
                            const T v = src[ci];                                                           \
                            T *restrict d = dw + (tap * C + ci) * N;                                       \
                            for (ptrdiff_t j = 0; j < N; j++) d[j] += v * g[j];                            \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    /* The number of real (unpadded) elements in the window at o. */                                      \
    ATTR static ptrdiff_t window_count_##SUFFIX(const geom_t *w, const ptrdiff_t o[3]) {                        \
        ptrdiff_t count = 1;                                                                               \
        for (int d = 0; d < 3; d++) {                                                                      \
            ptrdiff_t inside = 0;                                                                          \
            for (ptrdiff_t a = 0; a < w->k[d]; a++) {                                                      \
                ptrdiff_t i = o[d] * w->stride[d] + a * w->dil[d] - w->pad[d];                             \
                inside += i >= 0 && i < w->in[d];                                                          \
            }                                                                                              \
            count *= inside;                                                                               \
        }                                                                                                  \
        return count;                                                                                      \
    }                                                                                                      \
    /* backward = 0: y = mean of each window; backward = 1: dx += g / count over each window. */          \
    ATTR static void avg_pool_##SUFFIX(int backward, const geom_t *w, const T *src, T *dst, ptrdiff_t n0,       \
                                  ptrdiff_t n1) {                                                          \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        if (backward) for (ptrdiff_t i = n0 * ins; i < n1 * ins; i++) dst[i] = 0;                          \
        ptrdiff_t n = n0, o[3] = {0, 0, 0};                                                                \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++, advance(w, &n, o)) {                             \
            ptrdiff_t count = window_count_##SUFFIX(w, o);                                                 \
            T scale = count > 0 ? (T)1 / (T)count : 0;                                                     \
            T *out = backward ? 0 : dst + r * C;                                                           \
            const T *grad = backward ? src + r * C : 0;                                                    \
            if (!backward) for (ptrdiff_t j = 0; j < C; j++) out[j] = 0;                                   \
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                      \
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                            \
                if (i0 < 0 || i0 >= w->in[0]) continue;                                                    \
                for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                                  \
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                        \
                    if (i1 < 0 || i1 >= w->in[1]) continue;                                                \
                    for (ptrdiff_t c = 0; c < w->k[2]; c++) {                                              \
                        ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                    \
                        if (i2 < 0 || i2 >= w->in[2]) continue;                                            \
                        ptrdiff_t at = n * ins + ((i0 * w->in[1] + i1) * w->in[2] + i2) * C;               \
                        if (backward) {                                                                    \
                            for (ptrdiff_t j = 0; j < C; j++) dst[at + j] += grad[j] * scale;              \
                        } else {                                                                           \
                            for (ptrdiff_t j = 0; j < C; j++) out[j] += src[at + j];                       \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
            if (!backward) for (ptrdiff_t j = 0; j < C; j++) out[j] *= scale;                              \
        }                                                                                                  \
    }

WINDOW_KERNELS(float, f32_base, )
WINDOW_KERNELS(float, f32_avx2, CK_AVX2)
WINDOW_KERNELS(float, f32_avx512, CK_AVX512)
WINDOW_KERNELS(double, f64_base, )
WINDOW_KERNELS(double, f64_avx2, CK_AVX2)
WINDOW_KERNELS(double, f64_avx512, CK_AVX512)

// The direct convolution with AVX-512 registers as accumulators. Four output
// positions of one line whose windows lie inside the input along the innermost
// axis go together (16 accumulators for 64 output channels, enough independent
// FMAs to hide their latency); others go one by one. Up to 64 output channels
// per pass in masked vectors, one broadcast FMA per tap and input channel.
#define DIRECT_ROWS 4
CK_AVX512 static void conv_direct_f32_avx512_regs(const geom_t *w, const float *x, const float *kernel,
                                                  const float *bias, int relu, ptrdiff_t N, float *y, ptrdiff_t r0,
                                                  ptrdiff_t r1) {
    const ptrdiff_t C = w->channels, span2 = (w->k[2] - 1) * w->dil[2] + 1;
    ptrdiff_t n, o[3];
    position(w, r0, &n, o);
    for (ptrdiff_t r = r0; r < r1;) {
        const float *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;
        const ptrdiff_t s2 = o[2] * w->stride[2] - w->pad[2];
        const ptrdiff_t last = s2 + (DIRECT_ROWS - 1) * w->stride[2];
        const int group = r + DIRECT_ROWS <= r1 && o[2] + DIRECT_ROWS <= w->out[2] && s2 >= 0 &&
                          last + span2 <= w->in[2];
        const ptrdiff_t rows = group ? DIRECT_ROWS : 1;
        for (ptrdiff_t c0 = 0; c0 < N; c0 += 64) {
            const ptrdiff_t cn = N - c0 < 64 ? N - c0 : 64;
            __mmask16 m[4];
            for (int v = 0; v < 4; v++) {
                ptrdiff_t left = cn - 16 * v;
                m[v] = left >= 16 ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
            }
            __m512 acc[DIRECT_ROWS][4];
            for (int v = 0; v < 4; v++) {
                const __m512 start = bias ? _mm512_maskz_loadu_ps(m[v], bias + c0 + 16 * v) : _mm512_setzero_ps();
                for (int q = 0; q < DIRECT_ROWS; q++) acc[q][v] = start;
            }
            ptrdiff_t tap = 0;
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];
                int in0 = i0 >= 0 && i0 < w->in[0];
                for (ptrdiff_t b = 0; b < w->k[1]; b++) {
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];
                    if (!(in0 && i1 >= 0 && i1 < w->in[1])) {
                        tap += w->k[2];
                        continue;
                    }
                    const float *row = image + (i0 * w->in[1] + i1) * w->in[2] * C;
                    for (ptrdiff_t c = 0; c < w->k[2]; c++, tap++) {
                        ptrdiff_t i2 = s2 + c * w->dil[2];
                        const float *k = kernel + tap * C * N + c0;
                        if (group) {
                            const float *src = row + i2 * C;
                            const ptrdiff_t step = w->stride[2] * C;
                            for (ptrdiff_t ci = 0; ci < C; ci++, k += N) {
                                __m512 kv[4];
                                for (int v = 0; v < 4; v++) kv[v] = _mm512_maskz_loadu_ps(m[v], k + 16 * v);
                                for (int q = 0; q < DIRECT_ROWS; q++) {
                                    const __m512 xv = _mm512_set1_ps(src[q * step + ci]);
                                    acc[q][0] = _mm512_fmadd_ps(xv, kv[0], acc[q][0]);
                                    if (cn > 16) acc[q][1] = _mm512_fmadd_ps(xv, kv[1], acc[q][1]);
                                    if (cn > 32) acc[q][2] = _mm512_fmadd_ps(xv, kv[2], acc[q][2]);
                                    if (cn > 48) acc[q][3] = _mm512_fmadd_ps(xv, kv[3], acc[q][3]);
                                }
                            }
                        } else {
                            if (i2 < 0 || i2 >= w->in[2]) continue;
                            const float *src = row + i2 * C;
                            for (ptrdiff_t ci = 0; ci < C; ci++, k += N) {
                                const __m512 xv = _mm512_set1_ps(src[ci]);
                                acc[0][0] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m[0], k), acc[0][0]);
                                if (cn > 16) acc[0][1] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m[1], k + 16), acc[0][1]);
                                if (cn > 32) acc[0][2] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m[2], k + 32), acc[0][2]);
                                if (cn > 48) acc[0][3] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m[3], k + 48), acc[0][3]);
                            }
                        }
                    }
                }
            }
            for (ptrdiff_t q = 0; q < rows; q++) {
                float *dst = y + (r + q) * N + c0;
                for (int v = 0; v < 4; v++) {
                    if (16 * v >= cn) continue;
                    // max(0, a) is a when a is NaN, as relu keeps NaN.
                    const __m512 out = relu ? _mm512_max_ps(_mm512_setzero_ps(), acc[q][v]) : acc[q][v];
                    _mm512_mask_storeu_ps(dst + 16 * v, m[v], out);
                }
            }
        }
        for (ptrdiff_t q = 0; q < rows; q++, r++) advance(w, &n, o);
    }
}

// The direct kernel gradient with AVX-512: four output positions of one line
// inside the input along the innermost axis go together, so each accumulator
// row of dw is loaded and stored once per four FMAs.
CK_AVX512 static void conv_filter_direct_f32_avx512_rows(const geom_t *w, const float *x, const float *dy,
                                                        ptrdiff_t N, float *dw, ptrdiff_t r0, ptrdiff_t r1) {
    const ptrdiff_t C = w->channels, span2 = (w->k[2] - 1) * w->dil[2] + 1;
    const ptrdiff_t vectors = (N + 15) / 16;
    const __mmask16 tail = (N % 16) ? (__mmask16)((1u << (N % 16)) - 1) : (__mmask16)0xFFFF;
    ptrdiff_t n, o[3];
    position(w, r0, &n, o);
    for (ptrdiff_t r = r0; r < r1;) {
        const float *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;
        const ptrdiff_t s2 = o[2] * w->stride[2] - w->pad[2];
        const ptrdiff_t last = s2 + (DIRECT_ROWS - 1) * w->stride[2];
        const int group = r + DIRECT_ROWS <= r1 && o[2] + DIRECT_ROWS <= w->out[2] && s2 >= 0 &&
                          last + span2 <= w->in[2];
        const ptrdiff_t rows = group ? DIRECT_ROWS : 1;
        const float *g = dy + r * N;
        ptrdiff_t tap = 0;
        for (ptrdiff_t a = 0; a < w->k[0]; a++) {
            ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];
            int in0 = i0 >= 0 && i0 < w->in[0];
            for (ptrdiff_t b = 0; b < w->k[1]; b++) {
                ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];
                if (!(in0 && i1 >= 0 && i1 < w->in[1])) {
                    tap += w->k[2];
                    continue;
                }
                const float *row = image + (i0 * w->in[1] + i1) * w->in[2] * C;
                for (ptrdiff_t c = 0; c < w->k[2]; c++, tap++) {
                    ptrdiff_t i2 = s2 + c * w->dil[2];
                    if (!group && (i2 < 0 || i2 >= w->in[2])) continue;
                    const float *src = row + i2 * C;
                    const ptrdiff_t step = w->stride[2] * C;
                    for (ptrdiff_t ci = 0; ci < C; ci++) {
                        float *d = dw + (tap * C + ci) * N;
                        if (group) {
                            const __m512 x0 = _mm512_set1_ps(src[ci]), x1 = _mm512_set1_ps(src[step + ci]);
                            const __m512 x2 = _mm512_set1_ps(src[2 * step + ci]), x3 = _mm512_set1_ps(src[3 * step + ci]);
                            for (ptrdiff_t v = 0; v < vectors; v++) {
                                const __mmask16 m = v == vectors - 1 ? tail : (__mmask16)0xFFFF;
                                __m512 acc = _mm512_maskz_loadu_ps(m, d + 16 * v);
                                acc = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m, g + 16 * v), acc);
                                acc = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(m, g + N + 16 * v), acc);
                                acc = _mm512_fmadd_ps(x2, _mm512_maskz_loadu_ps(m, g + 2 * N + 16 * v), acc);
                                acc = _mm512_fmadd_ps(x3, _mm512_maskz_loadu_ps(m, g + 3 * N + 16 * v), acc);
                                _mm512_mask_storeu_ps(d + 16 * v, m, acc);
                            }
                        } else {
                            const __m512 x0 = _mm512_set1_ps(src[ci]);
                            for (ptrdiff_t v = 0; v < vectors; v++) {
                                const __mmask16 m = v == vectors - 1 ? tail : (__mmask16)0xFFFF;
                                __m512 acc = _mm512_maskz_loadu_ps(m, d + 16 * v);
                                acc = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m, g + 16 * v), acc);
                                _mm512_mask_storeu_ps(d + 16 * v, m, acc);
                            }
                        }
                    }
                }
            }
        }
        for (ptrdiff_t q = 0; q < rows; q++, r++) advance(w, &n, o);
    }
}

// The kernels of the selected ISA level, per dtype (0 = float32, 1 = float64).
static struct {
    void (*im2col)(const geom_t *, const void *, void *, ptrdiff_t, ptrdiff_t);
    void (*col2im)(const geom_t *, const void *, void *, ptrdiff_t, ptrdiff_t);
    void (*max_pool)(const geom_t *, const void *, void *, ptrdiff_t, ptrdiff_t);
    void (*max_pool_backprop)(const geom_t *, const void *, const void *, void *, ptrdiff_t, ptrdiff_t);
    void (*max_pool_select)(const geom_t *, const void *, const void *, void *, ptrdiff_t, ptrdiff_t);
    void (*avg_pool)(int, const geom_t *, const void *, void *, ptrdiff_t, ptrdiff_t);
    void (*conv_direct)(const geom_t *, const void *, const void *, const void *, int, ptrdiff_t, void *, ptrdiff_t,
                        ptrdiff_t);
    void (*conv_filter_direct)(const geom_t *, const void *, const void *, ptrdiff_t, void *, ptrdiff_t, ptrdiff_t);
} window[2];

#define FILL_WINDOW(i, S)                                  \
    window[i].im2col = (void *)im2col_##S;                 \
    window[i].col2im = (void *)col2im_##S;                 \
    window[i].max_pool = (void *)max_pool_##S;             \
    window[i].max_pool_backprop = (void *)max_pool_backprop_##S; \
    window[i].max_pool_select = (void *)max_pool_select_##S; \
    window[i].avg_pool = (void *)avg_pool_##S;             \
    window[i].conv_direct = (void *)conv_direct_##S;       \
    window[i].conv_filter_direct = (void *)conv_filter_direct_##S;

void ck_select_window(int level) {
    if (level >= CK_ISA_AVX512) {
        FILL_WINDOW(0, f32_avx512)
        window[0].conv_direct = (void *)conv_direct_f32_avx512_regs;
        window[0].conv_filter_direct = (void *)conv_filter_direct_f32_avx512_rows;
        FILL_WINDOW(1, f64_avx512)
    } else if (level >= CK_ISA_AVX2) {
        FILL_WINDOW(0, f32_avx2)
        FILL_WINDOW(1, f64_avx2)
    } else {
        FILL_WINDOW(0, f32_base)
        FILL_WINDOW(1, f64_base)
    }
}

void ck_im2col(ck_dtype dt, const ptrdiff_t *geometry, const void *x, void *col, ptrdiff_t r0, ptrdiff_t r1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].im2col(&w, x, col, r0, r1);
}

void ck_col2im(ck_dtype dt, const ptrdiff_t *geometry, const void *col, void *x, ptrdiff_t r0, ptrdiff_t r1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].col2im(&w, col, x, r0, r1);
}

void ck_max_pool(ck_dtype dt, const ptrdiff_t *geometry, const void *x, void *y, ptrdiff_t n0, ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].max_pool(&w, x, y, n0, n1);
}

void ck_max_pool_backprop(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *g, void *dx,
                          ptrdiff_t n0, ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].max_pool_backprop(&w, x, g, dx, n0, n1);
}

void ck_max_pool_select(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *gg, void *out,
                        ptrdiff_t n0, ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].max_pool_select(&w, x, gg, out, n0, n1);
}

void ck_avg_pool(int backward, ck_dtype dt, const ptrdiff_t *geometry, const void *src, void *dst, ptrdiff_t n0,
                 ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].avg_pool(backward, &w, src, dst, n0, n1);
}

void ck_conv_direct(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *kernel, const void *bias,
                    int relu, ptrdiff_t outChannels, void *y, ptrdiff_t r0, ptrdiff_t r1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].conv_direct(&w, x, kernel, bias, relu, outChannels, y, r0, r1);
}

void ck_conv_filter_direct(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *dy,
                           ptrdiff_t outChannels, void *dw, ptrdiff_t r0, ptrdiff_t r1) {
    ck_enter();
    geom_t w = unpack(geometry);
    window[dt != CK_F32].conv_filter_direct(&w, x, dy, outChannels, dw, r0, r1);
}

// One grow-only buffer per thread for the im2col blocks of convolutions, so that
// a step replayed in a loop allocates nothing once the first call has sized it.
static _Thread_local void *scratch[2];
static _Thread_local size_t scratch_size[2];

void *ck_scratch(int slot, size_t bytes) {
    if (slot < 0 || slot > 1) return NULL;
    if (bytes > scratch_size[slot]) {
        free(scratch[slot]);
        size_t size = bytes < 4096 ? 4096 : (bytes + bytes / 4 + 63) / 64 * 64;
        scratch[slot] = aligned_alloc(64, size);
        scratch_size[slot] = scratch[slot] ? size : 0;
    }
    return scratch[slot];
}
