/* sd_synth.h — writes a random Stable Diffusion model, deterministic from a seed: the fixture of
 * every model test and of the CI demo (tools/make_tiny_sd.c is its command line). The same weights
 * go to a diffusers folder, to an LDM single-file .safetensors and to a torch .ckpt, so the loaders
 * of every layout are tested on identical tensors; shapes come from sd_tensors.h's tables.
 *
 * Weights: each tensor is drawn from its own stream (splitmix64 seeded by the seed and the
 * tensor's diffusers name), so a tensor's values do not depend on the others, on the layout, or
 * on the platform (integer generator; uniform draws; only correctly rounded float operations):
 *   linear and conv weights  U(-a, a) with a = sqrt(3 / fan_in): variance 1 / fan_in, so
 *                            activations stay O(1) through the depth (fan_in = in × kh × kw);
 *   norm gains (1-D weights) 1 + U(-0.1, 0.1);  biases U(-0.05, 0.05);
 *   token embedding          U(-sqrt 3, sqrt 3) (variance 1); position embedding variance 0.25.
 * The files are written in F32 (or F16 / BF16: the F32 values rounded to nearest even).
 *
 * Written beside the weights: each network's config.json (loadable by diffusers), model_index.json,
 * scheduler/scheduler_config.json (SD 1.5's PNDM file, or SD 2.1's DDIM v_prediction one),
 * tokenizer/ (vocab.json and merges.txt copied from a folder, and tokenizer_config.json /
 * special_tokens_map.json: SD 2.x pads with "!"). The single file holds what a real one holds
 * beyond the networks — SD 1.x's position_ids, SD 2.x's unused last OpenCLIP resblock,
 * text_projection and logit_scale — and the exact configs in __metadata__ (see model_files.h);
 * the .ckpt is Lightning's {"state_dict": ..., "global_step": ...} with global_step 875000 for
 * an SD 2.x epsilon model (diffusers' SD 2.0-base rule) and 470000 otherwise. */
#ifndef VKTI_IO_SD_SYNTH_H
#define VKTI_IO_SD_SYNTH_H

#include <stdint.h>

#include "base/diag.h"
#include "io/io_tensor.h"
#include "io/sd_config.h"

typedef struct vkti_sd_synth {
    vkti_sd_family family;
    vkti_unet_config unet;
    vkti_clip_text_config text;
    vkti_vae_config vae;
    int v_prediction;            /* the scheduler's prediction_type */
    uint64_t seed;
    vkti_io_dtype dtype;         /* F32, F16 or BF16 */
    int fp16_variant;            /* diffusers folder: also the *.fp16.safetensors files */
    const char *tokenizer_from;  /* a folder with vocab.json + merges.txt copied into tokenizer/;
                                    NULL: no tokenizer/ folder */
} vkti_sd_synth;

/* The presets (seed 0, F32, no tokenizer source):
 *   "tiny"     UNet [32, 64], 1 layer per block, CrossAttnDown + Down / Up + CrossAttnUp, 2 heads
 *              (head widths 16 and 32), 8 groups, cross-attention 32, sample 8; text encoder width
 *              32, 2 layers, 4 heads, MLP 64, quick_gelu, 77 positions, 809 tokens (bos 807,
 *              eos 808, pads with eos); VAE [16, 32, 32, 32] (factor 8), 1 layer, 8 groups,
 *              4 latent channels, sample 64; epsilon.
 *   "tiny-sd2" the same in SD 2.x style: linear projections, attention_head_dim [2, 4] (16-wide
 *              heads), gelu text MLP, pad id 0 ("!"), v_prediction.
 *   "sd15"     Stable Diffusion 1.5's exact shapes (859,520,964 + 123,060,480 + 83,653,863
 *              parameters), F16. */
int vkti_sd_synth_preset(vkti_diag *d, const char *name, vkti_sd_synth *out);

/* Writes the diffusers folder dir (NULL: none), the single file single (.safetensors; NULL: none)
 * and the torch checkpoint ckpt (NULL: none; models under 4 GB). */
int vkti_sd_synth_write(vkti_diag *d, const vkti_sd_synth *s, const char *dir, const char *single, const char *ckpt);

#endif
