/* pc_attention.h — push constants of shaders/attention_*.comp (C and GLSL).
 * Tensors are [B, N, H, D] (token-major, heads contiguous inside the channel dimension);
 * lse and delta are f32 [B, H, Nq]. The batch is the grid's z, the head its y (tiled kernels). */
#ifndef VKTI_PC_ATTENTION_H
#define VKTI_PC_ATTENTION_H
#include "pc_common.h"

#define VKTI_ATTN_CAUSAL 1u  /* key j is masked for query i when j > i */
#define VKTI_ATTN_LSE 2u     /* forward: write the row log-sum-exp */

VKTI_PUSH_BEGIN(vkti_pc_attention)
    VKTI_PC_U32 nq;         /* query tokens */
    VKTI_PC_U32 nk;         /* key / value tokens */
    VKTI_PC_U32 heads;
    VKTI_PC_U32 dim;        /* head dimension D */
    VKTI_PC_U32 flags;      /* VKTI_ATTN_* */
    VKTI_PC_U32 rows;       /* delta kernel: B * Nq * H rows of D */
    VKTI_PC_F32 scale;      /* softmax scale applied to Q K^T */
    VKTI_PC_F32 scale_log2; /* scale * log2(e): the kernels exponentiate with exp2 */
    VKTI_PC_U32 splits;     /* dK/dV: query ranges summed separately (1: written directly) */
    VKTI_PC_U32 split_tiles;/* dK/dV: query tiles per range */
    VKTI_PC_U32 count;      /* elements of dk (= of dv): B * Nk * H * D */
VKTI_PUSH_END(vkti_pc_attention)
VKTI_PUSH_CHECK(vkti_pc_attention)

#endif
