// The convnet's second convolution written directly against OpenBLAS: a plain
// im2col of every output position, then one SGEMM. The floor conv2d_64x11x11
// is judged by.
#include "cbaselines.h"
#include <cblas.h>
#include <string.h>

void baseline_im2col_conv(int batch, int h, int w, int cin, int kh, int kw, int cout, const float *x,
                          const float *kernel, float *col, float *y) {
    const int oh = h - kh + 1, ow = w - kw + 1, k = kh * kw * cin;
    for (int n = 0; n < batch; n++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                float *row = col + ((size_t)(n * oh + i) * ow + j) * k;
                for (int a = 0; a < kh; a++)
                    memcpy(row + a * kw * cin, x + (((size_t)n * h + i + a) * w + j) * cin, sizeof(float) * kw * cin);
            }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch * oh * ow, cout, k, 1, col, k, kernel, cout, 0, y, cout);
}
