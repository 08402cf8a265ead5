// sampler_latent.comp — the VAE decoder's input from the sampler's f32 latents: a window of one
// image's latent [h, w, C], divided by the VAE's scaling factor (diffusers: latents /
// vae.config.scaling_factor), in the network's storage type. Windows let the decode run in tiles.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#define VKTI_PC_SAMPLER_LATENT
#include "pc_sampler.h"

layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer Lat { float lat[]; };

void main()
{
    uint i = linear_id(256);
    if (i >= pc.n)
        return;
    uint ch = i % pc.c, p = i / pc.c;
    uint yy = p / pc.out_w, xx = p - yy * pc.out_w;
    uint src = ((pc.image * pc.h + pc.y0 + yy) * pc.w + pc.x0 + xx) * pc.c + ch;
    precise float r = lat[src] / pc.scale;
    o[i] = TO_STORE(r);
}
