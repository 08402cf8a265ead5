/* pc_elementwise.h — push constants of shaders/elementwise.comp (C and GLSL). */
#ifndef VKTI_PC_ELEMENTWISE_H
#define VKTI_PC_ELEMENTWISE_H
#include "pc_common.h"

#define VKTI_ELT_ADD 0u   /* out = a + b[i % nb] */
#define VKTI_ELT_MUL 1u   /* out = a * b[i % nb] */
#define VKTI_ELT_SCALE 2u /* out = alpha * a + beta */
#define VKTI_ELT_SILU 3u  /* out = a * sigmoid(a) */
#define VKTI_ELT_CLAMP 4u /* out = min(max(a, alpha), beta) */

/* C sees both structs; a shader sees one block: mix.comp defines VKTI_PC_MIX first. */
#if !defined(VULKAN) || !defined(VKTI_PC_MIX)
VKTI_PUSH_BEGIN(vkti_pc_elementwise)
    VKTI_PC_U32 n;      /* elements of out and a */
    VKTI_PC_U32 nb;     /* elements of b (broadcast by repetition), or 1 */
    VKTI_PC_U32 op;
    VKTI_PC_F32 alpha;
    VKTI_PC_F32 beta;
VKTI_PUSH_END(vkti_pc_elementwise)
VKTI_PUSH_CHECK(vkti_pc_elementwise)
#endif

#if !defined(VULKAN) || defined(VKTI_PC_MIX)
/* shaders/mix.comp: out[n, i] = coef[n, 0] * x[n, i] + coef[n, 1] * y[n, i] */
VKTI_PUSH_BEGIN(vkti_pc_mix)
    VKTI_PC_U32 n;          /* elements of out */
    VKTI_PC_U32 per_sample; /* elements of one sample */
    VKTI_PC_U32 has_y;
VKTI_PUSH_END(vkti_pc_mix)
VKTI_PUSH_CHECK(vkti_pc_mix)
#endif

#endif
