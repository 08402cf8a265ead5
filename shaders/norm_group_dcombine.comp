// norm_group_dcombine.comp — group norm backward, pass 2 of 3: each group's means of dxh and
// dxh * xh over its P * cg elements, from the partial sums of pass 1. One workgroup per
// (group, image).
#version 450
#include "pc_norm.h"

layout(local_size_x = VKTI_GN_COMBINE_WG) in;
layout(set = 0, binding = 0) writeonly buffer Tot { vec2 tot[]; };  // [N, G]
layout(set = 0, binding = 1) readonly buffer Part { vec2 part[]; }; // [N, nchunks, C]

shared vec2 red[VKTI_GN_COMBINE_WG];

void main()
{
    const uint t = gl_LocalInvocationID.x, g = gl_WorkGroupID.x, n = gl_WorkGroupID.y;
    vec2 acc = vec2(0.0);
    for (uint k = t; k < pc.nchunks; k += VKTI_GN_COMBINE_WG) {
        const uint base = (n * pc.nchunks + k) * pc.C + g * pc.cg;
        for (uint j = 0u; j < pc.cg; j++)
            acc += part[base + j];
    }
    red[t] = acc;
    barrier();
    for (uint w = VKTI_GN_COMBINE_WG / 2; w > 0u; w >>= 1) {
        if (t < w)
            red[t] += red[t + w];
        barrier();
    }
    if (t == 0u)
        tot[n * pc.G + g] = red[0] / (float(pc.P) * float(pc.cg));
}
