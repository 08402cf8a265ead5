// softmax.comp — row softmax of scale * x, statistics in fp32. One workgroup a row.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_reduce.h"

#define WG 256
layout(local_size_x = WG) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer In { STORE_T x[]; };

shared float red[WG];

float reduce_max(float v)
{
    uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint w = WG / 2; w > 0; w >>= 1) {
        if (t < w)
            red[t] = max(red[t], red[t + w]);
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

float reduce_sum(float v)
{
    uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint w = WG / 2; w > 0; w >>= 1) {
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
    uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint t = gl_LocalInvocationID.x;
    if (row >= pc.rows)
        return;
    uint base = row * pc.cols;
    float m = -3.402823e38;
    for (uint c = t; c < pc.cols; c += WG)
        m = max(m, pc.scale * float(x[base + c]));
    m = reduce_max(m);
    float s = 0.0;
    for (uint c = t; c < pc.cols; c += WG)
        s += exp(pc.scale * float(x[base + c]) - m);
    s = reduce_sum(s);
    float inv = 1.0 / s;
    for (uint c = t; c < pc.cols; c += WG)
        o[base + c] = TO_STORE(exp(pc.scale * float(x[base + c]) - m) * inv);
}
