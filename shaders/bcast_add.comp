// bcast_add.comp — per-sample channel broadcast add (the UNet's time embedding):
// out[n, p, c] = x[n, p, c] + b[n, c] (pc_shape.h). One row is one pixel; n is found once a row.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"
#include "shape_common.glsl"

layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer X { STORE_T x[]; };
layout(set = 0, binding = 2) readonly buffer Bv { STORE_T b[]; };

void main()
{
    uint row = shape_row();
    if (row >= pc.N * pc.P)
        return;
    const uint C = pc.C, bbase = (row / pc.P) * C;
    for (uint c = shape_lane(); c < C; c += VKTI_SHAPE_LANES)
        o[row * C + c] = TO_STORE(float(x[row * C + c]) + float(b[bbase + c]));
}
