/* bench_ops.c — `vkti bench ops`: device time of matmul, conv2d and fused attention (forward and
 * backward) at Stable Diffusion shapes in fp16 and fp32 storage, and of buffer copies, from
 * timestamp queries: each timed run records `reps` back-to-back dispatches between two
 * timestamps; the median over `runs` is reported. */
#include "api/bench_internal.h"
#include "api/ctx_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"

typedef struct mm_shape { int64_t M, N, K; const char *what; } mm_shape;

/* M = tokens (64x64 latent = 4096), N = output channels, K = input channels (x9 for 3x3 convs) */
static const mm_shape FULL[] = {
    {4096, 320, 320, "attn proj 64x64"},
    {4096, 320, 2880, "conv3x3 320 64x64"},
    {4096, 1280, 2880, "4096x1280x2880"},
    {1024, 640, 5760, "conv3x3 640 32x32"},
    {4096, 2560, 320, "geglu proj 64x64"},
};
static const mm_shape QUICK[] = {
    {1024, 320, 320, "attn proj 32x32"},
    {1024, 320, 2880, "conv3x3 320 32x32"},
};

/* NHWC convolutions of the UNet at 512x512 (64x64 latent), batch 1 */
typedef struct conv_shape { int64_t N, H, W, Cin, Cout; int k, stride, pad; const char *what; } conv_shape;
static const conv_shape CONV_FULL[] = {
    {1, 64, 64, 320, 320, 3, 1, 1, "UNet 320 64x64"},
    {1, 64, 64, 320, 320, 3, 2, 1, "UNet downsample 64x64"},
    {1, 32, 32, 640, 640, 3, 1, 1, "UNet 640 32x32"},
    {1, 8, 8, 1280, 1280, 3, 1, 1, "UNet 1280 8x8"},
};
static const conv_shape CONV_QUICK[] = {
    {1, 32, 32, 320, 320, 3, 1, 1, "320 32x32"},
};

typedef struct mm_work { vkti_tensor a, w, c; } mm_work;

static int record_mm(vkti_cmd *c, void *user)
{
    mm_work *w = user;
    vkti_matmul_params p = {.trans_b = 1};
    return vkti_matmul_forward(c, &w->c, &w->a, &w->w, NULL, &p);
}

typedef struct conv_work { vkti_tensor x, w, y; vkti_conv2d_params p; int backward; } conv_work;

static int record_conv(vkti_cmd *c, void *user)
{
    conv_work *w = user;
    return w->backward ? vkti_conv2d_backward(c, &w->x, &w->y, &w->w, &w->p, 0)
                       : vkti_conv2d_forward(c, &w->y, &w->x, &w->w, NULL, NULL, &w->p);
}

typedef struct copy_work { vkti_tensor dst, src; int shader; } copy_work;

static int record_copy(vkti_cmd *c, void *user)
{
    copy_work *w = user;
    return w->shader ? vkti_scale_forward(c, &w->dst, &w->src, 1.0f, 0.0f) : vkti_cmd_copy(c, &w->dst, &w->src);
}

/* attention: B, heads, Nq, Nk, head dim (SD 1.5 at a 64x64 latent: 8 heads of 40; CLIP: 12 of 64) */
typedef struct attn_bench_shape { int64_t batch, heads, nq, nk, dim; int causal; const char *what; } attn_bench_shape;
static const attn_bench_shape ATTN_FULL[] = {
    {1, 8, 4096, 4096, 40, 0, "self 64x64"},
    {1, 8, 4096, 77, 40, 0, "cross 64x64"},
    {1, 8, 1024, 1024, 80, 0, "self 32x32"},
    {1, 8, 256, 256, 160, 0, "self 16x16"},
    {1, 12, 77, 77, 64, 1, "CLIP causal"},
};
static const attn_bench_shape ATTN_QUICK[] = {
    {1, 8, 256, 256, 40, 0, "self 16x16"},
    {1, 8, 256, 77, 40, 0, "cross 16x16"},
};

typedef struct attn_work {
    vkti_tensor q, k, v, out, lse, dout, dq, dk, dv, scratch;
    const attn_bench_shape *s;
} attn_work;

static int record_attn_fwd(vkti_cmd *c, void *user)
{
    attn_work *w = user;
    return vkti_attention_forward(c, &w->out, &w->lse, &w->q, &w->k, &w->v, (int)w->s->heads,
                                  1.0f / sqrtf((float)w->s->dim), w->s->causal);
}

static int record_attn_bwd(vkti_cmd *c, void *user)
{
    attn_work *w = user;
    return vkti_attention_backward(c, &w->dq, &w->dk, &w->dv, &w->scratch, &w->dout, &w->q, &w->k, &w->v, &w->out,
                                   &w->lse, (int)w->s->heads, 1.0f / sqrtf((float)w->s->dim), w->s->causal);
}

/* Forward, then backward on the forward's out and lse. FLOPs: 4 B H Nq Nk D for the forward
 * (halved when causal), 2.5 times that for the backward (its five products against two; the
 * recomputation of P is not counted), as FlashAttention reports them. */
/* conv2d forward and input-gradient backward at the UNet's shapes */
static int bench_conv(bench *b, vkti_arena *arena, int quick, vkti_bench_row **rows, int *count)
{
    int rc = VKTI_OK;
    vkti_dtype types[2] = {VKTI_F16, VKTI_F32};
    const conv_shape *convs = quick ? CONV_QUICK : CONV_FULL;
    int nconvs = quick ? (int)(sizeof CONV_QUICK / sizeof CONV_QUICK[0]) : (int)(sizeof CONV_FULL / sizeof CONV_FULL[0]);
    for (int ti = 0; ti < 2 && !rc; ti++) {
        if (types[ti] == VKTI_F16 && !vkti_gpu_info(b->g)->storage16)
            continue;
        for (int i = 0; i < nconvs && !rc; i++) {
            for (int backward = 0; backward < 2 && !rc; backward++) {
                uint64_t mark = vkti_arena_mark(arena);
                const conv_shape *s = &convs[i];
                conv_work w = {.p = {s->k, s->k, s->stride, s->pad, s->pad, s->pad, s->pad}, .backward = backward};
                int64_t Ho = vkti_conv2d_out_size(s->H, s->k, s->stride, s->pad, s->pad);
                int64_t Wo = vkti_conv2d_out_size(s->W, s->k, s->stride, s->pad, s->pad);
                if ((rc = vkti_arena_tensor(arena, &w.x, types[ti], 4, (int64_t[]){s->N, s->H, s->W, s->Cin})) ||
                    (rc = vkti_arena_tensor(arena, &w.w, types[ti], 4, (int64_t[]){s->Cout, s->k, s->k, s->Cin})) ||
                    (rc = vkti_arena_tensor(arena, &w.y, types[ti], 4, (int64_t[]){s->N, Ho, Wo, s->Cout})) ||
                    (rc = vkti__bench_fill(b->g, backward ? &w.y : &w.x)) || (rc = vkti__bench_fill(b->g, &w.w)))
                    break;
                double ms;
                if ((rc = vkti__bench_time(b, record_conv, &w, &ms)))
                    break;
                char name[96];
                snprintf(name, sizeof name, "conv2d %s %s %lldx%lld %lld->%lld %dx%d s%d (%s)", backward ? "bwd" : "fwd",
                         vkti_dtype_name(types[ti]), (long long)s->H, (long long)s->W, (long long)s->Cin,
                         (long long)s->Cout, s->k, s->k, s->stride, s->what);
                double es = (double)vkti_dtype_size(types[ti]);
                double macs = (double)(s->N * Ho * Wo) * (double)s->Cout * (double)(s->k * s->k) * (double)s->Cin;
                rc = vkti__bench_row(rows, count, name, ms, 2.0 * macs,
                             es * (double)(vkti_tensor_numel(&w.x) + vkti_tensor_numel(&w.w) + vkti_tensor_numel(&w.y)));
                vkti_arena_release(arena, mark);
            }
        }
    }
    return rc;
}

static int bench_attention(bench *b, vkti_arena *arena, int quick, vkti_bench_row **rows, int *count)
{
    const attn_bench_shape *shapes = quick ? ATTN_QUICK : ATTN_FULL;
    int nshapes = quick ? (int)(sizeof ATTN_QUICK / sizeof ATTN_QUICK[0]) : (int)(sizeof ATTN_FULL / sizeof ATTN_FULL[0]);
    vkti_dtype types[2] = {VKTI_F16, VKTI_F32};
    int rc = VKTI_OK;
    for (int ti = 0; ti < 2 && !rc; ti++) {
        if (types[ti] == VKTI_F16 && !vkti_gpu_info(b->g)->storage16)
            continue;
        for (int i = 0; i < nshapes && !rc; i++) {
            const attn_bench_shape *s = &shapes[i];
            uint64_t mark = vkti_arena_mark(arena);
            attn_work w = {.s = s};
            vkti_dtype dt = types[ti];
            int64_t sq[4] = {s->batch, s->nq, s->heads, s->dim}, sk[4] = {s->batch, s->nk, s->heads, s->dim};
            int64_t sr[3] = {s->batch, s->heads, s->nq}, nscratch;
            if ((rc = vkti_attention_backward_scratch(b->g, s->batch, s->nq, s->nk, (int)s->heads, s->dim, &nscratch)) ||
                (rc = vkti_arena_tensor(arena, &w.q, dt, 4, sq)) || (rc = vkti_arena_tensor(arena, &w.out, dt, 4, sq)) ||
                (rc = vkti_arena_tensor(arena, &w.dout, dt, 4, sq)) || (rc = vkti_arena_tensor(arena, &w.dq, dt, 4, sq)) ||
                (rc = vkti_arena_tensor(arena, &w.k, dt, 4, sk)) || (rc = vkti_arena_tensor(arena, &w.v, dt, 4, sk)) ||
                (rc = vkti_arena_tensor(arena, &w.dk, dt, 4, sk)) || (rc = vkti_arena_tensor(arena, &w.dv, dt, 4, sk)) ||
                (rc = vkti_arena_tensor(arena, &w.lse, VKTI_F32, 3, sr)) ||
                (rc = vkti_arena_tensor(arena, &w.scratch, VKTI_F32, 1, &nscratch)) || (rc = vkti__bench_fill(b->g, &w.q)) ||
                (rc = vkti__bench_fill(b->g, &w.k)) || (rc = vkti__bench_fill(b->g, &w.v)) || (rc = vkti__bench_fill(b->g, &w.dout)))
                break;
            double fwd_ms, bwd_ms, flops = 4.0 * (double)(s->batch * s->heads * s->nq * s->nk * s->dim);
            if (s->causal)
                flops *= 0.5;
            if ((rc = vkti__bench_time(b, record_attn_fwd, &w, &fwd_ms)) || (rc = vkti__bench_time(b, record_attn_bwd, &w, &bwd_ms)))
                break;
            double es = (double)vkti_dtype_size(dt), nq = (double)(s->batch * s->nq * s->heads * s->dim);
            double nk = (double)(s->batch * s->nk * s->heads * s->dim);
            char name[96];
            snprintf(name, sizeof name, "attention fwd %s %lldx%lld, %lld heads of %lld (%s)", vkti_dtype_name(dt),
                     (long long)s->nq, (long long)s->nk, (long long)s->heads, (long long)s->dim, s->what);
            if ((rc = vkti__bench_row(rows, count, name, fwd_ms, flops, es * (2 * nq + 2 * nk))))
                break;
            snprintf(name, sizeof name, "attention bwd %s %lldx%lld, %lld heads of %lld (%s)", vkti_dtype_name(dt),
                     (long long)s->nq, (long long)s->nk, (long long)s->heads, (long long)s->dim, s->what);
            rc = vkti__bench_row(rows, count, name, bwd_ms, 2.5 * flops, es * (4 * nq + 4 * nk));
            vkti_arena_release(arena, mark);
        }
    }
    return rc;
}

int vkti_bench_ops(vkti_ctx *ctx, int quick, vkti_bench_row **rows, int *count)
{
    *rows = NULL;
    *count = 0;
    bench b = {.runs = quick ? 3 : 9, .reps = quick ? 2 : 10};
    int rc = vkti__ctx_gpu(ctx, &b.g);
    if (rc)
        return rc;
    if (!vkti_gpu_info(b.g)->timestamps)
        return vkti_fail(&ctx->diag, VKTI_E_UNSUPPORTED, "device '%s' has no timestamp queries on its compute queue",
                         vkti_gpu_info(b.g)->name);
    vkti_arena *arena = NULL;
    if ((rc = vkti_arena_create(b.g, "bench", 0, &arena)) || (rc = vkti_cmd_create(b.g, &b.cmd))) {
        vkti_arena_free(arena);
        return rc;
    }
    const mm_shape *shapes = quick ? QUICK : FULL;
    int nshapes = quick ? (int)(sizeof QUICK / sizeof QUICK[0]) : (int)(sizeof FULL / sizeof FULL[0]);
    vkti_dtype types[2] = {VKTI_F16, VKTI_F32};
    for (int ti = 0; ti < 2 && !rc; ti++) {
        if (types[ti] == VKTI_F16 && !vkti_gpu_info(b.g)->storage16)
            continue;
        for (int i = 0; i < nshapes && !rc; i++) {
            uint64_t mark = vkti_arena_mark(arena);
            const mm_shape *s = &shapes[i];
            mm_work w;
            if ((rc = vkti_arena_tensor(arena, &w.a, types[ti], 2, (int64_t[]){s->M, s->K})) ||
                (rc = vkti_arena_tensor(arena, &w.w, types[ti], 2, (int64_t[]){s->N, s->K})) ||
                (rc = vkti_arena_tensor(arena, &w.c, types[ti], 2, (int64_t[]){s->M, s->N})) ||
                (rc = vkti__bench_fill(b.g, &w.a)) || (rc = vkti__bench_fill(b.g, &w.w)))
                break;
            double ms;
            if ((rc = vkti__bench_time(&b, record_mm, &w, &ms)))
                break;
            char name[96];
            snprintf(name, sizeof name, "matmul %s %lldx%lldx%lld (%s)", vkti_dtype_name(types[ti]), (long long)s->M,
                     (long long)s->N, (long long)s->K, s->what);
            double es = (double)vkti_dtype_size(types[ti]);
            rc = vkti__bench_row(rows, count, name, ms, 2.0 * (double)s->M * (double)s->N * (double)s->K,
                         es * (double)(s->M * s->K + s->N * s->K + s->M * s->N));
            vkti_arena_release(arena, mark);
        }
    }
    if (!rc)
        rc = bench_conv(&b, arena, quick, rows, count);
    if (!rc)
        rc = bench_attention(&b, arena, quick, rows, count);
    if (rc == VKTI_OK)
        rc = vkti__bench_memops(&b, arena, quick, rows, count);
    /* copies: 1 GiB where bindings allow it (16 MiB quick, 64 MiB on 128 MiB-range devices), by the
     * copy engine and by a shader: large enough that ramp-up does not dominate */
    int64_t copy_mib = quick ? 16 : vkti_gpu_info(b.g)->max_storage_buffer_range >= (1ull << 30) ? 1024 : 64;
    for (int shader = 0; shader < 2 && !rc; shader++) {
        int64_t n = copy_mib << 18; /* f32 elements */
        copy_work w = {.shader = shader};
        uint64_t mark = vkti_arena_mark(arena);
        if ((rc = vkti_arena_tensor(arena, &w.src, VKTI_F32, 1, &n)) ||
            (rc = vkti_arena_tensor(arena, &w.dst, VKTI_F32, 1, &n)) || (rc = vkti__bench_fill(b.g, &w.src)))
            break;
        double ms;
        if ((rc = vkti__bench_time(&b, record_copy, &w, &ms)))
            break;
        char name[96];
        snprintf(name, sizeof name, "copy %lld MiB (%s)", (long long)(n * 4 >> 20),
                 shader ? "shader" : "vkCmdCopyBuffer");
        rc = vkti__bench_row(rows, count, name, ms, 0, 2.0 * 4.0 * (double)n);
        vkti_arena_release(arena, mark);
    }
    vkti_cmd_free(b.cmd);
    vkti_arena_free(arena);
    if (rc) {
        free(*rows);
        *rows = NULL;
        *count = 0;
        if (rc == VKTI_E_OOM && !ctx->diag.msg[0])
            vkti_fail(&ctx->diag, rc, "out of host memory");
    }
    return rc;
}
