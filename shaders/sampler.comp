// sampler.comp — one step of a diffusion sampler for every latent element (pc_sampler.h has the
// formulas): classifier-free guidance, the predicted x0, the update of x (f32, the sampler's
// state), and the next UNet input x / c[IN_DIV] in the network's storage type, written once
// per guidance half. The step's scalars come from a device tensor, so one recording replays
// every step. Every result is `precise`: each operation is rounded as diffusers' float32
// tensor operations are, none fused into a multiply-add.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_sampler.h"

layout(local_size_x = 256) in;
layout(set = 0, binding = 0) buffer X { float x[]; };
layout(set = 0, binding = 1) buffer Hist { float hist[]; };
layout(set = 0, binding = 2) writeonly buffer ModelIn { STORE_T model_in[]; };
layout(set = 0, binding = 3) readonly buffer ModelOut { STORE_T model_out[]; };
layout(set = 0, binding = 4) readonly buffer Noise { float noise[]; };
layout(set = 0, binding = 5) readonly buffer Coef { float c[]; };

void main()
{
    uint i = linear_id(256);
    if (i >= pc.n * pc.batch)
        return;
    uint b = i / pc.n, k = i - b * pc.n;
    bool v = (pc.flags & VKTI_SAMPLER_F_V) != 0u;
    precise float xi = x[i];
    precise float nz = (pc.flags & VKTI_SAMPLER_F_NOISE) != 0u ? noise[b * pc.noise_stride + k] : 0.0;
    precise float nx;
    if (pc.mode == VKTI_SAMPLER_MODE_INIT) {
        nx = nz * c[2];
        if ((pc.flags & VKTI_SAMPLER_F_HIST) != 0u)
            hist[i] = 0.0;
    } else {
        precise float e;
        if ((pc.flags & VKTI_SAMPLER_F_GUIDED) != 0u) {
            float u = float(model_out[i]), t = float(model_out[pc.n * pc.batch + i]);
            e = u + c[VKTI_SC_GUIDANCE] * (t - u);
        } else {
            e = float(model_out[i]);
        }
        precise float x0;
        if (pc.mode == VKTI_SAMPLER_MODE_DDIM) {
            precise float pe = e;
            if (v) {
                x0 = c[2] * xi - c[3] * e;
                pe = c[2] * e + c[3] * xi;
            } else {
                x0 = (xi - c[3] * e) / c[2];
            }
            if ((pc.flags & VKTI_SAMPLER_F_CLIP) != 0u)
                x0 = clamp(x0, -c[4], c[4]);
            nx = c[5] * x0 + c[6] * pe;
            if ((pc.flags & VKTI_SAMPLER_F_NOISE) != 0u)
                nx = nx + c[7] * nz;
        } else if (pc.mode == VKTI_SAMPLER_MODE_EULER_A) {
            x0 = v ? e * c[3] + xi / c[4] : xi - c[2] * e;
            precise float d = (xi - x0) / c[2];
            nx = xi + d * c[5];
            nx = nx + nz * c[6];
        } else { // DPMPP_2M
            x0 = v ? c[2] * xi - c[3] * e : (xi - c[3] * e) / c[2];
            precise float d1 = c[7] * (x0 - hist[i]);
            nx = (c[4] * xi - c[5] * x0) - c[6] * d1;
            hist[i] = x0;
        }
    }
    x[i] = nx;
    precise float m = nx / c[VKTI_SC_IN_DIV];
    for (uint g = 0u; g < pc.copies; g++)
        model_in[g * pc.n * pc.batch + i] = TO_STORE(m);
}
