/* generate.h — the public API of `vkti generate`: text to image with a Stable Diffusion model,
 * the samplers, classifier-free guidance with a negative prompt, textual-inversion embeddings,
 * and PNGs that carry AUTOMATIC1111's "parameters" text.
 *
 * Samplers follow diffusers' schedulers step for step (the model's scheduler_config.json decides
 * the noise schedule, the prediction type, the timestep spacing and the offsets, as
 * `Scheduler.from_config(pipe.scheduler.config)` would):
 *   ddim      DDIMScheduler (eta: 0 deterministic, 1 DDPM-like)             A1111: "DDIM"
 *   euler_a   EulerAncestralDiscreteScheduler                               A1111: "Euler a"
 *   dpmpp_2m  DPMSolverMultistepScheduler, dpmsolver++, order 2, midpoint,   A1111: "DPM++ 2M"
 *             lower_order_final; karras: use_karras_sigmas                  ("DPM++ 2M Karras")
 *
 * Seeds: image i of a batch uses seed + i, so any image of a batch is reproduced alone with its
 * own seed. The starting latent of seed s is normal sample j of Philox-4x32-10 with key s,
 * counter 0, stream 0 (src/ops/rng.h), element j of the latent in [height/8, width/8, 4] order
 * (channels last); the ancestral noise of step k uses counter k + 1. The same seed gives the same
 * noise on every device; the image may differ in the last bits where devices round differently. */
#ifndef VKTI_GENERATE_H
#define VKTI_GENERATE_H

#include "vkti/vkti.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vkti_sampler {
    VKTI_SAMPLER_DDIM = 0,
    VKTI_SAMPLER_EULER_A = 1,
    VKTI_SAMPLER_DPMPP_2M = 2
} vkti_sampler;

/* "ddim", "euler_a", "dpmpp_2m" */
const char *vkti_sampler_name(vkti_sampler s);
/* AUTOMATIC1111's name: "DDIM", "Euler a", "DPM++ 2M", "DPM++ 2M Karras" */
const char *vkti_sampler_a1111_name(vkti_sampler s, int karras);
/* From vkti's names; VKTI_E_INVALID for any other. */
int vkti_sampler_parse(const char *name, vkti_sampler *out);

#define VKTI_GENERATE_MAX_STEPS 1000
#define VKTI_GENERATE_MAX_BATCH 64
#define VKTI_GENERATE_MAX_SIDE 4096
#define VKTI_GENERATE_MAX_SEED 9007199254740991LL /* 2^53 - 1, as training seeds */
#define VKTI_GENERATE_MAX_EMBEDDINGS 64

#ifdef __cplusplus
}
#endif
#endif
