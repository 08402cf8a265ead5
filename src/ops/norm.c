/* norm.c — dispatch of group norm (shaders/norm_group_*.comp: statistics, per-group combine,
 * apply; three passes forward and three backward) and layer norm (shaders/norm_layer*.comp):
 * shape checks, the chunk plan of the two-stage reduction, and the scratch layout. */
#include "ops/norm.h"

#include "ops/op_common.h"
#include "pc_norm.h"

/* The statistics pass splits each image's P pixels into at most GN_MAX_CHUNKS chunks of at
 * least GN_MIN_CHUNK pixels: enough workgroups for a GPU (nchunks x C/64 x N), few enough
 * partials for the per-group combine. */
#define GN_MAX_CHUNKS 256
#define GN_MIN_CHUNK 64
/* Scratch sub-tensors start on 256-byte boundaries (the largest minStorageBufferOffsetAlignment
 * Vulkan allows), counted in f32 elements. */
#define SCRATCH_ALIGN 64

typedef struct gn_geom {
    int64_t N, P, C, G, chunk, nchunks;
    int64_t part_numel;   /* partials [N, nchunks, C] x 2 at the start of the scratch */
    int64_t tot_offset;   /* backward's per-group means [N, G] x 2 after them */
    int64_t scratch_numel;
} gn_geom;

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* 0 and the geometry, or -1 when x and groups make no group norm */
static int gn_plan(const vkti_tensor *x, int groups, gn_geom *g)
{
    if (!x || !x->block || x->ndim < 2 || groups < 1)
        return -1;
    g->N = x->shape[0];
    g->C = x->shape[x->ndim - 1];
    g->G = groups;
    if (g->N < 1 || g->C < 1 || g->C % groups)
        return -1;
    g->P = vkti_tensor_numel(x) / (g->N * g->C);
    if (g->P < 1)
        return -1;
    g->chunk = ceil_div(ceil_div(g->P, GN_MAX_CHUNKS), VKTI_GN_ROWS) * VKTI_GN_ROWS;
    if (g->chunk < GN_MIN_CHUNK)
        g->chunk = GN_MIN_CHUNK;
    g->nchunks = ceil_div(g->P, g->chunk);
    g->part_numel = 2 * g->N * g->nchunks * g->C;
    g->tot_offset = ceil_div(g->part_numel, SCRATCH_ALIGN) * SCRATCH_ALIGN;
    g->scratch_numel = g->tot_offset + 2 * g->N * g->G;
    return 0;
}

int64_t vkti_group_norm_scratch_numel(const vkti_tensor *x, int groups)
{
    gn_geom g;
    return gn_plan(x, groups, &g) ? -1 : g.scratch_numel;
}

/* Everything forward and backward check alike: geometry, dtypes and sizes, grid limits. */
static int gn_check(vkti_cmd *c, const char *op, gn_geom *g, const vkti_tensor *x, int groups,
                    const vkti_tensor *gamma, const vkti_tensor *beta, const vkti_tensor *mean,
                    const vkti_tensor *rstd, const vkti_tensor *scratch, const char **variant)
{
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    int rc;
    if ((rc = vkti_op_check(c, op, "x", x, x ? x->dtype : VKTI_F32, -1)))
        return rc;
    if (gn_plan(x, groups, g))
        return vkti_fail(d, VKTI_E_INTERNAL,
                         "%s: x (%d dims, last %lld) cannot be split into %d groups: it must be [N, ..., C] "
                         "with C a multiple of the group count",
                         op, x->ndim, (long long)x->shape[x->ndim - 1], groups);
    if (!(*variant = vkti_op_variant(x->dtype)))
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: unsupported dtype %s", op, vkti_dtype_name(x->dtype));
    int64_t ng = g->N * g->G;
    if ((rc = vkti_op_check(c, op, "gamma", gamma, x->dtype, g->C)) ||
        (rc = vkti_op_check(c, op, "beta", beta, x->dtype, g->C)) ||
        (rc = vkti_op_check(c, op, "mean", mean, VKTI_F32, ng)) ||
        (rc = vkti_op_check(c, op, "rstd", rstd, VKTI_F32, ng)) ||
        (rc = vkti_op_check(c, op, "scratch", scratch, VKTI_F32, -1)) ||
        (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(x))) ||
        (rc = vkti_op_check_u32(c, op, g->scratch_numel)))
        return rc;
    if (vkti_tensor_numel(scratch) < g->scratch_numel)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: scratch has %lld f32 elements, needs %lld "
                         "(vkti_group_norm_scratch_numel)", op, (long long)vkti_tensor_numel(scratch),
                         (long long)g->scratch_numel);
    if (ceil_div(g->P, VKTI_GN_APPLY_PIX) > 65535 || g->N > 65535 || g->G > 65535)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: %lld images of %lld pixels in %lld groups exceed the grid "
                         "limits (65535 images or groups, %d pixels)", op, (long long)g->N, (long long)g->P,
                         (long long)g->G, 65535 * VKTI_GN_APPLY_PIX);
    return VKTI_OK;
}

static vkti_pc_group_norm gn_push(const gn_geom *g, uint32_t flags, float eps)
{
    vkti_pc_group_norm pc = {
        .P = (uint32_t)g->P, .C = (uint32_t)g->C, .G = (uint32_t)g->G, .cg = (uint32_t)(g->C / g->G),
        .chunk = (uint32_t)g->chunk, .nchunks = (uint32_t)g->nchunks, .flags = flags, .eps = eps,
    };
    return pc;
}

int vkti_group_norm_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *mean, const vkti_tensor *rstd,
                            const vkti_tensor *scratch, const vkti_tensor *x, const vkti_tensor *gamma,
                            const vkti_tensor *beta, int groups, float eps, int silu)
{
    const char *op = "group_norm_forward", *variant = NULL;
    gn_geom g;
    int rc;
    if ((rc = gn_check(c, op, &g, x, groups, gamma, beta, mean, rstd, scratch, &variant)) ||
        (rc = vkti_op_check(c, op, "out", out, x->dtype, vkti_tensor_numel(x))))
        return rc;
    vkti_tensor part;
    if ((rc = vkti_tensor_view(vkti_cmd_gpu(c), &part, scratch, 0, 1, &g.part_numel)))
        return rc;
    vkti_pc_group_norm pc = gn_push(&g, silu ? VKTI_NORM_SILU : 0u, eps);
    uint32_t cblocks = (uint32_t)ceil_div(g.C, VKTI_GN_CH), n = (uint32_t)g.N;

    vkti_arg stats[2] = {{&part, VKTI_WRITE}, {x, VKTI_READ}};
    if ((rc = vkti_op_run(c, "norm_group_stats", variant, NULL, 0, stats, 2, &pc, sizeof pc,
                          (uint32_t)g.nchunks, cblocks, n)))
        return rc;
    vkti_arg combine[3] = {{mean, VKTI_WRITE}, {rstd, VKTI_WRITE}, {&part, VKTI_READ}};
    if ((rc = vkti_op_run(c, "norm_group_combine", NULL, NULL, 0, combine, 3, &pc, sizeof pc, (uint32_t)g.G, n, 1)))
        return rc;
    vkti_arg apply[6] = {{out, VKTI_WRITE}, {x, VKTI_READ}, {gamma, VKTI_READ},
                         {beta, VKTI_READ}, {mean, VKTI_READ}, {rstd, VKTI_READ}};
    return vkti_op_run(c, "norm_group_apply", variant, NULL, 0, apply, 6, &pc, sizeof pc,
                       (uint32_t)ceil_div(g.P, VKTI_GN_APPLY_PIX), cblocks, n);
}

int vkti_group_norm_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *scratch, const vkti_tensor *dy,
                             const vkti_tensor *x, const vkti_tensor *gamma, const vkti_tensor *beta,
                             const vkti_tensor *mean, const vkti_tensor *rstd, int groups, int silu,
                             int accumulate)
{
    const char *op = "group_norm_backward", *variant = NULL;
    gn_geom g;
    int rc;
    if ((rc = gn_check(c, op, &g, x, groups, gamma, beta, mean, rstd, scratch, &variant)) ||
        (rc = vkti_op_check(c, op, "dy", dy, x->dtype, vkti_tensor_numel(x))) ||
        (rc = vkti_op_check(c, op, "dx", dx, x->dtype, vkti_tensor_numel(x))))
        return rc;
    vkti_tensor part, tot;
    int64_t ntot = 2 * g.N * g.G;
    if ((rc = vkti_tensor_view(vkti_cmd_gpu(c), &part, scratch, 0, 1, &g.part_numel)) ||
        (rc = vkti_tensor_view(vkti_cmd_gpu(c), &tot, scratch, g.tot_offset, 1, &ntot)))
        return rc;
    vkti_pc_group_norm pc = gn_push(&g, (silu ? VKTI_NORM_SILU : 0u) | (accumulate ? VKTI_NORM_ACCUM : 0u), 0.0f);
    uint32_t cblocks = (uint32_t)ceil_div(g.C, VKTI_GN_CH), n = (uint32_t)g.N;

    vkti_arg stats[7] = {{&part, VKTI_WRITE}, {dy, VKTI_READ}, {x, VKTI_READ}, {gamma, VKTI_READ},
                         {beta, VKTI_READ}, {mean, VKTI_READ}, {rstd, VKTI_READ}};
    if ((rc = vkti_op_run(c, "norm_group_dstats", variant, NULL, 0, stats, 7, &pc, sizeof pc,
                          (uint32_t)g.nchunks, cblocks, n)))
        return rc;
    vkti_arg combine[2] = {{&tot, VKTI_WRITE}, {&part, VKTI_READ}};
    if ((rc = vkti_op_run(c, "norm_group_dcombine", NULL, NULL, 0, combine, 2, &pc, sizeof pc, (uint32_t)g.G, n, 1)))
        return rc;
    vkti_arg apply[8] = {{dx, accumulate ? VKTI_RW : VKTI_WRITE}, {dy, VKTI_READ}, {x, VKTI_READ},
                         {gamma, VKTI_READ}, {beta, VKTI_READ}, {mean, VKTI_READ}, {rstd, VKTI_READ},
                         {&tot, VKTI_READ}};
    return vkti_op_run(c, "norm_group_dapply", variant, NULL, 0, apply, 8, &pc, sizeof pc,
                       (uint32_t)ceil_div(g.P, VKTI_GN_APPLY_PIX), cblocks, n);
}

/* ---- layer norm ----------------------------------------------------------------------- */

static int ln_check(vkti_cmd *c, const char *op, const vkti_tensor *x, const vkti_tensor *gamma,
                    const vkti_tensor *mean, const vkti_tensor *rstd, int64_t *rows, int64_t *cols,
                    const char **variant)
{
    int rc;
    if ((rc = vkti_op_check(c, op, "x", x, x ? x->dtype : VKTI_F32, -1)))
        return rc;
    if (!(*variant = vkti_op_variant(x->dtype)))
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: unsupported dtype %s", op,
                         vkti_dtype_name(x->dtype));
    *cols = x->shape[x->ndim - 1];
    *rows = *cols ? vkti_tensor_numel(x) / *cols : 0;
    if (*rows < 1)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: x is empty", op);
    if ((rc = vkti_op_check(c, op, "gamma", gamma, x->dtype, *cols)) ||
        (rc = vkti_op_check(c, op, "mean", mean, VKTI_F32, *rows)) ||
        (rc = vkti_op_check(c, op, "rstd", rstd, VKTI_F32, *rows)) ||
        (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(x))))
        return rc;
    return VKTI_OK;
}

int vkti_layer_norm_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *mean, const vkti_tensor *rstd,
                            const vkti_tensor *x, const vkti_tensor *gamma, const vkti_tensor *beta, float eps)
{
    const char *op = "layer_norm_forward", *variant = NULL;
    int64_t rows = 0, cols = 0;
    int rc;
    if ((rc = ln_check(c, op, x, gamma, mean, rstd, &rows, &cols, &variant)) ||
        (rc = vkti_op_check(c, op, "beta", beta, x->dtype, cols)) ||
        (rc = vkti_op_check(c, op, "out", out, x->dtype, vkti_tensor_numel(x))))
        return rc;
    vkti_pc_layer_norm pc = {(uint32_t)rows, (uint32_t)cols, 0u, eps};
    vkti_arg args[6] = {{out, VKTI_WRITE}, {mean, VKTI_WRITE}, {rstd, VKTI_WRITE},
                        {x, VKTI_READ}, {gamma, VKTI_READ}, {beta, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)rows, 1, g);
    return vkti_op_run(c, "norm_layer", variant, NULL, 0, args, 6, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_layer_norm_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                             const vkti_tensor *gamma, const vkti_tensor *mean, const vkti_tensor *rstd,
                             int accumulate)
{
    const char *op = "layer_norm_backward", *variant = NULL;
    int64_t rows = 0, cols = 0;
    int rc;
    if ((rc = ln_check(c, op, x, gamma, mean, rstd, &rows, &cols, &variant)) ||
        (rc = vkti_op_check(c, op, "dy", dy, x->dtype, vkti_tensor_numel(x))) ||
        (rc = vkti_op_check(c, op, "dx", dx, x->dtype, vkti_tensor_numel(x))))
        return rc;
    vkti_pc_layer_norm pc = {(uint32_t)rows, (uint32_t)cols, accumulate ? VKTI_NORM_ACCUM : 0u, 0.0f};
    vkti_arg args[6] = {{dx, accumulate ? VKTI_RW : VKTI_WRITE}, {dy, VKTI_READ}, {x, VKTI_READ},
                        {gamma, VKTI_READ}, {mean, VKTI_READ}, {rstd, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)rows, 1, g);
    return vkti_op_run(c, "norm_layer_bwd", variant, NULL, 0, args, 6, &pc, sizeof pc, g[0], g[1], g[2]);
}
