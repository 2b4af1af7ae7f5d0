#include "cbaselines.h"
#include "shared.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct baseline_mlp {
    int batch, in, h1, h2, out;
    float *w1, *b1, *w2, *b2, *w3, *b3;        // weights
    float *gw1, *gb1, *gw2, *gb2, *gw3, *gb3;  // gradients
    float *a1, *a2, *logits;                   // activations (after ReLU for a1, a2)
    float *d1, *d2, *dlogits;                  // gradients of pre-activations
    float *adam_m[6], *adam_v[6];              // Adam moments per parameter
    long step;
};


baseline_mlp *baseline_mlp_create(int batch, int in, int h1, int h2, int out, uint64_t seed) {
    baseline_mlp *m = calloc(1, sizeof *m);
    *m = (baseline_mlp){ .batch = batch, .in = in, .h1 = h1, .h2 = h2, .out = out };
    m->w1 = baseline_buffer((size_t)in * h1); m->b1 = baseline_buffer(h1); m->gw1 = baseline_buffer((size_t)in * h1); m->gb1 = baseline_buffer(h1);
    m->w2 = baseline_buffer((size_t)h1 * h2); m->b2 = baseline_buffer(h2); m->gw2 = baseline_buffer((size_t)h1 * h2); m->gb2 = baseline_buffer(h2);
    m->w3 = baseline_buffer((size_t)h2 * out); m->b3 = baseline_buffer(out); m->gw3 = baseline_buffer((size_t)h2 * out); m->gb3 = baseline_buffer(out);
    m->a1 = baseline_buffer((size_t)batch * h1); m->a2 = baseline_buffer((size_t)batch * h2); m->logits = baseline_buffer((size_t)batch * out);
    m->d1 = baseline_buffer((size_t)batch * h1); m->d2 = baseline_buffer((size_t)batch * h2); m->dlogits = baseline_buffer((size_t)batch * out);
    size_t sizes[6] = { (size_t)in * h1, h1, (size_t)h1 * h2, h2, (size_t)h2 * out, out };
    for (int i = 0; i < 6; i++) { m->adam_m[i] = baseline_buffer(sizes[i]); m->adam_v[i] = baseline_buffer(sizes[i]); }
    uint64_t s = seed * 2654435761u + 1;
    float *ws[3] = { m->w1, m->w2, m->w3 };
    size_t ns[3] = { (size_t)in * h1, (size_t)h1 * h2, (size_t)h2 * out };
    float scales[3] = { sqrtf(6.0f / (in + h1)), sqrtf(6.0f / (h1 + h2)), sqrtf(6.0f / (h2 + out)) };
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < ns[k]; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            ws[k][i] = ((float)(s >> 40) / (float)(1 << 24) * 2 - 1) * scales[k];
        }
    return m;
}

void baseline_mlp_destroy(baseline_mlp *m) {
    float *all[] = { m->w1, m->b1, m->w2, m->b2, m->w3, m->b3, m->gw1, m->gb1, m->gw2, m->gb2, m->gw3, m->gb3,
                     m->a1, m->a2, m->logits, m->d1, m->d2, m->dlogits };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
    for (int i = 0; i < 6; i++) { free(m->adam_m[i]); free(m->adam_v[i]); }
    free(m);
}

void baseline_dense(const float *x, const float *w, const float *b, float *y, int n, int k, int units, int relu) {
    for (int i = 0; i < n; i++) memcpy(y + (size_t)i * units, b, sizeof(float) * units);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, units, k, 1, x, k, w, units, 1, y, units);
    if (relu) for (size_t i = 0; i < (size_t)n * units; i++) y[i] = y[i] > 0 ? y[i] : 0;
}

void baseline_dense_backward(const float *x, const float *w, const float *dy, float *dw, float *db, float *dx,
                           int n, int k, int units) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, units, n, 1, x, k, dy, units, 0, dw, units);
    memset(db, 0, sizeof(float) * units);
    for (int i = 0; i < n; i++) for (int j = 0; j < units; j++) db[j] += dy[(size_t)i * units + j];
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, units, 1, dy, units, w, units, 0, dx, k);
}

static void sgd(float *w, const float *g, size_t n, float lr) {
    for (size_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

__attribute__((target("avx2,fma")))
void baseline_adam(float *restrict w, const float *restrict g, float *restrict mo, float *restrict v, size_t n, float lr_t) {
    for (size_t i = 0; i < n; i++) {
        mo[i] += (g[i] - mo[i]) * 0.1f;
        v[i] += (g[i] * g[i] - v[i]) * 0.001f;
        w[i] -= lr_t * mo[i] / (__builtin_elementwise_sqrt(v[i]) + 1e-7f);
    }
}

float baseline_mlp_step(baseline_mlp *m, const float *x, const int32_t *labels, float lr, int use_adam) {
    int n = m->batch;
    baseline_dense(x, m->w1, m->b1, m->a1, n, m->in, m->h1, 1);
    baseline_dense(m->a1, m->w2, m->b2, m->a2, n, m->h1, m->h2, 1);
    baseline_dense(m->a2, m->w3, m->b3, m->logits, n, m->h2, m->out, 0);
    // Softmax cross-entropy (mean over the batch) and its gradient.
    float loss = 0;
    for (int i = 0; i < n; i++) {
        float *z = m->logits + (size_t)i * m->out, *d = m->dlogits + (size_t)i * m->out;
        float mx = z[0];
        for (int j = 1; j < m->out; j++) mx = z[j] > mx ? z[j] : mx;
        float sum = 0;
        for (int j = 0; j < m->out; j++) { d[j] = expf(z[j] - mx); sum += d[j]; }
        loss += logf(sum) + mx - z[labels[i]];
        for (int j = 0; j < m->out; j++) d[j] = d[j] / sum / n;
        d[labels[i]] -= 1.0f / n;
    }
    baseline_dense_backward(m->a2, m->w3, m->dlogits, m->gw3, m->gb3, m->d2, n, m->h2, m->out);
    for (size_t i = 0; i < (size_t)n * m->h2; i++) if (m->a2[i] <= 0) m->d2[i] = 0;
    baseline_dense_backward(m->a1, m->w2, m->d2, m->gw2, m->gb2, m->d1, n, m->h1, m->h2);
    for (size_t i = 0; i < (size_t)n * m->h1; i++) if (m->a1[i] <= 0) m->d1[i] = 0;
    baseline_dense_backward(x, m->w1, m->d1, m->gw1, m->gb1, NULL, n, m->in, m->h1);
    float *ws[6] = { m->w1, m->b1, m->w2, m->b2, m->w3, m->b3 };
    float *gs[6] = { m->gw1, m->gb1, m->gw2, m->gb2, m->gw3, m->gb3 };
    size_t sizes[6] = { (size_t)m->in * m->h1, m->h1, (size_t)m->h1 * m->h2, m->h2, (size_t)m->h2 * m->out, m->out };
    if (use_adam) {
        m->step++;
        float lr_t = lr * sqrtf(1 - powf(0.999f, (float)m->step)) / (1 - powf(0.9f, (float)m->step));
        for (int i = 0; i < 6; i++) baseline_adam(ws[i], gs[i], m->adam_m[i], m->adam_v[i], sizes[i], lr_t);
    } else {
        for (int i = 0; i < 6; i++) sgd(ws[i], gs[i], sizes[i], lr);
    }
    return loss / n;
}
