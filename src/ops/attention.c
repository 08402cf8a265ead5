/* attention.c — dispatch of shaders/attention_fwd.comp, attention_delta.comp,
 * attention_bwd_kv.comp and attention_bwd_q.comp: shape checks, tile sizes per head dimension and
 * shared-memory size (specialization constants), and the order of the backward passes. */
#include "ops/attention.h"

#include <stdio.h>

#include "ops/op_common.h"
#include "pc_attention.h"

enum { KERNEL_FWD, KERNEL_BWD_KV, KERNEL_BWD_Q };

/* Most f32 accumulators a thread may hold (TM x TD, twice for dK and dV) before registers spill
 * on common GPUs (the score tiles and staging indices come on top). */
#define ATTN_MAX_ACCUMULATORS 64

/* Target threads per workgroup; a tile's row count sets TM = rows * TX / this. */
#define ATTN_THREADS 128

typedef struct attn_shape {
    int64_t batch, nq, nk, heads, dim;
} attn_shape;

static vkti_diag *diag_of(vkti_cmd *c) { return vkti_gpu_diag(vkti_cmd_gpu(c)); }

static void shape_string(const vkti_tensor *t, char *buf, size_t size)
{
    int len = 0;
    buf[0] = 0;
    for (int i = 0; i < t->ndim && len >= 0 && (size_t)len < size; i++)
        len += snprintf(buf + len, size - (size_t)len, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
}

/* batch, tokens and head dimension of a [B, N, H, D] or [B, N, H*D] tensor */
static int head_dims(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t, int64_t heads,
                     int64_t *batch, int64_t *n, int64_t *dim)
{
    if (!t || !t->block)
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: tensor %s is missing", op, name);
    if (t->ndim == 4 && t->shape[2] == heads) {
        *dim = t->shape[3];
    } else if (t->ndim == 3 && t->shape[2] % heads == 0) {
        *dim = t->shape[2] / heads;
    } else {
        char s[96];
        shape_string(t, s, sizeof s);
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: tensor %s is [%s], expected [B, N, %lld, D] or [B, N, %lld*D]",
                         op, name, s, (long long)heads, (long long)heads);
    }
    *batch = t->shape[0];
    *n = t->shape[1];
    return VKTI_OK;
}

/* Fails unless t is a [B, N, H, D] tensor of dtype `dtype` with the given B, N, D. */
static int check_like(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t, vkti_dtype dtype,
                      int64_t heads, int64_t batch, int64_t n, int64_t dim)
{
    int64_t b, tn, td;
    int rc = head_dims(c, op, name, t, heads, &b, &tn, &td);
    if (rc)
        return rc;
    if (b != batch || tn != n || td != dim) {
        char s[96];
        shape_string(t, s, sizeof s);
        return vkti_fail(diag_of(c), VKTI_E_INTERNAL, "%s: tensor %s is [%s], expected [%lld, %lld, %lld, %lld]", op,
                         name, s, (long long)batch, (long long)n, (long long)heads, (long long)dim);
    }
    return vkti_op_check(c, op, name, t, dtype, -1);
}

/* Shapes of q, k, v (and the sizes every kernel needs to index and grid them). */
static int check_qkv(vkti_cmd *c, const char *op, const vkti_tensor *q, const vkti_tensor *k, const vkti_tensor *v,
                     int heads, attn_shape *s)
{
    vkti_diag *d = diag_of(c);
    if (heads < 1)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: heads is %d", op, heads);
    int64_t kb, kd;
    int rc;
    s->heads = heads;
    if ((rc = head_dims(c, op, "q", q, heads, &s->batch, &s->nq, &s->dim)) ||
        (rc = head_dims(c, op, "k", k, heads, &kb, &s->nk, &kd)))
        return rc;
    if (!vkti_op_variant(q->dtype))
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: unsupported dtype %s (f32 or f16)", op, vkti_dtype_name(q->dtype));
    if ((rc = check_like(c, op, "k", k, q->dtype, heads, s->batch, s->nk, s->dim)) ||
        (rc = check_like(c, op, "v", v, q->dtype, heads, s->batch, s->nk, s->dim)))
        return rc;
    if (s->batch < 1 || s->nq < 1 || s->nk < 1 || s->dim < 1)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: empty attention (B %lld, Nq %lld, Nk %lld, D %lld)", op,
                         (long long)s->batch, (long long)s->nq, (long long)s->nk, (long long)s->dim);
    if (s->dim > VKTI_ATTENTION_MAX_DIM)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: head dimension %lld over %d", op, (long long)s->dim,
                         VKTI_ATTENTION_MAX_DIM);
    if ((rc = vkti_op_check_u32(c, op, vkti_tensor_numel(q))) || (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(k))))
        return rc;
    const vkti_device_info *info = vkti_gpu_info(vkti_cmd_gpu(c));
    if (s->heads > info->max_workgroup_count[1] || s->batch > info->max_workgroup_count[2])
        return vkti_fail(d, VKTI_E_UNSUPPORTED, "%s: %lld heads x batch %lld exceed the device's workgroup grid", op,
                         (long long)s->heads, (long long)s->batch);
    return VKTI_OK;
}

/* Tile sizes for one kernel: spec = {WG, BR, BC, DP, TX, TM} (attention_common.glsl). The
 * thread grid covers a tile of `rows` (queries, or keys for dK/dV) by `cols` score columns (keys,
 * or queries for dK/dV) split over TX threads. The largest tile whose shared memory (f32) fits
 * the device and whose accumulators fit registers wins; TX is 16 when it divides D (or D is
 * large), else 8, so D is padded as little as possible. The shared-memory sums mirror the
 * shaders' declarations. */
static int pick_tiles(vkti_cmd *c, const char *op, int kernel, int64_t dim, uint32_t spec[6])
{
    static const uint32_t tiles[][2] = {{64, 64}, {64, 32}, {32, 64}, {32, 32}, {32, 16},
                                        {16, 32}, {16, 16}, {16, 8},  {8, 16},  {8, 8}};
    const vkti_device_info *info = vkti_gpu_info(vkti_cmd_gpu(c));
    uint32_t pref = (dim % 16 == 0 || dim > 48) ? 16 : 8;
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        uint32_t rows = tiles[t][0], cols = tiles[t][1];
        for (int w = 0; w < 2; w++) {
            uint32_t tx = w == 0 ? pref : 24 - pref;
            if (cols % tx)
                continue;
            uint32_t dp = (uint32_t)(dim + tx - 1) / tx * tx, ld = dp + 1;
            uint32_t tm = rows * tx / ATTN_THREADS ? rows * tx / ATTN_THREADS : 1;
            uint32_t br = kernel == KERNEL_BWD_KV ? cols : rows, bc = kernel == KERNEL_BWD_KV ? rows : cols;
            uint64_t floats, accs = (uint64_t)tm * (dp / tx);
            switch (kernel) {
            case KERNEL_FWD: /* Qs, KVs, Ps, Red */
                floats = (uint64_t)br * ld + (uint64_t)bc * ld + (uint64_t)br * (bc + 1) + (uint64_t)br * tx;
                break;
            case KERNEL_BWD_KV: /* Ks, Vs, Qs, dOs, Ps, dSs */
                floats = 2ull * bc * ld + 2ull * br * ld + 2ull * br * (bc + 1);
                accs *= 2;
                break;
            default: /* Qs, dOs, Ks, Vs, dSs */
                floats = 2ull * br * ld + 2ull * bc * ld + (uint64_t)br * (bc + 1);
                break;
            }
            if (floats * 4 > info->max_shared_memory || accs > ATTN_MAX_ACCUMULATORS)
                continue;
            uint32_t chosen[6] = {rows / tm * tx, br, bc, dp, tx, tm};
            for (int i = 0; i < 6; i++)
                spec[i] = chosen[i];
            return VKTI_OK;
        }
    }
    return vkti_fail(diag_of(c), VKTI_E_UNSUPPORTED,
                     "%s: no tile for head dimension %lld fits this device's %u bytes of shared memory", op,
                     (long long)dim, info->max_shared_memory);
}

static int tile_grid(vkti_cmd *c, const char *op, int64_t n, uint32_t tile, uint32_t *gx)
{
    int64_t groups = (n + tile - 1) / tile;
    if (groups > vkti_gpu_info(vkti_cmd_gpu(c))->max_workgroup_count[0])
        return vkti_fail(diag_of(c), VKTI_E_UNSUPPORTED, "%s: %lld tokens exceed the device's workgroup grid", op,
                         (long long)n);
    *gx = (uint32_t)groups;
    return VKTI_OK;
}

static vkti_pc_attention push_of(const attn_shape *s, float scale, int causal)
{
    vkti_pc_attention pc = {
        .nq = (uint32_t)s->nq, .nk = (uint32_t)s->nk, .heads = (uint32_t)s->heads, .dim = (uint32_t)s->dim,
        .flags = causal ? VKTI_ATTN_CAUSAL : 0u,
        .rows = (uint32_t)(s->batch * s->nq * s->heads),
        .scale = scale,
        .scale_log2 = scale * 1.4426950408889634f,
    };
    return pc;
}

int vkti_attention_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *lse, const vkti_tensor *q,
                           const vkti_tensor *k, const vkti_tensor *v, int heads, float scale, int causal)
{
    const char *op = "attention_forward";
    attn_shape s;
    uint32_t spec[6], gx = 0;
    int rc;
    if ((rc = check_qkv(c, op, q, k, v, heads, &s)) ||
        (rc = check_like(c, op, "out", out, q->dtype, s.heads, s.batch, s.nq, s.dim)) ||
        (lse && (rc = vkti_op_check(c, op, "lse", lse, VKTI_F32, s.batch * s.heads * s.nq))) ||
        (rc = pick_tiles(c, op, KERNEL_FWD, s.dim, spec)) || (rc = tile_grid(c, op, s.nq, spec[1], &gx)))
        return rc;
    vkti_pc_attention pc = push_of(&s, scale, causal);
    if (lse)
        pc.flags |= VKTI_ATTN_LSE;
    /* without lse, out fills the binding; the shader does not touch it then */
    vkti_arg args[5] = {{out, VKTI_WRITE}, {lse ? lse : out, VKTI_WRITE}, {q, VKTI_READ}, {k, VKTI_READ}, {v, VKTI_READ}};
    return vkti_op_run(c, "attention_fwd", vkti_op_variant(q->dtype), spec, 6, args, 5, &pc, sizeof pc, gx,
                       (uint32_t)s.heads, (uint32_t)s.batch);
}

int vkti_attention_backward(vkti_cmd *c, const vkti_tensor *dq, const vkti_tensor *dk, const vkti_tensor *dv,
                            const vkti_tensor *delta, const vkti_tensor *d_out, const vkti_tensor *q,
                            const vkti_tensor *k, const vkti_tensor *v, const vkti_tensor *out,
                            const vkti_tensor *lse, int heads, float scale, int causal)
{
    const char *op = "attention_backward";
    attn_shape s;
    uint32_t spec_kv[6], spec_q[6], gkv = 0, gq = 0;
    int rc;
    if ((rc = check_qkv(c, op, q, k, v, heads, &s)))
        return rc;
    vkti_dtype dt = q->dtype;
    int64_t rows = s.batch * s.heads * s.nq;
    if ((rc = check_like(c, op, "out", out, dt, s.heads, s.batch, s.nq, s.dim)) ||
        (rc = check_like(c, op, "d_out", d_out, dt, s.heads, s.batch, s.nq, s.dim)) ||
        (rc = check_like(c, op, "dq", dq, dt, s.heads, s.batch, s.nq, s.dim)) ||
        (rc = check_like(c, op, "dk", dk, dt, s.heads, s.batch, s.nk, s.dim)) ||
        (rc = check_like(c, op, "dv", dv, dt, s.heads, s.batch, s.nk, s.dim)) ||
        (rc = vkti_op_check(c, op, "lse", lse, VKTI_F32, rows)) ||
        (rc = vkti_op_check(c, op, "delta", delta, VKTI_F32, rows)) ||
        (rc = pick_tiles(c, op, KERNEL_BWD_KV, s.dim, spec_kv)) || (rc = tile_grid(c, op, s.nk, spec_kv[2], &gkv)) ||
        (rc = pick_tiles(c, op, KERNEL_BWD_Q, s.dim, spec_q)) || (rc = tile_grid(c, op, s.nq, spec_q[1], &gq)) ||
        (rc = vkti_op_check_u32(c, op, rows * 8)))
        return rc;
    vkti_pc_attention pc = push_of(&s, scale, causal);
    const char *variant = vkti_op_variant(dt);

    /* delta = rowsum(d_out * out): 8 invocations per row of D (attention_delta.comp) */
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)rows * 8u, 256, g);
    vkti_arg dargs[3] = {{delta, VKTI_WRITE}, {d_out, VKTI_READ}, {out, VKTI_READ}};
    if ((rc = vkti_op_run(c, "attention_delta", variant, NULL, 0, dargs, 3, &pc, sizeof pc, g[0], g[1], g[2])))
        return rc;

    /* dK and dV: one workgroup per key tile, looping over the query tiles */
    vkti_arg kvargs[8] = {{dk, VKTI_WRITE}, {dv, VKTI_WRITE}, {q, VKTI_READ},   {k, VKTI_READ},
                          {v, VKTI_READ},   {d_out, VKTI_READ}, {lse, VKTI_READ}, {delta, VKTI_READ}};
    if ((rc = vkti_op_run(c, "attention_bwd_kv", variant, spec_kv, 6, kvargs, 8, &pc, sizeof pc, gkv,
                          (uint32_t)s.heads, (uint32_t)s.batch)))
        return rc;

    /* dQ: one workgroup per query tile, looping over the key tiles */
    vkti_arg qargs[7] = {{dq, VKTI_WRITE}, {q, VKTI_READ}, {k, VKTI_READ},   {v, VKTI_READ},
                         {d_out, VKTI_READ}, {lse, VKTI_READ}, {delta, VKTI_READ}};
    return vkti_op_run(c, "attention_bwd_q", variant, spec_q, 6, qargs, 7, &pc, sizeof pc, gq, (uint32_t)s.heads,
                       (uint32_t)s.batch);
}
