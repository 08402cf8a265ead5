// optim_update.comp — one optimizer step on the learned values (pc_optim.h; the formulas, in
// PyTorch's notation, are in src/ops/optim.h), reading the scalars optim_prepare.comp wrote.
// A skipped step returns at once: parameters and moments keep their bits.
#version 450
#include "common.glsl"
#include "pc_optim.h"

layout(local_size_x = 256) in;
layout(set = 0, binding = 0) buffer Param { float param[]; };
layout(set = 0, binding = 1) buffer M { float m[]; };    // Adam: first moment; SGD: momentum buffer
layout(set = 0, binding = 2) buffer Vb { float v[]; };   // Adam: second moment; SGD: unused
layout(set = 0, binding = 3) readonly buffer Grad { float grad[]; };
layout(set = 0, binding = 4) readonly buffer State { uint state[]; };
layout(set = 0, binding = 5) readonly buffer Hyper { float hyper[]; };

void main()
{
    uint i = linear_id(256);
    if (i >= pc.n || state[VKTI_OPT_APPLY] == 0u)
        return;
    float g = grad[i] * uintBitsToFloat(state[VKTI_OPT_GSCALE]);
    float p = param[i];
    float lr = hyper[VKTI_OPT_LR], wd = hyper[VKTI_OPT_WEIGHT_DECAY], beta1 = hyper[VKTI_OPT_BETA1];
    if (pc.kind == VKTI_OPT_KIND_ADAMW)
        p -= (lr * wd) * p; // decoupled weight decay, before the Adam update
    else
        g += wd * p;        // Adam, SGD: L2 penalty added to the gradient
    if (pc.kind == VKTI_OPT_KIND_SGD) {
        float b = beta1 * m[i] + g; // dampening 0; a zero buffer makes the first step b = g
        m[i] = b;
        p -= lr * b;
    } else {
        float mi = beta1 * m[i] + hyper[VKTI_OPT_ONE_MINUS_BETA1] * g;
        float vi = hyper[VKTI_OPT_BETA2] * v[i] + hyper[VKTI_OPT_ONE_MINUS_BETA2] * (g * g);
        m[i] = mi;
        v[i] = vi;
        float bc1 = uintBitsToFloat(state[VKTI_OPT_BC1]), bc2 = uintBitsToFloat(state[VKTI_OPT_BC2]);
        float denom = sqrt(vi) / sqrt(bc2) + hyper[VKTI_OPT_EPS];
        p -= (lr / bc1) * (mi / denom);
    }
    param[i] = p;
}
