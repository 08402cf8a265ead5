// mix.comp — out[n, i] = coef[n, 0] * x[n, i] + coef[n, 1] * y[n, i] with per-sample coefficients
// read from a device tensor (values that change every replayed step: sqrt(alpha_bar_t), ...).
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#define VKTI_PC_MIX
#include "pc_elementwise.h"

layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer X { STORE_T x[]; };
layout(set = 0, binding = 2) readonly buffer Y { STORE_T y[]; };
layout(set = 0, binding = 3) readonly buffer Coef { float coef[]; };

void main()
{
    uint i = linear_id(256);
    if (i >= pc.n)
        return;
    uint s = i / pc.per_sample;
    float r = coef[2u * s] * float(x[i]);
    if (pc.has_y != 0u)
        r += coef[2u * s + 1u] * float(y[i]);
    o[i] = TO_STORE(r);
}
