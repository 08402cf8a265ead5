// norm_group_stats.comp — group norm forward, pass 1 of 3: per-channel statistics of one chunk
// of pixels. Workgroup (chunk k, 64-channel block, image n); lane (tx, ty) walks pixels
// p0+ty, p0+ty+ROWS, ... of channel c, so each row of lanes reads consecutive channels of
// one pixel. Sums are of deviations from a sample of the channel (no sum of raw squares);
// the rows are merged by Chan's formula. Output: part[n, k, c] = (mean, M2) of that chunk.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_norm.h"
#include "norm_common.glsl"

layout(local_size_x = VKTI_GN_CH, local_size_y = VKTI_GN_ROWS) in;
layout(set = 0, binding = 0) writeonly buffer Part { vec2 part[]; }; // [N, nchunks, C]
layout(set = 0, binding = 1) readonly buffer X { STORE_T x[]; };     // [N, P, C]

shared vec3 red[VKTI_GN_ROWS][VKTI_GN_CH];

void main()
{
    const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    const uint k = gl_WorkGroupID.x, c = gl_WorkGroupID.y * VKTI_GN_CH + tx, n = gl_WorkGroupID.z;
    const uint p0 = k * pc.chunk, p1 = min(p0 + pc.chunk, pc.P);
    vec3 st = vec3(0.0); // (count, mean, M2)
    if (c < pc.C) {
        const uint base = n * pc.P * pc.C + c, step = VKTI_GN_ROWS * pc.C;
        const float shift = float(x[base + p0 * pc.C]);
        float s = 0.0, ss = 0.0, cnt = 0.0;
        uint i = base + (p0 + ty) * pc.C;
        for (uint p = p0 + ty; p < p1; p += VKTI_GN_ROWS, i += step) {
            float d = float(x[i]) - shift;
            s += d;
            ss = fma(d, d, ss);
            cnt += 1.0;
        }
        if (cnt > 0.0)
            st = vec3(cnt, shift + s / cnt, max(ss - s * s / cnt, 0.0));
    }
    red[ty][tx] = st;
    barrier();
    if (ty == 0u && c < pc.C) {
        for (uint r = 1u; r < VKTI_GN_ROWS; r++)
            st = chan_combine(st, red[r][tx]);
        part[(n * pc.nchunks + k) * pc.C + c] = st.yz;
    }
}
