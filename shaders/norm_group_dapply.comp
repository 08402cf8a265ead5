// norm_group_dapply.comp — group norm backward, pass 3 of 3: the input gradient
//     dx = rstd * (dxh - mean(dxh) - xh * mean(dxh * xh))     (dx += with VKTI_NORM_ACCUM)
// with the group means from pass 2 and dxh recomputed as in pass 1. Workgroup layout as in
// norm_group_apply.comp.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_norm.h"
#include "norm_common.glsl"

layout(local_size_x = VKTI_GN_CH, local_size_y = VKTI_GN_ROWS) in;
layout(set = 0, binding = 0) buffer Dx { STORE_T dx[]; };            // [N, P, C]
layout(set = 0, binding = 1) readonly buffer Dy { STORE_T dy[]; };   // [N, P, C]
layout(set = 0, binding = 2) readonly buffer X { STORE_T x[]; };     // [N, P, C]
layout(set = 0, binding = 3) readonly buffer Gamma { STORE_T gamma[]; };
layout(set = 0, binding = 4) readonly buffer Beta { STORE_T beta[]; };
layout(set = 0, binding = 5) readonly buffer Mean { float mean[]; }; // [N, G]
layout(set = 0, binding = 6) readonly buffer Rstd { float rstd[]; }; // [N, G]
layout(set = 0, binding = 7) readonly buffer Tot { vec2 tot[]; };    // [N, G]

void main()
{
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint c = gl_WorkGroupID.y * VKTI_GN_CH + tx, n = gl_WorkGroupID.z;
    if (c >= pc.C)
        return;
    const uint ng = n * pc.G + c / pc.cg;
    const float mu = mean[ng], r = rstd[ng], gam = float(gamma[c]), bet = float(beta[c]);
    const vec2 m = tot[ng];
    const bool act = (pc.flags & VKTI_NORM_SILU) != 0u, accum = (pc.flags & VKTI_NORM_ACCUM) != 0u;
    const uint p0 = gl_WorkGroupID.x * VKTI_GN_APPLY_PIX, p1 = min(p0 + VKTI_GN_APPLY_PIX, pc.P);
    uint i = (n * pc.P + p0 + ty) * pc.C + c;
    for (uint p = p0 + ty; p < p1; p += VKTI_GN_ROWS, i += VKTI_GN_ROWS * pc.C) {
        float xh = (float(x[i]) - mu) * r, dz = float(dy[i]);
        if (act)
            dz *= silu_grad(fma(xh, gam, bet));
        float v = r * (dz * gam - m.x - xh * m.y);
        if (accum)
            v += float(dx[i]);
        dx[i] = TO_STORE(v);
    }
}
