/* loss.c — dispatch of shaders/loss_partial.comp, loss_final.comp and mse_backward.comp: the
 * MSE loss, its gradient, and the gradient norm. */
#include "ops/loss.h"

#include "ops/op_common.h"
#include "pc_loss.h"

static vkti_diag *diag_of(vkti_cmd *c) { return vkti_gpu_diag(vkti_cmd_gpu(c)); }

/* Elements per stage-1 workgroup: at least 16 per invocation, so a partial sum is worth its
 * workgroup, and at most VKTI_LOSS_MAX_PARTIALS workgroups. */
static int64_t chunk_of(int64_t n)
{
    int64_t per = 16 * VKTI_LOSS_WG, groups = (n + per - 1) / per;
    if (groups > VKTI_LOSS_MAX_PARTIALS)
        groups = VKTI_LOSS_MAX_PARTIALS;
    if (groups < 1)
        groups = 1;
    int64_t chunk = (n + groups - 1) / groups;
    return (chunk + VKTI_LOSS_WG - 1) / VKTI_LOSS_WG * VKTI_LOSS_WG;
}

int64_t vkti_loss_scratch_elems(int64_t n)
{
    int64_t chunk = chunk_of(n);
    int64_t g = (n + chunk - 1) / chunk;
    return g < 1 ? 1 : g;
}

/* stage 1 (loss_partial.<variant> over the inputs) and stage 2 (loss_final into out) */
static int sumsq_run(vkti_cmd *c, const char *op, const vkti_tensor *out, const vkti_tensor *scratch,
                     const char *partial_variant, const vkti_arg *inputs, int ninputs, int64_t n, uint32_t C,
                     uint32_t PC, uint32_t flags, float scale, int take_sqrt)
{
    int64_t groups = vkti_loss_scratch_elems(n);
    int rc;
    if ((rc = vkti_op_check(c, op, "out", out, VKTI_F32, 1)) || (rc = vkti_op_check(c, op, "scratch", scratch, VKTI_F32, -1)) ||
        (rc = vkti_op_check_u32(c, op, n + VKTI_LOSS_MAX_PARTIALS * VKTI_LOSS_WG)))
        return rc;
    if (vkti_tensor_numel(scratch) < groups)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: scratch has %lld elements, needs %lld (vkti_loss_scratch_elems)",
                         op, (long long)vkti_tensor_numel(scratch), (long long)groups);
    if (n < 1)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: no elements", op);
    vkti_pc_loss pc = {.n = (uint32_t)n, .C = C, .PC = PC, .chunk = (uint32_t)chunk_of(n), .flags = flags};
    vkti_arg args[5] = {{scratch, VKTI_WRITE}};
    for (int i = 0; i < ninputs && i < 4; i++)
        args[1 + i] = inputs[i];
    if ((rc = vkti_op_run(c, "loss_partial", partial_variant, NULL, 0, args, 1 + ninputs, &pc, sizeof pc,
                          (uint32_t)groups, 1, 1)))
        return rc;
    vkti_pc_loss fin = {.partials = (uint32_t)groups, .scale = scale, .flags = take_sqrt ? VKTI_LOSS_SQRT : 0u};
    vkti_arg fargs[2] = {{out, VKTI_WRITE}, {scratch, VKTI_READ}};
    return vkti_op_run(c, "loss_final", NULL, NULL, 0, fargs, 2, &fin, sizeof fin, 1, 1, 1);
}

/* N, P, C of pred and the checks shared by forward and backward */
static int mse_dims(vkti_cmd *c, const char *op, const vkti_tensor *pred, const vkti_tensor *target,
                    const vkti_tensor *w, const vkti_tensor *mask, int64_t *N, int64_t *P, int64_t *C)
{
    int rc;
    if (!pred || !pred->block || !vkti_op_variant(pred->dtype) || pred->ndim < 2)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: pred must be an f32 or f16 tensor [N, ..., C]", op);
    int64_t n = vkti_tensor_numel(pred);
    *N = pred->shape[0];
    *C = pred->shape[pred->ndim - 1];
    *P = (*N > 0 && *C > 0) ? n / (*N * *C) : 0;
    if (*P < 1)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: pred is empty", op);
    if ((rc = vkti_op_check(c, op, "target", target, pred->dtype, n)) ||
        (w && (rc = vkti_op_check(c, op, "w", w, VKTI_F32, *N))) ||
        (mask && (rc = vkti_op_check(c, op, "mask", mask, VKTI_F32, *N * *P))))
        return rc;
    return vkti_op_check_u32(c, op, n + VKTI_LOSS_MAX_PARTIALS * VKTI_LOSS_WG);
}

int vkti_mse_forward(vkti_cmd *c, const vkti_tensor *loss, const vkti_tensor *scratch, const vkti_tensor *pred,
                     const vkti_tensor *target, const vkti_tensor *w, const vkti_tensor *mask)
{
    const char *op = "mse";
    int64_t N = 0, P = 0, C = 0;
    int rc = mse_dims(c, op, pred, target, w, mask, &N, &P, &C);
    if (rc)
        return rc;
    int64_t n = N * P * C;
    /* absent inputs bind pred as a placeholder that the shader does not read */
    vkti_arg in[4] = {{pred, VKTI_READ}, {target, VKTI_READ}, {w ? w : pred, VKTI_READ}, {mask ? mask : pred, VKTI_READ}};
    uint32_t flags = (w ? VKTI_LOSS_WEIGHTS : 0u) | (mask ? VKTI_LOSS_MASK : 0u);
    const char *variant = pred->dtype == VKTI_F16 ? "mse_f16" : "mse_f32";
    return sumsq_run(c, op, loss, scratch, variant, in, 4, n, (uint32_t)C, (uint32_t)(P * C), flags,
                     (float)(1.0 / (double)n), 0);
}

int vkti_mse_backward(vkti_cmd *c, const vkti_tensor *d_pred, const vkti_tensor *pred, const vkti_tensor *target,
                      const vkti_tensor *w, const vkti_tensor *mask, const vkti_tensor *scale, int scale_index)
{
    const char *op = "mse_backward";
    int64_t N = 0, P = 0, C = 0;
    int rc = mse_dims(c, op, pred, target, w, mask, &N, &P, &C);
    if (rc)
        return rc;
    int64_t n = N * P * C;
    if ((rc = vkti_op_check(c, op, "d_pred", d_pred, pred->dtype, n)) ||
        (scale && (rc = vkti_op_check(c, op, "scale", scale, VKTI_F32, -1))))
        return rc;
    if (scale && (scale_index < 0 || scale_index >= vkti_tensor_numel(scale)))
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "mse_backward: scale_index %d outside the scale tensor (%lld)",
                         scale_index, (long long)vkti_tensor_numel(scale));
    vkti_pc_loss pc = {
        .n = (uint32_t)n, .C = (uint32_t)C, .PC = (uint32_t)(P * C),
        .flags = (w ? VKTI_LOSS_WEIGHTS : 0u) | (mask ? VKTI_LOSS_MASK : 0u) | (scale ? VKTI_LOSS_SCALED : 0u),
        .scale_index = scale ? (uint32_t)scale_index : 0u,
        .scale = (float)(2.0 / (double)n),
    };
    vkti_arg args[6] = {{d_pred, VKTI_WRITE}, {pred, VKTI_READ}, {target, VKTI_READ}, {w ? w : pred, VKTI_READ},
                        {mask ? mask : pred, VKTI_READ}, {scale ? scale : pred, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)n, VKTI_LOSS_WG, g);
    return vkti_op_run(c, "mse_backward", vkti_op_variant(pred->dtype), NULL, 0, args, 6, &pc, sizeof pc, g[0], g[1],
                       g[2]);
}

int vkti_grad_norm_forward(vkti_cmd *c, const vkti_tensor *norm, const vkti_tensor *scratch, const vkti_tensor *g)
{
    const char *op = "grad_norm";
    int rc = vkti_op_check(c, op, "g", g, VKTI_F32, -1);
    if (rc)
        return rc;
    vkti_arg in[1] = {{g, VKTI_READ}};
    return sumsq_run(c, op, norm, scratch, "sumsq", in, 1, vkti_tensor_numel(g), 1, 1, 0, 1.0f, 1);
}
