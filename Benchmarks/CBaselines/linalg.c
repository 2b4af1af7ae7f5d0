// Plain LAPACKE call loops: the floors the library's linear-algebra ops are
// judged by (the same factorizations, no framework, one thread per call).
#include "cbaselines.h"
#include <lapacke.h>
#include <string.h>

void baseline_cholesky_batch(int batch, int n, const float *a, float *work) {
    memcpy(work, a, sizeof(float) * (size_t)batch * n * n);
    for (int b = 0; b < batch; b++) LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', n, work + (size_t)b * n * n, n);
}

void baseline_svd(int m, int n, const float *a, float *work, float *s, float *u, float *vt) {
    memcpy(work, a, sizeof(float) * (size_t)m * n);
    const int k = m < n ? m : n;
    LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'S', m, n, work, n, s, u, k, vt, n);
}
