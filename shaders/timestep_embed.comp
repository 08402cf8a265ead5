// timestep_embed.comp — sinusoidal timestep embedding as diffusers' get_timestep_embedding
// (pc_shape.h): w_j = exp(j * coef), a_j = scale * t_n * w_j, out[n] = [cos a | sin a] with
// flip_sin_to_cos, else [sin a | cos a], plus a zero column for an odd dim. The timesteps are
// read from a device tensor, so one recording serves every step. exp, sin and cos come from
// precise_math.glsl: the built-ins may be off by 1e-3 for arguments near 1000.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_shape.h"
#include "precise_math.glsl"

layout(local_size_x = 64) in;
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) readonly buffer T { uint ts[]; }; // f32 or i32 words

void main()
{
    uint col = gl_WorkGroupID.x * 64u + gl_LocalInvocationID.x, n = gl_WorkGroupID.y;
    if (col >= pc.C || n >= pc.N)
        return;
    const uint half_dim = pc.half_dim;
    float v = 0.0;
    if (col < 2u * half_dim) {
        bool second = col >= half_dim;
        uint j = second ? col - half_dim : col;
        uint word = ts[n];
        float t = (pc.flags & VKTI_SHAPE_T_I32) != 0u ? float(int(word)) : uintBitsToFloat(word);
        float a = pc.scale * (t * pm_exp(float(j) * pc.coef));
        float s, c;
        pm_sincos(a, s, c);
        bool want_cos = second != ((pc.flags & VKTI_SHAPE_FLIP) != 0u);
        v = want_cos ? c : s;
    }
    o[n * pc.C + col] = TO_STORE(v);
}
