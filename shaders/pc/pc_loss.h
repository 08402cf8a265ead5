/* pc_loss.h — push constants of the loss shaders (C and GLSL): loss_partial.comp (stage 1 of
 * a sum of squares: one partial sum per workgroup), loss_final.comp (stage 2: the partials'
 * sum, scaled, optionally its square root) and mse_backward.comp.
 *
 * MSE: loss = scale * sum_i w[i / PC] * mask[i / C] * (pred_i - target_i)^2, scale = 1 / count.
 * Sum of squares (the gradient norm): sqrt(sum_i g_i^2). */
#ifndef VKTI_PC_LOSS_H
#define VKTI_PC_LOSS_H
#include "pc_common.h"

#define VKTI_LOSS_WG 256            /* invocations per workgroup of every loss shader */
#define VKTI_LOSS_MAX_PARTIALS 1024 /* stage 1 never makes more partial sums than this */

#define VKTI_LOSS_WEIGHTS 1u  /* per-sample weights w [N] (f32) */
#define VKTI_LOSS_MASK 2u     /* per-pixel mask [N, P] (f32) */
#define VKTI_LOSS_SQRT 4u     /* loss_final: write sqrt(scale * sum) */
#define VKTI_LOSS_SCALED 8u   /* mse_backward: multiply by scale_t[scale_index] (the loss scale) */

VKTI_PUSH_BEGIN(vkti_pc_loss)
    VKTI_PC_U32 n;            /* elements */
    VKTI_PC_U32 C;            /* channels: the mask index is i / C */
    VKTI_PC_U32 PC;           /* elements per sample: the weight index is i / PC */
    VKTI_PC_U32 chunk;        /* loss_partial: elements per workgroup */
    VKTI_PC_U32 partials;     /* loss_final: partial sums to add */
    VKTI_PC_U32 flags;
    VKTI_PC_U32 scale_index;  /* mse_backward: the element of the scale tensor to read */
    VKTI_PC_F32 scale;        /* loss_final: multiplies the sum; mse_backward: 2 / count */
VKTI_PUSH_END(vkti_pc_loss)
VKTI_PUSH_CHECK(vkti_pc_loss)

#endif
