// chslice.comp — a channel slice, optionally added to what the destination holds:
// dst[r, c] (+)= src[r, first + c] for c < Cd, with src [rows, Cs] (pc_shape.h). The backward
// of a concatenation is two of these.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"
#include "shape_common.glsl"

layout(set = 0, binding = 0) buffer Dst { STORE_T d[]; };
layout(set = 0, binding = 1) readonly buffer Src { STORE_T s[]; };

void main()
{
    uint row = shape_row();
    if (row >= pc.rows)
        return;
    const uint Cd = pc.C, sbase = row * pc.C2 + pc.first;
    const bool acc = (pc.flags & VKTI_SHAPE_ACCUMULATE) != 0u;
    for (uint c = shape_lane(); c < Cd; c += VKTI_SHAPE_LANES) {
        float v = float(s[sbase + c]);
        if (acc)
            v += float(d[row * Cd + c]);
        d[row * Cd + c] = TO_STORE(v);
    }
}
