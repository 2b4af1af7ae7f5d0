// Normal deviates from uniform ones (Box–Muller), vectorized: the transcendental
// functions are most of the cost of drawing normals (a VAE's sampling, weight
// initializers), and libm's sin/cos/log in a loop stay scalar.
#include "internal.h"
#include <math.h>

CK_AVX2 static void box_muller_avx2(const double *u1, const double *u2, double *out, ptrdiff_t pairs,
                                    double mean, double stddev) {
    const __m256d two_pi = _mm256_set1_pd(2 * 3.14159265358979323846), minus_two = _mm256_set1_pd(-2);
    const __m256d m = _mm256_set1_pd(mean), s = _mm256_set1_pd(stddev);
    ptrdiff_t i = 0;
    for (; i + 4 <= pairs; i += 4) {
        __m256d r = _mm256_sqrt_pd(_mm256_mul_pd(minus_two, Sleef_logd4_u10avx2(_mm256_loadu_pd(u1 + i))));
        __m256d theta = _mm256_mul_pd(two_pi, _mm256_loadu_pd(u2 + i));
        __m256d a = _mm256_fmadd_pd(s, _mm256_mul_pd(r, Sleef_cosd4_u10avx2(theta)), m);
        __m256d b = _mm256_fmadd_pd(s, _mm256_mul_pd(r, Sleef_sind4_u10avx2(theta)), m);
        // Interleave into (a0 b0 a1 b1) (a2 b2 a3 b3).
        __m256d lo = _mm256_unpacklo_pd(a, b), hi = _mm256_unpackhi_pd(a, b);
        _mm256_storeu_pd(out + 2 * i, _mm256_permute2f128_pd(lo, hi, 0x20));
        _mm256_storeu_pd(out + 2 * i + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
    }
    for (; i < pairs; i++) {
        double r = sqrt(-2 * log(u1[i])), theta = 2 * 3.14159265358979323846 * u2[i];
        out[2 * i] = mean + stddev * (r * cos(theta));
        out[2 * i + 1] = mean + stddev * (r * sin(theta));
    }
}

static void box_muller_base(const double *u1, const double *u2, double *out, ptrdiff_t pairs,
                            double mean, double stddev) {
    for (ptrdiff_t i = 0; i < pairs; i++) {
        double r = sqrt(-2 * log(u1[i])), theta = 2 * 3.14159265358979323846 * u2[i];
        out[2 * i] = mean + stddev * (r * cos(theta));
        out[2 * i + 1] = mean + stddev * (r * sin(theta));
    }
}

// The AVX-512 level uses the AVX2 loop: drawing normals is a small part of any
// step, and the AVX2 version already runs SLEEF's vector log, sin and cos.
static __typeof__(box_muller_base) *box_muller = box_muller_base;

void ck_select_random(int level) { box_muller = CK_BY_LEVEL(level, box_muller_base, box_muller_avx2, box_muller_avx2); }

void ck_box_muller(const double *u1, const double *u2, double *out, ptrdiff_t pairs, double mean, double stddev) {
    ck_enter();
    box_muller(u1, u2, out, pairs, mean, stddev);
}
