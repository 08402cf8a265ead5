/* optim.h — optimizer steps on the learned embedding rows: AdamW, Adam and SGD with momentum,
 * with gradient clipping by global L2 norm, loss-scale removal, and skipping of steps whose
 * gradient is not finite — all decided on the GPU, so the recorded training step replays
 * without the host reading anything back.
 *
 * Only the learned rows exist as parameters (param [E, D] f32), so every other row of the
 * vocabulary is untouched by construction. Per step, with g the raw gradient [E, D] f32
 * (as produced under loss scaling), in PyTorch's notation (gamma = lr, lambda = weight_decay):
 *
 *   norm = ||g||_2 / loss_scale                    (vkti_grad_norm_forward, recorded before)
 *   if norm is not finite: skipped += 1; nothing else changes (GradScaler skipping a step)
 *   t += 1
 *   g_t = g / loss_scale * min(1, max_norm / (norm + 1e-6))    (clip_grad_norm_; max_norm > 0)
 *   AdamW (torch.optim.AdamW):  theta_t = theta_{t-1} - gamma lambda theta_{t-1}
 *                               m_t = beta1 m_{t-1} + (1 - beta1) g_t
 *                               v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
 *                               m^_t = m_t / (1 - beta1^t),  v^_t = v_t / (1 - beta2^t)
 *                               theta_t = theta_t - gamma m^_t / (sqrt(v^_t) + eps)
 *   Adam (torch.optim.Adam):    g_t = g_t + lambda theta_{t-1}, then the same moments and
 *                               theta_t = theta_{t-1} - gamma m^_t / (sqrt(v^_t) + eps)
 *   SGD (torch.optim.SGD, momentum mu = beta1, dampening 0, no Nesterov):
 *                               g_t = g_t + lambda theta_{t-1};  b_t = mu b_{t-1} + g_t
 *                               (b_1 = g_1: the buffer starts at zero); theta_t = theta_{t-1} - gamma b_t
 *
 * Device tensors (layouts in shaders/pc/pc_optim.h): hyper f32 [VKTI_OPT_HYPER_N], rewritten
 * by the host when a value changes (vkti_optim_hyper; the learning rate each step under a
 * schedule); state u32 [VKTI_OPT_STATE_N], zeros before the first step, then owned by the GPU
 * (step count t, skip counter, bias corrections); save it with a checkpoint. m and v [E, D]
 * f32 start at zero; SGD uses m as its momentum buffer and ignores v (may be NULL). */
#ifndef VKTI_OPS_OPTIM_H
#define VKTI_OPS_OPTIM_H

#include "gpu/gpu.h"
#include "pc_optim.h"

typedef enum vkti_optim_kind {
    VKTI_OPTIM_ADAMW = 0,
    VKTI_OPTIM_ADAM = 1,
    VKTI_OPTIM_SGD = 2
} vkti_optim_kind;

typedef struct vkti_optim_params {
    double lr;
    double beta1;         /* Adam(W) beta1; SGD momentum */
    double beta2;
    double eps;
    double weight_decay;
    double max_norm;      /* <= 0: no clipping */
    double loss_scale;    /* <= 0 is read as 1 */
} vkti_optim_params;

/* PyTorch's defaults for a kind (AdamW: lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay
 * 1e-2; Adam: the same without weight decay; SGD: lr 1e-3, no momentum); no clipping, scale 1. */
vkti_optim_params vkti_optim_defaults(vkti_optim_kind kind);
/* The hyperparameter tensor's contents for p (upload them before the step is replayed). */
void vkti_optim_hyper(float hyper[VKTI_OPT_HYPER_N], const vkti_optim_params *p);

/* Records one step: a one-invocation dispatch that decides skip / step count / bias
 * corrections / gradient factor into state, then the update of param, m, v.
 * param, m, v, grad [E, D] f32 (any shape, same element count); norm f32 [1] from
 * vkti_grad_norm_forward(grad) recorded earlier; hyper f32 [VKTI_OPT_HYPER_N];
 * state u32 [VKTI_OPT_STATE_N]. */
int vkti_optim_step(vkti_cmd *c, vkti_optim_kind kind, const vkti_tensor *param, const vkti_tensor *m,
                    const vkti_tensor *v, const vkti_tensor *state, const vkti_tensor *grad, const vkti_tensor *norm,
                    const vkti_tensor *hyper);

#endif
