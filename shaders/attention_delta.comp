// attention_delta.comp — the attention backward's row term delta[b, h, i] = sum_d dO[b, i, h, d] *
// O[b, i, h, d] (= rowsum(P * dP), the softmax Jacobian's correction). Rows of D channels are
// contiguous in memory in (b, i, h) order; TPR consecutive invocations share a row, so a
// subgroup reads consecutive addresses, and their partial sums meet in shared memory.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_attention.h"
#include "attention_common.glsl"

#define WG 256u
#define TPR 8u // invocations per row
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Delta { float delta[]; };
layout(set = 0, binding = 1) readonly buffer DOut { STORE_T dout[]; };
layout(set = 0, binding = 2) readonly buffer Out { STORE_T o[]; };

shared float part[WG];

void main()
{
    const uint lid = gl_LocalInvocationID.x, id = linear_id(WG);
    const uint row = id / TPR, lane = id % TPR;
    float s = 0.0;
    if (row < pc.rows) {
        uint base = row * pc.dim;
        for (uint d = lane; d < pc.dim; d += TPR)
            s += float(dout[base + d]) * float(o[base + d]);
    }
    part[lid] = s;
    barrier();
    if (lane == 0u && row < pc.rows) {
        float t = 0.0;
        for (uint u = 0; u < TPR; u++)
            t += part[lid + u];
        uint h = row % pc.heads, bi = row / pc.heads;
        delta[attn_row(bi / pc.nq, h, bi % pc.nq)] = t;
    }
}
