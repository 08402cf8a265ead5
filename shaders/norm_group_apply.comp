// norm_group_apply.comp — group norm forward, pass 3 of 3:
//     out = (x - mean[g]) * rstd[g] * gamma[c] + beta[c], then SiLU if VKTI_NORM_SILU.
// Workgroup (block of VKTI_GN_APPLY_PIX pixels, 64-channel block, image n); each lane keeps its
// channel's coefficients and walks the block's pixels.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_norm.h"
#include "norm_common.glsl"

layout(local_size_x = VKTI_GN_CH, local_size_y = VKTI_GN_ROWS) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };  // [N, P, C]
layout(set = 0, binding = 1) readonly buffer X { STORE_T x[]; };      // [N, P, C]
layout(set = 0, binding = 2) readonly buffer Gamma { STORE_T gamma[]; };
layout(set = 0, binding = 3) readonly buffer Beta { STORE_T beta[]; };
layout(set = 0, binding = 4) readonly buffer Mean { float mean[]; };  // [N, G]
layout(set = 0, binding = 5) readonly buffer Rstd { float rstd[]; };  // [N, G]

void main()
{
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint c = gl_WorkGroupID.y * VKTI_GN_CH + tx, n = gl_WorkGroupID.z;
    if (c >= pc.C)
        return;
    const uint ng = n * pc.G + c / pc.cg;
    const float mu = mean[ng], a = rstd[ng] * float(gamma[c]), b = float(beta[c]);
    const bool act = (pc.flags & VKTI_NORM_SILU) != 0u;
    const uint p0 = gl_WorkGroupID.x * VKTI_GN_APPLY_PIX, p1 = min(p0 + VKTI_GN_APPLY_PIX, pc.P);
    uint i = (n * pc.P + p0 + ty) * pc.C + c;
    for (uint p = p0 + ty; p < p1; p += VKTI_GN_ROWS, i += VKTI_GN_ROWS * pc.C) {
        float v = fma(float(x[i]) - mu, a, b);
        o[i] = TO_STORE(act ? silu(v) : v);
    }
}
