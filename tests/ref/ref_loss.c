/* ref_loss.c — double-precision references for the loss ops (see ref_loss.h). */
#include "ref/ref_loss.h"

#include <math.h>

double ref_mse(const double *pred, const double *target, const double *w, const double *mask, int64_t N, int64_t P,
               int64_t C)
{
    double s = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++)
            for (int64_t c = 0; c < C; c++) {
                int64_t i = (n * P + p) * C + c;
                double d = pred[i] - target[i];
                s += (w ? w[n] : 1.0) * (mask ? mask[n * P + p] : 1.0) * d * d;
            }
    return s / (double)(N * P * C);
}

void ref_mse_backward(double *d, const double *pred, const double *target, const double *w, const double *mask,
                      int64_t N, int64_t P, int64_t C, double scale)
{
    double k = 2.0 * scale / (double)(N * P * C);
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++)
            for (int64_t c = 0; c < C; c++) {
                int64_t i = (n * P + p) * C + c;
                d[i] = k * (w ? w[n] : 1.0) * (mask ? mask[n * P + p] : 1.0) * (pred[i] - target[i]);
            }
}

double ref_l2_norm(const double *g, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += g[i] * g[i];
    return sqrt(s);
}
