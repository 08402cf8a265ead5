// embed_gather.comp — token-embedding lookup with learned rows (pc_shape.h): row r of out is
// table[id] for id < V (the frozen vocabulary, f32 or f16 like out), extra[id - V] for
// V <= id < V + E (the learned rows, always f32), zeros for any other id. The table comes in
// two bindings, rows [0, split) and [split, V), so that it may be up to twice the device's
// maxStorageBufferRange (the f32 CLIP table is 152 MB; lavapipe binds 128 MiB); split == V
// when it fits one (the second binding is then unused).
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"

#define WG 256
layout(local_size_x = WG) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer Ids { int ids[]; };
layout(set = 0, binding = 2) readonly buffer Table0 { STORE_T table0[]; };
layout(set = 0, binding = 3) readonly buffer Table1 { STORE_T table1[]; };
layout(set = 0, binding = 4) readonly buffer Extra { float extra[]; };

void main()
{
    uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= pc.rows)
        return; // the whole workgroup leaves together
    const uint D = pc.C, V = pc.V, E = pc.E, obase = row * D;
    int id = ids[row];
    if (id >= 0 && uint(id) < pc.first) {
        uint base = uint(id) * D;
        for (uint d = gl_LocalInvocationID.x; d < D; d += WG)
            o[obase + d] = table0[base + d];
    } else if (id >= 0 && uint(id) < V) {
        uint base = (uint(id) - pc.first) * D;
        for (uint d = gl_LocalInvocationID.x; d < D; d += WG)
            o[obase + d] = table1[base + d];
    } else if (id >= 0 && uint(id) - V < E) {
        uint base = (uint(id) - V) * D;
        for (uint d = gl_LocalInvocationID.x; d < D; d += WG)
            o[obase + d] = TO_STORE(extra[base + d]);
    } else {
        for (uint d = gl_LocalInvocationID.x; d < D; d += WG)
            o[obase + d] = TO_STORE(0.0);
    }
}
