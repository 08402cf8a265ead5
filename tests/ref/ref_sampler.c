/* ref_sampler.c — double-precision reference of the sampler op (see ref_sampler.h). */
#include "ref/ref_sampler.h"

#include <math.h>

#include "pc_sampler.h"

void ref_sampler_step(double *x_out, double *hist_out, double *in_out, const float *x, const float *hist,
                      const float *model_out, const float *noise, const float *coef, unsigned mode, unsigned flags,
                      int64_t B, int64_t n, int copies, int64_t noise_stride)
{
    double c[VKTI_SAMPLER_COEFS];
    for (int k = 0; k < VKTI_SAMPLER_COEFS; k++)
        c[k] = coef[k];
    const int v = (flags & VKTI_SAMPLER_F_V) != 0;
    for (int64_t i = 0; i < B * n; i++) {
        int64_t b = i / n, k = i % n;
        double xi = x[i], nz = (mode == VKTI_SAMPLER_MODE_INIT || (flags & VKTI_SAMPLER_F_NOISE)) ? noise[b * noise_stride + k] : 0.0;
        double nx;
        if (mode == VKTI_SAMPLER_MODE_INIT) {
            nx = nz * c[2];
            if ((flags & VKTI_SAMPLER_F_HIST) && hist_out)
                hist_out[i] = 0.0;
        } else {
            double e = model_out[i];
            if (flags & VKTI_SAMPLER_F_GUIDED)
                e = model_out[i] + c[VKTI_SC_GUIDANCE] * ((double)model_out[B * n + i] - model_out[i]);
            double x0;
            if (mode == VKTI_SAMPLER_MODE_DDIM) {
                double pe = v ? c[2] * e + c[3] * xi : e;
                x0 = v ? c[2] * xi - c[3] * e : (xi - c[3] * e) / c[2];
                if (flags & VKTI_SAMPLER_F_CLIP)
                    x0 = fmin(fmax(x0, -c[4]), c[4]);
                nx = c[5] * x0 + c[6] * pe + ((flags & VKTI_SAMPLER_F_NOISE) ? c[7] * nz : 0.0);
            } else if (mode == VKTI_SAMPLER_MODE_EULER_A) {
                x0 = v ? e * c[3] + xi / c[4] : xi - c[2] * e;
                nx = xi + (xi - x0) / c[2] * c[5] + nz * c[6];
            } else {
                x0 = v ? c[2] * xi - c[3] * e : (xi - c[3] * e) / c[2];
                nx = c[4] * xi - c[5] * x0 - c[6] * (c[7] * (x0 - hist[i]));
                hist_out[i] = x0;
            }
        }
        x_out[i] = nx;
        for (int g = 0; g < copies; g++)
            in_out[g * B * n + i] = nx / c[VKTI_SC_IN_DIV];
    }
}

void ref_sampler_latent(double *out, const float *latents, int64_t h, int64_t w, int64_t C, int image, int64_t y0,
                        int64_t x0, int64_t oh, int64_t ow, double scale)
{
    for (int64_t y = 0; y < oh; y++)
        for (int64_t xx = 0; xx < ow; xx++)
            for (int64_t ch = 0; ch < C; ch++)
                out[(y * ow + xx) * C + ch] = latents[(((int64_t)image * h + y0 + y) * w + x0 + xx) * C + ch] / scale;
}
