/* pc_conv2d.h — push constants of shaders/conv2d.comp (C and GLSL).
 * Forward:  out [N, Ho, Wo, Cout] = conv(in [N, H, W, Cin], weight [Cout, kh, kw, Cin]) + bias + residual
 * Backward: d_in [N, H, W, Cin] (= or +=) transposed conv of d_out [N, Ho, Wo, Cout] with the same weight.
 * Both are implicit GEMMs; the workgroup grid is a flat list of `groups` tiles, column tile fastest,
 * then row tile, then (backward) the stride phase class. */
#ifndef VKTI_PC_CONV2D_H
#define VKTI_PC_CONV2D_H
#include "pc_common.h"

#define VKTI_CONV_BIAS 1u          /* forward: + bias[Cout] */
#define VKTI_CONV_BIAS_SAMPLE 2u   /* forward: + bias[n, Cout] (one bias row per sample) */
#define VKTI_CONV_RESIDUAL 4u      /* forward: + residual[N, Ho, Wo, Cout] */
#define VKTI_CONV_ACCUM 8u         /* backward: d_in += instead of = */

VKTI_PUSH_BEGIN(vkti_pc_conv2d)
    VKTI_PC_U32 N;
    VKTI_PC_U32 H;
    VKTI_PC_U32 W;
    VKTI_PC_U32 Cin;
    VKTI_PC_U32 Ho;
    VKTI_PC_U32 Wo;
    VKTI_PC_U32 Cout;
    VKTI_PC_U32 kh;
    VKTI_PC_U32 kw;
    VKTI_PC_U32 stride;
    VKTI_PC_U32 pad_top;
    VKTI_PC_U32 pad_left;
    VKTI_PC_U32 flags;
    VKTI_PC_U32 m_tiles;   /* row tiles (of the largest phase class, backward) */
    VKTI_PC_U32 n_tiles;   /* column tiles */
    VKTI_PC_U32 groups;    /* m_tiles * n_tiles * classes: workgroups at or past it return */
VKTI_PUSH_END(vkti_pc_conv2d)
VKTI_PUSH_CHECK(vkti_pc_conv2d)

#endif
