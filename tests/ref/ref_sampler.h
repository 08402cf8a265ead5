/* ref_sampler.h — the sampler op (src/ops/sampler.h, formulas in shaders/pc/pc_sampler.h) in
 * double precision, for tests/ops/test_sampler.c. */
#ifndef VKTI_TESTS_REF_SAMPLER_H
#define VKTI_TESTS_REF_SAMPLER_H

#include <stdint.h>

/* x_out, hist_out [B*n]; in_out [copies*B*n]. hist / model_out / noise may be NULL when the mode
 * does not read them; noise of image b starts at b * noise_stride. */
void ref_sampler_step(double *x_out, double *hist_out, double *in_out, const float *x, const float *hist,
                      const float *model_out, const float *noise, const float *coef, unsigned mode, unsigned flags,
                      int64_t B, int64_t n, int copies, int64_t noise_stride);
/* out [oh, ow, C] = latents[image, y0.., x0.., :] / scale, latents [B, h, w, C] */
void ref_sampler_latent(double *out, const float *latents, int64_t h, int64_t w, int64_t C, int image, int64_t y0,
                        int64_t x0, int64_t oh, int64_t ow, double scale);

#endif
