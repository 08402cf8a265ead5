// norm_group_combine.comp — group norm forward, pass 2 of 3: merges the per-chunk, per-channel
// statistics of pass 1 into each group's mean and rstd = 1/sqrt(var + eps) (biased variance,
// as PyTorch). One workgroup per (group, image); Chan's formula throughout.
#version 450
#include "pc_norm.h"
#include "norm_common.glsl"

layout(local_size_x = VKTI_GN_COMBINE_WG) in;
layout(set = 0, binding = 0) writeonly buffer Mean { float mean[]; }; // [N, G]
layout(set = 0, binding = 1) writeonly buffer Rstd { float rstd[]; }; // [N, G]
layout(set = 0, binding = 2) readonly buffer Part { vec2 part[]; };   // [N, nchunks, C] (mean, M2)

shared vec3 red[VKTI_GN_COMBINE_WG];

void main()
{
    const uint t = gl_LocalInvocationID.x, g = gl_WorkGroupID.x, n = gl_WorkGroupID.y;
    vec3 acc = vec3(0.0);
    for (uint k = t; k < pc.nchunks; k += VKTI_GN_COMBINE_WG) {
        const float cnt = float(min(pc.chunk, pc.P - k * pc.chunk));
        const uint base = (n * pc.nchunks + k) * pc.C + g * pc.cg;
        for (uint j = 0u; j < pc.cg; j++)
            acc = chan_combine(acc, vec3(cnt, part[base + j]));
    }
    red[t] = acc;
    barrier();
    for (uint w = VKTI_GN_COMBINE_WG / 2; w > 0u; w >>= 1) {
        if (t < w)
            red[t] = chan_combine(red[t], red[t + w]);
        barrier();
    }
    if (t == 0u) {
        const vec3 s = red[0];
        mean[n * pc.G + g] = s.y;
        rstd[n * pc.G + g] = inversesqrt(s.z / s.x + pc.eps);
    }
}
