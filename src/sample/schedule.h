/* schedule.h — the host half of the samplers: which timesteps a sampler visits, the sigmas, and
 * the scalar coefficients of every step that shaders/sampler.comp applies per element (slots in
 * shaders/pc/pc_sampler.h). Computed as diffusers 58eb52c computes them:
 *   DDIMScheduler                       set_timesteps, step (eta, clip_sample, set_alpha_to_one)
 *   EulerAncestralDiscreteScheduler     set_timesteps, scale_model_input, step
 *   DPMSolverMultistepScheduler         set_timesteps (use_karras_sigmas), step with algorithm_type
 *                                       "dpmsolver++", solver_order 2, solver_type "midpoint",
 *                                       lower_order_final, final_sigmas_type "zero"
 * What numpy computes (timesteps, sigma interpolation, Karras sigmas) is computed in double the
 * way numpy does it (np.linspace, np.arange's fill, np.interp, round half to even); what torch
 * computes on 0-d float32 tensors (alphas, sigmas, lambdas, the step's scalars) is computed in
 * float, one rounding per operation, in diffusers' order; so the coefficients are the float32
 * values diffusers multiplies the tensors by (exp and log up to the last bit of the C library).
 *
 * The scheduler config: the model's scheduler_config.json names its class (PNDMScheduler for SD
 * 1.x, DDIMScheduler for SD 2.x...). As `Sampler.from_config(pipe.scheduler.config)` does, a key
 * the file gives is used and a key it lacks takes the sampler's own default — not the file's
 * class's: diffusers lists the keys a class filled from its defaults in `_use_default_values` and
 * from_config drops them (so SD 1.5's PNDM file, which has no timestep_spacing, gives Euler a and
 * DPM++ their "linspace" and DDIM its "leading"; checked against diffusers' own runs in
 * tests/fixtures/sampler_reference.safetensors). Keys read here: timestep_spacing, steps_offset,
 * set_alpha_to_one, clip_sample, clip_sample_range, use_karras_sigmas, thresholding (refused when
 * true); the noise schedule itself (betas, prediction type) is io/noise_schedule.h's.
 *
 * Refused (diffusers would fail or silently misbehave): steps of 0 or more than the schedule's
 * timesteps; a leading spacing whose offset runs past the last timestep; a trailing spacing whose
 * np.arange yields a different number of timesteps than asked (61 of 1000, for instance: diffusers
 * would then step to timestep -1). */
#ifndef VKTI_SAMPLE_SCHEDULE_H
#define VKTI_SAMPLE_SCHEDULE_H

#include <stddef.h>

#include "base/diag.h"
#include "pc_sampler.h"
#include "io/noise_schedule.h"
#include "vkti/generate.h"

typedef enum vkti_timestep_spacing {
    VKTI_SPACING_LEADING = 0,
    VKTI_SPACING_TRAILING = 1,
    VKTI_SPACING_LINSPACE = 2
} vkti_timestep_spacing;
const char *vkti_spacing_name(vkti_timestep_spacing s);

/* What a scheduler_config.json says about sampling; has_* is 0 where the file says nothing (the
 * sampler's own default applies). */
typedef struct vkti_sampling_config {
    char class_name[64];
    int has_spacing, has_steps_offset, has_set_alpha_to_one, has_clip_sample, has_clip_range, has_karras;
    vkti_timestep_spacing spacing;
    int steps_offset;
    int set_alpha_to_one;
    int clip_sample;
    double clip_sample_range;
    int use_karras_sigmas;
} vkti_sampling_config;

/* Parses the sampling keys of a scheduler_config.json (source names it in messages). */
int vkti_sampling_config_parse(vkti_diag *d, vkti_sampling_config *cfg, const char *json, size_t len,
                               const char *source);

typedef struct vkti_sampler_settings {
    vkti_sampler sampler;
    int steps;
    double eta;       /* DDIM only (0: deterministic) */
    int karras;       /* DPM++ 2M only: Karras sigmas (also when the config says use_karras_sigmas) */
    double guidance;  /* classifier-free guidance scale (the coefficient slot; > 1 means guided) */
} vkti_sampler_settings;

/* One run of a sampler. */
typedef struct vkti_sampler_plan {
    vkti_sampler sampler;
    vkti_prediction prediction;
    vkti_timestep_spacing spacing;
    int steps_offset;
    int karras;                        /* Karras sigmas in use */
    int steps;
    unsigned mode, flags;              /* the sampler op's step mode and flags (VKTI_SAMPLER_F_V,
                                          _NOISE, _CLIP; the caller adds _GUIDED) */
    float init_sigma;                  /* scheduler.init_noise_sigma */
    float init_coef[VKTI_SAMPLER_COEFS];       /* for VKTI_SAMPLER_MODE_INIT */
    float *timestep;                   /* [steps]: the UNet's timestep at each step */
    float (*coef)[VKTI_SAMPLER_COEFS]; /* [steps]: the coefficients of each step */
    float *sigmas;                     /* [steps + 1]: scheduler.sigmas (Euler a, DPM++); NULL for DDIM */
} vkti_sampler_plan;

int vkti_sampler_plan_init(vkti_diag *d, vkti_sampler_plan *p, const vkti_noise_schedule *ns,
                           const vkti_sampling_config *cfg, const vkti_sampler_settings *s);
void vkti_sampler_plan_free(vkti_sampler_plan *p);

/* ---- numpy, emulated (exposed for the tests) ---------------------------------------------- */

/* np.linspace(start, stop, num) in float64 */
void vkti_np_linspace(double *out, double start, double stop, int num);
/* len(np.arange(start, stop, step)) and its values (out may be NULL to count) for float arguments */
int vkti_np_arange(double *out, int cap, double start, double stop, double step);
/* np.interp(x, arange(n), fp) */
double vkti_np_interp_index(double x, const double *fp, int n);

#endif
