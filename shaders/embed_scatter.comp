// embed_scatter.comp — the backward of embed_gather for the learned rows (pc_shape.h):
// d_extra[e, d] (+)= sum over rows r with ids[r] == V + e of d_out[r, d], in f32. Each
// invocation owns one (e, d) and walks the rows in order: no atomics, the same bits every run.
// Nothing is written for the frozen vocabulary.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"

layout(local_size_x = 64) in;
layout(set = 0, binding = 0) buffer Dextra { float dextra[]; };
layout(set = 0, binding = 1) readonly buffer Ids { int ids[]; };
layout(set = 0, binding = 2) readonly buffer Dout { STORE_T dout[]; };

void main()
{
    uint d = gl_WorkGroupID.x * 64u + gl_LocalInvocationID.x, e = gl_WorkGroupID.y;
    if (d >= pc.C || e >= pc.E)
        return;
    const uint D = pc.C, rows = pc.rows;
    const int want = int(pc.V + e);
    float s = 0.0;
    for (uint r = 0u; r < rows; r++)
        if (ids[r] == want) // the same branch for the whole workgroup
            s += float(dout[r * D + d]);
    if ((pc.flags & VKTI_SHAPE_ACCUMULATE) != 0u)
        s += dextra[e * D + d];
    dextra[e * D + d] = s;
}
