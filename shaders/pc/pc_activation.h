/* pc_activation.h — push constants of shaders/activation.comp (pointwise activations) and
 * shaders/activation_geglu.comp (C and GLSL). */
#ifndef VKTI_PC_ACTIVATION_H
#define VKTI_PC_ACTIVATION_H
#include "pc_common.h"

#define VKTI_ACTOP_SILU 0u        /* x * sigmoid(x) */
#define VKTI_ACTOP_GELU 1u        /* x * Phi(x), exact (erf) */
#define VKTI_ACTOP_QUICK_GELU 2u  /* x * sigmoid(1.702 x) */

#define VKTI_ACTF_BACKWARD 1u  /* dx = dy * f'(x) instead of out = f(x) */
#define VKTI_ACTF_ACCUM 2u     /* backward: dx += */

#define VKTI_ACT_WG 256

VKTI_PUSH_BEGIN(vkti_pc_activation)
    VKTI_PC_U32 n;      /* pointwise: elements; GEGLU: rows */
    VKTI_PC_U32 f;      /* GEGLU: output width F (the input row is 2F); pointwise: unused */
    VKTI_PC_U32 op;     /* VKTI_ACTOP_* (pointwise) */
    VKTI_PC_U32 flags;  /* VKTI_ACTF_* */
VKTI_PUSH_END(vkti_pc_activation)
VKTI_PUSH_CHECK(vkti_pc_activation)

#endif
