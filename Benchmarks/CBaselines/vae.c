// The guide's VAE step (784 -> 64 relu -> (32 mean, 32 log-variance) -> sampling
// -> 64 relu -> 784 sigmoid; MSE plus the KL term; Adam) written directly against
// OpenBLAS and libm: the floor `vae_step` is judged by.
#include "cbaselines.h"
#include "shared.h"
#include <cblas.h>
#include <math.h>
#include <string.h>

enum { IN = 784, HID = 64, LAT = 32, PARAMS = 10 };

struct baseline_vae {
    int batch;
    float *p[PARAMS], *g[PARAMS], *m[PARAMS], *v[PARAMS];   // W1 b1 Wm bm Wv bv W3 b3 W4 b4
    size_t size[PARAMS];
    float *h, *mean, *logv, *eps, *sd, *z, *g3, *r;          // activations
    float *dr, *dg, *dz, *dmean, *dlogv, *dh;                 // gradients of pre-activations
    uint64_t rng;
    long step;
};

static float uniform01(uint64_t *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return ((float)(*s >> 40) + 0.5f) / (float)(1 << 24);
}

baseline_vae *baseline_vae_create(int batch, uint64_t seed) {
    baseline_vae *q = calloc(1, sizeof *q);
    q->batch = batch;
    q->rng = seed * 2654435761u + 1;
    size_t sizes[PARAMS] = { IN * HID, HID, HID * LAT, LAT, HID * LAT, LAT, LAT * HID, HID, HID * IN, IN };
    int fans[PARAMS][2] = { {IN, HID}, {0, 0}, {HID, LAT}, {0, 0}, {HID, LAT}, {0, 0}, {LAT, HID}, {0, 0}, {HID, IN}, {0, 0} };
    for (int i = 0; i < PARAMS; i++) {
        q->size[i] = sizes[i];
        q->p[i] = baseline_buffer(sizes[i]); q->g[i] = baseline_buffer(sizes[i]);
        q->m[i] = baseline_buffer(sizes[i]); q->v[i] = baseline_buffer(sizes[i]);
        if (fans[i][0]) {
            float scale = sqrtf(6.0f / (fans[i][0] + fans[i][1]));
            for (size_t k = 0; k < sizes[i]; k++) q->p[i][k] = (uniform01(&q->rng) * 2 - 1) * scale;
        }
    }
    size_t n = (size_t)batch;
    q->h = baseline_buffer(n * HID); q->mean = baseline_buffer(n * LAT); q->logv = baseline_buffer(n * LAT);
    q->eps = baseline_buffer(n * LAT); q->sd = baseline_buffer(n * LAT); q->z = baseline_buffer(n * LAT);
    q->g3 = baseline_buffer(n * HID); q->r = baseline_buffer(n * IN);
    q->dr = baseline_buffer(n * IN); q->dg = baseline_buffer(n * HID); q->dz = baseline_buffer(n * LAT);
    q->dmean = baseline_buffer(n * LAT); q->dlogv = baseline_buffer(n * LAT); q->dh = baseline_buffer(n * HID);
    return q;
}

void baseline_vae_destroy(baseline_vae *q) {
    for (int i = 0; i < PARAMS; i++) { free(q->p[i]); free(q->g[i]); free(q->m[i]); free(q->v[i]); }
    float *all[] = { q->h, q->mean, q->logv, q->eps, q->sd, q->z, q->g3, q->r, q->dr, q->dg, q->dz, q->dmean,
                     q->dlogv, q->dh };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
    free(q);
}

float baseline_vae_step(baseline_vae *q, const float *x, float lr) {
    const int n = q->batch;
    const size_t nl = (size_t)n * LAT, no = (size_t)n * IN;
    float **p = q->p, **g = q->g;
    // Encoder.
    baseline_dense(x, p[0], p[1], q->h, n, IN, HID, 1);
    baseline_dense(q->h, p[2], p[3], q->mean, n, HID, LAT, 0);
    baseline_dense(q->h, p[4], p[5], q->logv, n, HID, LAT, 0);
    // Sampling: z = mean + exp(logv / 2)·ε, ε normal (Box–Muller).
    for (size_t i = 0; i < nl; i += 2) {
        float u1 = uniform01(&q->rng), u2 = uniform01(&q->rng);
        float rad = sqrtf(-2 * logf(u1)), theta = 6.28318530717958647f * u2;
        q->eps[i] = rad * cosf(theta);
        if (i + 1 < nl) q->eps[i + 1] = rad * sinf(theta);
    }
    float kl = 0;
    for (size_t i = 0; i < nl; i++) {
        float e = expf(q->logv[i]);
        q->sd[i] = sqrtf(e);
        q->z[i] = q->mean[i] + q->sd[i] * q->eps[i];
        kl += q->logv[i] - q->mean[i] * q->mean[i] - e + 1;
        // The KL term's gradients (mean over n×32, times -1/2), kept for later.
        float c = -0.5f / (float)nl;
        q->dmean[i] = c * -2 * q->mean[i];
        q->dlogv[i] = c * (1 - e);
    }
    kl *= -0.5f / (float)nl;
    // Decoder.
    baseline_dense(q->z, p[6], p[7], q->g3, n, LAT, HID, 1);
    baseline_dense(q->g3, p[8], p[9], q->r, n, HID, IN, 0);
    float mse = 0;
    for (size_t i = 0; i < no; i++) {
        float r = 1 / (1 + expf(-q->r[i]));
        q->r[i] = r;
        float d = r - x[i];
        mse += d * d;
        q->dr[i] = 2 * d / (float)no * r * (1 - r);
    }
    mse /= (float)no;
    // Backward.
    baseline_dense_backward(q->g3, p[8], q->dr, g[8], g[9], q->dg, n, HID, IN);
    for (size_t i = 0; i < (size_t)n * HID; i++) if (q->g3[i] <= 0) q->dg[i] = 0;
    baseline_dense_backward(q->z, p[6], q->dg, g[6], g[7], q->dz, n, LAT, HID);
    for (size_t i = 0; i < nl; i++) {
        q->dmean[i] += q->dz[i];
        q->dlogv[i] += q->dz[i] * q->eps[i] * q->sd[i] * 0.5f;
    }
    baseline_dense_backward(q->h, p[2], q->dmean, g[2], g[3], q->dh, n, HID, LAT);
    baseline_dense_backward(q->h, p[4], q->dlogv, g[4], g[5], NULL, n, HID, LAT);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, HID, LAT, 1, q->dlogv, LAT, p[4], LAT, 1, q->dh, HID);
    for (size_t i = 0; i < (size_t)n * HID; i++) if (q->h[i] <= 0) q->dh[i] = 0;
    baseline_dense_backward(x, p[0], q->dh, g[0], g[1], NULL, n, IN, HID);
    // Adam.
    q->step++;
    float lr_t = lr * sqrtf(1 - powf(0.999f, (float)q->step)) / (1 - powf(0.9f, (float)q->step));
    for (int i = 0; i < PARAMS; i++) baseline_adam(p[i], g[i], q->m[i], q->v[i], q->size[i], lr_t);
    return mse + kl;
}
