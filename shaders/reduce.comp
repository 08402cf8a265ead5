// reduce.comp — per-row sum (scale 1) or mean (scale 1/cols); fp32 result. One workgroup a row.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_reduce.h"

#define WG 256
layout(local_size_x = WG) in;
layout(set = 0, binding = 0) writeonly buffer Out { float o[]; };
layout(set = 0, binding = 1) readonly buffer In { STORE_T x[]; };

shared float partial[WG];

void main()
{
    uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint t = gl_LocalInvocationID.x;
    if (row >= pc.rows)
        return; // whole workgroup leaves together
    uint base = row * pc.cols;
    float s = 0.0;
    for (uint c = t; c < pc.cols; c += WG)
        s += float(x[base + c]);
    partial[t] = s;
    barrier();
    for (uint w = WG / 2; w > 0; w >>= 1) {
        if (t < w)
            partial[t] += partial[t + w];
        barrier();
    }
    if (t == 0)
        o[row] = partial[0] * pc.scale;
}
