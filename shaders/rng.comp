// rng.comp — counter-based random numbers (pc_rng.h): Philox-4x32-10 (Salmon et al., SC'11,
// as in Random123) keyed by a device tensor, so one recording draws new numbers at every
// replay. Variant "bits" writes the raw u32 words; f32 and f16 write N(0, 1) samples by the
// Box-Muller transform in f32: words (a, b) give u1 = (a >> 8) + 1 over 2^24 in (0, 1],
// u2 = (b >> 8) / 2^24, z = sqrt(-2 ln u1) * (cos 2 pi u2, sin 2 pi u2) — each pair of a block
// gives two samples. log, cos and sin come from precise_math.glsl (a few ulp).
//! variant f32
//! variant f16 -DSTORAGE_F16
//! variant bits -DRNG_BITS
#version 450
#include "common.glsl"
#include "pc_rng.h"
#include "precise_math.glsl"

layout(local_size_x = 64) in;
#ifdef RNG_BITS
layout(set = 0, binding = 0) writeonly buffer Out { uint o[]; };
#else
layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
#endif
layout(set = 0, binding = 1) readonly buffer Key { uint key[]; };

uvec4 philox4x32_10(uvec4 ctr, uvec2 k)
{
    for (int round = 0; round < 10; round++) {
        if (round > 0)
            k += uvec2(0x9E3779B9u, 0xBB67AE85u);
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, ctr.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, ctr.z, hi1, lo1);
        ctr = uvec4(hi1 ^ ctr.y ^ k.x, lo1, hi0 ^ ctr.w ^ k.y, lo0);
    }
    return ctr;
}

vec2 box_muller(uint a, uint b)
{
    float u1 = float((a >> 8) + 1u) * 5.9604644775390625e-08; // 2^-24: exact
    float r = sqrt(-2.0 * pm_log(u1));
    float s, c;
    pm_sincos_turns24(b >> 8, s, c);
    return vec2(r * c, r * s);
}

void main()
{
    uint j = linear_id(64), base = 4u * j;
    if (j >= (pc.n + 3u) / 4u)
        return;
    uvec4 x = philox4x32_10(uvec4(pc.first_block + j, pc.stream, key[VKTI_RNG_COUNTER_LO], key[VKTI_RNG_COUNTER_HI]),
                            uvec2(key[VKTI_RNG_SEED_LO], key[VKTI_RNG_SEED_HI]));
    uint m = min(4u, pc.n - base);
#ifdef RNG_BITS
    for (uint i = 0u; i < m; i++)
        o[base + i] = x[i];
#else
    vec2 z01 = box_muller(x.x, x.y), z23 = box_muller(x.z, x.w);
    vec4 z = vec4(z01, z23);
    for (uint i = 0u; i < m; i++)
        o[base + i] = TO_STORE(z[i]);
#endif
}
