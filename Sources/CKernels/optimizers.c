// Optimizer updates: one fused pass over each variable's memory, in place. The
// square roots use __builtin_elementwise_sqrt, which has no errno to set, so in
// the AVX2 variants clang emits vsqrtps: a libm sqrtf call would keep the loop scalar
// (BENCHMARKS.md: 2.1 ms instead of 0.4 ms for the hypernetwork's Adam).
#include "internal.h"

#define CK_OPT_VARIANTS(NAME, BODY) \
    CK_AVX512 static void NAME##_f32_avx512 BODY(float, __builtin_elementwise_sqrt) \
    CK_AVX512 static void NAME##_f64_avx512 BODY(double, __builtin_elementwise_sqrt) \
    CK_AVX2 static void NAME##_f32_avx2 BODY(float, __builtin_elementwise_sqrt) \
    static void NAME##_f32_base BODY(float, __builtin_elementwise_sqrt) \
    CK_AVX2 static void NAME##_f64_avx2 BODY(double, __builtin_elementwise_sqrt) \
    static void NAME##_f64_base BODY(double, __builtin_elementwise_sqrt)

#define SGD_BODY(T, SQRT) (T *restrict w, const T *restrict g, T *restrict m, ptrdiff_t n, \
                           T lr, T momentum, int nesterov, T gs) { \
        if (!m) { for (ptrdiff_t i = 0; i < n; i++) w[i] -= lr * (g[i] * gs); return; } \
        if (nesterov) { \
            for (ptrdiff_t i = 0; i < n; i++) { T gi = g[i] * gs; T mi = momentum * m[i] - lr * gi; m[i] = mi; w[i] += momentum * mi - lr * gi; } \
        } else { \
            for (ptrdiff_t i = 0; i < n; i++) { T mi = momentum * m[i] - lr * (g[i] * gs); m[i] = mi; w[i] += mi; } \
        } \
    }
CK_OPT_VARIANTS(sgd, SGD_BODY)

#define ADAM_BODY(T, SQRT) (T *restrict w, const T *restrict g, T *restrict m, T *restrict v, \
                            T *restrict vhat, ptrdiff_t n, T lr_t, T b1, T b2, T eps, T decay, T gs) { \
        T c1 = 1 - b1, c2 = 1 - b2; \
        if (decay != 0) for (ptrdiff_t i = 0; i < n; i++) w[i] -= w[i] * decay; \
        if (vhat) { \
            for (ptrdiff_t i = 0; i < n; i++) { \
                T gi = g[i] * gs; T mi = m[i] + (gi - m[i]) * c1; T vi = v[i] + (gi * gi - v[i]) * c2; \
                T hi = vhat[i] > vi ? vhat[i] : vi; \
                m[i] = mi; v[i] = vi; vhat[i] = hi; w[i] -= lr_t * mi / (SQRT(hi) + eps); \
            } \
        } else { \
            for (ptrdiff_t i = 0; i < n; i++) { \
                T gi = g[i] * gs; T mi = m[i] + (gi - m[i]) * c1; T vi = v[i] + (gi * gi - v[i]) * c2; \
                m[i] = mi; v[i] = vi; w[i] -= lr_t * mi / (SQRT(vi) + eps); \
            } \
        } \
    }
CK_OPT_VARIANTS(adam, ADAM_BODY)

#define RMSPROP_BODY(T, SQRT) (T *restrict w, const T *restrict g, T *restrict v, T *restrict avg, \
                               T *restrict mom, ptrdiff_t n, T lr, T rho, T momentum, T eps, T gs) { \
        for (ptrdiff_t i = 0; i < n; i++) { \
            T gi = g[i] * gs; T vi = rho * v[i] + (1 - rho) * gi * gi; v[i] = vi; \
            T d = vi + eps; \
            if (avg) { T ai = rho * avg[i] + (1 - rho) * gi; avg[i] = ai; d = vi - ai * ai + eps; } \
            T step = lr * gi / SQRT(d); \
            if (mom) { T mi = momentum * mom[i] + step; mom[i] = mi; w[i] -= mi; } else { w[i] -= step; } \
        } \
    }
CK_OPT_VARIANTS(rmsprop, RMSPROP_BODY)

#define ADAGRAD_BODY(T, SQRT) (T *restrict w, const T *restrict g, T *restrict acc, ptrdiff_t n, T lr, T eps, T gs) { \
        for (ptrdiff_t i = 0; i < n; i++) { T gi = g[i] * gs; T a = acc[i] + gi * gi; acc[i] = a; w[i] -= lr * gi / SQRT(a + eps); } \
    }
CK_OPT_VARIANTS(adagrad, ADAGRAD_BODY)

// The table: each optimizer's kernel per dtype for the level in force.
// (Baseline until the load-time detection fills them.)
#define CK_OPT_SLOTS(NAME) \
    static __typeof__(NAME##_f32_base) *NAME##_f32 = NAME##_f32_base; \
    static __typeof__(NAME##_f64_base) *NAME##_f64 = NAME##_f64_base;
CK_OPT_SLOTS(sgd)
CK_OPT_SLOTS(adam)
CK_OPT_SLOTS(rmsprop)
CK_OPT_SLOTS(adagrad)

#define CK_OPT_SELECT(NAME, level) \
    NAME##_f32 = CK_BY_LEVEL(level, NAME##_f32_base, NAME##_f32_avx2, NAME##_f32_avx512); \
    NAME##_f64 = CK_BY_LEVEL(level, NAME##_f64_base, NAME##_f64_avx2, NAME##_f64_avx512);

void ck_select_optimizers(int level) {
    CK_OPT_SELECT(sgd, level)
    CK_OPT_SELECT(adam, level)
    CK_OPT_SELECT(rmsprop, level)
    CK_OPT_SELECT(adagrad, level)
}

void ck_sgd_update(ck_dtype dt, void *w, const void *g, void *m, ptrdiff_t n, double lr, double momentum, int nesterov,
                   double gscale) {
    ck_enter();
    if (dt == CK_F32) sgd_f32(w, g, m, n, (float)lr, (float)momentum, nesterov, (float)gscale);
    else sgd_f64(w, g, m, n, lr, momentum, nesterov, gscale);
}

void ck_adam_update(ck_dtype dt, void *w, const void *g, void *m, void *v, void *vhat, ptrdiff_t n,
                    double lr_t, double b1, double b2, double eps, double decay, double gscale) {
    ck_enter();
    if (dt == CK_F32) adam_f32(w, g, m, v, vhat, n, (float)lr_t, (float)b1, (float)b2, (float)eps, (float)decay, (float)gscale);
    else adam_f64(w, g, m, v, vhat, n, lr_t, b1, b2, eps, decay, gscale);
}

void ck_rmsprop_update(ck_dtype dt, void *w, const void *g, void *v, void *avg, void *mom, ptrdiff_t n,
                       double lr, double rho, double momentum, double eps, double gscale) {
    ck_enter();
    if (dt == CK_F32) rmsprop_f32(w, g, v, avg, mom, n, (float)lr, (float)rho, (float)momentum, (float)eps, (float)gscale);
    else rmsprop_f64(w, g, v, avg, mom, n, lr, rho, momentum, eps, gscale);
}

void ck_adagrad_update(ck_dtype dt, void *w, const void *g, void *acc, ptrdiff_t n, double lr, double eps,
                       double gscale) {
    ck_enter();
    if (dt == CK_F32) adagrad_f32(w, g, acc, n, (float)lr, (float)eps, (float)gscale);
    else adagrad_f64(w, g, acc, n, lr, eps, gscale);
}
