/* sampler.h — the per-element half of a diffusion sampler step (shaders/sampler.comp; the
 * formulas and coefficient slots are in shaders/pc/pc_sampler.h, their values per step come from
 * src/sample/schedule.h) and the window copy that makes the VAE decoder's input from the latents.
 *
 * Tensors: the latents x and the DPM++ history are f32 whatever the network's dtype (the
 * sampler's state keeps full precision, as diffusers upcasts it); model_in / model_out are the
 * UNet's input and output in the network's dtype (f32 or f16). A latent is one image's
 * [h, w, C] (NHWC), n = h * w * C elements. */
#ifndef VKTI_OPS_SAMPLER_H
#define VKTI_OPS_SAMPLER_H

#include "gpu/gpu.h"
#include "pc_sampler.h"

/* One step (mode VKTI_SAMPLER_MODE_DDIM / _EULER_A / _DPMPP_2M) or the start (_INIT) for B images:
 *   x         [B, h, w, C] f32, read and written (INIT: written)
 *   hist      [B, h, w, C] f32, read and written: DPMPP_2M's previous x0; INIT with
 *             VKTI_SAMPLER_F_HIST zeroes it; NULL otherwise
 *   model_in  [copies * B, h, w, C]: the next UNet input x / coef[VKTI_SC_IN_DIV], repeated
 *             copies (1 or 2) times
 *   model_out [B or 2B, h, w, C]: the UNet's prediction (2B with VKTI_SAMPLER_F_GUIDED:
 *             unconditional rows first); NULL for INIT
 *   noise     f32, image b's n values at b * (numel(noise) / B): needed by INIT and
 *             VKTI_SAMPLER_F_NOISE, else NULL
 *   coef      f32 [VKTI_SAMPLER_COEFS], read on the device at each replay
 * flags: VKTI_SAMPLER_F_*. */
int vkti_sampler_step_forward(vkti_cmd *c, const vkti_tensor *x, const vkti_tensor *hist, const vkti_tensor *model_in,
                              const vkti_tensor *model_out, const vkti_tensor *noise, const vkti_tensor *coef,
                              unsigned mode, unsigned flags);

/* out [1, oh, ow, C] (network dtype) = latents[image, y0 .. y0+oh, x0 .. x0+ow, :] / scale, from
 * latents [B, h, w, C] f32: the decoder's input (scale: the VAE's scaling factor), whole or a tile. */
int vkti_sampler_latent_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *latents, int image, int y0,
                                int x0, float scale);

#endif
