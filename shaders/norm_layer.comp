// norm_layer.comp — layer norm forward over the last dimension:
//     out = (x - mean) * rstd * gamma + beta,  rstd = 1/sqrt(var + eps)  (biased variance)
// One workgroup per row. Two passes over the row (mean, then the mean squared deviation), so a
// large mean costs no accuracy; the re-reads hit the cache.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#define VKTI_PC_LAYER_NORM
#include "pc_norm.h"

layout(local_size_x = VKTI_LN_WG) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };  // [rows, cols]
layout(set = 0, binding = 1) writeonly buffer Mean { float mean[]; }; // [rows]
layout(set = 0, binding = 2) writeonly buffer Rstd { float rstd[]; }; // [rows]
layout(set = 0, binding = 3) readonly buffer X { STORE_T x[]; };      // [rows, cols]
layout(set = 0, binding = 4) readonly buffer Gamma { STORE_T gamma[]; };
layout(set = 0, binding = 5) readonly buffer Beta { STORE_T beta[]; };

shared float red[VKTI_LN_WG];

float block_sum(float v)
{
    const uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint w = VKTI_LN_WG / 2; w > 0u; w >>= 1) {
        if (t < w)
            red[t] += red[t + w];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main()
{
    const uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    if (row >= pc.rows)
        return; // the whole workgroup leaves together
    const uint base = row * pc.cols;
    const float inv_n = 1.0 / float(pc.cols);
    float s = 0.0;
    for (uint c = t; c < pc.cols; c += VKTI_LN_WG)
        s += float(x[base + c]);
    const float mu = block_sum(s) * inv_n;
    float q = 0.0;
    for (uint c = t; c < pc.cols; c += VKTI_LN_WG) {
        float d = float(x[base + c]) - mu;
        q = fma(d, d, q);
    }
    const float r = inversesqrt(block_sum(q) * inv_n + pc.eps);
    if (t == 0u) {
        mean[row] = mu;
        rstd[row] = r;
    }
    for (uint c = t; c < pc.cols; c += VKTI_LN_WG)
        o[base + c] = TO_STORE(fma((float(x[base + c]) - mu) * r, float(gamma[c]), float(beta[c])));
}
