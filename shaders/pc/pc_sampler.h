/* pc_sampler.h — push constants of shaders/sampler.comp and shaders/sampler_latent.comp (C and
 * GLSL): one update of a diffusion sampler per latent element, with the step's scalar
 * coefficients read from a device tensor (the host rewrites it between replays), and the window
 * copy that turns latents into the VAE decoder's input.
 *
 * Coefficient slots of sampler.comp (coef is f32 [VKTI_SAMPLER_COEFS]); every mode writes the next
 * UNet input in = x / c[IN_DIV] (`copies` times: the unconditional and conditional halves):
 *   INIT       x = noise * c[2]                    (diffusers: latents = randn * init_noise_sigma)
 *              hist = 0 when bound
 *   DDIM       eps:  x0 = (x - c[3] e) / c[2]          pe = e
 *              v:    x0 = c[2] x - c[3] e              pe = c[2] e + c[3] x
 *              clip: x0 = clamp(x0, -c[4], c[4])
 *              x = c[5] x0 + c[6] pe   (+ c[7] noise)
 *   EULER_A    eps:  x0 = x - c[2] e
 *              v:    x0 = e c[3] + x / c[4]
 *              x = x + ((x - x0) / c[2]) c[5];  x = x + noise c[6]
 *   DPMPP_2M   eps:  x0 = (x - c[3] e) / c[2]
 *              v:    x0 = c[2] x - c[3] e
 *              x = (c[4] x - c[5] x0) - c[6] (c[7] (x0 - hist));  hist = x0
 * e is the model output, or with guidance u + c[GUIDANCE] (c - u) (u the unconditional, c the
 * conditional prediction). Each line is one f32 operation per arithmetic sign, in the order
 * diffusers' schedulers evaluate them (see src/sample/schedule.h for the coefficients). */
#ifndef VKTI_PC_SAMPLER_H
#define VKTI_PC_SAMPLER_H
#include "pc_common.h"

#define VKTI_SAMPLER_COEFS 16
#define VKTI_SC_IN_DIV 0
#define VKTI_SC_GUIDANCE 1

#define VKTI_SAMPLER_MODE_INIT 0u
#define VKTI_SAMPLER_MODE_DDIM 1u
#define VKTI_SAMPLER_MODE_EULER_A 2u
#define VKTI_SAMPLER_MODE_DPMPP_2M 3u

#define VKTI_SAMPLER_F_V 1u       /* the model predicts v (else epsilon) */
#define VKTI_SAMPLER_F_GUIDED 2u  /* model_out holds 2B rows: unconditional, then conditional */
#define VKTI_SAMPLER_F_NOISE 4u   /* add the noise term */
#define VKTI_SAMPLER_F_CLIP 8u    /* DDIM: clamp x0 */
#define VKTI_SAMPLER_F_HIST 16u   /* INIT: zero hist */

/* C sees both structs; a shader sees one block: sampler_latent.comp defines VKTI_PC_SAMPLER_LATENT. */
#if !defined(VULKAN) || !defined(VKTI_PC_SAMPLER_LATENT)
VKTI_PUSH_BEGIN(vkti_pc_sampler)
    VKTI_PC_U32 n;            /* latent elements of one image */
    VKTI_PC_U32 batch;        /* B images */
    VKTI_PC_U32 noise_stride; /* elements between images in noise */
    VKTI_PC_U32 copies;       /* rows of the UNet input per image: 1, or 2 with guidance */
    VKTI_PC_U32 mode;
    VKTI_PC_U32 flags;
VKTI_PUSH_END(vkti_pc_sampler)
VKTI_PUSH_CHECK(vkti_pc_sampler)
#endif

#if !defined(VULKAN) || defined(VKTI_PC_SAMPLER_LATENT)
/* sampler_latent.comp: out[y, x, c] = lat[image, y0 + y, x0 + x, c] / scale for a window of
 * out_h x out_w of an image's [h, w, C] latent */
VKTI_PUSH_BEGIN(vkti_pc_sampler_latent)
    VKTI_PC_U32 n;        /* elements of out: out_h * out_w * C */
    VKTI_PC_U32 w;        /* the latent's width */
    VKTI_PC_U32 h;
    VKTI_PC_U32 c;        /* channels */
    VKTI_PC_U32 out_w;
    VKTI_PC_U32 image;
    VKTI_PC_U32 y0;
    VKTI_PC_U32 x0;
    VKTI_PC_F32 scale;    /* the VAE's scaling factor */
VKTI_PUSH_END(vkti_pc_sampler_latent)
VKTI_PUSH_CHECK(vkti_pc_sampler_latent)
#endif

#endif
