/* shape.c — dispatch of the shape shaders (see shape.h): upsample.comp, concat.comp,
 * chslice.comp, bcast_add.comp, bcast_add_grad.comp, timestep_embed.comp, embed_gather.comp,
 * embed_scatter.comp. */
#include "ops/shape.h"

#include <math.h>

#include "ops/op_common.h"
#include "pc_shape.h"

static vkti_diag *diag_of(vkti_cmd *c) { return vkti_gpu_diag(vkti_cmd_gpu(c)); }

static int64_t last_dim(const vkti_tensor *t) { return t->ndim > 0 ? t->shape[t->ndim - 1] : 0; }

/* The variant for an activation dtype, or a message. */
static int variant_of(vkti_cmd *c, const char *op, const vkti_tensor *t, const char **variant)
{
    if (!t || !t->block)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: a tensor is missing", op);
    *variant = vkti_op_variant(t->dtype);
    if (!*variant)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: unsupported dtype %s (f32 or f16)", op,
                         vkti_dtype_name(t->dtype));
    return VKTI_OK;
}

/* A row-parallel dispatch (shape_common.glsl): VKTI_SHAPE_ROWS rows per workgroup. */
static int run_rows(vkti_cmd *c, const char *shader, const char *variant, const vkti_arg *args, int nargs,
                    const void *pc, uint32_t pc_bytes, int64_t rows)
{
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)rows, VKTI_SHAPE_ROWS, g);
    return vkti_op_run(c, shader, variant, NULL, 0, args, nargs, pc, pc_bytes, g[0], g[1], g[2]);
}

/* ---- nearest 2x upsample -------------------------------------------------------------- */

static int upsample(vkti_cmd *c, const char *op, const vkti_tensor *big, const vkti_tensor *small, int backward)
{
    const vkti_tensor *out = backward ? small : big, *in = backward ? big : small;
    const char *variant;
    int rc;
    if ((rc = variant_of(c, op, small, &variant)))
        return rc;
    if (small->ndim != 4)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: the small tensor must be [N, H, W, C] (has %d dims)", op,
                         small->ndim);
    int64_t N = small->shape[0], H = small->shape[1], W = small->shape[2], C = small->shape[3];
    int64_t bs[4] = {N, 2 * H, 2 * W, C};
    if ((rc = vkti_op_check_shape(c, op, backward ? "dy" : "out", big, 4, bs)) ||
        (rc = vkti_op_check(c, op, "big", big, small->dtype, -1)) ||
        (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(big))))
        return rc;
    vkti_pc_shape pc = {
        .rows = (uint32_t)(backward ? N * H * W : N * 4 * H * W),
        .C = (uint32_t)C, .H = (uint32_t)H, .W = (uint32_t)W,
        .flags = backward ? VKTI_SHAPE_BACKWARD : 0u,
    };
    vkti_arg args[2] = {{out, VKTI_WRITE}, {in, VKTI_READ}};
    return run_rows(c, "upsample", variant, args, 2, &pc, sizeof pc, pc.rows);
}

int vkti_upsample2x_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x)
{
    return upsample(c, "upsample2x", out, x, 0);
}

int vkti_upsample2x_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy)
{
    return upsample(c, "upsample2x_backward", dy, dx, 1);
}

/* ---- channel concat -------------------------------------------------------------------- */

/* rows and channels of a [..., C] tensor */
static int rows_of(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t, vkti_dtype dtype,
                   int64_t *rows, int64_t *C)
{
    int rc = vkti_op_check(c, op, name, t, dtype, -1);
    if (rc)
        return rc;
    *C = last_dim(t);
    if (*C < 1)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: tensor %s has no channels", op, name);
    *rows = vkti_tensor_numel(t) / *C;
    return vkti_op_check_u32(c, op, vkti_tensor_numel(t));
}

int vkti_concat_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, const vkti_tensor *b)
{
    const char *op = "concat", *variant;
    int64_t ra = 0, ca = 0, rb = 0, cb = 0, ro = 0, co = 0;
    int rc;
    if ((rc = variant_of(c, op, a, &variant)) || (rc = rows_of(c, op, "a", a, a->dtype, &ra, &ca)) ||
        (rc = rows_of(c, op, "b", b, a->dtype, &rb, &cb)) || (rc = rows_of(c, op, "out", out, a->dtype, &ro, &co)))
        return rc;
    if (ra != rb || ra != ro || co != ca + cb)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL,
                         "concat: out is %lld x %lld, a %lld x %lld, b %lld x %lld (rows x channels): expected "
                         "equal rows and out channels = %lld",
                         (long long)ro, (long long)co, (long long)ra, (long long)ca, (long long)rb, (long long)cb,
                         (long long)(ca + cb));
    vkti_pc_shape pc = {.rows = (uint32_t)ro, .C = (uint32_t)ca, .C2 = (uint32_t)cb};
    vkti_arg args[3] = {{out, VKTI_WRITE}, {a, VKTI_READ}, {b, VKTI_READ}};
    return run_rows(c, "concat", variant, args, 3, &pc, sizeof pc, ro);
}

static int slice(vkti_cmd *c, const char *variant, const vkti_tensor *dst, const vkti_tensor *src, int64_t rows,
                 int64_t cd, int64_t cs, int64_t first, int accumulate)
{
    vkti_pc_shape pc = {.rows = (uint32_t)rows, .C = (uint32_t)cd, .C2 = (uint32_t)cs, .first = (uint32_t)first,
                        .flags = accumulate ? VKTI_SHAPE_ACCUMULATE : 0u};
    vkti_arg args[2] = {{dst, accumulate ? VKTI_RW : VKTI_WRITE}, {src, VKTI_READ}};
    return run_rows(c, "chslice", variant, args, 2, &pc, sizeof pc, rows);
}

int vkti_concat_backward(vkti_cmd *c, const vkti_tensor *da, const vkti_tensor *db, const vkti_tensor *d_out,
                         int accumulate_a, int accumulate_b)
{
    const char *op = "concat_backward", *variant;
    int64_t ro = 0, co = 0, ra = 0, ca = 0, rb = 0, cb = 0;
    int rc;
    if ((rc = variant_of(c, op, d_out, &variant)) || (rc = rows_of(c, op, "d_out", d_out, d_out->dtype, &ro, &co)) ||
        (da && (rc = rows_of(c, op, "da", da, d_out->dtype, &ra, &ca))) ||
        (db && (rc = rows_of(c, op, "db", db, d_out->dtype, &rb, &cb))))
        return rc;
    /* with one side absent, its channel count is what the other leaves */
    if (!da)
        ca = co - cb, ra = ro;
    if (!db)
        cb = co - ca, rb = ro;
    if (ra != ro || rb != ro || ca < 1 || cb < 1 || ca + cb != co)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL,
                         "concat_backward: d_out is %lld x %lld, da %lld x %lld, db %lld x %lld (rows x channels)",
                         (long long)ro, (long long)co, (long long)ra, (long long)ca, (long long)rb, (long long)cb);
    if (da && (rc = slice(c, variant, da, d_out, ro, ca, co, 0, accumulate_a)))
        return rc;
    if (db && (rc = slice(c, variant, db, d_out, ro, cb, co, ca, accumulate_b)))
        return rc;
    return VKTI_OK;
}

/* ---- per-sample broadcast add ---------------------------------------------------------- */

static int bcast_dims(vkti_cmd *c, const char *op, const vkti_tensor *x, int64_t *N, int64_t *P, int64_t *C)
{
    if (x->ndim < 2)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: x must be [N, ..., C] (has %d dims)", op, x->ndim);
    *N = x->shape[0];
    *C = last_dim(x);
    *P = (*N > 0 && *C > 0) ? vkti_tensor_numel(x) / (*N * *C) : 0;
    if (*N < 1 || *C < 1 || *P < 1)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: x is empty", op);
    if (*N > 65535)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: batch %lld over 65535", op, (long long)*N);
    return vkti_op_check_u32(c, op, vkti_tensor_numel(x));
}

int vkti_bcast_add_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *b)
{
    const char *op = "bcast_add", *variant;
    int64_t N = 0, P = 0, C = 0;
    int rc;
    if ((rc = variant_of(c, op, x, &variant)) || (rc = bcast_dims(c, op, x, &N, &P, &C)) ||
        (rc = vkti_op_check(c, op, "out", out, x->dtype, N * P * C)) ||
        (rc = vkti_op_check(c, op, "b", b, x->dtype, N * C)))
        return rc;
    vkti_pc_shape pc = {.N = (uint32_t)N, .P = (uint32_t)P, .C = (uint32_t)C};
    vkti_arg args[3] = {{out, VKTI_WRITE}, {x, VKTI_READ}, {b, VKTI_READ}};
    return run_rows(c, "bcast_add", variant, args, 3, &pc, sizeof pc, N * P);
}

int vkti_bcast_add_backward_b(vkti_cmd *c, const vkti_tensor *db, const vkti_tensor *dy)
{
    const char *op = "bcast_add_backward_b", *variant;
    int64_t N = 0, P = 0, C = 0;
    int rc;
    if ((rc = variant_of(c, op, dy, &variant)) || (rc = bcast_dims(c, op, dy, &N, &P, &C)) ||
        (rc = vkti_op_check(c, op, "db", db, VKTI_F32, N * C)))
        return rc;
    vkti_pc_shape pc = {.N = (uint32_t)N, .P = (uint32_t)P, .C = (uint32_t)C};
    vkti_arg args[2] = {{db, VKTI_WRITE}, {dy, VKTI_READ}};
    return vkti_op_run(c, "bcast_add_grad", variant, NULL, 0, args, 2, &pc, sizeof pc, (uint32_t)((C + 31) / 32),
                       (uint32_t)N, 1);
}

/* ---- timestep embedding ---------------------------------------------------------------- */

int vkti_timestep_embed_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *timesteps,
                                const vkti_temb_params *p)
{
    static const vkti_temb_params sd = {1, 0.0f, 10000.0f, 1.0f};
    const char *op = "timestep_embed", *variant;
    int rc;
    if (!p)
        p = &sd;
    if ((rc = variant_of(c, op, out, &variant)))
        return rc;
    if (out->ndim != 2)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "timestep_embed: out must be [N, dim] (has %d dims)", out->ndim);
    int64_t N = out->shape[0], dim = out->shape[1], half = dim / 2;
    if (!timesteps || !timesteps->block || (timesteps->dtype != VKTI_F32 && timesteps->dtype != VKTI_I32))
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "timestep_embed: timesteps must be an f32 or i32 tensor");
    if ((rc = vkti_op_check(c, op, "timesteps", timesteps, timesteps->dtype, N)) ||
        (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(out))))
        return rc;
    double max_period = p->max_period != 0.0f ? p->max_period : 10000.0, denom = (double)half - p->shift;
    if (dim < 2 || N < 1 || N > 65535 || denom == 0.0 || !(max_period > 0.0))
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL,
                         "timestep_embed: needs dim >= 2, 1 <= N <= 65535, half_dim != shift, max_period > 0 "
                         "(dim %lld, N %lld, shift %g, max_period %g)",
                         (long long)dim, (long long)N, (double)p->shift, max_period);
    vkti_pc_shape pc = {
        .N = (uint32_t)N, .C = (uint32_t)dim, .half_dim = (uint32_t)half,
        .flags = (p->flip_sin_to_cos ? VKTI_SHAPE_FLIP : 0u) | (timesteps->dtype == VKTI_I32 ? VKTI_SHAPE_T_I32 : 0u),
        .coef = (float)(-log(max_period) / denom),
        .scale = p->scale != 0.0f ? p->scale : 1.0f,
    };
    vkti_arg args[2] = {{out, VKTI_WRITE}, {timesteps, VKTI_READ}};
    return vkti_op_run(c, "timestep_embed", variant, NULL, 0, args, 2, &pc, sizeof pc, (uint32_t)((dim + 63) / 64),
                       (uint32_t)N, 1);
}

/* ---- token embedding ------------------------------------------------------------------- */

int vkti_embed_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *ids, const vkti_tensor *table,
                       const vkti_tensor *extra)
{
    const char *op = "embed", *variant;
    int rc;
    if ((rc = variant_of(c, op, table, &variant)))
        return rc;
    if (table->ndim != 2)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "embed: table must be [V, D] (has %d dims)", table->ndim);
    int64_t V = table->shape[0], D = table->shape[1], rows = vkti_tensor_numel(ids);
    int64_t E = extra ? vkti_tensor_numel(extra) / (D ? D : 1) : 0;
    if ((rc = vkti_op_check(c, op, "ids", ids, VKTI_I32, -1)) ||
        (rc = vkti_op_check(c, op, "out", out, table->dtype, rows * D)) ||
        (extra && (rc = vkti_op_check(c, op, "extra", extra, VKTI_F32, E * D))) ||
        (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(table))) || (rc = vkti_op_check_u32(c, op, rows * D)) ||
        (rc = vkti_op_check_u32(c, op, V + E)))
        return rc;
    if (last_dim(out) != D || (extra && last_dim(extra) != D))
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "embed: out and extra must end in D = %lld", (long long)D);
    if (V + E > INT32_MAX)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "embed: %lld ids do not fit i32", (long long)(V + E));
    /* A table over one binding's range is bound as two row ranges (views at an aligned row). */
    const vkti_device_info *info = vkti_gpu_info(vkti_cmd_gpu(c));
    uint64_t row_bytes = (uint64_t)D * vkti_dtype_size(table->dtype), range = info->max_storage_buffer_range;
    uint64_t align = info->min_storage_offset_alignment ? info->min_storage_offset_alignment : 1;
    int64_t split = V;
    vkti_tensor t0 = *table, t1 = *table;
    if (table->bytes > range) {
        split = (int64_t)(range / row_bytes);
        while (split > 0 && ((uint64_t)split * row_bytes) % align)
            split--;
        if (split < 1 || (uint64_t)(V - split) * row_bytes > range)
            return vkti_fail(diag_of(c), VKTI_E_UNSUPPORTED,
                             "embed: the table [%lld, %lld] %s is %.1f MiB, more than two bindings of this device's "
                             "maxStorageBufferRange (%.1f MiB); use f16 weights",
                             (long long)V, (long long)D, vkti_dtype_name(table->dtype),
                             (double)table->bytes / 1048576.0, (double)range / 1048576.0);
        int64_t s0[2] = {split, D}, s1[2] = {V - split, D};
        if ((rc = vkti_tensor_view(vkti_cmd_gpu(c), &t0, table, 0, 2, s0)) ||
            (rc = vkti_tensor_view(vkti_cmd_gpu(c), &t1, table, split * D, 2, s1)))
            return rc;
    }
    vkti_pc_shape pc = {.rows = (uint32_t)rows, .C = (uint32_t)D, .V = (uint32_t)V, .E = (uint32_t)E,
                        .first = (uint32_t)split};
    vkti_arg args[5] = {{out, VKTI_WRITE}, {ids, VKTI_READ}, {&t0, VKTI_READ}, {&t1, VKTI_READ},
                        {extra ? extra : &t0, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)rows, 1, g);
    return vkti_op_run(c, "embed_gather", variant, NULL, 0, args, 5, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_embed_backward(vkti_cmd *c, const vkti_tensor *d_extra, const vkti_tensor *ids, const vkti_tensor *d_out,
                        int64_t V, int accumulate)
{
    const char *op = "embed_backward", *variant;
    int rc;
    if ((rc = variant_of(c, op, d_out, &variant)))
        return rc;
    int64_t D = last_dim(d_out), rows = vkti_tensor_numel(ids), E = d_extra ? vkti_tensor_numel(d_extra) / (D ? D : 1) : 0;
    if ((rc = vkti_op_check(c, op, "ids", ids, VKTI_I32, -1)) ||
        (rc = vkti_op_check(c, op, "d_out", d_out, d_out->dtype, rows * D)) ||
        (rc = vkti_op_check(c, op, "d_extra", d_extra, VKTI_F32, E * D)) ||
        (rc = vkti_op_check_u32(c, op, rows * D)))
        return rc;
    if (D < 1 || E < 1 || last_dim(d_extra) != D || V < 0 || V + E > INT32_MAX || E > 65535)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL,
                         "embed_backward: d_extra must be [E, D] with 1 <= E <= 65535 and D = %lld the last "
                         "dimension of d_out; V %lld",
                         (long long)D, (long long)V);
    vkti_pc_shape pc = {.rows = (uint32_t)rows, .C = (uint32_t)D, .V = (uint32_t)V, .E = (uint32_t)E,
                        .flags = accumulate ? VKTI_SHAPE_ACCUMULATE : 0u};
    vkti_arg args[3] = {{d_extra, accumulate ? VKTI_RW : VKTI_WRITE}, {ids, VKTI_READ}, {d_out, VKTI_READ}};
    return vkti_op_run(c, "embed_scatter", variant, NULL, 0, args, 3, &pc, sizeof pc, (uint32_t)((D + 63) / 64),
                       (uint32_t)E, 1);
}
