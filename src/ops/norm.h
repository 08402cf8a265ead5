/* norm.h — group norm (NHWC, optional fused SiLU) and layer norm, forward and input-gradient
 * backward. The weights gamma and beta are frozen: no dgamma / dbeta.
 *
 * Storage: x, out, dy, dx, gamma and beta share one dtype (f32 or f16); the saved statistics
 * mean and rstd (= 1 / sqrt(var + eps), biased variance as PyTorch) and the scratch are f32.
 * Statistics are computed in f32 without raw sums of squares, so inputs with a large mean
 * against their spread keep their accuracy. */
#ifndef VKTI_OPS_NORM_H
#define VKTI_OPS_NORM_H

#include "gpu/gpu.h"

/* ---- group norm ----------------------------------------------------------------------- *
 * x is [N, H, W, C] (any [N, ..., C] with at least 2 dimensions: P = the product of the middle
 * dimensions, 1 when there are none); G groups of C/G consecutive channels, each normalized
 * over its P * C/G values of one image. gamma, beta are [C]; mean, rstd are f32 [N, G] (any
 * shape with N*G elements). The reduction runs in two stages (per-chunk partials, then per
 * group) through a caller-provided f32 scratch tensor of at least
 * vkti_group_norm_scratch_numel elements (-1: x and groups make no group norm); forward and
 * backward may share one. Its contents mean nothing between calls. */
int64_t vkti_group_norm_scratch_numel(const vkti_tensor *x, int groups);

/* out = (x - mean) * rstd * gamma + beta per group, then SiLU if silu; writes mean, rstd. */
int vkti_group_norm_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *mean, const vkti_tensor *rstd,
                            const vkti_tensor *scratch, const vkti_tensor *x, const vkti_tensor *gamma,
                            const vkti_tensor *beta, int groups, float eps, int silu);

/* dx (accumulate: dx +=) from dy, given the forward's x, weights and saved mean / rstd. With
 * silu, dy is the gradient of the SiLU output; the pre-activation is recomputed from x. */
int vkti_group_norm_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *scratch, const vkti_tensor *dy,
                             const vkti_tensor *x, const vkti_tensor *gamma, const vkti_tensor *beta,
                             const vkti_tensor *mean, const vkti_tensor *rstd, int groups, int silu,
                             int accumulate);

/* ---- layer norm ----------------------------------------------------------------------- *
 * Over the last dimension: x is [..., C] seen as [R, C]; gamma, beta [C]; mean, rstd f32 [R]. */
int vkti_layer_norm_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *mean, const vkti_tensor *rstd,
                            const vkti_tensor *x, const vkti_tensor *gamma, const vkti_tensor *beta, float eps);

/* dx (accumulate: dx +=) from dy, given the forward's x, gamma and saved mean / rstd. */
int vkti_layer_norm_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                             const vkti_tensor *gamma, const vkti_tensor *mean, const vkti_tensor *rstd,
                             int accumulate);

#endif
