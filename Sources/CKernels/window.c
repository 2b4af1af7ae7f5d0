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

#define WINDOW_KERNELS(T, SUFFIX)                                                                           \
    static void im2col_##SUFFIX(const geom_t *w, const T *x, T *col, ptrdiff_t r0, ptrdiff_t r1) {        \
        const ptrdiff_t C = w->channels, K = w->k[0] * w->k[1] * w->k[2] * C;                              \
        for (ptrdiff_t r = r0; r < r1; r++) {                                                              \
            ptrdiff_t n, o[3];                                                                             \
            position(w, r, &n, o);                                                                         \
            T *dst = col + (r - r0) * K;                                                                   \
            const T *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;                                   \
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                      \
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                            \
                int in0 = i0 >= 0 && i0 < w->in[0];                                                        \
                for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                                  \
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                        \
                    int in1 = in0 && i1 >= 0 && i1 < w->in[1];                                             \
                    for (ptrdiff_t c = 0; c < w->k[2]; c++, dst += C) {                                    \
                        ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                    \
                        if (in1 && i2 >= 0 && i2 < w->in[2]) {                                             \
                            const T *src = image + ((i0 * w->in[1] + i1) * w->in[2] + i2) * C;             \
                            if (C == 1) *dst = *src;                                                       \
                            else memcpy(dst, src, (size_t)C * sizeof(T));                                  \
                        } else {                                                                           \
                            for (ptrdiff_t j = 0; j < C; j++) dst[j] = 0;                                  \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    static void col2im_##SUFFIX(const geom_t *w, const T *col, T *x, ptrdiff_t r0, ptrdiff_t r1) {         \
        const ptrdiff_t C = w->channels, K = w->k[0] * w->k[1] * w->k[2] * C;                              \
        for (ptrdiff_t r = r0; r < r1; r++) {                                                              \
            ptrdiff_t n, o[3];                                                                             \
            position(w, r, &n, o);                                                                         \
            const T *src = col + (r - r0) * K;                                                             \
            T *image = x + n * w->in[0] * w->in[1] * w->in[2] * C;                                         \
            for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                      \
                ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                            \
                int in0 = i0 >= 0 && i0 < w->in[0];                                                        \
                for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                                  \
                    ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                        \
                    int in1 = in0 && i1 >= 0 && i1 < w->in[1];                                             \
                    for (ptrdiff_t c = 0; c < w->k[2]; c++, src += C) {                                    \
                        ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                    \
                        if (in1 && i2 >= 0 && i2 < w->in[2]) {                                             \
                            T *dst = image + ((i0 * w->in[1] + i1) * w->in[2] + i2) * C;                   \
                            for (ptrdiff_t j = 0; j < C; j++) dst[j] += src[j];                            \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    /* The flat offset (within the image) of the first maximum of channel ch's */                         \
    /* window at o, scanning the window in row-major order; -1 if it is empty. */                         \
    static ptrdiff_t argmax_##SUFFIX(const geom_t *w, const T *image, const ptrdiff_t o[3], ptrdiff_t ch) {  \
        const ptrdiff_t C = w->channels;                                                                   \
        ptrdiff_t best = -1;                                                                               \
        T value = 0;                                                                                       \
        for (ptrdiff_t a = 0; a < w->k[0]; a++) {                                                          \
            ptrdiff_t i0 = o[0] * w->stride[0] + a * w->dil[0] - w->pad[0];                                \
            if (i0 < 0 || i0 >= w->in[0]) continue;                                                        \
            for (ptrdiff_t b = 0; b < w->k[1]; b++) {                                                      \
                ptrdiff_t i1 = o[1] * w->stride[1] + b * w->dil[1] - w->pad[1];                            \
                if (i1 < 0 || i1 >= w->in[1]) continue;                                                    \
                for (ptrdiff_t c = 0; c < w->k[2]; c++) {                                                  \
                    ptrdiff_t i2 = o[2] * w->stride[2] + c * w->dil[2] - w->pad[2];                        \
                    if (i2 < 0 || i2 >= w->in[2]) continue;                                                \
                    ptrdiff_t at = ((i0 * w->in[1] + i1) * w->in[2] + i2) * C + ch;                        \
                    if (best < 0 || image[at] > value || (image[at] != image[at] && value == value)) {     \
                        best = at;                                                                         \
                        value = image[at];                                                                 \
                    }                                                                                      \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        return best;                                                                                       \
    }                                                                                                      \
    static void max_pool_##SUFFIX(const geom_t *w, const T *x, T *y, ptrdiff_t n0, ptrdiff_t n1) {         \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++) {                                                \
            ptrdiff_t n, o[3];                                                                             \
            position(w, r, &n, o);                                                                         \
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
    static void max_pool_backprop_##SUFFIX(const geom_t *w, const T *x, const T *g, T *dx, ptrdiff_t n0,    \
                                           ptrdiff_t n1) {                                                 \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        for (ptrdiff_t i = n0 * ins; i < n1 * ins; i++) dx[i] = 0;                                         \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++) {                                                \
            ptrdiff_t n, o[3];                                                                             \
            position(w, r, &n, o);                                                                         \
            for (ptrdiff_t ch = 0; ch < C; ch++) {                                                         \
                ptrdiff_t at = argmax_##SUFFIX(w, x + n * ins, o, ch);                                     \
                if (at >= 0) dx[n * ins + at] += g[r * C + ch];                                            \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    static void max_pool_select_##SUFFIX(const geom_t *w, const T *x, const T *gg, T *out, ptrdiff_t n0,    \
                                         ptrdiff_t n1) {                                                   \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++) {                                                \
            ptrdiff_t n, o[3];                                                                             \
            position(w, r, &n, o);                                                                         \
            for (ptrdiff_t ch = 0; ch < C; ch++) {                                                         \
                ptrdiff_t at = argmax_##SUFFIX(w, x + n * ins, o, ch);                                     \
                out[r * C + ch] = at >= 0 ? gg[n * ins + at] : 0;                                          \
            }                                                                                              \
        }                                                                                                  \
    }                                                                                                      \
    /* The number of real (unpadded) elements in the window at o. */                                      \
    static ptrdiff_t window_count_##SUFFIX(const geom_t *w, const ptrdiff_t o[3]) {                        \
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
    static void avg_pool_##SUFFIX(int backward, const geom_t *w, const T *src, T *dst, ptrdiff_t n0,       \
                                  ptrdiff_t n1) {                                                          \
        const ptrdiff_t C = w->channels, outs = w->out[0] * w->out[1] * w->out[2];                         \
        const ptrdiff_t ins = w->in[0] * w->in[1] * w->in[2] * C;                                          \
        if (backward) for (ptrdiff_t i = n0 * ins; i < n1 * ins; i++) dst[i] = 0;                          \
        for (ptrdiff_t r = n0 * outs; r < n1 * outs; r++) {                                                \
            ptrdiff_t n, o[3];                                                                             \
            position(w, r, &n, o);                                                                         \
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

WINDOW_KERNELS(float, f32)
WINDOW_KERNELS(double, f64)

void ck_im2col(ck_dtype dt, const ptrdiff_t *geometry, const void *x, void *col, ptrdiff_t r0, ptrdiff_t r1) {
    ck_enter();
    geom_t w = unpack(geometry);
    if (dt == CK_F32) im2col_f32(&w, x, col, r0, r1);
    else im2col_f64(&w, x, col, r0, r1);
}

void ck_col2im(ck_dtype dt, const ptrdiff_t *geometry, const void *col, void *x, ptrdiff_t r0, ptrdiff_t r1) {
    ck_enter();
    geom_t w = unpack(geometry);
    if (dt == CK_F32) col2im_f32(&w, col, x, r0, r1);
    else col2im_f64(&w, col, x, r0, r1);
}

void ck_max_pool(ck_dtype dt, const ptrdiff_t *geometry, const void *x, void *y, ptrdiff_t n0, ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    if (dt == CK_F32) max_pool_f32(&w, x, y, n0, n1);
    else max_pool_f64(&w, x, y, n0, n1);
}

void ck_max_pool_backprop(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *g, void *dx,
                          ptrdiff_t n0, ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    if (dt == CK_F32) max_pool_backprop_f32(&w, x, g, dx, n0, n1);
    else max_pool_backprop_f64(&w, x, g, dx, n0, n1);
}

void ck_max_pool_select(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *gg, void *out,
                        ptrdiff_t n0, ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    if (dt == CK_F32) max_pool_select_f32(&w, x, gg, out, n0, n1);
    else max_pool_select_f64(&w, x, gg, out, n0, n1);
}

void ck_avg_pool(int backward, ck_dtype dt, const ptrdiff_t *geometry, const void *src, void *dst, ptrdiff_t n0,
                 ptrdiff_t n1) {
    ck_enter();
    geom_t w = unpack(geometry);
    if (dt == CK_F32) avg_pool_f32(backward, &w, src, dst, n0, n1);
    else avg_pool_f64(backward, &w, src, dst, n0, n1);
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
