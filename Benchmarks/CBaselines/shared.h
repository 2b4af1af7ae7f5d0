// Helpers the hand-written baselines share (not part of the module's interface).
#ifndef CBASELINES_SHARED_H
#define CBASELINES_SHARED_H
#include <stddef.h>
#include <stdlib.h>

static inline float *baseline_buffer(size_t n) { return calloc(n, sizeof(float)); }

/// y = x·w + b (n×k times k×units), then ReLU when `relu`.
void baseline_dense(const float *x, const float *w, const float *b, float *y, int n, int k, int units, int relu);
/// dw = xᵀ·dy, db = Σ dy, and dx = dy·wᵀ when dx is not null.
void baseline_dense_backward(const float *x, const float *w, const float *dy, float *dw, float *db, float *dx,
                             int n, int k, int units);
/// Keras's Adam update (β1 0.9, β2 0.999, ε 1e-7) with the bias-corrected step `lr_t`.
void baseline_adam(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                   float lr_t);
#endif
