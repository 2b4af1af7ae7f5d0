// Plain C loops the benchmarks measure the library against.
#ifndef CBASELINES_H
#define CBASELINES_H
#include <stddef.h>
/// c[i] = a[i] + b[i], the loop a C programmer would write.
void baseline_add_f32(const float *a, const float *b, float *c, ptrdiff_t n);
#endif
