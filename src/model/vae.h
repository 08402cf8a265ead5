/* vae.h — diffusers' AutoencoderKL on the GPU, NHWC, forward only: the encoder (image to the
 * latent distribution's mean and log-variance, for caching training latents) and the decoder
 * (latent to image, for previews and generation). Encoder and decoder load separately, so the
 * trainer can drop the VAE from the GPU once latents are cached. */
#ifndef VKTI_MODEL_VAE_H
#define VKTI_MODEL_VAE_H

#include "model/nn.h"

#define VKTI_VAE_MAX_BLOCKS 6

typedef struct vkti_vae_dims {
    int in_channels, out_channels;      /* 3, 3 */
    int latent;                         /* latent_channels: 4 */
    int nblocks;
    int channels[VKTI_VAE_MAX_BLOCKS];  /* block_out_channels */
    int layers_per_block;
    int groups;                         /* norm_num_groups */
    float eps;                          /* 1e-6 */
    int use_quant_conv, use_post_quant_conv, mid_attn;
    float scaling_factor;               /* 0.18215 SD 1.x/2.x */
} vkti_vae_dims;

typedef struct vkti_vae vkti_vae;

enum { VKTI_VAE_ENCODER = 1, VKTI_VAE_DECODER = 2 };

/* parts: VKTI_VAE_ENCODER | VKTI_VAE_DECODER (names "encoder.*", "quant_conv.*", "decoder.*", ...) */
int vkti_vae_create(vkti_vae **out, vkti_gpu *g, const vkti_vae_dims *dims, const vkti_weight_source *src,
                    vkti_dtype dtype, int parts);
void vkti_vae_free(vkti_vae *v);
/* Frees one part's weights and activations (the trainer drops the encoder after caching). */
void vkti_vae_drop(vkti_vae *v, int parts);
uint64_t vkti_vae_params(const vkti_vae *v);
const vkti_vae_dims *vkti_vae_get_dims(const vkti_vae *v);

/* mean, logvar [N, H/f, W/f, latent] from image [N, H, W, in_channels] in [-1, 1]
 * (f = 2^(nblocks-1)); logvar is clamped to [-30, 20] as diffusers' DiagonalGaussianDistribution. */
int vkti_vae_encode(vkti_cmd *c, vkti_vae *v, const vkti_tensor *mean, const vkti_tensor *logvar,
                    const vkti_tensor *image);
/* image [N, H, W, out_channels] from latent [N, h, w, latent] (already divided by scaling_factor). */
int vkti_vae_decode(vkti_cmd *c, vkti_vae *v, const vkti_tensor *image, const vkti_tensor *latent);

#endif
