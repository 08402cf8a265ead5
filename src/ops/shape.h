/* shape.h — shape ops of the UNet and the text encoder, forward and backward, on NHWC
 * activations (f32 or f16 storage; all activation tensors of one call share the dtype):
 * nearest 2x upsample, channel concat / split, per-sample channel broadcast add, sinusoidal
 * timestep embedding, and the token-embedding lookup with learned rows.
 *
 * Values that change every training step (timesteps, token ids) are read from device tensors,
 * so a recording made once can be replayed with new values uploaded in between.
 *
 * Not here because existing ops cover them: the residual add and the position-embedding add
 * (x [B, T, D] + pos [T, D]) are vkti_add_forward, whose b broadcasts by repetition; the
 * backward of an add is the identity for each operand. */
#ifndef VKTI_OPS_SHAPE_H
#define VKTI_OPS_SHAPE_H

#include "gpu/gpu.h"

/* out [N, 2H, 2W, C][n, y, x, c] = x [N, H, W, C][n, y/2, x/2, c] */
int vkti_upsample2x_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x);
/* dx [N, H, W, C] = sum of each 2x2 block of dy [N, 2H, 2W, C] */
int vkti_upsample2x_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy);

/* out [..., Ca + Cb] = [a [..., Ca] | b [..., Cb]]: the leading dimensions (N, H, W or N, P)
 * of the three tensors hold the same number of rows; channels are the last dimension. */
int vkti_concat_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, const vkti_tensor *b);
/* da [..., Ca] (+)= d_out[..., :Ca] and db [..., Cb] (+)= d_out[..., Ca:]; either may be NULL
 * (not wanted). accumulate_a / accumulate_b: add to what da / db hold (a skip tensor's
 * gradient already has a contribution from its other use) instead of overwriting it. */
int vkti_concat_backward(vkti_cmd *c, const vkti_tensor *da, const vkti_tensor *db, const vkti_tensor *d_out,
                         int accumulate_a, int accumulate_b);

/* out [N, ..., C] = x [N, ..., C] + b [N, C] broadcast over the middle dimensions (the time
 * embedding added to every pixel of its sample). The backward for x is the identity: pass dy
 * on as dx. */
int vkti_bcast_add_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *b);
/* db [N, C] (f32) = sum over the middle dimensions of dy [N, ..., C]. (Textual inversion does
 * not need it: the time-embedding MLP's weights are frozen.) */
int vkti_bcast_add_backward_b(vkti_cmd *c, const vkti_tensor *db, const vkti_tensor *dy);

/* Sinusoidal timestep embedding, diffusers' get_timestep_embedding. */
typedef struct vkti_temb_params {
    int flip_sin_to_cos;   /* SD: 1 -> [cos | sin] */
    float shift;           /* downscale_freq_shift; SD: 0 */
    float max_period;      /* 0 is read as 10000 */
    float scale;           /* 0 is read as 1 */
} vkti_temb_params;
/* out [N, dim] (f32 or f16) from timesteps [N] (f32 or i32, read on the device);
 * p NULL: SD's settings (flip, shift 0, max period 10000, scale 1). dim >= 2. */
int vkti_timestep_embed_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *timesteps,
                                const vkti_temb_params *p);

/* Token-embedding lookup with learned rows (diffusers add_tokens + resize_token_embeddings:
 * new tokens are numbered after the vocabulary).
 * out [B, T, D] (the table's dtype); ids [B, T] i32; table [V, D] f32 or f16 (frozen);
 * extra [E, D] f32 (the learned rows, ids V .. V+E-1; NULL: none). Any other id gives a zero
 * row. The table may be up to twice the device's maxStorageBufferRange (it is bound as two
 * row ranges): the f32 CLIP table, 152 MB, fits lavapipe's 128 MiB bindings that way. */
int vkti_embed_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *ids, const vkti_tensor *table,
                       const vkti_tensor *extra);
/* d_extra [E, D] f32 (+)= the sum of the rows of d_out [B, T, D] whose id is V + e; V is the
 * vocabulary size (the table's rows). Deterministic: no atomics. Frozen rows get nothing.
 * accumulate: add to d_extra (gradient accumulation over micro-batches). */
int vkti_embed_backward(vkti_cmd *c, const vkti_tensor *d_extra, const vkti_tensor *ids, const vkti_tensor *d_out,
                        int64_t V, int accumulate);

#endif
