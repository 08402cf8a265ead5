// loss_partial.comp — stage 1 of a two-stage, deterministic sum of squares (pc_loss.h):
// workgroup g adds elements [g * chunk, (g + 1) * chunk) into partial[g], in a fixed order
// (strided per invocation, then a tree in shared memory). Variants: mse_* add
// w[n] * mask[n, p] * (pred - target)^2; sumsq adds g^2 (the gradient norm). The weight and
// mask indices cost a division per element only when those inputs are present.
//! variant mse_f32 -DMSE
//! variant mse_f16 -DMSE -DSTORAGE_F16
//! variant sumsq -DSUMSQ
#version 450
#include "common.glsl"
#include "pc_loss.h"

layout(local_size_x = VKTI_LOSS_WG) in;
layout(set = 0, binding = 0) writeonly buffer Partial { float partial[]; };
#ifdef MSE
layout(set = 0, binding = 1) readonly buffer Pred { STORE_T pred[]; };
layout(set = 0, binding = 2) readonly buffer Target { STORE_T target[]; };
layout(set = 0, binding = 3) readonly buffer Weights { float w[]; };
layout(set = 0, binding = 4) readonly buffer Mask { float mask[]; };
#else
layout(set = 0, binding = 1) readonly buffer G { float g[]; };
#endif

shared float red[VKTI_LOSS_WG];

void main()
{
    const uint lid = gl_LocalInvocationID.x, begin = gl_WorkGroupID.x * pc.chunk;
    const uint end = min(begin + pc.chunk, pc.n);
    float s = 0.0;
    for (uint i = begin + lid; i < end; i += VKTI_LOSS_WG) {
#ifdef MSE
        float d = float(pred[i]) - float(target[i]);
        float e = d * d;
        if ((pc.flags & VKTI_LOSS_WEIGHTS) != 0u)
            e *= w[i / pc.PC];
        if ((pc.flags & VKTI_LOSS_MASK) != 0u)
            e *= mask[i / pc.C];
#else
        float e = g[i] * g[i];
#endif
        s += e;
    }
    red[lid] = s;
    barrier();
    for (uint k = VKTI_LOSS_WG / 2u; k > 0u; k >>= 1) {
        if (lid < k)
            red[lid] += red[lid + k];
        barrier();
    }
    if (lid == 0u)
        partial[gl_WorkGroupID.x] = red[0];
}
