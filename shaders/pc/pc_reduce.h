/* pc_reduce.h — push constants of shaders/reduce.comp and shaders/softmax.comp (C and GLSL). */
#ifndef VKTI_PC_REDUCE_H
#define VKTI_PC_REDUCE_H
#include "pc_common.h"

VKTI_PUSH_BEGIN(vkti_pc_rows)
    VKTI_PC_U32 rows;
    VKTI_PC_U32 cols;
    VKTI_PC_F32 scale;  /* reduce: 1 or 1/cols (mean); softmax: logits scale */
VKTI_PUSH_END(vkti_pc_rows)
VKTI_PUSH_CHECK(vkti_pc_rows)

#endif
