// mse_backward.comp — the gradient of the MSE loss (pc_loss.h):
// d_pred_i = (2 / count) * s * w[n] * mask[n, p] * (pred_i - target_i), with s the loss scale
// read from a device tensor (scale_t[scale_index]) so it may change between replays.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_loss.h"

layout(local_size_x = VKTI_LOSS_WG) in;
layout(set = 0, binding = 0) writeonly buffer Dpred { STORE_T dpred[]; };
layout(set = 0, binding = 1) readonly buffer Pred { STORE_T pred[]; };
layout(set = 0, binding = 2) readonly buffer Target { STORE_T target[]; };
layout(set = 0, binding = 3) readonly buffer Weights { float w[]; };
layout(set = 0, binding = 4) readonly buffer Mask { float mask[]; };
layout(set = 0, binding = 5) readonly buffer Scale { float scale_t[]; };

void main()
{
    uint i = linear_id(VKTI_LOSS_WG);
    if (i >= pc.n)
        return;
    float k = pc.scale;
    if ((pc.flags & VKTI_LOSS_SCALED) != 0u)
        k *= scale_t[pc.scale_index];
    if ((pc.flags & VKTI_LOSS_WEIGHTS) != 0u)
        k *= w[i / pc.PC];
    if ((pc.flags & VKTI_LOSS_MASK) != 0u)
        k *= mask[i / pc.C];
    dpred[i] = TO_STORE(k * (float(pred[i]) - float(target[i])));
}
