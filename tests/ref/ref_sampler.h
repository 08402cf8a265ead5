/* ref_sampler.h — the sampler op (src/ops/sampler.h, formulas in shaders/pc/pc_sampler.h) and whole
 * sampler runs in double precision, for tests/ops/test_sampler.c and tests/unit/test_schedule.c. */
#ifndef VKTI_TESTS_REF_SAMPLER_H
#define VKTI_TESTS_REF_SAMPLER_H

#include <stdint.h>

#include "sample/schedule.h"

/* x_out [B*n]; hist_out [B*n] (may be NULL): the predicted x0 of a step (DPM++ 2M's new history),
 * zeros for INIT with VKTI_SAMPLER_F_HIST; in_out [copies*B*n]. hist / model_out / noise may be NULL when the mode
 * does not read them; noise of image b starts at b * noise_stride. */
void ref_sampler_step(double *x_out, double *hist_out, double *in_out, const float *x, const float *hist,
                      const float *model_out, const float *noise, const float *coef, unsigned mode, unsigned flags,
                      int64_t B, int64_t n, int copies, int64_t noise_stride);
/* The model of a whole-run reference: out = prediction for the UNet input `in` at step `step`. */
typedef void (*ref_model_fn)(void *user, int step, const double *in, double *out, int64_t n);
/* A whole run of plan p in double (no guidance, one image of n elements): x = the final latent.
 * noise0 [n] starts it; noise [steps, n] is each step's noise (NULL: none). 0, or -1 out of memory. */
int ref_sampler_trajectory(double *x, const vkti_sampler_plan *p, const double *noise0, const double *noise, int64_t n,
                           ref_model_fn model, void *user);
/* tests/fixtures/sampler_reference.safetensors (tools/ref/sampler_reference.py): diffusers' runs
 * of each case with the fake model out = 0.1 * in + (t / 1000) * E. Arrays are flat f32. */
#define REF_SAMPLER_MAX_CASES 32
typedef struct ref_sampler_case {
    char name[64];
    vkti_sampler sampler;
    int steps, karras;
    double eta;
    const char *config;           /* the scheduler_config.json text to plan with */
    float *timesteps, *sigmas;    /* [steps], [steps + 1] (sigmas NULL for DDIM) */
    float init_sigma;
    float *x, *model_in, *model_out, *x0; /* [steps + 1, n], [steps, n] x 3 */
} ref_sampler_case;
typedef struct ref_sampler_fixture {
    int64_t n;                    /* latent elements */
    float *noise0, *noise, *E;    /* [n], [max steps, n], [n] */
    int max_steps;
    int ncases;
    ref_sampler_case cases[REF_SAMPLER_MAX_CASES];
    void *priv;
} ref_sampler_fixture;
/* Opens the fixture at path, else $VKTI_SAMPLER_FIXTURE, else
 * $VKTI_SOURCE_DIR/tests/fixtures/sampler_reference.safetensors: 1 when read, 0 when absent (*why
 * says so), -1 when malformed (*why says how). */
int ref_sampler_fixture_open(ref_sampler_fixture *f, const char *path, char *why, size_t why_cap);
void ref_sampler_fixture_close(ref_sampler_fixture *f);
/* The fake model of the fixture: out = 0.1 * in + (t / 1000) * E, each product rounded to f32 as
 * torch computes it. */
void ref_sampler_fake_model(double *out, const double *in, const float *E, float t, int64_t n);

/* out [oh, ow, C] = latents[image, y0.., x0.., :] / scale, latents [B, h, w, C] */
void ref_sampler_latent(double *out, const float *latents, int64_t h, int64_t w, int64_t C, int image, int64_t y0,
                        int64_t x0, int64_t oh, int64_t ow, double scale);

#endif
