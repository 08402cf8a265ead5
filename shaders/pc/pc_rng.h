/* pc_rng.h — push constants of shaders/rng.comp (C and GLSL), the Philox-4x32-10 generator.
 *
 * The key is a device tensor u32 [VKTI_RNG_KEY_WORDS] that the host rewrites before each
 * replay of a recording: {seed lo, seed hi, counter lo, counter hi} (the counter is e.g. the
 * training step). Element i of an output comes from word i % 4 of the Philox block
 *     philox4x32_10(counter = {first_block + i / 4, stream, counter lo, counter hi},
 *                   key = {seed lo, seed hi})
 * so (seed, counter, stream) name disjoint sequences; stream and first_block are baked into
 * the recording (one stream per use: latent noise, ...). */
#ifndef VKTI_PC_RNG_H
#define VKTI_PC_RNG_H
#include "pc_common.h"

#define VKTI_RNG_KEY_WORDS 4
#define VKTI_RNG_SEED_LO 0
#define VKTI_RNG_SEED_HI 1
#define VKTI_RNG_COUNTER_LO 2
#define VKTI_RNG_COUNTER_HI 3

VKTI_PUSH_BEGIN(vkti_pc_rng)
    VKTI_PC_U32 n;            /* elements to write */
    VKTI_PC_U32 stream;
    VKTI_PC_U32 first_block;
VKTI_PUSH_END(vkti_pc_rng)
VKTI_PUSH_CHECK(vkti_pc_rng)

#endif
