/* ti_step.c — the recorded textual-inversion step (see ti_step.h). */
#include "train/ti_step.h"

#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/rng.h"

enum { MODE_NONE = 0, MODE_TRAIN = 1, MODE_EVAL = 2 };

struct vkti_ti_step {
    vkti_gpu *g;
    vkti_diag *d;
    vkti_clip_text *te;
    vkti_unet *unet;
    vkti_ti_step_params p;
    int64_t D;
    vkti_arena *io_arena, *dev;
    /* host-visible per-step tensors */
    vkti_tensor ids, ts, coef_lat, coef_noisy, coef_target, w, mean, std, mask, key, hyper, state, loss;
    /* device tensors */
    vkti_tensor noise, eps2, tmp, latent, noisy, target, cond, pred, d_pred, d_cond, scratch;
    vkti_tensor extra, m, v, grad, norm, nscratch;
    vkti_cmd *rec, *upd;
    int mode;
    vkti_ti_io io;
};

void vkti_ti_step_forget(vkti_ti_step *s) { s->mode = MODE_NONE; }

static int record(vkti_ti_step *s, int mode)
{
    if (s->mode == mode)
        return VKTI_OK;
    s->mode = MODE_NONE;
    vkti_cmd *c = s->rec;
    const vkti_ti_step_params *p = &s->p;
    const int train = mode == MODE_TRAIN;
    const int unet_mode = !train ? VKTI_UNET_INFER : p->recompute ? VKTI_UNET_RECOMPUTE : VKTI_UNET_KEEP;
    const vkti_tensor *target = p->v_prediction ? &s->target : &s->noise;
    const vkti_tensor *mask = p->use_mask ? &s->mask : NULL;
    int rc;
    if ((rc = vkti_cmd_begin(c)) ||
        (!p->external_noise && ((rc = vkti_rng_normal_forward(c, &s->noise, &s->key, 0, 0)) ||
                                (rc = vkti_rng_normal_forward(c, &s->eps2, &s->key, 1, 0)))) ||
        (rc = vkti_mul_forward(c, &s->tmp, &s->std, &s->eps2)) ||
        (rc = vkti_mix_forward(c, &s->latent, &s->mean, &s->tmp, &s->coef_lat)) ||
        (rc = vkti_mix_forward(c, &s->noisy, &s->latent, &s->noise, &s->coef_noisy)) ||
        (p->v_prediction && (rc = vkti_mix_forward(c, &s->target, &s->noise, &s->latent, &s->coef_target))) ||
        (rc = vkti_clip_text_forward(c, s->te, &s->cond, &s->ids, &s->extra, train)) ||
        (rc = vkti_unet_forward(c, s->unet, &s->pred, &s->noisy, &s->ts, &s->cond, unet_mode)) ||
        (rc = vkti_mse_forward(c, &s->loss, &s->scratch, &s->pred, target, &s->w, mask)))
        return rc;
    if (train && ((rc = vkti_mse_backward(c, &s->d_pred, &s->pred, target, &s->w, mask, &s->hyper, VKTI_OPT_LOSS_SCALE)) ||
                  (rc = vkti_unet_backward(c, s->unet, &s->d_cond, &s->d_pred)) ||
                  (rc = vkti_clip_text_backward(c, s->te, &s->grad, &s->d_cond, 1))))
        return rc;
    if ((rc = vkti_cmd_end(c)))
        return rc;
    s->mode = mode;
    return VKTI_OK;
}

static int mapped(vkti_ti_step *s, vkti_tensor *t, vkti_dtype dt, int ndim, const int64_t *shape, void **host)
{
    int rc = vkti_arena_tensor(s->io_arena, t, dt, ndim, shape);
    if (rc)
        return rc;
    *host = vkti_tensor_host(t);
    memset(*host, 0, t->bytes);
    return VKTI_OK;
}

int vkti_ti_step_create(vkti_ti_step **out, vkti_gpu *g, vkti_clip_text *te, vkti_unet *unet,
                        const vkti_ti_step_params *p, const float *init_rows)
{
    *out = NULL;
    vkti_diag *d = vkti_gpu_diag(g);
    vkti_ti_step *s = calloc(1, sizeof *s);
    if (!s)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    s->g = g;
    s->d = d;
    s->te = te;
    s->unet = unet;
    s->p = *p;
    s->D = vkti_clip_text_get_dims(te)->width;
    const int64_t B = p->batch, H = p->latent_h, W = p->latent_w, C = p->latent_c, T = p->tokens, E = p->learned,
                  D = s->D, n = B * H * W * C;
    const vkti_dtype dt = p->dtype;
    vkti_ti_io *io = &s->io;
    void *h;
    int rc;
    if ((rc = vkti_arena_create_mapped(g, "step inputs", 0, &s->io_arena)) ||
        (rc = vkti_arena_create(g, "step", 0, &s->dev)) || (rc = vkti_cmd_create(g, &s->rec)) ||
        (rc = vkti_cmd_create(g, &s->upd)))
        goto fail;
    if ((rc = mapped(s, &s->ids, VKTI_I32, VKTI_DIMS(B, T), &h)))
        goto fail;
    io->ids = h;
    if ((rc = mapped(s, &s->ts, VKTI_F32, VKTI_DIMS(B), &h)))
        goto fail;
    io->timesteps = h;
    if ((rc = mapped(s, &s->coef_lat, VKTI_F32, VKTI_DIMS(B, 2), &h)))
        goto fail;
    io->coef_lat = h;
    if ((rc = mapped(s, &s->coef_noisy, VKTI_F32, VKTI_DIMS(B, 2), &h)))
        goto fail;
    io->coef_noisy = h;
    if ((rc = mapped(s, &s->coef_target, VKTI_F32, VKTI_DIMS(B, 2), &h)))
        goto fail;
    io->coef_target = h;
    if ((rc = mapped(s, &s->w, VKTI_F32, VKTI_DIMS(B), &h)))
        goto fail;
    io->weights = h;
    if ((rc = mapped(s, &s->mean, dt, VKTI_DIMS(B, H, W, C), &io->mean)) ||
        (rc = mapped(s, &s->std, dt, VKTI_DIMS(B, H, W, C), &io->std)))
        goto fail;
    if (p->use_mask) {
        if ((rc = mapped(s, &s->mask, VKTI_F32, VKTI_DIMS(B, H * W), &h)))
            goto fail;
        io->mask = h;
    }
    if ((rc = mapped(s, &s->key, VKTI_U32, VKTI_DIMS(4), &h)))
        goto fail;
    io->key = h;
    if ((rc = mapped(s, &s->hyper, VKTI_F32, VKTI_DIMS(VKTI_OPT_HYPER_N), &h)))
        goto fail;
    io->hyper = h;
    if ((rc = mapped(s, &s->state, VKTI_U32, VKTI_DIMS(VKTI_OPT_STATE_N), &h)))
        goto fail;
    io->state = h;
    if ((rc = mapped(s, &s->loss, VKTI_F32, VKTI_DIMS(1), &h)))
        goto fail;
    io->loss = h;
    /* device tensors */
    int64_t scn = vkti_loss_scratch_elems(n), gscn = vkti_loss_scratch_elems(E * D);
    if (p->external_noise) {
        if ((rc = mapped(s, &s->noise, dt, VKTI_DIMS(B, H, W, C), &io->noise)) ||
            (rc = mapped(s, &s->eps2, dt, VKTI_DIMS(B, H, W, C), &io->eps2)))
            goto fail;
    } else if ((rc = vkti_arena_tensor(s->dev, &s->noise, dt, VKTI_DIMS(B, H, W, C))) ||
               (rc = vkti_arena_tensor(s->dev, &s->eps2, dt, VKTI_DIMS(B, H, W, C)))) {
        goto fail;
    }
    if ((rc = vkti_arena_tensor(s->dev, &s->tmp, dt, VKTI_DIMS(B, H, W, C))) ||
        (rc = vkti_arena_tensor(s->dev, &s->latent, dt, VKTI_DIMS(B, H, W, C))) ||
        (rc = vkti_arena_tensor(s->dev, &s->noisy, dt, VKTI_DIMS(B, H, W, C))) ||
        (rc = vkti_arena_tensor(s->dev, &s->target, dt, VKTI_DIMS(B, H, W, C))) ||
        (rc = vkti_arena_tensor(s->dev, &s->pred, dt, VKTI_DIMS(B, H, W, C))) ||
        (rc = vkti_arena_tensor(s->dev, &s->d_pred, dt, VKTI_DIMS(B, H, W, C))) ||
        (rc = vkti_arena_tensor(s->dev, &s->cond, dt, VKTI_DIMS(B, T, D))) ||
        (rc = vkti_arena_tensor(s->dev, &s->d_cond, dt, VKTI_DIMS(B, T, D))) ||
        (rc = vkti_arena_tensor(s->dev, &s->scratch, VKTI_F32, VKTI_DIMS(scn))) ||
        (rc = vkti_arena_tensor(s->dev, &s->nscratch, VKTI_F32, VKTI_DIMS(gscn))) ||
        (rc = vkti_arena_tensor(s->dev, &s->norm, VKTI_F32, VKTI_DIMS(1))) ||
        (rc = vkti_arena_tensor(s->dev, &s->extra, VKTI_F32, VKTI_DIMS(E, D))) ||
        (rc = vkti_arena_tensor(s->dev, &s->m, VKTI_F32, VKTI_DIMS(E, D))) ||
        (rc = vkti_arena_tensor(s->dev, &s->v, VKTI_F32, VKTI_DIMS(E, D))) ||
        (rc = vkti_arena_tensor(s->dev, &s->grad, VKTI_F32, VKTI_DIMS(E, D))))
        goto fail;
    /* learned rows from init_rows; optimizer moments and gradient zero */
    if ((rc = vkti_tensor_upload_f32(g, &s->extra, init_rows, E * D)) || (rc = vkti_cmd_begin(s->upd)) ||
        (rc = vkti_cmd_fill(s->upd, &s->m, 0)) || (rc = vkti_cmd_fill(s->upd, &s->v, 0)) ||
        (rc = vkti_cmd_fill(s->upd, &s->grad, 0)) || (rc = vkti_cmd_end(s->upd)) || (rc = vkti_cmd_submit(s->upd, 1)))
        goto fail;
    /* the update: clip by the global norm, step, zero the gradient for the next accumulation */
    if ((rc = vkti_cmd_begin(s->upd)) || (rc = vkti_grad_norm_forward(s->upd, &s->norm, &s->nscratch, &s->grad)) ||
        (rc = vkti_optim_step(s->upd, p->optimizer, &s->extra, &s->m, p->optimizer == VKTI_OPTIM_SGD ? NULL : &s->v,
                              &s->state, &s->grad, &s->norm, &s->hyper)) ||
        (rc = vkti_cmd_fill(s->upd, &s->grad, 0)) || (rc = vkti_cmd_end(s->upd)))
        goto fail;
    for (int64_t b = 0; b < B; b++)
        io->weights[b] = 1.0f;
    *out = s;
    return VKTI_OK;
fail:
    vkti_ti_step_free(s);
    return rc;
}

void vkti_ti_step_free(vkti_ti_step *s)
{
    if (!s)
        return;
    vkti_cmd_free(s->rec);
    vkti_cmd_free(s->upd);
    vkti_arena_free(s->io_arena);
    vkti_arena_free(s->dev);
    free(s);
}

vkti_ti_io *vkti_ti_step_io(vkti_ti_step *s) { return &s->io; }

void vkti_ti_io_put(const vkti_ti_step *s, void *dst, int64_t first, const float *src, int64_t n)
{
    if (s->p.dtype == VKTI_F16)
        vkti_f32_to_f16_n((uint16_t *)dst + first, src, (size_t)n);
    else
        memcpy((float *)dst + first, src, sizeof(float) * (size_t)n);
}

int vkti_ti_step_micro(vkti_ti_step *s)
{
    int rc = record(s, MODE_TRAIN);
    return rc ? rc : vkti_cmd_submit(s->rec, 1);
}

int vkti_ti_step_update(vkti_ti_step *s) { return vkti_cmd_submit(s->upd, 1); }

int vkti_ti_step_eval(vkti_ti_step *s)
{
    int rc = record(s, MODE_EVAL);
    return rc ? rc : vkti_cmd_submit(s->rec, 1);
}

int vkti_ti_step_get_grad(vkti_ti_step *s, float *grad)
{
    return vkti_tensor_download_f32(s->g, &s->grad, grad, vkti_tensor_numel(&s->grad));
}

int vkti_ti_step_get_rows(vkti_ti_step *s, float *rows)
{
    return vkti_tensor_download_f32(s->g, &s->extra, rows, vkti_tensor_numel(&s->extra));
}

int vkti_ti_step_get_state(vkti_ti_step *s, float *m, float *v, uint32_t state[VKTI_OPT_STATE_N])
{
    int64_t n = vkti_tensor_numel(&s->m);
    int rc = vkti_tensor_download_f32(s->g, &s->m, m, n);
    if (rc == VKTI_OK)
        rc = vkti_tensor_download_f32(s->g, &s->v, v, n);
    if (rc == VKTI_OK)
        memcpy(state, s->io.state, sizeof(uint32_t) * VKTI_OPT_STATE_N);
    return rc;
}

int vkti_ti_step_set_state(vkti_ti_step *s, const float *rows, const float *m, const float *v,
                           const uint32_t state[VKTI_OPT_STATE_N])
{
    int64_t n = vkti_tensor_numel(&s->m);
    int rc = vkti_tensor_upload_f32(s->g, &s->extra, rows, n);
    if (rc == VKTI_OK)
        rc = vkti_tensor_upload_f32(s->g, &s->m, m, n);
    if (rc == VKTI_OK)
        rc = vkti_tensor_upload_f32(s->g, &s->v, v, n);
    if (rc == VKTI_OK)
        memcpy((void *)s->io.state, state, sizeof(uint32_t) * VKTI_OPT_STATE_N);
    return rc;
}

uint64_t vkti_ti_step_activation_bytes(const vkti_ti_step *s)
{
    return vkti_unet_activation_bytes(s->unet);
}

int vkti_ti_step_prepare(vkti_ti_step *s) { return record(s, MODE_TRAIN); }

int vkti_ti_step_set_recompute(vkti_ti_step *s, int on)
{
    s->mode = MODE_NONE;
    s->p.recompute = on != 0;
    return vkti_unet_trim(s->unet);
}
