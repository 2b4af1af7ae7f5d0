#include "cbaselines.h"

void baseline_add_f32(const float *restrict a, const float *restrict b, float *restrict c, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) c[i] = a[i] + b[i];
}
