/* elementwise.h — elementwise ops on f32 or f16 storage (all tensors of one op share a dtype).
 * b broadcasts by repetition: numel(a) must be a multiple of numel(b), so in NHWC a [C] tensor
 * adds per channel. */
#ifndef VKTI_OPS_ELEMENTWISE_H
#define VKTI_OPS_ELEMENTWISE_H

#include "gpu/gpu.h"

int vkti_add_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, const vkti_tensor *b);
int vkti_mul_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, const vkti_tensor *b);
/* out = alpha * a + beta */
int vkti_scale_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, float alpha, float beta);
/* out = a * sigmoid(a) */
int vkti_silu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a);
/* out [N, ...] = coef[n, 0] * x + coef[n, 1] * y per sample n (y NULL: coef[n, 0] * x); coef is
 * f32 [N, 2], read on the device so that a replayed recording takes new values each step. */
int vkti_mix_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *y,
                     const vkti_tensor *coef);
/* out = min(max(a, lo), hi) */
int vkti_clamp_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, float lo, float hi);

#endif
