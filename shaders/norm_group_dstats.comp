// norm_group_dstats.comp — group norm backward, pass 1 of 3: per-channel partial sums of one
// chunk of pixels, part[n, k, c] = (sum dxh, sum dxh * xh), where xh = (x - mean) * rstd is
// the normalized input and dxh = dL/dxh = dz * gamma; with the fused SiLU the pre-activation
// z = xh * gamma + beta is recomputed and dz = dy * silu'(z), else dz = dy.
// Same workgroup layout as norm_group_stats.comp.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_norm.h"
#include "norm_common.glsl"

layout(local_size_x = VKTI_GN_CH, local_size_y = VKTI_GN_ROWS) in;
layout(set = 0, binding = 0) writeonly buffer Part { vec2 part[]; }; // [N, nchunks, C]
layout(set = 0, binding = 1) readonly buffer Dy { STORE_T dy[]; };   // [N, P, C]
layout(set = 0, binding = 2) readonly buffer X { STORE_T x[]; };     // [N, P, C]
layout(set = 0, binding = 3) readonly buffer Gamma { STORE_T gamma[]; };
layout(set = 0, binding = 4) readonly buffer Beta { STORE_T beta[]; };
layout(set = 0, binding = 5) readonly buffer Mean { float mean[]; }; // [N, G]
layout(set = 0, binding = 6) readonly buffer Rstd { float rstd[]; }; // [N, G]

shared vec2 red[VKTI_GN_ROWS][VKTI_GN_CH];

void main()
{
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint k = gl_WorkGroupID.x, c = gl_WorkGroupID.y * VKTI_GN_CH + tx, n = gl_WorkGroupID.z;
    const uint p0 = k * pc.chunk, p1 = min(p0 + pc.chunk, pc.P);
    vec2 s = vec2(0.0);
    if (c < pc.C) {
        const uint ng = n * pc.G + c / pc.cg;
        const float mu = mean[ng], r = rstd[ng], gam = float(gamma[c]), bet = float(beta[c]);
        const bool act = (pc.flags & VKTI_NORM_SILU) != 0u;
        uint i = (n * pc.P + p0 + ty) * pc.C + c;
        for (uint p = p0 + ty; p < p1; p += VKTI_GN_ROWS, i += VKTI_GN_ROWS * pc.C) {
            float xh = (float(x[i]) - mu) * r, dz = float(dy[i]);
            if (act)
                dz *= silu_grad(fma(xh, gam, bet));
            float dxh = dz * gam;
            s += vec2(dxh, dxh * xh);
        }
    }
    red[ty][tx] = s;
    barrier();
    if (ty == 0u && c < pc.C) {
        for (uint r = 1u; r < VKTI_GN_ROWS; r++)
            s += red[r][tx];
        part[(n * pc.nchunks + k) * pc.C + c] = s;
    }
}
