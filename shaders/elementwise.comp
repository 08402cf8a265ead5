// elementwise.comp — add, mul (with b broadcast by repetition), scale, SiLU, clamp.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_elementwise.h"

layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer A { STORE_T a[]; };
layout(set = 0, binding = 2) readonly buffer B { STORE_T b[]; };

void main()
{
    uint i = linear_id(256);
    if (i >= pc.n)
        return;
    float x = float(a[i]);
    float r;
    switch (pc.op) {
    case VKTI_ELT_ADD: r = x + float(b[i % pc.nb]); break;
    case VKTI_ELT_MUL: r = x * float(b[i % pc.nb]); break;
    case VKTI_ELT_SCALE: r = pc.alpha * x + pc.beta; break;
    case VKTI_ELT_CLAMP: r = min(max(x, pc.alpha), pc.beta); break;
    default: r = x / (1.0 + exp(-x)); break;
    }
    o[i] = TO_STORE(r);
}
