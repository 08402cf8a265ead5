/* unet.h — diffusers' UNet2DConditionModel on the GPU, NHWC: forward (noise or v prediction
 * from a noisy latent, timesteps and the text condition) and the input-gradient backward from
 * d(prediction) to d(condition) that textual inversion needs. Everything comes from the
 * dimensions, so SD 1.x and SD 2.x differ only in configuration. */
#ifndef VKTI_MODEL_UNET_H
#define VKTI_MODEL_UNET_H

#include "model/nn.h"

#define VKTI_UNET_MAX_BLOCKS 6

typedef struct vkti_unet_dims {
    int in_channels, out_channels;
    int nblocks;
    int channels[VKTI_UNET_MAX_BLOCKS];   /* block_out_channels */
    int layers[VKTI_UNET_MAX_BLOCKS];     /* resnets per down block; up block i has layers[n-1-i] + 1 */
    int down_attn[VKTI_UNET_MAX_BLOCKS];  /* 1: CrossAttnDownBlock2D, 0: DownBlock2D */
    int up_attn[VKTI_UNET_MAX_BLOCKS];    /* in up-block order (0 = the deepest): 1 CrossAttnUpBlock2D */
    int mid_attn;                         /* 1: UNetMidBlock2DCrossAttn */
    int heads[VKTI_UNET_MAX_BLOCKS];      /* attention heads per down block; up blocks reversed */
    int depth[VKTI_UNET_MAX_BLOCKS];      /* transformer layers per down block; up blocks reversed */
    int cross_dim;                        /* 768 SD 1.x, 1024 SD 2.x */
    int groups;                           /* norm_num_groups */
    float eps;                            /* norm_eps (resnets and the output norm) */
    int linear_proj;                      /* use_linear_projection */
    int flip_sin_to_cos;
    float freq_shift;
    int time_dim;                         /* time embedding width (4 * channels[0]) */
} vkti_unet_dims;

typedef struct vkti_unet vkti_unet;

int vkti_unet_create(vkti_unet **out, vkti_gpu *g, const vkti_unet_dims *dims, const vkti_weight_source *src,
                     vkti_dtype dtype);
void vkti_unet_free(vkti_unet *u);
uint64_t vkti_unet_params(const vkti_unet *u);
/* Device bytes the last recording's activations used at most (kept + temporary peaks). */
uint64_t vkti_unet_activation_bytes(const vkti_unet *u);

/* The forward's modes (its `train` argument). */
#define VKTI_UNET_INFER 0     /* keeps nothing */
#define VKTI_UNET_KEEP 1      /* keeps everything the backward needs */
#define VKTI_UNET_RECOMPUTE 2 /* keeps each spatial transformer's input only (the ResNet blocks keep
                                 as VKTI_UNET_KEEP); the backward records each transformer's forward
                                 again, into an arena of its own released after that transformer's
                                 backward: less memory, about one more transformer forward in time.
                                 Outputs and gradients are bit-identical to VKTI_UNET_KEEP. */

/* Records the forward: out [N, h, w, out_channels] from sample [N, h, w, in_channels],
 * timesteps [N] f32 (a device tensor: per-step values are not baked into the recording) and
 * cond [N, T, cross_dim]. h and w must be divisible by 2^(nblocks-1). train is a mode above
 * (1 or 2 keep what the backward needs). Releases the previous recording's activations. */
int vkti_unet_forward(vkti_cmd *c, vkti_unet *u, const vkti_tensor *out, const vkti_tensor *sample,
                      const vkti_tensor *timesteps, const vkti_tensor *cond, int train);
/* Records the backward of the last train forward: d_cond [N, T, cross_dim] (overwritten) from
 * d_out [N, h, w, out_channels]. */
int vkti_unet_backward(vkti_cmd *c, vkti_unet *u, const vkti_tensor *d_cond, const vkti_tensor *d_out);
/* Gives the activation arenas' device memory back (their blocks stay allocated across recordings
 * otherwise, at the largest size any recording needed): after a recording in one mode, before
 * one in a smaller mode. The previous recording becomes invalid: call it only while nothing that
 * uses it is in flight, and record again before the next submission. */
int vkti_unet_trim(vkti_unet *u);

#endif
