// bcast_add_grad.comp — the gradient of the broadcast operand of bcast_add:
// db[n, c] = sum over p of dy[n, p, c], in f32 (pc_shape.h). A workgroup owns 32 channels of one
// sample; its 8 rows of lanes walk p in steps of 8 (coalesced over c) and meet in shared memory.
// The summation order is fixed, so the result is deterministic.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"

#define LX 32
#define LY 8
layout(local_size_x = LX, local_size_y = LY) in;
layout(set = 0, binding = 0) writeonly buffer Db { float db[]; };
layout(set = 0, binding = 1) readonly buffer Dy { STORE_T dy[]; };

shared float part[LY][LX];

void main()
{
    const uint C = pc.C, P = pc.P;
    uint c = gl_WorkGroupID.x * LX + gl_LocalInvocationID.x, n = gl_WorkGroupID.y;
    uint ly = gl_LocalInvocationID.y, lx = gl_LocalInvocationID.x;
    float s = 0.0;
    if (c < C)
        for (uint p = ly; p < P; p += LY)
            s += float(dy[(n * P + p) * C + c]);
    part[ly][lx] = s;
    barrier();
    if (ly == 0u && c < C) {
        float t = 0.0;
        for (uint k = 0u; k < LY; k++)
            t += part[k][lx];
        db[n * C + c] = t;
    }
}
