/* ldm_infer.h — what a single-file Stable Diffusion checkpoint in the original LDM (CompVis) layout
 * is, read from its tensor names and shapes alone: the family, and configs for the UNet, the text
 * encoder and the VAE equivalent to the diffusers ones (the tables of sd_tensors.h then find every
 * tensor and check every shape).
 *
 * Family: a text encoder under cond_stage_model.transformer. (OpenAI CLIP) is SD 1.x; one under
 * cond_stage_model.model. (OpenCLIP) is SD 2.x. (diffusers' own test is the width of
 * input_blocks.2.1's attn2.to_k, 1024 for SD 2.x: it holds for the released models, but not for
 * models of other widths.) SDXL (conditioner.embedders.*) and other architectures are refused
 * by name.
 *
 * Read from shapes: block widths and count, resnets per block, which blocks have attention,
 * transformer depth, linear vs conv projections, text width, cross-attention width, vocabulary,
 * positions, layers, MLP width, latent channels, time-embedding width, kernels.
 * Not in the weights, so from the family (the values of the released models): attention heads —
 * SD 1.x 8 per UNet block, SD 2.x 64-wide heads (a width that does not split that way gets 8
 * heads, or 1); text heads of width 64 (else 1); group norms of 32 groups (reduced to a common
 * divisor of every width when 32 does not divide them); quick_gelu (SD 1.x) / gelu (SD 2.x);
 * sample sizes (SD 1.x 64 latents / 512 pixels; SD 2.x 96 / 768 for v-prediction, else 64 / 512);
 * VAE scaling factor 0.18215. SD 2.x's text encoder has one layer less than the checkpoint's
 * resblocks (the penultimate layer's output is used).
 *
 * Prediction type, diffusers' rule (single_file_utils._legacy_load_scheduler): SD 1.x epsilon;
 * SD 2.x v_prediction (the 768-v models), except epsilon when the checkpoint's global_step is
 * 875000 (SD 2.0-base's). A .safetensors file carries no global_step: SD 2.x is v_prediction. */
#ifndef VKTI_IO_LDM_INFER_H
#define VKTI_IO_LDM_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "io/io_tensor.h"
#include "io/sd_config.h"

typedef struct vkti_ldm_guess {
    vkti_sd_family family;
    vkti_unet_config unet;
    vkti_clip_text_config text;
    vkti_vae_config vae;
    int v_prediction;
    char reason[256];   /* how the family and the prediction type were decided, for messages */
} vkti_ldm_guess;

/* Sorts tensors by name (bytewise), as the lookups below need. */
void vkti_ldm_sort(vkti_io_tensor *t, size_t count);
/* The tensor called name in a sorted array, or NULL. */
const vkti_io_tensor *vkti_ldm_lookup(const vkti_io_tensor *sorted, size_t count, const char *name);
/* 1 when some name starts with prefix. */
int vkti_ldm_has_prefix(const vkti_io_tensor *sorted, size_t count, const char *prefix);

/* Infers the family and configs. global_step: the .ckpt's top-level "global_step", or -1.
 * src names the file in messages. */
int vkti_ldm_infer(vkti_diag *d, const vkti_io_tensor *sorted, size_t count, int64_t global_step, const char *src,
                   vkti_ldm_guess *out);

#endif
