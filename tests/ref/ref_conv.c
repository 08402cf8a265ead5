/* ref_conv.c — double-precision convolution references (see ref_conv.h). The forward gathers
 * per output pixel; the backward scatters per output pixel, so the two share no index algebra
 * with each other or with the GPU's phase-class gather. */
#include "ref/ref_conv.h"

#include <string.h>

int64_t ref_conv_out_size(int64_t in, int k, int stride, int pad_a, int pad_b)
{
    return (in + pad_a + pad_b - k) / stride + 1;
}

/* four partial sums: a single running sum is latency-bound and the SD-sized cases are large */
static double dot(const double *a, const double *b, int64_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

void ref_conv2d_forward(double *out, const double *in, const double *w, const double *bias, int bias_per_sample,
                        const double *residual, const ref_conv_dims *d)
{
    const int64_t Ho = ref_conv_out_size(d->H, d->kh, d->stride, d->pad_top, d->pad_bottom);
    const int64_t Wo = ref_conv_out_size(d->W, d->kw, d->stride, d->pad_left, d->pad_right);
    const int64_t C = d->Cin, K = d->kh * d->kw * C;
    for (int64_t n = 0; n < d->N; n++)
        for (int64_t oy = 0; oy < Ho; oy++)
            for (int64_t ox = 0; ox < Wo; ox++) {
                const int64_t o = ((n * Ho + oy) * Wo + ox) * d->Cout;
                for (int64_t co = 0; co < d->Cout; co++) {
                    double acc = 0;
                    for (int ky = 0; ky < d->kh; ky++) {
                        const int64_t iy = oy * d->stride - d->pad_top + ky;
                        if (iy < 0 || iy >= d->H)
                            continue;
                        for (int kx = 0; kx < d->kw; kx++) {
                            const int64_t ix = ox * d->stride - d->pad_left + kx;
                            if (ix < 0 || ix >= d->W)
                                continue;
                            acc += dot(in + ((n * d->H + iy) * d->W + ix) * C, w + co * K + (ky * d->kw + kx) * C, C);
                        }
                    }
                    if (bias)
                        acc += bias[(bias_per_sample ? n * d->Cout : 0) + co];
                    if (residual)
                        acc += residual[o + co];
                    out[o + co] = acc;
                }
            }
}

void ref_conv2d_backward(double *d_in, const double *d_out, const double *w, const ref_conv_dims *d)
{
    const int64_t Ho = ref_conv_out_size(d->H, d->kh, d->stride, d->pad_top, d->pad_bottom);
    const int64_t Wo = ref_conv_out_size(d->W, d->kw, d->stride, d->pad_left, d->pad_right);
    const int64_t C = d->Cin, K = d->kh * d->kw * C;
    memset(d_in, 0, sizeof(double) * (size_t)(d->N * d->H * d->W * C));
    for (int64_t n = 0; n < d->N; n++)
        for (int64_t oy = 0; oy < Ho; oy++)
            for (int64_t ox = 0; ox < Wo; ox++) {
                const double *g = d_out + ((n * Ho + oy) * Wo + ox) * d->Cout;
                for (int ky = 0; ky < d->kh; ky++) {
                    const int64_t iy = oy * d->stride - d->pad_top + ky;
                    if (iy < 0 || iy >= d->H)
                        continue;
                    for (int kx = 0; kx < d->kw; kx++) {
                        const int64_t ix = ox * d->stride - d->pad_left + kx;
                        if (ix < 0 || ix >= d->W)
                            continue;
                        double *dx = d_in + ((n * d->H + iy) * d->W + ix) * C;
                        for (int64_t co = 0; co < d->Cout; co++) {
                            const double gv = g[co], *wr = w + co * K + (ky * d->kw + kx) * C;
                            for (int64_t ci = 0; ci < C; ci++)
                                dx[ci] += gv * wr[ci];
                        }
                    }
                }
            }
}
