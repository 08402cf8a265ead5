/* attention.c — dispatch of shaders/attention_fwd.comp, attention_delta.comp,
 * attention_bwd_kv.comp, attention_bwd_sum.comp and attention_bwd_q.comp (portable), and of
 * their tensor-core versions attention_fwd_cm.comp, attention_bwd_kv_cm.comp and
 * attention_bwd_q_cm.comp: shape checks, the choice between the two, tile sizes per head
 * dimension and shared-memory size (specialization constants), the split of the dK/dV pass and
 * the scratch it needs, and the order of the backward passes. */
#include "ops/attention.h"

#include <stdio.h>

#include "ops/op_common.h"
#include "pc_attention.h"

enum { KERNEL_FWD, KERNEL_BWD_KV, KERNEL_BWD_Q };

/* Most floats a thread may keep in register arrays (accumulators, score tiles, row statistics)
 * before registers spill on common GPUs; indices and staging come on top. */
#define ATTN_MAX_REGISTERS 96

/* Preferred threads per workgroup (between equally good tiles). */
#define ATTN_THREADS 128

/* Splitting the dK/dV query loop (plan_backward): workgroups to aim for (a large GPU's SMs or
 * CUs twice over), fewest query tiles per range, most bytes of f32 partials. */
#define ATTN_TARGET_GROUPS 256
#define ATTN_SPLIT_MIN_TILES 4
#define ATTN_SPLIT_MAX_BYTES (32ll << 20)

typedef struct attn_shape {
    int64_t batch, nq, nk, heads, dim;
} attn_shape;

/* Tensor-core kernels (attention_*_cm.comp): 4 subgroups of 32, fragments of 16x8x16, tiles as
 * the shaders define them (BR, BC, BK, BQ): the forward takes 64 queries a workgroup over key
 * tiles of 64 (32 past a padded head dimension of 96); dK/dV 64 keys over query tiles of 32; dQ
 * 64 queries over key tiles of 32. The head dimension is padded to a multiple of 16, one shader
 * variant each, up to these. */
#define ATTN_CM_MAX_DIM_FWD 160
#define ATTN_CM_MAX_DIM_BWD 96
#define ATTN_CM_FWD_QUERIES 64
#define ATTN_CM_KV_KEYS 64
#define ATTN_CM_KV_QUERIES 32
#define ATTN_CM_Q_QUERIES 64
#define ATTN_CM_Q_KEYS 32
/* dK/dV split target on the tensor-core path: its workgroups are fewer and larger than the
 * portable ones and a large GPU keeps several per multiprocessor */
#define ATTN_CM_TARGET_GROUPS 1024

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
 * or queries for dK/dV): TX threads along a row, each with TM rows, TN = cols / TX score columns
 * and TD = DP / TX output channels. Among the tiles whose shared memory (f32, the sums mirror the
 * shaders' declarations) fits the device and whose register arrays fit ATTN_MAX_REGISTERS, the
 * largest tile wins (fewest passes over K/V or Q, fewest barriers per FLOP); then the fewest
 * shared-memory loads per FMA of the inner products (with D's padding to DP counted as waste);
 * then the workgroup closest to ATTN_THREADS. */
static int pick_tiles(vkti_gpu *g, const char *op, int kernel, int64_t dim, uint32_t spec[6])
{
    static const uint32_t tiles[][2] = {{64, 64}, {64, 32}, {32, 64}, {32, 32}, {32, 16},
                                        {16, 32}, {16, 16}, {16, 8},  {8, 16},  {8, 8}};
    static const uint32_t txs[] = {4, 8, 16}, tms[] = {1, 2, 4, 8};
    const vkti_device_info *info = vkti_gpu_info(g);
    double best_cost = 0;
    uint32_t best_area = 0, best_dev = 0;
    int found = 0;
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        uint32_t rows = tiles[t][0], cols = tiles[t][1];
        uint32_t br = kernel == KERNEL_BWD_KV ? cols : rows, bc = kernel == KERNEL_BWD_KV ? rows : cols;
        for (size_t a = 0; a < sizeof txs / sizeof txs[0]; a++) {
            uint32_t tx = txs[a];
            if (cols % tx)
                continue;
            uint32_t dp = (uint32_t)(dim + tx - 1) / tx * tx, ld = dp + 1, td = dp / tx, tn = cols / tx;
            for (size_t b = 0; b < sizeof tms / sizeof tms[0]; b++) {
                uint32_t tm = tms[b], wg = rows / tms[b] * tx;
                if (rows % tm || wg < 64 || wg > 256 || wg > info->max_workgroup_invocations)
                    continue;
                /* per thread and tile: shared floats, register floats, shared loads and FMAs */
                double floats, regs, loads, fmas;
                switch (kernel) {
                case KERNEL_FWD: /* Qs, KVs, Ps, Red; S = Q K^T, O += P V */
                    floats = (double)br * ld + (double)bc * ld + (double)br * (bc + 1) + (double)br * tx;
                    regs = tm * td + tm * tn + 2.0 * tm;
                    loads = (double)dp * (tm + tn) + (double)bc * (tm + td);
                    fmas = (double)dp * tm * tn + (double)bc * tm * td;
                    break;
                case KERNEL_BWD_KV: /* Ks, Vs, Qs, dOs, Ps, dSs; S^T, dP^T, dV += P^T dO, dK += dS^T Q */
                    floats = 2.0 * bc * ld + 2.0 * br * ld + 2.0 * br * (bc + 1);
                    regs = 2.0 * tm * td + 2.0 * tm * tn + 2.0 * tn;
                    loads = (double)dp * 2 * (tm + tn) + (double)br * 2 * (tm + td);
                    fmas = 2.0 * dp * tm * tn + 2.0 * br * tm * td;
                    break;
                default: /* Qs, dOs, Ks, Vs, dSs; S, dP, dQ += dS K */
                    floats = 2.0 * br * ld + 2.0 * bc * ld + (double)br * (bc + 1);
                    regs = tm * td + 2.0 * tm * tn + 2.0 * tm;
                    loads = (double)dp * 2 * (tm + tn) + (double)bc * (tm + td);
                    fmas = 2.0 * dp * tm * tn + (double)bc * tm * td;
                    break;
                }
                if (floats * 4 > info->max_shared_memory || regs > ATTN_MAX_REGISTERS)
                    continue;
                double cost = loads / fmas * (double)dp / (double)dim;
                uint32_t area = rows * cols, dev = wg > ATTN_THREADS ? wg - ATTN_THREADS : ATTN_THREADS - wg;
                if (found && (area < best_area || (area == best_area && (cost > best_cost ||
                                                                         (cost == best_cost && dev >= best_dev)))))
                    continue;
                uint32_t chosen[6] = {wg, br, bc, dp, tx, tm};
                for (int i = 0; i < 6; i++)
                    spec[i] = chosen[i];
                best_area = area;
                best_cost = cost;
                best_dev = dev;
                found = 1;
            }
        }
    }
    if (found)
        return VKTI_OK;
    return vkti_fail(vkti_gpu_diag(g), VKTI_E_UNSUPPORTED,
                     "%s: no tile for head dimension %lld fits this device's %u bytes of shared memory", op,
                     (long long)dim, info->max_shared_memory);
}

/* Bytes of shared memory a tensor-core kernel declares for padded head dimension dp (as the
 * shaders' declarations: uvec4 slots of 16 bytes, head-vector rows of dp / 8 + 1 slots, per
 * subgroup regions of 16 rows of f32 tiles). */
static uint32_t cm_shared_bytes(int kernel, uint32_t dp)
{
    uint32_t ks = dp / 8 + 1;
    switch (kernel) {
    case KERNEL_FWD: {
        uint32_t bc = dp <= 96 ? 64 : 32;
        return 16 * (2 * bc * ks + 4 * 16 * (bc / 4 + 1));
    }
    case KERNEL_BWD_KV: /* Q and dO tiles, lse and delta, S^T and dP^T regions */
        return 16 * (2 * ATTN_CM_KV_QUERIES * ks + 4 * 2 * 16 * (ATTN_CM_KV_QUERIES / 4 + 1)) +
               4 * 2 * ATTN_CM_KV_QUERIES;
    default: /* K and V tiles, S and dP regions */
        return 16 * (2 * ATTN_CM_Q_KEYS * ks + 4 * 2 * 16 * (ATTN_CM_Q_KEYS / 4 + 1));
    }
}

/* The padded head dimension of the tensor-core kernel, or 0 where the portable one runs: f16
 * storage, D a multiple of 8 (16-byte loads and stores) up to the kernel's variants, on a device
 * with the f16 16x8x16 cooperative-matrix shape, 32-wide subgroups with shuffles, the Vulkan
 * memory model (as matmul_cm) and the shared memory the kernel declares. */
static uint32_t cm_dim(vkti_gpu *g, int kernel, vkti_dtype dt, int64_t dim)
{
    const vkti_device_info *info = vkti_gpu_info(g);
    uint32_t dp = (uint32_t)(dim + 15) / 16 * 16;
    if (dt != VKTI_F16 || dim % 8 || dim > (kernel == KERNEL_FWD ? ATTN_CM_MAX_DIM_FWD : ATTN_CM_MAX_DIM_BWD))
        return 0;
    if (!info->coopmat_nv_f16_16x8x16 || info->subgroup_size != 32 || !info->subgroup_shuffle || !info->memory_model ||
        cm_shared_bytes(kernel, dp) > info->max_shared_memory)
        return 0;
    return dp;
}

static int tile_grid(vkti_gpu *g, const char *op, int64_t groups, uint32_t *gx)
{
    if (groups > vkti_gpu_info(g)->max_workgroup_count[0])
        return vkti_fail(vkti_gpu_diag(g), VKTI_E_UNSUPPORTED, "%s: %lld token tiles exceed the device's workgroup grid",
                         op, (long long)groups);
    *gx = (uint32_t)groups;
    return VKTI_OK;
}

/* How the backward runs on this device for storage type dt: kernels and tiles, grids, and where
 * its scratch parts lie (f32 elements): delta [B, H, Nq] first, then, when the query side is
 * split, the partial dK and dV sums [splits][2][B * Nk * H * D] at an offset aligned for binding. */
typedef struct bwd_plan {
    uint32_t spec_kv[6], spec_q[6];
    uint32_t dp_kv, dp_q; /* padded head dimension of the tensor-core kernels; 0: portable */
    uint32_t gx_kv, gx_q, splits, split_tiles;
    int64_t delta_elems, partial_first, partial_elems, scratch_elems;
} bwd_plan;

static int plan_backward(vkti_gpu *g, const char *op, const attn_shape *s, vkti_dtype dt, bwd_plan *p)
{
    const vkti_device_info *info = vkti_gpu_info(g);
    int rc;
    p->dp_kv = cm_dim(g, KERNEL_BWD_KV, dt, s->dim);
    p->dp_q = cm_dim(g, KERNEL_BWD_Q, dt, s->dim);
    if ((!p->dp_kv && (rc = pick_tiles(g, op, KERNEL_BWD_KV, s->dim, p->spec_kv))) ||
        (!p->dp_q && (rc = pick_tiles(g, op, KERNEL_BWD_Q, s->dim, p->spec_q))))
        return rc;
    /* tiles: queries of a dQ workgroup; keys of a dK/dV workgroup and queries of its steps */
    int64_t q_rows = p->dp_q ? ATTN_CM_Q_QUERIES : p->spec_q[1];
    int64_t kv_keys = p->dp_kv ? ATTN_CM_KV_KEYS : p->spec_kv[2], kv_queries = p->dp_kv ? ATTN_CM_KV_QUERIES : p->spec_kv[1];
    if ((rc = tile_grid(g, op, (s->nq + q_rows - 1) / q_rows, &p->gx_q)))
        return rc;
    /* dK/dV makes one workgroup per key tile and head; cross-attention over 77 keys makes only
     * 2-3 per head. Then the query tiles are split into ranges of at least ATTN_SPLIT_MIN_TILES
     * (each range stages its K and V tiles again and writes f32 partials), up to about
     * ATTN_TARGET_GROUPS workgroups (ATTN_CM_TARGET_GROUPS on tensor cores) and
     * ATTN_SPLIT_MAX_BYTES of partials. */
    int64_t ktiles = (s->nk + kv_keys - 1) / kv_keys;
    int64_t qtiles = (s->nq + kv_queries - 1) / kv_queries;
    int64_t groups = ktiles * s->heads * s->batch, count = s->batch * s->nk * s->heads * s->dim;
    int64_t target = p->dp_kv ? ATTN_CM_TARGET_GROUPS : ATTN_TARGET_GROUPS;
    int64_t splits = (target + groups - 1) / groups;
    if (splits > qtiles / ATTN_SPLIT_MIN_TILES)
        splits = qtiles / ATTN_SPLIT_MIN_TILES;
    while (splits > 1 && splits * 2 * count * 4 > ATTN_SPLIT_MAX_BYTES)
        splits--;
    if (splits < 1)
        splits = 1;
    int64_t per = (qtiles + splits - 1) / splits;
    splits = (qtiles + per - 1) / per; /* no empty range */
    p->splits = (uint32_t)splits;
    p->split_tiles = (uint32_t)per;
    p->delta_elems = s->batch * s->heads * s->nq;
    int64_t align = (int64_t)(info->min_storage_offset_alignment / 4 ? info->min_storage_offset_alignment / 4 : 1);
    p->partial_first = splits > 1 ? (p->delta_elems + align - 1) / align * align : 0;
    p->partial_elems = splits > 1 ? splits * 2 * count : 0;
    p->scratch_elems = splits > 1 ? p->partial_first + p->partial_elems : p->delta_elems;
    if (p->scratch_elems > (int64_t)UINT32_MAX)
        return vkti_fail(vkti_gpu_diag(g), VKTI_E_INTERNAL, "%s: scratch of %lld elements exceeds 32-bit indexing", op,
                         (long long)p->scratch_elems);
    return tile_grid(g, op, ktiles * splits, &p->gx_kv);
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
    vkti_gpu *g = vkti_cmd_gpu(c);
    attn_shape s;
    uint32_t spec[6], gx = 0, dp;
    int rc;
    if ((rc = check_qkv(c, op, q, k, v, heads, &s)) ||
        (rc = check_like(c, op, "out", out, q->dtype, s.heads, s.batch, s.nq, s.dim)) ||
        (lse && (rc = vkti_op_check(c, op, "lse", lse, VKTI_F32, s.batch * s.heads * s.nq))))
        return rc;
    dp = cm_dim(g, KERNEL_FWD, q->dtype, s.dim);
    if (!dp && (rc = pick_tiles(g, op, KERNEL_FWD, s.dim, spec)))
        return rc;
    int64_t rows = dp ? ATTN_CM_FWD_QUERIES : spec[1];
    if ((rc = tile_grid(g, op, (s.nq + rows - 1) / rows, &gx)))
        return rc;
    vkti_pc_attention pc = push_of(&s, scale, causal);
    if (lse)
        pc.flags |= VKTI_ATTN_LSE;
    /* without lse, out fills the binding; the shader does not touch it then */
    vkti_arg args[5] = {{out, VKTI_WRITE}, {lse ? lse : out, VKTI_WRITE}, {q, VKTI_READ}, {k, VKTI_READ}, {v, VKTI_READ}};
    if (dp) {
        char variant[16];
        snprintf(variant, sizeof variant, "d%u", dp);
        return vkti_op_run(c, "attention_fwd_cm", variant, NULL, 0, args, 5, &pc, sizeof pc, gx, (uint32_t)s.heads,
                           (uint32_t)s.batch);
    }
    return vkti_op_run(c, "attention_fwd", vkti_op_variant(q->dtype), spec, 6, args, 5, &pc, sizeof pc, gx,
                       (uint32_t)s.heads, (uint32_t)s.batch);
}

int vkti_attention_backward_scratch(vkti_gpu *g, int64_t batch, int64_t nq, int64_t nk, int heads, int64_t dim,
                                    int64_t *elements)
{
    const char *op = "attention_backward_scratch";
    attn_shape s = {batch, nq, nk, heads, dim};
    bwd_plan p;
    *elements = 0;
    if (batch < 1 || nq < 1 || nk < 1 || heads < 1 || dim < 1 || dim > VKTI_ATTENTION_MAX_DIM)
        return vkti_fail(vkti_gpu_diag(g), VKTI_E_INTERNAL, "%s: B %lld, Nq %lld, Nk %lld, %d heads of %lld", op,
                         (long long)batch, (long long)nq, (long long)nk, heads, (long long)dim);
    /* the larger of the plans for f32 and f16 storage (the tensor-core path splits differently) */
    int rc = plan_backward(g, op, &s, VKTI_F32, &p);
    int64_t n = p.scratch_elems;
    if (!rc && !(rc = plan_backward(g, op, &s, VKTI_F16, &p)) && p.scratch_elems > n)
        n = p.scratch_elems;
    *elements = rc ? 0 : n;
    return rc;
}

int vkti_attention_backward(vkti_cmd *c, const vkti_tensor *dq, const vkti_tensor *dk, const vkti_tensor *dv,
                            const vkti_tensor *scratch, const vkti_tensor *d_out, const vkti_tensor *q,
                            const vkti_tensor *k, const vkti_tensor *v, const vkti_tensor *out,
                            const vkti_tensor *lse, int heads, float scale, int causal)
{
    const char *op = "attention_backward";
    vkti_gpu *g = vkti_cmd_gpu(c);
    attn_shape s;
    bwd_plan p;
    int rc;
    if ((rc = check_qkv(c, op, q, k, v, heads, &s)) || (rc = plan_backward(g, op, &s, q->dtype, &p)))
        return rc;
    vkti_dtype dt = q->dtype;
    int64_t rows = s.batch * s.heads * s.nq;
    if ((rc = check_like(c, op, "out", out, dt, s.heads, s.batch, s.nq, s.dim)) ||
        (rc = check_like(c, op, "d_out", d_out, dt, s.heads, s.batch, s.nq, s.dim)) ||
        (rc = check_like(c, op, "dq", dq, dt, s.heads, s.batch, s.nq, s.dim)) ||
        (rc = check_like(c, op, "dk", dk, dt, s.heads, s.batch, s.nk, s.dim)) ||
        (rc = check_like(c, op, "dv", dv, dt, s.heads, s.batch, s.nk, s.dim)) ||
        (rc = vkti_op_check(c, op, "lse", lse, VKTI_F32, rows)) ||
        (rc = vkti_op_check(c, op, "scratch", scratch, VKTI_F32, -1)) || (rc = vkti_op_check_u32(c, op, rows * 8)))
        return rc;
    if (vkti_tensor_numel(scratch) < p.scratch_elems)
        return vkti_fail(vkti_gpu_diag(g), VKTI_E_INTERNAL,
                         "%s: scratch has %lld elements, vkti_attention_backward_scratch asks for %lld", op,
                         (long long)vkti_tensor_numel(scratch), (long long)p.scratch_elems);
    vkti_tensor delta, partial;
    if ((rc = vkti_tensor_view(g, &delta, scratch, 0, 1, &p.delta_elems)) ||
        (p.splits > 1 && (rc = vkti_tensor_view(g, &partial, scratch, p.partial_first, 1, &p.partial_elems))))
        return rc;
    vkti_pc_attention pc = push_of(&s, scale, causal);
    pc.splits = p.splits;
    pc.split_tiles = p.split_tiles;
    pc.count = (uint32_t)(s.batch * s.nk * s.heads * s.dim);
    const char *variant = vkti_op_variant(dt);

    /* delta = rowsum(d_out * out): 8 invocations per row of D (attention_delta.comp) */
    uint32_t g1[3];
    vkti_cmd_grid_1d(c, (uint64_t)rows * 8u, 256, g1);
    vkti_arg dargs[3] = {{&delta, VKTI_WRITE}, {d_out, VKTI_READ}, {out, VKTI_READ}};
    if ((rc = vkti_op_run(c, "attention_delta", variant, NULL, 0, dargs, 3, &pc, sizeof pc, g1[0], g1[1], g1[2])))
        return rc;

    /* dK and dV: one workgroup per key tile and query range; split ranges write partials that a
     * last pass adds up. Without a split the partial binding is never touched; it gets dk, which
     * this pass writes anyway: binding delta there (read-only) made the synchronization validation
     * see a write to delta — the shader declares the binding writeonly — and flag the dQ pass's
     * read of it (a false hazard: nothing was written, but a tool that cannot tell is no use). */
    int split = p.splits > 1;
    vkti_arg kvargs[9] = {{dk, VKTI_WRITE},    {dv, VKTI_WRITE},   {split ? &partial : dk, VKTI_WRITE},
                          {q, VKTI_READ},      {k, VKTI_READ},     {v, VKTI_READ},
                          {d_out, VKTI_READ},  {lse, VKTI_READ},   {&delta, VKTI_READ}};
    char cm_kv[16], cm_q[16];
    snprintf(cm_kv, sizeof cm_kv, "d%u", p.dp_kv);
    snprintf(cm_q, sizeof cm_q, "d%u", p.dp_q);
    if ((rc = p.dp_kv ? vkti_op_run(c, "attention_bwd_kv_cm", cm_kv, NULL, 0, kvargs, 9, &pc, sizeof pc, p.gx_kv,
                                    (uint32_t)s.heads, (uint32_t)s.batch)
                      : vkti_op_run(c, "attention_bwd_kv", variant, p.spec_kv, 6, kvargs, 9, &pc, sizeof pc, p.gx_kv,
                                    (uint32_t)s.heads, (uint32_t)s.batch)))
        return rc;
    if (split) {
        vkti_cmd_grid_1d(c, pc.count, 256, g1);
        vkti_arg sargs[3] = {{dk, VKTI_WRITE}, {dv, VKTI_WRITE}, {&partial, VKTI_READ}};
        if ((rc = vkti_op_run(c, "attention_bwd_sum", variant, NULL, 0, sargs, 3, &pc, sizeof pc, g1[0], g1[1], g1[2])))
            return rc;
    }

    /* dQ: one workgroup per query tile, looping over the key tiles */
    vkti_arg qargs[7] = {{dq, VKTI_WRITE}, {q, VKTI_READ},      {k, VKTI_READ},     {v, VKTI_READ},
                         {d_out, VKTI_READ}, {lse, VKTI_READ}, {&delta, VKTI_READ}};
    if (p.dp_q)
        return vkti_op_run(c, "attention_bwd_q_cm", cm_q, NULL, 0, qargs, 7, &pc, sizeof pc, p.gx_q, (uint32_t)s.heads,
                           (uint32_t)s.batch);
    return vkti_op_run(c, "attention_bwd_q", variant, p.spec_q, 6, qargs, 7, &pc, sizeof pc, p.gx_q, (uint32_t)s.heads,
                       (uint32_t)s.batch);
}
