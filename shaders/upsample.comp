// upsample.comp — nearest 2x upsampling of NHWC activations and its backward (pc_shape.h).
// Forward: out[n, y, x, c] = in[n, y/2, x/2, c]. Backward: dx[n, y, x, c] = the sum of
// dy[n, 2y+i, 2x+j, c] over i, j in {0, 1}. One row is one output pixel; its position is
// decoded once per row, then the lanes stream its channels.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"
#include "shape_common.glsl"

layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer In { STORE_T x[]; };

void main()
{
    uint row = shape_row();
    if (row >= pc.rows)
        return;
    const uint C = pc.C, H = pc.H, W = pc.W;
    if ((pc.flags & VKTI_SHAPE_BACKWARD) == 0u) {
        // row = (n * 2H + y) * 2W + x over the output
        uint yx = row % (4u * H * W), n = row / (4u * H * W);
        uint y = yx / (2u * W), xx = yx % (2u * W);
        uint src = ((n * H + y / 2u) * W + xx / 2u) * C;
        for (uint c = shape_lane(); c < C; c += VKTI_SHAPE_LANES)
            o[row * C + c] = x[src + c];
    } else {
        // row = (n * H + y) * W + x over the small tensor; dy is [N, 2H, 2W, C]
        uint yx = row % (H * W), n = row / (H * W);
        uint y = yx / W, xx = yx % W;
        uint top = ((n * 2u * H + 2u * y) * 2u * W + 2u * xx) * C;
        uint bottom = top + 2u * W * C;
        for (uint c = shape_lane(); c < C; c += VKTI_SHAPE_LANES) {
            float s = (float(x[top + c]) + float(x[top + C + c])) + (float(x[bottom + c]) + float(x[bottom + C + c]));
            o[row * C + c] = TO_STORE(s);
        }
    }
}
