// activation_geglu.comp — GEGLU as diffusers: the input row [2F] is (h, g) = its two halves,
//     forward:  out = h * gelu(g)                                        out is [rows, F]
//     backward: dh = dy * gelu(g), dg = dy * h * gelu'(g)    (=|+=)       dx is [rows, 2F]
// One workgroup per row (over a 2-D grid of rows), lanes stepping through the columns.
// Bindings: 0 out or dx, 1 x [rows, 2F], 2 dy [rows, F] (forward: x again).
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

void main()
{
    const uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    if (row >= pc.n)
        return;
    const uint F = pc.f, xin = row * 2u * F, yo = row * F;
    const bool backward = (pc.flags & VKTI_ACTF_BACKWARD) != 0u, accum = (pc.flags & VKTI_ACTF_ACCUM) != 0u;
    for (uint j = t; j < F; j += VKTI_ACT_WG) {
        const float h = float(x[xin + j]), g = float(x[xin + F + j]);
        if (!backward) {
            o[yo + j] = TO_STORE(h * gelu(g));
            continue;
        }
        const float d = float(dy[yo + j]);
        float dh = d * gelu(g), dg = d * h * gelu_grad(g);
        if (accum) {
            dh += float(o[xin + j]);
            dg += float(o[xin + F + j]);
        }
        o[xin + j] = TO_STORE(dh);
        o[xin + F + j] = TO_STORE(dg);
    }
}
