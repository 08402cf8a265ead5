// attention_bwd_sum.comp — the last step of a split attention backward: dK and dV are the sums
// of the f32 partials that attention_bwd_kv.comp wrote for each query range,
//   part = [splits][2][count] (dK then dV of each range, dK already scaled),
// converted to the storage type. One invocation per element.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_attention.h"

#define WG 256u
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer DK { STORE_T dk[]; };
layout(set = 0, binding = 1) writeonly buffer DV { STORE_T dv[]; };
layout(set = 0, binding = 2) readonly buffer Part { float part[]; };

void main()
{
    const uint i = linear_id(WG), n = pc.count;
    if (i >= n)
        return;
    float a = 0.0, b = 0.0;
    for (uint s = 0; s < pc.splits; s++) {
        a += part[(2u * s) * n + i];
        b += part[(2u * s + 1u) * n + i];
    }
    dk[i] = TO_STORE(a);
    dv[i] = TO_STORE(b);
}
