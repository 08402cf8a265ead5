// optim_prepare.comp — the once-per-step scalars of an optimizer step (pc_optim.h), in one
// invocation: from the raw gradient norm (vkti_grad_norm_forward), the loss scale and max_norm,
// either skip the step (norm not finite: count it, leave everything else) or advance the step
// count t and store 1 - beta1^t, 1 - beta2^t and the gradient factor
//     (1 / loss_scale) * min(1, max_norm / (norm + 1e-6))   (torch.nn.utils.clip_grad_norm_)
// for optim_update.comp. 1 - beta^t = -expm1(t * log1p(-(1 - beta))) keeps full precision where
// beta^t is close to 1 (beta2 = 0.999 at t = 1: a plain 1 - pow() would lose 4 digits).
#version 450
#include "common.glsl"
#include "pc_optim.h"
#include "precise_math.glsl"

layout(local_size_x = 1) in;
layout(set = 0, binding = 0) buffer State { uint state[]; };
layout(set = 0, binding = 1) readonly buffer Hyper { float hyper[]; };
layout(set = 0, binding = 2) readonly buffer Norm { float norm[]; };

void main()
{
    float loss_scale = hyper[VKTI_OPT_LOSS_SCALE];
    float nrm = norm[0] / loss_scale;
    state[VKTI_OPT_NORM] = floatBitsToUint(nrm);
    if (!pm_isfinite(norm[0]) || !pm_isfinite(nrm)) {
        state[VKTI_OPT_SKIPPED] += 1u;
        state[VKTI_OPT_APPLY] = 0u;
        return;
    }
    uint t = state[VKTI_OPT_STEP] + 1u;
    float ft = float(t);
    float bc1 = -pm_expm1(ft * pm_log1p(-hyper[VKTI_OPT_ONE_MINUS_BETA1]));
    float bc2 = -pm_expm1(ft * pm_log1p(-hyper[VKTI_OPT_ONE_MINUS_BETA2]));
    float gscale = 1.0 / loss_scale, max_norm = hyper[VKTI_OPT_MAX_NORM];
    if (max_norm > 0.0) {
        float coef = max_norm / (nrm + 1e-6);
        if (coef < 1.0)
            gscale *= coef;
    }
    state[VKTI_OPT_STEP] = t;
    state[VKTI_OPT_APPLY] = 1u;
    state[VKTI_OPT_BC1] = floatBitsToUint(bc1);
    state[VKTI_OPT_BC2] = floatBitsToUint(bc2);
    state[VKTI_OPT_GSCALE] = floatBitsToUint(gscale);
}
