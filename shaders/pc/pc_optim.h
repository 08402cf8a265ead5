/* pc_optim.h — the optimizers' device tensors and push constants (C and GLSL):
 * optim_prepare.comp (one invocation: step count, bias corrections, clip factor, or skip) and
 * optim_update.comp (one invocation per learned value).
 *
 * The step is recorded once and replayed, so nothing that changes between steps is a push
 * constant: the host rewrites the hyperparameter tensor (f32 [VKTI_OPT_HYPER_N], filled by
 * vkti_optim_hyper) whenever it changes (the learning-rate schedule: every step), and the GPU
 * keeps the step count and the skip counter in the state tensor (u32 [VKTI_OPT_STATE_N], zero
 * before the first step, saved and restored with a checkpoint). Keeping the count on the GPU
 * is what lets a skipped step not advance Adam's bias corrections without the host reading
 * anything back (as PyTorch's GradScaler + capturable Adam do). */
#ifndef VKTI_PC_OPTIM_H
#define VKTI_PC_OPTIM_H
#include "pc_common.h"

/* hyperparameter tensor, f32 */
#define VKTI_OPT_LR 0
#define VKTI_OPT_BETA1 1            /* Adam(W): beta1; SGD: momentum */
#define VKTI_OPT_BETA2 2
#define VKTI_OPT_ONE_MINUS_BETA1 3  /* 1 - beta1, 1 - beta2 computed in double on the host: the */
#define VKTI_OPT_ONE_MINUS_BETA2 4  /* bias corrections 1 - beta^t need them to full precision */
#define VKTI_OPT_EPS 5
#define VKTI_OPT_WEIGHT_DECAY 6
#define VKTI_OPT_MAX_NORM 7         /* clip the global L2 norm of the gradient to this; <= 0: off */
#define VKTI_OPT_LOSS_SCALE 8       /* the gradient arrives multiplied by this (loss scaling) */
#define VKTI_OPT_HYPER_N 16

/* state tensor, u32 (f32 fields as their bits) */
#define VKTI_OPT_STEP 0             /* steps applied (PyTorch's state["step"]) */
#define VKTI_OPT_SKIPPED 1          /* steps skipped because the gradient norm was not finite */
#define VKTI_OPT_APPLY 2            /* 1: the latest step was applied, 0: it was skipped */
#define VKTI_OPT_BC1 3              /* f32: 1 - beta1^step of the latest applied step */
#define VKTI_OPT_BC2 4              /* f32: 1 - beta2^step */
#define VKTI_OPT_GSCALE 5           /* f32: factor on the raw gradient: clip coefficient / loss scale */
#define VKTI_OPT_NORM 6             /* f32: the latest step's gradient norm after unscaling */
#define VKTI_OPT_STATE_N 8

#define VKTI_OPT_KIND_ADAMW 0u
#define VKTI_OPT_KIND_ADAM 1u
#define VKTI_OPT_KIND_SGD 2u

VKTI_PUSH_BEGIN(vkti_pc_optim)
    VKTI_PC_U32 n;      /* learned values (E * D) */
    VKTI_PC_U32 kind;
VKTI_PUSH_END(vkti_pc_optim)
VKTI_PUSH_CHECK(vkti_pc_optim)

#endif
