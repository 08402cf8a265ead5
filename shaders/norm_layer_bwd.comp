// norm_layer_bwd.comp — layer norm backward (input gradient only; gamma and beta are frozen):
//     xh = (x - mean) * rstd,  dxh = dy * gamma,
//     dx = rstd * (dxh - mean(dxh) - xh * mean(dxh * xh))     (dx += with VKTI_NORM_ACCUM)
// One workgroup per row; both row means come from one reduction.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#define VKTI_PC_LAYER_NORM
#include "pc_norm.h"

layout(local_size_x = VKTI_LN_WG) in;
layout(set = 0, binding = 0) buffer Dx { STORE_T dx[]; };            // [rows, cols]
layout(set = 0, binding = 1) readonly buffer Dy { STORE_T dy[]; };   // [rows, cols]
layout(set = 0, binding = 2) readonly buffer X { STORE_T x[]; };     // [rows, cols]
layout(set = 0, binding = 3) readonly buffer Gamma { STORE_T gamma[]; };
layout(set = 0, binding = 4) readonly buffer Mean { float mean[]; }; // [rows]
layout(set = 0, binding = 5) readonly buffer Rstd { float rstd[]; }; // [rows]

shared vec2 red[VKTI_LN_WG];

void main()
{
    const uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    if (row >= pc.rows)
        return; // the whole workgroup leaves together
    const uint base = row * pc.cols;
    const float mu = mean[row], r = rstd[row];
    vec2 s = vec2(0.0);
    for (uint c = t; c < pc.cols; c += VKTI_LN_WG) {
        float xh = (float(x[base + c]) - mu) * r, dxh = float(dy[base + c]) * float(gamma[c]);
        s += vec2(dxh, dxh * xh);
    }
    red[t] = s;
    barrier();
    for (uint w = VKTI_LN_WG / 2; w > 0u; w >>= 1) {
        if (t < w)
            red[t] += red[t + w];
        barrier();
    }
    const vec2 m = red[0] / float(pc.cols);
    const bool accum = (pc.flags & VKTI_NORM_ACCUM) != 0u;
    for (uint c = t; c < pc.cols; c += VKTI_LN_WG) {
        float xh = (float(x[base + c]) - mu) * r, dxh = float(dy[base + c]) * float(gamma[c]);
        float v = r * (dxh - m.x - xh * m.y);
        if (accum)
            v += float(dx[base + c]);
        dx[base + c] = TO_STORE(v);
    }
}
