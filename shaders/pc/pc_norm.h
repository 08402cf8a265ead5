/* pc_norm.h — push constants and workgroup shapes of the group-norm and layer-norm shaders
 * (shaders/norm_*.comp), read by C (src/ops/norm.c) and GLSL. C sees both structs; a shader
 * sees one `pc` block: the layer-norm one if it defines VKTI_PC_LAYER_NORM before including
 * this header, else the group-norm one. */
#ifndef VKTI_PC_NORM_H
#define VKTI_PC_NORM_H
#include "pc_common.h"

#define VKTI_NORM_SILU 1u   /* group norm: SiLU fused on the output (backward: through it) */
#define VKTI_NORM_ACCUM 2u  /* backward: dx += instead of dx = */

/* Group norm workgroups are VKTI_GN_CH consecutive channels x VKTI_GN_ROWS pixel rows: lanes
 * of one row read consecutive channels of one pixel (coalesced in NHWC). The statistics pass
 * reduces `chunk` pixels per workgroup; the apply passes cover VKTI_GN_APPLY_PIX pixels. */
#define VKTI_GN_CH 64
#define VKTI_GN_ROWS 4
#define VKTI_GN_APPLY_PIX 32
#define VKTI_GN_COMBINE_WG 64  /* threads of the per-group combine pass */
#define VKTI_LN_WG 128         /* layer norm: threads per row */

#if !defined(VULKAN) || !defined(VKTI_PC_LAYER_NORM)
/* x is [N, P, C] with G groups of cg = C/G consecutive channels. */
VKTI_PUSH_BEGIN(vkti_pc_group_norm)
    VKTI_PC_U32 P;        /* pixels per image */
    VKTI_PC_U32 C;
    VKTI_PC_U32 G;
    VKTI_PC_U32 cg;       /* channels per group */
    VKTI_PC_U32 chunk;    /* pixels per statistics workgroup, a multiple of VKTI_GN_ROWS */
    VKTI_PC_U32 nchunks;  /* ceil(P / chunk) */
    VKTI_PC_U32 flags;    /* VKTI_NORM_* */
    VKTI_PC_F32 eps;
VKTI_PUSH_END(vkti_pc_group_norm)
VKTI_PUSH_CHECK(vkti_pc_group_norm)
#endif

#if !defined(VULKAN) || defined(VKTI_PC_LAYER_NORM)
/* x is [rows, cols], normalized over cols. */
VKTI_PUSH_BEGIN(vkti_pc_layer_norm)
    VKTI_PC_U32 rows;
    VKTI_PC_U32 cols;
    VKTI_PC_U32 flags;    /* VKTI_NORM_ACCUM */
    VKTI_PC_F32 eps;
VKTI_PUSH_END(vkti_pc_layer_norm)
VKTI_PUSH_CHECK(vkti_pc_layer_norm)
#endif

#endif
