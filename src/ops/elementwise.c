/* elementwise.c — dispatch of shaders/elementwise.comp (add, mul, scale, SiLU, clamp) and
 * shaders/mix.comp (per-sample linear combinations). */
#include "ops/elementwise.h"

#include "ops/op_common.h"
#include "pc_elementwise.h"

static int run(vkti_cmd *c, const char *op, uint32_t code, const vkti_tensor *out, const vkti_tensor *a,
               const vkti_tensor *b, float alpha, float beta)
{
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    int64_t n = vkti_tensor_numel(a);
    const char *variant = vkti_op_variant(a->dtype);
    if (!variant)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: unsupported dtype %s", op, vkti_dtype_name(a->dtype));
    int rc;
    if ((rc = vkti_op_check(c, op, "out", out, a->dtype, n)) || (rc = vkti_op_check_u32(c, op, n)))
        return rc;
    int64_t nb = 1;
    if (b) {
        nb = vkti_tensor_numel(b);
        if ((rc = vkti_op_check(c, op, "b", b, a->dtype, -1)))
            return rc;
        if (nb < 1 || n % nb)
            return vkti_fail(d, VKTI_E_INTERNAL, "%s: b has %lld elements, which does not divide %lld", op,
                             (long long)nb, (long long)n);
    }
    vkti_pc_elementwise pc = {(uint32_t)n, (uint32_t)nb, code, alpha, beta};
    vkti_arg args[3] = {{out, VKTI_WRITE}, {a, VKTI_READ}, {b ? b : a, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)n, 256, g);
    return vkti_op_run(c, "elementwise", variant, NULL, 0, args, 3, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_add_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, const vkti_tensor *b)
{
    return run(c, "add", VKTI_ELT_ADD, out, a, b, 1.0f, 0.0f);
}

int vkti_mul_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, const vkti_tensor *b)
{
    return run(c, "mul", VKTI_ELT_MUL, out, a, b, 1.0f, 0.0f);
}

int vkti_scale_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, float alpha, float beta)
{
    return run(c, "scale", VKTI_ELT_SCALE, out, a, NULL, alpha, beta);
}

int vkti_silu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a)
{
    return run(c, "silu", VKTI_ELT_SILU, out, a, NULL, 1.0f, 0.0f);
}

int vkti_clamp_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, float lo, float hi)
{
    return run(c, "clamp", VKTI_ELT_CLAMP, out, a, NULL, lo, hi);
}

int vkti_mix_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *y,
                     const vkti_tensor *coef)
{
    const char *op = "mix";
    int64_t n = vkti_tensor_numel(x), N = x->shape[0];
    const char *variant = vkti_op_variant(x->dtype);
    int rc;
    if (!variant)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "mix: unsupported dtype %s",
                         vkti_dtype_name(x->dtype));
    if ((rc = vkti_op_check(c, op, "out", out, x->dtype, n)) || (y && (rc = vkti_op_check(c, op, "y", y, x->dtype, n))) ||
        (rc = vkti_op_check(c, op, "coef", coef, VKTI_F32, 2 * N)) || (rc = vkti_op_check_u32(c, op, n)))
        return rc;
    vkti_pc_mix pc = {(uint32_t)n, (uint32_t)(n / N), y != NULL};
    vkti_arg args[4] = {{out, VKTI_WRITE}, {x, VKTI_READ}, {y ? y : x, VKTI_READ}, {coef, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)n, 256, g);
    return vkti_op_run(c, "mix", variant, NULL, 0, args, 4, &pc, sizeof pc, g[0], g[1], g[2]);
}
