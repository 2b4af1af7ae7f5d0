// Plain C code the benchmarks measure the library against.
#ifndef CBASELINES_H
#define CBASELINES_H
#include <stddef.h>
#include <stdint.h>

/// c[i] = a[i] + b[i], the loop a C programmer would write.
void baseline_add_f32(const float *a, const float *b, float *c, ptrdiff_t n);

/// The weights and scratch buffers of the benchmark MLP
/// (in -> h1 -> h2 -> out, ReLU, softmax cross-entropy), written directly against
/// OpenBLAS with no framework: the floor the library's training step is judged by.
typedef struct baseline_mlp baseline_mlp;

baseline_mlp *baseline_mlp_create(int batch, int in, int h1, int h2, int out, uint64_t seed);
void baseline_mlp_destroy(baseline_mlp *m);
/// One step of forward, backward and update on (x: batch×in, labels): SGD, or Adam
/// with Keras's formulas (β1 0.9, β2 0.999, ε 1e-7) when `adam` is nonzero. Returns the loss.
float baseline_mlp_step(baseline_mlp *m, const float *x, const int32_t *labels, float learning_rate, int adam);

/// The guide's VAE (784 -> 64 -> (32, 32) -> sampling -> 64 -> 784 sigmoid, MSE plus
/// KL, Adam) on batches of `batch`, written against OpenBLAS and libm.
typedef struct baseline_vae baseline_vae;

baseline_vae *baseline_vae_create(int batch, uint64_t seed);
void baseline_vae_destroy(baseline_vae *v);
/// One step of forward, backward and Adam (Keras's formulas) on x (batch×784); returns the loss.
float baseline_vae_step(baseline_vae *v, const float *x, float learning_rate);

/// A stride-1 "valid" convolution of x (batch×h×w×cin) with kernel
/// (kh×kw×cin×cout) as a plain im2col into `col` (batch·oh·ow × kh·kw·cin) and one
/// cblas_sgemm into y (batch·oh·ow × cout), on OpenBLAS's current thread count.
void baseline_im2col_conv(int batch, int h, int w, int cin, int kh, int kw, int cout, const float *x,
                          const float *kernel, float *col, float *y);
/// Cholesky factors of `batch` n×n matrices (copied from `a` into `work`), one
/// LAPACKE_spotrf call after another.
void baseline_cholesky_batch(int batch, int n, const float *a, float *work);
/// The reduced SVD of one m×n row-major matrix (copied into `work`) by LAPACKE_sgesdd.
void baseline_svd(int m, int n, const float *a, float *work, float *s, float *u, float *vt);

#endif
