/* ref_rng.h — a host Philox-4x32-10 written from the published algorithm (Salmon, Moraes,
 * Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11; Random123) and the
 * Box-Muller transform in double, to check shaders/rng.comp bit for bit and value for value. */
#ifndef VKTI_TESTS_REF_RNG_H
#define VKTI_TESTS_REF_RNG_H

#include <stdint.h>

void ref_philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);
/* z[0], z[1] from two words: u1 = ((a >> 8) + 1) / 2^24, u2 = (b >> 8) / 2^24,
 * z = sqrt(-2 ln u1) (cos 2 pi u2, sin 2 pi u2) */
void ref_box_muller(double z[2], uint32_t a, uint32_t b);
/* element i of the op's output (see src/ops/rng.h): word i % 4 of block first_block + i / 4 */
void ref_rng_block(uint32_t out[4], const uint32_t key4[4], uint32_t stream, uint32_t block);

#endif
