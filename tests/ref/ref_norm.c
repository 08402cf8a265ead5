/* ref_norm.c — double-precision references for group and layer norm (see ref_norm.h). Means
 * and variances in two passes; the backward is the textbook formula
 *     dx = rstd * (dxh - mean(dxh) - xh * mean(dxh * xh)),  xh = (x - mean) * rstd,
 * with dxh = dL/dxh = dz * gamma and dz = dy (times silu'(z) when SiLU follows). */
#include "ref/ref_norm.h"

#include <math.h>

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

void ref_group_norm_forward(double *out, double *mean, double *rstd, const double *x, const double *gamma,
                            const double *beta, int64_t N, int64_t P, int64_t C, int64_t G, double eps, int silu)
{
    int64_t cg = C / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            const double *xn = x + n * P * C;
            double s = 0, q = 0;
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = g * cg; j < (g + 1) * cg; j++)
                    s += xn[p * C + j];
            double mu = s / (double)(P * cg);
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = g * cg; j < (g + 1) * cg; j++)
                    q += (xn[p * C + j] - mu) * (xn[p * C + j] - mu);
            double r = 1.0 / sqrt(q / (double)(P * cg) + eps);
            if (mean)
                mean[n * G + g] = mu;
            if (rstd)
                rstd[n * G + g] = r;
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = g * cg; j < (g + 1) * cg; j++) {
                    int64_t i = n * P * C + p * C + j;
                    double z = (x[i] - mu) * r * gamma[j] + beta[j];
                    out[i] = silu ? z * sigmoid(z) : z;
                }
        }
}

void ref_group_norm_backward(double *dx, const double *dy, const double *x, const double *gamma, const double *beta,
                             const double *mean, const double *rstd, int64_t N, int64_t P, int64_t C, int64_t G,
                             int silu)
{
    int64_t cg = C / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            double mu = mean[n * G + g], r = rstd[n * G + g], s1 = 0, s2 = 0;
            /* first pass: dxh into dx, and the two group sums */
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = g * cg; j < (g + 1) * cg; j++) {
                    int64_t i = n * P * C + p * C + j;
                    double xh = (x[i] - mu) * r, dz = dy[i];
                    if (silu) {
                        double z = xh * gamma[j] + beta[j], sg = sigmoid(z);
                        dz *= sg * (1.0 + z * (1.0 - sg));
                    }
                    dx[i] = dz * gamma[j];
                    s1 += dx[i];
                    s2 += dx[i] * xh;
                }
            double m1 = s1 / (double)(P * cg), m2 = s2 / (double)(P * cg);
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = g * cg; j < (g + 1) * cg; j++) {
                    int64_t i = n * P * C + p * C + j;
                    double xh = (x[i] - mu) * r;
                    dx[i] = r * (dx[i] - m1 - xh * m2);
                }
        }
}

void ref_layer_norm_forward(double *out, double *mean, double *rstd, const double *x, const double *gamma,
                            const double *beta, int64_t R, int64_t C, double eps)
{
    for (int64_t r = 0; r < R; r++) {
        const double *xr = x + r * C;
        double s = 0, q = 0;
        for (int64_t c = 0; c < C; c++)
            s += xr[c];
        double mu = s / (double)C;
        for (int64_t c = 0; c < C; c++)
            q += (xr[c] - mu) * (xr[c] - mu);
        double rs = 1.0 / sqrt(q / (double)C + eps);
        if (mean)
            mean[r] = mu;
        if (rstd)
            rstd[r] = rs;
        for (int64_t c = 0; c < C; c++)
            out[r * C + c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
    }
}

void ref_layer_norm_backward(double *dx, const double *dy, const double *x, const double *gamma, const double *mean,
                             const double *rstd, int64_t R, int64_t C)
{
    for (int64_t r = 0; r < R; r++) {
        double mu = mean[r], rs = rstd[r], s1 = 0, s2 = 0;
        for (int64_t c = 0; c < C; c++) {
            double xh = (x[r * C + c] - mu) * rs, dxh = dy[r * C + c] * gamma[c];
            s1 += dxh;
            s2 += dxh * xh;
        }
        double m1 = s1 / (double)C, m2 = s2 / (double)C;
        for (int64_t c = 0; c < C; c++) {
            double xh = (x[r * C + c] - mu) * rs, dxh = dy[r * C + c] * gamma[c];
            dx[r * C + c] = rs * (dxh - m1 - xh * m2);
        }
    }
}
