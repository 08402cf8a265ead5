/* rng.h — a counter-based GPU random number generator, Philox-4x32-10, for the training
 * step's noise: reproducible from (seed, counter), with independent streams.
 *
 * key is a device tensor u32 [4] = {seed lo, seed hi, counter lo, counter hi} (vkti_rng_key
 * fills it): a recording made once draws new numbers at each replay after the host rewrites
 * the counter (e.g. to the step number). Element i of out is word i % 4 of Philox block
 * {first_block + i / 4, stream, counter lo, counter hi} under key {seed lo, seed hi}; use a
 * different stream for each thing drawn in one step. See shaders/pc/pc_rng.h. */
#ifndef VKTI_OPS_RNG_H
#define VKTI_OPS_RNG_H

#include "gpu/gpu.h"

/* key[4] for a seed and a counter */
void vkti_rng_key(uint32_t key[4], uint64_t seed, uint64_t counter);
/* out (f32 or f16, any shape) = N(0, 1) samples: Box-Muller in f32 on pairs of words
 * (u1 from 24 bits, in (0, 1]: |z| <= 5.77). */
int vkti_rng_normal_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *key, uint32_t stream,
                            uint32_t first_block);
/* out (u32, any shape) = the raw Philox words. */
int vkti_rng_bits_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *key, uint32_t stream,
                          uint32_t first_block);

#endif
