// activation.comp — pointwise activations, forward out = f(x) or backward dx (=|+=) dy * f'(x)
// recomputed from the forward input: SiLU, exact GELU, quick_gelu (activation_common.glsl).
// Bindings: 0 out or dx, 1 x, 2 dy (forward: x again).
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_activation.h"
#include "activation_common.glsl"

layout(local_size_x = VKTI_ACT_WG) in;
layout(set = 0, binding = 0) buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer X { STORE_T x[]; };
layout(set = 0, binding = 2) readonly buffer Dy { STORE_T dy[]; };

float act(float v)
{
    switch (pc.op) {
    case VKTI_ACTOP_GELU: return gelu(v);
    case VKTI_ACTOP_QUICK_GELU: return quick_gelu(v);
    default: return silu(v);
    }
}

float act_grad(float v)
{
    switch (pc.op) {
    case VKTI_ACTOP_GELU: return gelu_grad(v);
    case VKTI_ACTOP_QUICK_GELU: return quick_gelu_grad(v);
    default: return silu_grad(v);
    }
}

void main()
{
    const uint i = linear_id(VKTI_ACT_WG);
    if (i >= pc.n)
        return;
    const float v = float(x[i]);
    float r;
    if ((pc.flags & VKTI_ACTF_BACKWARD) == 0u) {
        r = act(v);
    } else {
        r = float(dy[i]) * act_grad(v);
        if ((pc.flags & VKTI_ACTF_ACCUM) != 0u)
            r += float(o[i]);
    }
    o[i] = TO_STORE(r);
}
