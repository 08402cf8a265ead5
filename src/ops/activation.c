/* activation.c — dispatch of shaders/activation.comp (pointwise SiLU, GELU, quick_gelu, forward
 * and backward) and shaders/activation_geglu.comp. */
#include "ops/activation.h"

#include "ops/op_common.h"
#include "pc_activation.h"

static const char *act_name(vkti_act act, int backward)
{
    switch (act) {
    case VKTI_ACT_SILU: return backward ? "silu_backward" : "silu_forward";
    case VKTI_ACT_GELU: return backward ? "gelu_backward" : "gelu_forward";
    case VKTI_ACT_QUICK_GELU: return backward ? "quick_gelu_backward" : "quick_gelu_forward";
    }
    return "activation";
}

static int pointwise(vkti_cmd *c, vkti_act act, const vkti_tensor *out, const vkti_tensor *dy, const vkti_tensor *x,
                     int accumulate)
{
    const char *op = act_name(act, dy != NULL), *variant;
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    int rc;
    if ((rc = vkti_op_check(c, op, "x", x, x ? x->dtype : VKTI_F32, -1)))
        return rc;
    int64_t n = vkti_tensor_numel(x);
    if (!(variant = vkti_op_variant(x->dtype)))
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: unsupported dtype %s", op, vkti_dtype_name(x->dtype));
    if (act != VKTI_ACT_SILU && act != VKTI_ACT_GELU && act != VKTI_ACT_QUICK_GELU)
        return vkti_fail(d, VKTI_E_INTERNAL, "activation: unknown kind %d", (int)act);
    if ((rc = vkti_op_check(c, op, dy ? "dx" : "out", out, x->dtype, n)) ||
        (dy && (rc = vkti_op_check(c, op, "dy", dy, x->dtype, n))) || (rc = vkti_op_check_u32(c, op, n)))
        return rc;
    static const uint32_t codes[] = {VKTI_ACTOP_SILU, VKTI_ACTOP_GELU, VKTI_ACTOP_QUICK_GELU};
    vkti_pc_activation pc = {(uint32_t)n, 0u, codes[act],
                             (dy ? VKTI_ACTF_BACKWARD : 0u) | (dy && accumulate ? VKTI_ACTF_ACCUM : 0u)};
    vkti_arg args[3] = {{out, dy && accumulate ? VKTI_RW : VKTI_WRITE}, {x, VKTI_READ}, {dy ? dy : x, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)n, VKTI_ACT_WG, g);
    return vkti_op_run(c, "activation", variant, NULL, 0, args, 3, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_act_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, vkti_act act)
{
    return pointwise(c, act, out, NULL, x, 0);
}

int vkti_act_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x, vkti_act act,
                      int accumulate)
{
    if (!dy)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: tensor dy is missing",
                         act_name(act, 1));
    return pointwise(c, act, dx, dy, x, accumulate);
}

int vkti_silu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                       int accumulate)
{
    return vkti_act_backward(c, dx, dy, x, VKTI_ACT_SILU, accumulate);
}

int vkti_gelu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x)
{
    return vkti_act_forward(c, out, x, VKTI_ACT_GELU);
}

int vkti_gelu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                       int accumulate)
{
    return vkti_act_backward(c, dx, dy, x, VKTI_ACT_GELU, accumulate);
}

int vkti_quick_gelu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x)
{
    return vkti_act_forward(c, out, x, VKTI_ACT_QUICK_GELU);
}

int vkti_quick_gelu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                             int accumulate)
{
    return vkti_act_backward(c, dx, dy, x, VKTI_ACT_QUICK_GELU, accumulate);
}

/* ---- GEGLU ------------------------------------------------------------------------------ */

static int geglu(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *dy, const vkti_tensor *x, int accumulate)
{
    const char *op = dy ? "geglu_backward" : "geglu_forward", *variant;
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    int rc;
    if ((rc = vkti_op_check(c, op, "x", x, x ? x->dtype : VKTI_F32, -1)))
        return rc;
    int64_t n = vkti_tensor_numel(x), width = x->shape[x->ndim - 1];
    if (!(variant = vkti_op_variant(x->dtype)))
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: unsupported dtype %s", op, vkti_dtype_name(x->dtype));
    if (width < 2 || width % 2)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: the last dimension of x (%lld) must be even: [..., 2F]", op,
                         (long long)width);
    int64_t F = width / 2, rows = n / width;
    if ((rc = vkti_op_check(c, op, dy ? "dx" : "out", out, x->dtype, dy ? n : rows * F)) ||
        (dy && (rc = vkti_op_check(c, op, "dy", dy, x->dtype, rows * F))) || (rc = vkti_op_check_u32(c, op, n)))
        return rc;
    const vkti_tensor *half = dy ? dy : out; /* the [..., F] tensor must end in F too */
    if (half->shape[half->ndim - 1] != F)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: %s ends in %lld, expected F = %lld (half of x's %lld)", op,
                         dy ? "dy" : "out", (long long)half->shape[half->ndim - 1], (long long)F, (long long)width);
    vkti_pc_activation pc = {(uint32_t)rows, (uint32_t)F, 0u,
                             (dy ? VKTI_ACTF_BACKWARD : 0u) | (dy && accumulate ? VKTI_ACTF_ACCUM : 0u)};
    vkti_arg args[3] = {{out, dy && accumulate ? VKTI_RW : VKTI_WRITE}, {x, VKTI_READ}, {dy ? dy : x, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)rows, 1, g);
    return vkti_op_run(c, "activation_geglu", variant, NULL, 0, args, 3, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_geglu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x)
{
    return geglu(c, out, NULL, x, 0);
}

int vkti_geglu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                        int accumulate)
{
    if (!dy)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "geglu_backward: tensor dy is missing");
    return geglu(c, dx, dy, x, accumulate);
}
