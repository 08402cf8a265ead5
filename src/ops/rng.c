/* rng.c — dispatch of shaders/rng.comp (Philox-4x32-10 bits and normal samples). */
#include "ops/rng.h"

#include "ops/op_common.h"
#include "pc_rng.h"

void vkti_rng_key(uint32_t key[4], uint64_t seed, uint64_t counter)
{
    key[VKTI_RNG_SEED_LO] = (uint32_t)seed;
    key[VKTI_RNG_SEED_HI] = (uint32_t)(seed >> 32);
    key[VKTI_RNG_COUNTER_LO] = (uint32_t)counter;
    key[VKTI_RNG_COUNTER_HI] = (uint32_t)(counter >> 32);
}

static int run(vkti_cmd *c, const char *op, const char *variant, const vkti_tensor *out, const vkti_tensor *key,
               uint32_t stream, uint32_t first_block)
{
    int64_t n = vkti_tensor_numel(out);
    int rc;
    if ((rc = vkti_op_check(c, op, "key", key, VKTI_U32, VKTI_RNG_KEY_WORDS)) || (rc = vkti_op_check_u32(c, op, n + 3)))
        return rc;
    vkti_pc_rng pc = {(uint32_t)n, stream, first_block};
    vkti_arg args[2] = {{out, VKTI_WRITE}, {key, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)(n + 3) / 4, 64, g);
    return vkti_op_run(c, "rng", variant, NULL, 0, args, 2, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_rng_normal_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *key, uint32_t stream,
                            uint32_t first_block)
{
    const char *variant = out ? vkti_op_variant(out->dtype) : NULL;
    if (!variant)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "rng_normal: out must be f32 or f16");
    return run(c, "rng_normal", variant, out, key, stream, first_block);
}

int vkti_rng_bits_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *key, uint32_t stream,
                          uint32_t first_block)
{
    int rc = vkti_op_check(c, "rng_bits", "out", out, VKTI_U32, -1);
    return rc ? rc : run(c, "rng_bits", "bits", out, key, stream, first_block);
}
