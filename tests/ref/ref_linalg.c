/* ref_linalg.c — double-precision CPU references (see ref_linalg.h). */
#include "ref/ref_linalg.h"

#include <math.h>

void ref_matmul(double *c, const float *a, const float *b, const float *bias, const double *c_in, int64_t batch,
                int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, int b_batched, double alpha, double beta)
{
    for (int64_t z = 0; z < batch; z++) {
        const float *az = a + z * M * K, *bz = b + (b_batched ? z * K * N : 0);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++) {
                    double x = trans_a ? az[k * M + i] : az[i * K + k];
                    double y = trans_b ? bz[j * K + k] : bz[k * N + j];
                    acc += x * y;
                }
                double v = alpha * acc + (bias ? bias[j] : 0.0);
                if (c_in)
                    v += beta * c_in[z * M * N + i * N + j];
                c[z * M * N + i * N + j] = v;
            }
    }
}

void ref_sum_rows(double *out, const float *x, int64_t rows, int64_t cols, int mean)
{
    for (int64_t r = 0; r < rows; r++) {
        double s = 0;
        for (int64_t c = 0; c < cols; c++)
            s += x[r * cols + c];
        out[r] = mean ? s / (double)cols : s;
    }
}

void ref_softmax_rows(double *out, const float *x, int64_t rows, int64_t cols, double scale)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < cols; c++)
            m = fmax(m, scale * xr[c]);
        for (int64_t c = 0; c < cols; c++)
            s += exp(scale * xr[c] - m);
        for (int64_t c = 0; c < cols; c++)
            out[r * cols + c] = exp(scale * xr[c] - m) / s;
    }
}
