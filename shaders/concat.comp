// concat.comp — channel concatenation (UNet skip connections): out[r, :] = [a[r, :] | b[r, :]]
// with a [rows, Ca], b [rows, Cb], out [rows, Ca + Cb] (pc_shape.h).
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"
#include "shape_common.glsl"

layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer A { STORE_T a[]; };
layout(set = 0, binding = 2) readonly buffer B { STORE_T b[]; };

void main()
{
    uint row = shape_row();
    if (row >= pc.rows)
        return;
    const uint Ca = pc.C, Cb = pc.C2, base = row * (Ca + Cb);
    for (uint c = shape_lane(); c < Ca; c += VKTI_SHAPE_LANES)
        o[base + c] = a[row * Ca + c];
    for (uint c = shape_lane(); c < Cb; c += VKTI_SHAPE_LANES)
        o[base + Ca + c] = b[row * Cb + c];
}
