// loss_final.comp — stage 2 of the sum of squares (pc_loss.h): one workgroup adds the partial
// sums in a fixed order and writes out[0] = scale * sum (the mean loss) or sqrt(scale * sum)
// (the gradient norm).
#version 450
#include "common.glsl"
#include "pc_loss.h"

layout(local_size_x = VKTI_LOSS_WG) in;
layout(set = 0, binding = 0) writeonly buffer Out { float o[]; };
layout(set = 0, binding = 1) readonly buffer Partial { float partial[]; };

shared float red[VKTI_LOSS_WG];

void main()
{
    const uint lid = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint k = lid; k < pc.partials; k += VKTI_LOSS_WG)
        s += partial[k];
    red[lid] = s;
    barrier();
    for (uint k = VKTI_LOSS_WG / 2u; k > 0u; k >>= 1) {
        if (lid < k)
            red[lid] += red[lid + k];
        barrier();
    }
    if (lid == 0u) {
        float v = pc.scale * red[0];
        o[0] = (pc.flags & VKTI_LOSS_SQRT) != 0u ? sqrt(v) : v;
    }
}
