/* linear.c — Linear forward and input gradient as one matrix product each over 2-D views
 * [rows, features] of the activations (rows = the product of the leading dimensions). */
#include "ops/linear.h"

#include "ops/matmul.h"
#include "ops/op_common.h"

/* A [rows, width] view of t, whose last dimension must be `width`. */
static int rows_view(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t, int64_t width,
                     int64_t rows, vkti_tensor *view)
{
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    int rc;
    if ((rc = vkti_op_check(c, op, name, t, t ? t->dtype : VKTI_F32, -1)))
        return rc;
    if (t->shape[t->ndim - 1] != width || (rows >= 0 && vkti_tensor_numel(t) != rows * width))
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: tensor %s has %lld elements ending in %lld, expected %lld rows of %lld",
                         op, name, (long long)vkti_tensor_numel(t), (long long)t->shape[t->ndim - 1],
                         (long long)rows, (long long)width);
    int64_t shape[2] = {vkti_tensor_numel(t) / width, width};
    return vkti_tensor_view(vkti_cmd_gpu(c), view, t, 0, 2, shape);
}

static int weight_dims(vkti_cmd *c, const char *op, const vkti_tensor *w, int64_t *out_f, int64_t *in_f)
{
    int rc;
    if ((rc = vkti_op_check(c, op, "weight", w, w ? w->dtype : VKTI_F32, -1)))
        return rc;
    if (w->ndim != 2 || w->shape[0] < 1 || w->shape[1] < 1)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL,
                         "%s: weight must be [out_features, in_features], has %d dimensions", op, w->ndim);
    *out_f = w->shape[0];
    *in_f = w->shape[1];
    return VKTI_OK;
}

int vkti_linear_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *weight,
                        const vkti_tensor *bias)
{
    const char *op = "linear_forward";
    int64_t out_f = 0, in_f = 0;
    vkti_tensor xv, ov;
    int rc;
    if ((rc = weight_dims(c, op, weight, &out_f, &in_f)) || (rc = rows_view(c, op, "x", x, in_f, -1, &xv)) ||
        (rc = rows_view(c, op, "out", out, out_f, xv.shape[0], &ov)))
        return rc;
    vkti_matmul_params p = {.trans_b = 1, .alpha = 1.0f};
    return vkti_matmul_forward(c, &ov, &xv, weight, bias, &p);
}

int vkti_linear_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *weight,
                         int accumulate)
{
    const char *op = "linear_backward";
    int64_t out_f = 0, in_f = 0;
    vkti_tensor dyv, dxv;
    int rc;
    if ((rc = weight_dims(c, op, weight, &out_f, &in_f)) || (rc = rows_view(c, op, "dy", dy, out_f, -1, &dyv)) ||
        (rc = rows_view(c, op, "dx", dx, in_f, dyv.shape[0], &dxv)))
        return rc;
    vkti_matmul_params p = {.alpha = 1.0f, .beta = 1.0f, .accumulate = accumulate};
    return vkti_matmul_forward(c, &dxv, &dyv, weight, NULL, &p);
}
