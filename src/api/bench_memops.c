/* bench_memops.c — `vkti bench ops` rows for the memory-bound op families at Stable Diffusion 1.5
 * shapes (512x512: a 64x64 latent, 320 channels; --quick: 32x32): group and layer norm, GEGLU,
 * SiLU, nearest upsample, channel concat, token embedding, MSE loss, Philox noise, forward and
 * backward. Bytes count each input read once and each output written once. */
#include "api/bench_internal.h"

#include <stdio.h>
#include <string.h>

#include "ops/activation.h"
#include "ops/loss.h"
#include "ops/norm.h"
#include "ops/rng.h"
#include "ops/shape.h"

typedef struct mem_work {
    int kind;
    vkti_tensor a, b, c, d, e, f, g;
    int groups;
} mem_work;

enum { GN_FWD, GN_BWD, LN_FWD, LN_BWD, GEGLU_FWD, GEGLU_BWD, SILU_BWD, UP_FWD, UP_BWD, CAT_FWD, CAT_BWD, EMB_FWD,
       EMB_BWD, MSE_FWD, MSE_BWD, RNG };

static int record_mem(vkti_cmd *c, void *user)
{
    mem_work *w = user;
    switch (w->kind) {
    case GN_FWD: return vkti_group_norm_forward(c, &w->b, &w->d, &w->e, &w->f, &w->a, &w->g, &w->g, w->groups, 1e-5f, 1);
    case GN_BWD:
        return vkti_group_norm_backward(c, &w->c, &w->f, &w->b, &w->a, &w->g, &w->g, &w->d, &w->e, w->groups, 1, 0);
    case LN_FWD: return vkti_layer_norm_forward(c, &w->b, &w->d, &w->e, &w->a, &w->g, &w->g, 1e-5f);
    case LN_BWD: return vkti_layer_norm_backward(c, &w->c, &w->b, &w->a, &w->g, &w->d, &w->e, 0);
    case GEGLU_FWD: return vkti_geglu_forward(c, &w->b, &w->a);
    case GEGLU_BWD: return vkti_geglu_backward(c, &w->c, &w->b, &w->a, 0);
    case SILU_BWD: return vkti_act_backward(c, &w->c, &w->b, &w->a, VKTI_ACT_SILU, 0);
    case UP_FWD: return vkti_upsample2x_forward(c, &w->b, &w->a);
    case UP_BWD: return vkti_upsample2x_backward(c, &w->a, &w->b);
    case CAT_FWD: return vkti_concat_forward(c, &w->c, &w->a, &w->b);
    case CAT_BWD: return vkti_concat_backward(c, &w->a, &w->b, &w->c, 0, 0);
    case EMB_FWD: return vkti_embed_forward(c, &w->c, &w->a, &w->b, &w->d);
    case EMB_BWD: return vkti_embed_backward(c, &w->e, &w->a, &w->c, w->b.shape[0], 0);
    case MSE_FWD: return vkti_mse_forward(c, &w->d, &w->e, &w->a, &w->b, NULL, NULL);
    case MSE_BWD: return vkti_mse_backward(c, &w->c, &w->a, &w->b, NULL, NULL, NULL, 0);
    default: return vkti_rng_normal_forward(c, &w->a, &w->d, 0, 0);
    }
}

static int timed_row(bench *b, mem_work *w, vkti_bench_row **rows, int *count, double bytes, const char *what,
                     vkti_dtype dt, const char *shape)
{
    double ms;
    char name[96];
    int rc = vkti__bench_time(b, record_mem, w, &ms);
    if (rc)
        return rc;
    snprintf(name, sizeof name, "%s %s %s", what, vkti_dtype_name(dt), shape);
    return vkti__bench_row(rows, count, name, ms, 0, bytes);
}

int vkti__bench_memops(bench *b, vkti_arena *arena, int quick, vkti_bench_row **rows, int *count)
{
    const int64_t S = quick ? 32 : 64, P = S * S, C = 320;
    char shape[64];
    int rc = VKTI_OK;
    for (int ti = 0; ti < 2 && !rc; ti++) {
        vkti_dtype dt = ti ? VKTI_F32 : VKTI_F16;
        if (dt == VKTI_F16 && !vkti_gpu_info(b->g)->storage16)
            continue;
        const double es = (double)vkti_dtype_size(dt);
        uint64_t mark = vkti_arena_mark(arena);
        mem_work w;
        memset(&w, 0, sizeof w);
        /* group norm + SiLU over [1, P, C], 32 groups */
        int64_t gsc = 0;
        w.groups = 32;
        if ((rc = vkti_arena_tensor(arena, &w.a, dt, VKTI_DIMS(1, P, C))) || (rc = vkti_arena_tensor(arena, &w.b, dt, VKTI_DIMS(1, P, C))) ||
            (rc = vkti_arena_tensor(arena, &w.c, dt, VKTI_DIMS(1, P, C))) || (rc = vkti_arena_tensor(arena, &w.d, VKTI_F32, VKTI_DIMS(32))) ||
            (rc = vkti_arena_tensor(arena, &w.e, VKTI_F32, VKTI_DIMS(32))) || (rc = vkti_arena_tensor(arena, &w.g, dt, VKTI_DIMS(C))) ||
            (rc = vkti__bench_fill(b->g, &w.a)) || (rc = vkti__bench_fill(b->g, &w.b)) || (rc = vkti__bench_fill(b->g, &w.g)))
            break;
        gsc = vkti_group_norm_scratch_numel(&w.a, 32);
        if ((rc = vkti_arena_tensor(arena, &w.f, VKTI_F32, VKTI_DIMS(gsc > 0 ? gsc : 1))))
            break;
        snprintf(shape, sizeof shape, "%lldx%lld x %lld, 32 groups", (long long)S, (long long)S, (long long)C);
        w.kind = GN_FWD;
        if ((rc = timed_row(b, &w, rows, count, 2 * es * (double)(P * C), "group norm + SiLU fwd", dt, shape)))
            break;
        /* the forward's statistics feed the backward */
        w.kind = GN_BWD;
        if ((rc = timed_row(b, &w, rows, count, 3 * es * (double)(P * C), "group norm + SiLU bwd", dt, shape)))
            break;
        /* layer norm over [P, C] */
        vkti_arena_release(arena, mark);
        if ((rc = vkti_arena_tensor(arena, &w.a, dt, VKTI_DIMS(P, C))) || (rc = vkti_arena_tensor(arena, &w.b, dt, VKTI_DIMS(P, C))) ||
            (rc = vkti_arena_tensor(arena, &w.c, dt, VKTI_DIMS(P, C))) || (rc = vkti_arena_tensor(arena, &w.d, VKTI_F32, VKTI_DIMS(P))) ||
            (rc = vkti_arena_tensor(arena, &w.e, VKTI_F32, VKTI_DIMS(P))) || (rc = vkti_arena_tensor(arena, &w.g, dt, VKTI_DIMS(C))) ||
            (rc = vkti__bench_fill(b->g, &w.a)) || (rc = vkti__bench_fill(b->g, &w.b)) || (rc = vkti__bench_fill(b->g, &w.g)))
            break;
        snprintf(shape, sizeof shape, "%lld x %lld", (long long)P, (long long)C);
        w.kind = LN_FWD;
        if ((rc = timed_row(b, &w, rows, count, 2 * es * (double)(P * C), "layer norm fwd", dt, shape)))
            break;
        w.kind = LN_BWD;
        if ((rc = timed_row(b, &w, rows, count, 3 * es * (double)(P * C), "layer norm bwd", dt, shape)))
            break;
        w.kind = SILU_BWD;
        if ((rc = timed_row(b, &w, rows, count, 3 * es * (double)(P * C), "SiLU bwd", dt, shape)))
            break;
        /* GEGLU [P, 2F] -> [P, F], F = 4C */
        vkti_arena_release(arena, mark);
        const int64_t F = 4 * C;
        if ((rc = vkti_arena_tensor(arena, &w.a, dt, VKTI_DIMS(P, 2 * F))) || (rc = vkti_arena_tensor(arena, &w.b, dt, VKTI_DIMS(P, F))) ||
            (rc = vkti_arena_tensor(arena, &w.c, dt, VKTI_DIMS(P, 2 * F))) || (rc = vkti__bench_fill(b->g, &w.a)) ||
            (rc = vkti__bench_fill(b->g, &w.b)))
            break;
        snprintf(shape, sizeof shape, "%lld x %lld -> %lld", (long long)P, (long long)(2 * F), (long long)F);
        w.kind = GEGLU_FWD;
        if ((rc = timed_row(b, &w, rows, count, 3 * es * (double)(P * F), "GEGLU fwd", dt, shape)))
            break;
        w.kind = GEGLU_BWD;
        if ((rc = timed_row(b, &w, rows, count, 5 * es * (double)(P * F), "GEGLU bwd", dt, shape)))
            break;
        /* nearest 2x upsample of [1, S/2, S/2, 640], and concat 320 + 320 at S x S */
        vkti_arena_release(arena, mark);
        const int64_t h = S / 2, Cu = 640;
        if ((rc = vkti_arena_tensor(arena, &w.a, dt, VKTI_DIMS(1, h, h, Cu))) ||
            (rc = vkti_arena_tensor(arena, &w.b, dt, VKTI_DIMS(1, S, S, Cu))) || (rc = vkti__bench_fill(b->g, &w.a)) ||
            (rc = vkti__bench_fill(b->g, &w.b)))
            break;
        snprintf(shape, sizeof shape, "%lldx%lld -> %lldx%lld x %lld", (long long)h, (long long)h, (long long)S,
                 (long long)S, (long long)Cu);
        w.kind = UP_FWD;
        if ((rc = timed_row(b, &w, rows, count, 5 * es * (double)(h * h * Cu), "upsample 2x fwd", dt, shape)))
            break;
        w.kind = UP_BWD;
        if ((rc = timed_row(b, &w, rows, count, 5 * es * (double)(h * h * Cu), "upsample 2x bwd", dt, shape)))
            break;
        vkti_arena_release(arena, mark);
        if ((rc = vkti_arena_tensor(arena, &w.a, dt, VKTI_DIMS(1, P, C))) || (rc = vkti_arena_tensor(arena, &w.b, dt, VKTI_DIMS(1, P, C))) ||
            (rc = vkti_arena_tensor(arena, &w.c, dt, VKTI_DIMS(1, P, 2 * C))) || (rc = vkti__bench_fill(b->g, &w.a)) ||
            (rc = vkti__bench_fill(b->g, &w.b)))
            break;
        snprintf(shape, sizeof shape, "%lld + %lld at %lldx%lld", (long long)C, (long long)C, (long long)S, (long long)S);
        w.kind = CAT_FWD;
        if ((rc = timed_row(b, &w, rows, count, 4 * es * (double)(P * C), "concat fwd", dt, shape)))
            break;
        w.kind = CAT_BWD;
        if ((rc = timed_row(b, &w, rows, count, 4 * es * (double)(P * C), "concat bwd", dt, shape)))
            break;
        /* token embedding: 4 x 77 tokens of a [49408, 768] table, 1 learned row */
        vkti_arena_release(arena, mark);
        int32_t ids[4 * 77];
        for (int i = 0; i < 4 * 77; i++)
            ids[i] = i % 77 == 5 ? 49408 : (i * 7919) % 49408;
        if ((rc = vkti_arena_tensor(arena, &w.a, VKTI_I32, VKTI_DIMS(4, 77))) ||
            (rc = vkti_tensor_upload(b->g, &w.a, ids, sizeof ids)) ||
            (rc = vkti_arena_tensor(arena, &w.b, dt, VKTI_DIMS(49408, 768))) ||
            (rc = vkti_arena_tensor(arena, &w.c, dt, VKTI_DIMS(4, 77, 768))) ||
            (rc = vkti_arena_tensor(arena, &w.d, VKTI_F32, VKTI_DIMS(1, 768))) ||
            (rc = vkti_arena_tensor(arena, &w.e, VKTI_F32, VKTI_DIMS(1, 768))) || (rc = vkti__bench_fill(b->g, &w.b)) ||
            (rc = vkti__bench_fill(b->g, &w.c)) || (rc = vkti__bench_fill(b->g, &w.d)))
            break;
        w.kind = EMB_FWD;
        if ((rc = timed_row(b, &w, rows, count, 2 * es * 4 * 77 * 768, "token embedding fwd", dt, "4 x 77 of 49408 x 768")))
            break;
        w.kind = EMB_BWD;
        if ((rc = timed_row(b, &w, rows, count, es * 4 * 77 * 768, "token embedding bwd", dt, "4 x 77 -> 1 learned row")))
            break;
        /* MSE over a batch of 4 latents; Philox noise for them */
        vkti_arena_release(arena, mark);
        int64_t nl = 4 * S * S * 4, lsc = vkti_loss_scratch_elems(nl);
        uint32_t key[4];
        vkti_rng_key(key, 1, 2);
        if ((rc = vkti_arena_tensor(arena, &w.a, dt, VKTI_DIMS(4, S, S, 4))) || (rc = vkti_arena_tensor(arena, &w.b, dt, VKTI_DIMS(4, S, S, 4))) ||
            (rc = vkti_arena_tensor(arena, &w.c, dt, VKTI_DIMS(4, S, S, 4))) || (rc = vkti_arena_tensor(arena, &w.d, VKTI_F32, VKTI_DIMS(1))) ||
            (rc = vkti_arena_tensor(arena, &w.e, VKTI_F32, VKTI_DIMS(lsc))) || (rc = vkti__bench_fill(b->g, &w.a)) ||
            (rc = vkti__bench_fill(b->g, &w.b)))
            break;
        snprintf(shape, sizeof shape, "4 x %lldx%lld x 4", (long long)S, (long long)S);
        w.kind = MSE_FWD;
        if ((rc = timed_row(b, &w, rows, count, 2 * es * (double)nl, "MSE loss fwd", dt, shape)))
            break;
        w.kind = MSE_BWD;
        if ((rc = timed_row(b, &w, rows, count, 3 * es * (double)nl, "MSE loss bwd", dt, shape)))
            break;
        if ((rc = vkti_arena_tensor(arena, &w.d, VKTI_U32, VKTI_DIMS(4))) || (rc = vkti_tensor_upload(b->g, &w.d, key, sizeof key)))
            break;
        w.kind = RNG;
        rc = timed_row(b, &w, rows, count, es * (double)nl, "Philox normal noise", dt, shape);
        vkti_arena_release(arena, mark);
    }
    return rc;
}
