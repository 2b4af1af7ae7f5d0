// Softmax and log-softmax along the last axis, and relu's gradient: fused
// loops for what classifier training does on every step.
#include "internal.h"
#include <math.h>
#include <stdlib.h>


#define CK_SOFTMAX(NAME, T, EXP, LOG) \
    static void NAME(int lg, const T *x, T *out, ptrdiff_t rows, ptrdiff_t n) { \
        for (ptrdiff_t r = 0; r < rows; r++) { \
            const T *xr = x + r * n; T *o = out + r * n; \
            T m = xr[0]; \
            for (ptrdiff_t j = 1; j < n; j++) m = (xr[j] > m || xr[j] != xr[j]) ? xr[j] : m; \
            if (m == -(T)INFINITY) m = 0; \
            T sum = 0; \
            for (ptrdiff_t j = 0; j < n; j++) { T e = EXP(xr[j] - m); o[j] = e; sum += e; } \
            if (lg) { T l = LOG(sum); for (ptrdiff_t j = 0; j < n; j++) o[j] = (xr[j] - m) - l; } \
            else { T inv = 1 / sum; for (ptrdiff_t j = 0; j < n; j++) o[j] *= inv; } \
        } \
    }
CK_SOFTMAX(softmax_f64, double, exp, log)

void ck_softmax_rows(int lg, ck_dtype dt, const void *x, void *out, ptrdiff_t rows, ptrdiff_t n) {
    ck_enter();
    if (dt == CK_F32) {
        // Shift every row by its maximum, exponentiate the whole block in one
        // vector pass, then normalize row by row.
        const float *xs = x; float *o = out;
        float *maxes = rows <= 1024 ? (float[1024]){0} : malloc(sizeof(float) * (size_t)rows);
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *xr = xs + r * n; float *orow = o + r * n;
            float m = xr[0];
            for (ptrdiff_t j = 1; j < n; j++) m = (xr[j] > m || xr[j] != xr[j]) ? xr[j] : m;
            if (m == -INFINITY) m = 0;
            maxes[r] = m;
            for (ptrdiff_t j = 0; j < n; j++) orow[j] = xr[j] - m;
        }
        ck_unary(CK_EXP, CK_F32, o, o, rows * n);
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *xr = xs + r * n; float *orow = o + r * n;
            float sum = 0;
            for (ptrdiff_t j = 0; j < n; j++) sum += orow[j];
            if (lg) { float l = logf(sum); for (ptrdiff_t j = 0; j < n; j++) orow[j] = (xr[j] - maxes[r]) - l; }
            else { float inv = 1 / sum; for (ptrdiff_t j = 0; j < n; j++) orow[j] *= inv; }
        }
        if (rows > 1024) free(maxes);
    } else {
        softmax_f64(lg, x, out, rows, n);
    }
}

// Branch-free selects (the signs of x are random, so a branch mispredicts half
// the time) over restrict pointers, so both variants vectorize.
#define RELU_GRAD_BODY(T) (const T *restrict g, const T *restrict x, T *restrict o, ptrdiff_t n) { \
        for (ptrdiff_t i = 0; i < n; i++) o[i] = x[i] > 0 ? g[i] : (T)0; \
    }
CK_AVX512 static void relu_grad_f32_avx512 RELU_GRAD_BODY(float)
CK_AVX512 static void relu_grad_f64_avx512 RELU_GRAD_BODY(double)
CK_AVX2 static void relu_grad_f32_avx2 RELU_GRAD_BODY(float)
static void relu_grad_f32_base RELU_GRAD_BODY(float)
CK_AVX2 static void relu_grad_f64_avx2 RELU_GRAD_BODY(double)
static void relu_grad_f64_base RELU_GRAD_BODY(double)

static __typeof__(relu_grad_f32_base) *relu_grad_f32 = relu_grad_f32_base;
static __typeof__(relu_grad_f64_base) *relu_grad_f64 = relu_grad_f64_base;

void ck_relu_grad(ck_dtype dt, const void *g, const void *x, void *out, ptrdiff_t n) {
    ck_enter();
    if (dt == CK_F32) relu_grad_f32(g, x, out, n);
    else relu_grad_f64(g, x, out, n);
}

#define SIGMOID_GRAD_BODY(T) (const T *restrict g, const T *restrict y, T *restrict o, ptrdiff_t n) { \
        for (ptrdiff_t i = 0; i < n; i++) o[i] = (g[i] * y[i]) * ((T)1 - y[i]); \
    }
CK_AVX512 static void sigmoid_grad_f32_avx512 SIGMOID_GRAD_BODY(float)
CK_AVX512 static void sigmoid_grad_f64_avx512 SIGMOID_GRAD_BODY(double)
CK_AVX2 static void sigmoid_grad_f32_avx2 SIGMOID_GRAD_BODY(float)
static void sigmoid_grad_f32_base SIGMOID_GRAD_BODY(float)
CK_AVX2 static void sigmoid_grad_f64_avx2 SIGMOID_GRAD_BODY(double)
static void sigmoid_grad_f64_base SIGMOID_GRAD_BODY(double)

static __typeof__(sigmoid_grad_f32_base) *sigmoid_grad_f32 = sigmoid_grad_f32_base;
static __typeof__(sigmoid_grad_f64_base) *sigmoid_grad_f64 = sigmoid_grad_f64_base;

void ck_sigmoid_grad(ck_dtype dt, const void *g, const void *y, void *out, ptrdiff_t n) {
    ck_enter();
    if (dt == CK_F32) sigmoid_grad_f32(g, y, out, n);
    else sigmoid_grad_f64(g, y, out, n);
}

void ck_select_softmax(int level) {
    relu_grad_f32 = CK_BY_LEVEL(level, relu_grad_f32_base, relu_grad_f32_avx2, relu_grad_f32_avx512);
    relu_grad_f64 = CK_BY_LEVEL(level, relu_grad_f64_base, relu_grad_f64_avx2, relu_grad_f64_avx512);
    sigmoid_grad_f32 = CK_BY_LEVEL(level, sigmoid_grad_f32_base, sigmoid_grad_f32_avx2, sigmoid_grad_f32_avx512);
    sigmoid_grad_f64 = CK_BY_LEVEL(level, sigmoid_grad_f64_base, sigmoid_grad_f64_avx2, sigmoid_grad_f64_avx512);
}
