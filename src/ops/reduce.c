/* reduce.c — dispatch of shaders/reduce.comp (row sum/mean) and shaders/softmax.comp. */
#include "ops/reduce.h"

#include "ops/op_common.h"
#include "pc_reduce.h"

/* One workgroup per row, over a 2-D grid when rows exceed the x limit. */
static int rows_grid(vkti_cmd *c, int64_t rows, uint32_t g[3])
{
    vkti_cmd_grid_1d(c, (uint64_t)rows, 1, g);
    return VKTI_OK;
}

int vkti_sum_rows_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *in, int mean)
{
    const char *op = mean ? "mean_rows" : "sum_rows";
    int64_t cols = in->shape[in->ndim - 1], rows = vkti_tensor_numel(in) / (cols ? cols : 1);
    const char *variant = vkti_op_variant(in->dtype);
    int rc;
    if (!variant)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: unsupported dtype", op);
    if ((rc = vkti_op_check(c, op, "out", out, VKTI_F32, rows)) || (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(in))))
        return rc;
    vkti_pc_rows pc = {(uint32_t)rows, (uint32_t)cols, mean ? 1.0f / (float)cols : 1.0f};
    vkti_arg args[2] = {{out, VKTI_WRITE}, {in, VKTI_READ}};
    uint32_t g[3];
    rows_grid(c, rows, g);
    return vkti_op_run(c, "reduce", variant, NULL, 0, args, 2, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_softmax_rows_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *in, float scale)
{
    const char *op = "softmax";
    int64_t cols = in->shape[in->ndim - 1], rows = vkti_tensor_numel(in) / (cols ? cols : 1);
    const char *variant = vkti_op_variant(in->dtype);
    int rc;
    if (!variant)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: unsupported dtype", op);
    if ((rc = vkti_op_check(c, op, "out", out, in->dtype, vkti_tensor_numel(in))) ||
        (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(in))))
        return rc;
    vkti_pc_rows pc = {(uint32_t)rows, (uint32_t)cols, scale};
    vkti_arg args[2] = {{out, VKTI_WRITE}, {in, VKTI_READ}};
    uint32_t g[3];
    rows_grid(c, rows, g);
    return vkti_op_run(c, "softmax", variant, NULL, 0, args, 2, &pc, sizeof pc, g[0], g[1], g[2]);
}
