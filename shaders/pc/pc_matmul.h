/* pc_matmul.h — push constants of shaders/matmul.comp (C and GLSL).
 * C[b] (M x N) = alpha * op(A[b]) (M x K) * op(B[b]) (K x N) + bias[N] + beta * C[b] */
#ifndef VKTI_PC_MATMUL_H
#define VKTI_PC_MATMUL_H
#include "pc_common.h"

#define VKTI_MM_TRANS_A 1u  /* A stored K x M */
#define VKTI_MM_TRANS_B 2u  /* B stored N x K (a Linear weight [out, in]) */
#define VKTI_MM_BIAS 4u
#define VKTI_MM_ACCUM 8u    /* add beta * C */
#define VKTI_MM_VEC_A 16u   /* matmul_cm: A's contiguous dimension and batch stride are multiples of 8 */
#define VKTI_MM_VEC_B 32u   /* matmul_cm: likewise for B */

VKTI_PUSH_BEGIN(vkti_pc_matmul)
    VKTI_PC_U32 M;
    VKTI_PC_U32 N;
    VKTI_PC_U32 K;
    VKTI_PC_U32 flags;
    VKTI_PC_U32 stride_a;  /* elements between batches; 0 broadcasts */
    VKTI_PC_U32 stride_b;
    VKTI_PC_U32 stride_c;
    VKTI_PC_F32 alpha;
    VKTI_PC_F32 beta;
VKTI_PUSH_END(vkti_pc_matmul)
VKTI_PUSH_CHECK(vkti_pc_matmul)

#endif
