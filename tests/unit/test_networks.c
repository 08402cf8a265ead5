/* test_networks.c — the networks against transformers' CLIPTextModel and diffusers'
 * UNet2DConditionModel / AutoencoderKL on the same weights and inputs (issue 5), and one
 * textual-inversion step against diffusers' examples/textual_inversion recipe (issue 6).
 *
 * The reference tensors come from tools/ref/sd_reference.py, run on the GPU machine on the models
 * tools/make_tiny_sd writes (presets tiny and tiny-sd2, seed 1); they are committed under
 * tests/data/ref/<preset>/. By default both presets run (SD 1.x and SD 2.x style).
 * This program writes the same model in-process (the generator is deterministic), loads it
 * through the model loader, runs each network in f32 and in f16 storage, and compares:
 *     text encoder: last_hidden_state, and the gradient of sum(d_hidden * hidden) with respect
 *         to the token embeddings — through the training path: every position reads a learned
 *         row (ids V + k, the rows set to the table's rows), so d(learned rows) is d(embeddings);
 *     unet: the prediction, and d(cond) of sum(d_out * out); then again in recompute mode
 *         (VKTI_UNET_RECOMPUTE), which must give the same bits with fewer activation bytes;
 *     vae: mean and log-variance of an image, and the decoding of a latent;
 *     ti step: the loss, the placeholder row's gradient and the row after one AdamW step.
 * Budgets (issue 5): f32 forward 1e-4, gradients 1e-3 (text encoder 1e-5 and 1e-4); f16 1e-2
 * and 3e-2; an element passes when |got - ref| <= budget * (|ref| + RMS(ref)).
 *
 * usage: vkti_unit_networks [--model DIR --ref DIR] [--dtype f32|f16|both] [--which te,unet,vae,step]
 * (the GPU machine runs it on SD 1.5-shaped weights with --model and --ref). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "base/platform.h"
#include "gpu/gpu.h"
#include "io/model_files.h"
#include "io/safetensors.h"
#include "io/sd_synth.h"
#include "model/clip_text.h"
#include "model/sd_dims.h"
#include "model/unet.h"
#include "model/vae.h"
#include "ops/optim.h"
#include "io/noise_schedule.h"
#include "train/ti_step.h"

static int passed, failed;

static void log_line(void *user, vkti_log_level level, const char *msg)
{
    (void)user;
    printf("     [%s] %s\n", level == VKTI_LOG_ERROR ? "error" : "warn", msg);
}

/* ---- comparison ------------------------------------------------------------------------------- */

static void compare(const char *what, const float *got, const float *ref, int64_t n, double budget)
{
    double ss = 0, se = 0, worst = 0;
    int64_t wi = 0, bad = 0, nonfinite = 0;
    for (int64_t i = 0; i < n; i++)
        ss += (double)ref[i] * ref[i];
    double rms = sqrt(ss / (double)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) {
            nonfinite++;
            continue;
        }
        double e = fabs((double)got[i] - ref[i]);
        se += e * e;
        double q = e == 0 ? 0 : e / (budget * (fabs(ref[i]) + rms));
        if (q > 1)
            bad++;
        if (q > worst) {
            worst = q;
            wi = i;
        }
    }
    int ok = !bad && !nonfinite && n > 0;
    printf("%s %-42s worst %.3f of budget %.0e at [%lld] (got %.6g ref %.6g), rel-rms %.2e\n", ok ? "ok  " : "FAIL",
           what, worst, budget, (long long)wi, n ? (double)got[wi] : 0.0, n ? (double)ref[wi] : 0.0,
           ss > 0 ? sqrt(se / ss) : 0.0);
    if (ok)
        passed++;
    else
        failed++;
}

static int check_rc(vkti_diag *d, int rc, const char *what)
{
    if (rc == VKTI_OK)
        return 1;
    printf("FAIL %s: %s\n", what, d->msg);
    failed++;
    return 0;
}

/* ---- reference files ----------------------------------------------------------------------- */

typedef struct ref_file {
    vkti_safetensors st;
    int open;
} ref_file;

/* a reference tensor as f32 (malloc'd), its element count and shape */
static float *ref_f32(vkti_diag *d, const ref_file *r, const char *name, int64_t *n, int64_t shape[4], int *ndim)
{
    const vkti_io_tensor *t = vkti_safetensors_find(&r->st, name);
    if (!t) {
        printf("FAIL reference tensor %s is missing\n", name);
        failed++;
        return NULL;
    }
    float *x = malloc(sizeof(float) * (t->numel ? t->numel : 1));
    if (!x || vkti_io_tensor_to_f32(d, t, x, t->numel)) {
        free(x);
        return NULL;
    }
    *n = (int64_t)t->numel;
    if (shape)
        for (int i = 0; i < 4; i++)
            shape[i] = i < t->ndim ? t->shape[i] : 1;
    if (ndim)
        *ndim = t->ndim;
    return x;
}

/* ---- helpers -------------------------------------------------------------------------------- */

typedef struct env {
    vkti_diag d;
    vkti_gpu *g;
    vkti_model m;
    vkti_dtype dt;
    const char *ref_dir;
    vkti_arena *arena;
    vkti_cmd *cmd;
} env;

static int upload(env *e, vkti_tensor *t, vkti_dtype dt, int ndim, const int64_t *shape, const float *host)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    int rc = vkti_arena_tensor(e->arena, t, dt, ndim, shape);
    if (rc == VKTI_OK && host)
        rc = vkti_tensor_upload_f32(e->g, t, host, n);
    return rc;
}

static float *download(env *e, const vkti_tensor *t)
{
    int64_t n = vkti_tensor_numel(t);
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1));
    if (x && vkti_tensor_download_f32(e->g, t, x, n)) {
        free(x);
        return NULL;
    }
    return x;
}

static int open_ref(env *e, ref_file *r, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", e->ref_dir, file);
    if (!vkti_file_exists(path)) {
        printf("SKIP %s: no reference file %s (make it with tools/ref/sd_reference.py on the GPU machine)\n", file,
               path);
        return 0;
    }
    r->open = vkti_safetensors_open(&e->d, &r->st, path) == VKTI_OK;
    if (!r->open)
        check_rc(&e->d, VKTI_E_FORMAT, path);
    return r->open;
}

static double gb(vkti_dtype dt, double f32, double f16) { return dt == VKTI_F16 ? f16 : f32; }


/* ---- text encoder ---------------------------------------------------------------------------- */

static void test_text_encoder(env *e)
{
    ref_file r = {0};
    if (!open_ref(e, &r, "text_encoder.safetensors"))
        return;
    vkti_clip_text_dims dims;
    vkti_clip_text_dims_from_config(&e->m.text_encoder, &dims);
    vkti_model_net net = {&e->m, VKTI_SD_TEXT_ENCODER};
    vkti_weight_source src = {vkti_model_weight_get, &net};
    vkti_clip_text *te = NULL;
    int64_t nid = 0, nh = 0, nd = 0, ne = 0, sid[4] = {0}, sh[4] = {0};
    float *idsf = ref_f32(&e->d, &r, "input_ids", &nid, sid, NULL), *hidden = ref_f32(&e->d, &r, "hidden", &nh, sh, NULL);
    float *dh = ref_f32(&e->d, &r, "d_hidden", &nd, NULL, NULL), *de = ref_f32(&e->d, &r, "d_embeds", &ne, NULL, NULL);
    float *table = NULL, *extra = NULL, *got = NULL, *gd = NULL;
    int32_t *ids = NULL;
    const int64_t B = sid[0], T = sid[1], D = dims.width, E = B * T;
    if (!idsf || !hidden || !dh || !de || !check_rc(&e->d, vkti_clip_text_create(&te, e->g, &dims, &src, e->dt), "text encoder"))
        goto done;
    /* every position reads a learned row holding its token's table row */
    const vkti_io_tensor *tt = vkti_model_find(&e->m, VKTI_SD_TEXT_ENCODER, "text_model.embeddings.token_embedding.weight");
    table = malloc(sizeof(float) * tt->numel);
    extra = malloc(sizeof(float) * (size_t)(E * D));
    ids = malloc(sizeof(int32_t) * (size_t)E);
    if (!table || !extra || !ids || vkti_io_tensor_to_f32(&e->d, tt, table, tt->numel))
        goto done;
    for (int64_t k = 0; k < E; k++) {
        memcpy(extra + k * D, table + (int64_t)idsf[k] * D, sizeof(float) * (size_t)D);
        ids[k] = (int32_t)(dims.vocab + k);
    }
    vkti_tensor tids, textra, thid, tdh, tdx;
    int rc;
    if ((rc = vkti_arena_tensor(e->arena, &tids, VKTI_I32, VKTI_DIMS(B, T))) ||
        (rc = vkti_tensor_upload(e->g, &tids, ids, sizeof(int32_t) * (size_t)E)) ||
        (rc = upload(e, &textra, VKTI_F32, VKTI_DIMS(E, D), extra)) || (rc = upload(e, &thid, e->dt, VKTI_DIMS(B, T, D), NULL)) ||
        (rc = upload(e, &tdh, e->dt, VKTI_DIMS(B, T, D), dh)) || (rc = upload(e, &tdx, VKTI_F32, VKTI_DIMS(E, D), NULL)) ||
        (rc = vkti_cmd_begin(e->cmd)) || (rc = vkti_clip_text_forward(e->cmd, te, &thid, &tids, &textra, 1)) ||
        (rc = vkti_clip_text_backward(e->cmd, te, &tdx, &tdh, 0)) || (rc = vkti_cmd_end(e->cmd)) ||
        (rc = vkti_cmd_submit(e->cmd, 1))) {
        check_rc(&e->d, rc, "text encoder run");
        goto done;
    }
    got = download(e, &thid);
    gd = download(e, &tdx);
    if (got && gd) {
        compare("text encoder: last_hidden_state", got, hidden, nh, gb(e->dt, 1e-5, 1e-2));
        compare("text encoder: d(token embeddings)", gd, de, ne, gb(e->dt, 1e-4, 3e-2));
    }
done:
    free(idsf), free(hidden), free(dh), free(de), free(table), free(extra), free(ids), free(got), free(gd);
    vkti_clip_text_free(te);
    if (r.open)
        vkti_safetensors_close(&r.st);
}

/* ---- unet ------------------------------------------------------------------------------------- */

static void test_unet(env *e)
{
    ref_file r = {0};
    if (!open_ref(e, &r, "unet.safetensors"))
        return;
    vkti_unet_dims dims;
    vkti_model_net net = {&e->m, VKTI_SD_UNET};
    vkti_weight_source src = {vkti_model_weight_get, &net};
    vkti_unet *u = NULL;
    int64_t ns = 0, nt = 0, nc = 0, no = 0, ndo = 0, ndc = 0, ss[4] = {0}, sc[4] = {0};
    float *sample = ref_f32(&e->d, &r, "sample", &ns, ss, NULL), *ts = ref_f32(&e->d, &r, "timesteps", &nt, NULL, NULL);
    float *cond = ref_f32(&e->d, &r, "cond", &nc, sc, NULL), *out = ref_f32(&e->d, &r, "out", &no, NULL, NULL);
    float *dout = ref_f32(&e->d, &r, "d_out", &ndo, NULL, NULL), *dcond = ref_f32(&e->d, &r, "d_cond", &ndc, NULL, NULL);
    float *got = NULL, *gd = NULL;
    void *raw_out = NULL, *raw_dc = NULL, *raw_out2 = NULL, *raw_dc2 = NULL;
    uint64_t keep_bytes = 0;
    if (!sample || !ts || !cond || !out || !dout || !dcond ||
        !check_rc(&e->d, vkti_unet_dims_from_config(&e->d, &e->m.unet, &dims), "unet dims") ||
        !check_rc(&e->d, vkti_unet_create(&u, e->g, &dims, &src, e->dt), "unet"))
        goto done;
    vkti_tensor tsm, tts, tco, tout, tdo, tdc;
    int rc;
    double t0 = vkti_now();
    if ((rc = upload(e, &tsm, e->dt, 4, ss, sample)) || (rc = upload(e, &tts, VKTI_F32, VKTI_DIMS(nt), ts)) ||
        (rc = upload(e, &tco, e->dt, 3, sc, cond)) ||
        (rc = upload(e, &tout, e->dt, VKTI_DIMS(ss[0], ss[1], ss[2], dims.out_channels), NULL)) ||
        (rc = upload(e, &tdo, e->dt, VKTI_DIMS(ss[0], ss[1], ss[2], dims.out_channels), dout)) ||
        (rc = upload(e, &tdc, e->dt, 3, sc, NULL)) || (rc = vkti_cmd_begin(e->cmd)) ||
        (rc = vkti_unet_forward(e->cmd, u, &tout, &tsm, &tts, &tco, 1)) ||
        (rc = vkti_unet_backward(e->cmd, u, &tdc, &tdo)) || (rc = vkti_cmd_end(e->cmd)) ||
        (rc = vkti_cmd_submit(e->cmd, 1))) {
        check_rc(&e->d, rc, "unet run");
        goto done;
    }
    printf("     unet forward + backward: %d dispatches, %d barriers, %.1f MiB activations, %.2f s with upload\n",
           vkti_cmd_dispatch_count(e->cmd), vkti_cmd_barrier_count(e->cmd),
           (double)vkti_unet_activation_bytes(u) / 1048576.0, vkti_now() - t0);
    got = download(e, &tout);
    gd = download(e, &tdc);
    if (got && gd) {
        compare("unet: prediction", got, out, no, gb(e->dt, 1e-4, 1e-2));
        compare("unet: d(cond)", gd, dcond, ndc, gb(e->dt, 1e-3, 3e-2));
    }
    /* recompute mode: the same bits from less memory */
    keep_bytes = vkti_unet_activation_bytes(u);
    raw_out = malloc(tout.bytes), raw_dc = malloc(tdc.bytes), raw_out2 = malloc(tout.bytes), raw_dc2 = malloc(tdc.bytes);
    if (!raw_out || !raw_dc || !raw_out2 || !raw_dc2 ||
        (rc = vkti_tensor_download(e->g, &tout, raw_out, tout.bytes)) ||
        (rc = vkti_tensor_download(e->g, &tdc, raw_dc, tdc.bytes)) || (rc = vkti_cmd_begin(e->cmd)) ||
        (rc = vkti_cmd_fill(e->cmd, &tout, 0)) ||
        (rc = vkti_unet_forward(e->cmd, u, &tout, &tsm, &tts, &tco, VKTI_UNET_RECOMPUTE)) ||
        (rc = vkti_unet_backward(e->cmd, u, &tdc, &tdo)) || (rc = vkti_cmd_end(e->cmd)) ||
        (rc = vkti_cmd_submit(e->cmd, 1)) || (rc = vkti_tensor_download(e->g, &tout, raw_out2, tout.bytes)) ||
        (rc = vkti_tensor_download(e->g, &tdc, raw_dc2, tdc.bytes))) {
        check_rc(&e->d, rc ? rc : VKTI_E_OOM, "unet run in recompute mode");
        goto done;
    }
    uint64_t rec_bytes = vkti_unet_activation_bytes(u);
    printf("     unet activations: %.3f MiB keeping everything, %.3f MiB recomputing the transformers\n",
           (double)keep_bytes / 1048576.0, (double)rec_bytes / 1048576.0);
    if (memcmp(raw_out, raw_out2, tout.bytes) || memcmp(raw_dc, raw_dc2, tdc.bytes)) {
        printf("FAIL unet: recompute mode's prediction or d(cond) differs from the keep-everything mode's\n");
        failed++;
    } else if (rec_bytes >= keep_bytes) {
        printf("FAIL unet: recompute mode uses %llu activation bytes, no fewer than %llu\n",
               (unsigned long long)rec_bytes, (unsigned long long)keep_bytes);
        failed++;
    } else {
        printf("ok   unet: recompute mode gives the same prediction and d(cond), bit for bit, in %.0f%% of the "
               "activation bytes\n", 100.0 * (double)rec_bytes / (double)keep_bytes);
        passed++;
    }
done:
    free(sample), free(ts), free(cond), free(out), free(dout), free(dcond), free(got), free(gd);
    free(raw_out), free(raw_dc), free(raw_out2), free(raw_dc2);
    vkti_unet_free(u);
    if (r.open)
        vkti_safetensors_close(&r.st);
}

/* ---- vae -------------------------------------------------------------------------------------- */

static void test_vae(env *e)
{
    ref_file r = {0};
    if (!open_ref(e, &r, "vae.safetensors"))
        return;
    vkti_vae_dims dims;
    vkti_model_net net = {&e->m, VKTI_SD_VAE};
    vkti_weight_source src = {vkti_model_weight_get, &net};
    vkti_vae *v = NULL;
    int64_t ni = 0, nm = 0, nl = 0, nz = 0, nd = 0, si[4] = {0}, sm[4] = {0}, sz[4] = {0}, sd[4] = {0};
    float *img = ref_f32(&e->d, &r, "image", &ni, si, NULL), *mean = ref_f32(&e->d, &r, "mean", &nm, sm, NULL);
    float *logvar = ref_f32(&e->d, &r, "logvar", &nl, NULL, NULL), *lat = ref_f32(&e->d, &r, "latent", &nz, sz, NULL);
    float *dec = ref_f32(&e->d, &r, "decoded", &nd, sd, NULL);
    float *gm = NULL, *gl = NULL, *gdec = NULL;
    if (!img || !mean || !logvar || !lat || !dec ||
        !check_rc(&e->d, vkti_vae_dims_from_config(&e->d, &e->m.vae, &dims), "vae dims") ||
        !check_rc(&e->d, vkti_vae_create(&v, e->g, &dims, &src, e->dt, VKTI_VAE_ENCODER | VKTI_VAE_DECODER), "vae"))
        goto done;
    vkti_tensor ti, tm, tl, tz, td;
    int rc;
    if ((rc = upload(e, &ti, e->dt, 4, si, img)) || (rc = upload(e, &tm, e->dt, 4, sm, NULL)) ||
        (rc = upload(e, &tl, e->dt, 4, sm, NULL)) || (rc = upload(e, &tz, e->dt, 4, sz, lat)) ||
        (rc = upload(e, &td, e->dt, 4, sd, NULL)) || (rc = vkti_cmd_begin(e->cmd)) ||
        (rc = vkti_vae_encode(e->cmd, v, &tm, &tl, &ti)) || (rc = vkti_cmd_end(e->cmd)) ||
        (rc = vkti_cmd_submit(e->cmd, 1)) || (rc = vkti_cmd_begin(e->cmd)) ||
        (rc = vkti_vae_decode(e->cmd, v, &td, &tz)) || (rc = vkti_cmd_end(e->cmd)) || (rc = vkti_cmd_submit(e->cmd, 1))) {
        check_rc(&e->d, rc, "vae run");
        goto done;
    }
    gm = download(e, &tm);
    gl = download(e, &tl);
    gdec = download(e, &td);
    if (gm && gl && gdec) {
        compare("vae: encoder mean", gm, mean, nm, gb(e->dt, 1e-4, 1e-2));
        compare("vae: encoder log-variance", gl, logvar, nl, gb(e->dt, 1e-4, 1e-2));
        compare("vae: decoder image", gdec, dec, nd, gb(e->dt, 1e-4, 1e-2));
    }
done:
    free(img), free(mean), free(logvar), free(lat), free(dec), free(gm), free(gl), free(gdec);
    vkti_vae_free(v);
    if (r.open)
        vkti_safetensors_close(&r.st);
}

/* ---- one textual-inversion step ----------------------------------------------------------------- */

static void test_ti_step(env *e)
{
    ref_file r = {0};
    if (!open_ref(e, &r, "ti_step.safetensors"))
        return;
    vkti_clip_text_dims tdims;
    vkti_unet_dims udims;
    vkti_clip_text_dims_from_config(&e->m.text_encoder, &tdims);
    vkti_model_net tnet = {&e->m, VKTI_SD_TEXT_ENCODER}, unet_net = {&e->m, VKTI_SD_UNET};
    vkti_weight_source tsrc = {vkti_model_weight_get, &tnet}, usrc = {vkti_model_weight_get, &unet_net};
    vkti_clip_text *te = NULL;
    vkti_unet *u = NULL;
    vkti_ti_step *s = NULL;
    vkti_noise_schedule ns = {0};
    int64_t nid = 0, ninit = 0, nl = 0, nz = 0, nt = 0, nloss = 0, ng = 0, nnew = 0, sid[4] = {0}, sz[4] = {0};
    float *ids = ref_f32(&e->d, &r, "input_ids", &nid, sid, NULL), *init = ref_f32(&e->d, &r, "init_row", &ninit, NULL, NULL);
    float *lat = ref_f32(&e->d, &r, "latent", &nl, sz, NULL), *noise = ref_f32(&e->d, &r, "noise", &nz, NULL, NULL);
    float *ts = ref_f32(&e->d, &r, "timesteps", &nt, NULL, NULL), *loss = ref_f32(&e->d, &r, "loss", &nloss, NULL, NULL);
    float *grad = ref_f32(&e->d, &r, "grad_row", &ng, NULL, NULL), *newr = ref_f32(&e->d, &r, "new_row", &nnew, NULL, NULL);
    float *ggrad = NULL, *grow = NULL;
    const int64_t B = sid[0], T = sid[1];
    const float loss_scale = e->dt == VKTI_F16 ? 1024.0f : 1.0f;
    if (!ids || !init || !lat || !noise || !ts || !loss || !grad || !newr ||
        !check_rc(&e->d, vkti_unet_dims_from_config(&e->d, &e->m.unet, &udims), "unet dims") ||
        !check_rc(&e->d, vkti_noise_schedule_from_json(&e->d, &ns, e->m.scheduler_json, e->m.scheduler_json_len,
                                                       "scheduler", VKTI_LINSPACE_FUSED), "schedule") ||
        !check_rc(&e->d, vkti_clip_text_create(&te, e->g, &tdims, &tsrc, e->dt), "text encoder") ||
        !check_rc(&e->d, vkti_unet_create(&u, e->g, &udims, &usrc, e->dt), "unet"))
        goto done;
    vkti_ti_step_params p = {.batch = (int)B, .latent_h = (int)sz[1], .latent_w = (int)sz[2], .latent_c = (int)sz[3],
                             .tokens = (int)T, .learned = 1, .v_prediction = ns.prediction_type == VKTI_PREDICT_V,
                             .optimizer = VKTI_OPTIM_ADAMW, .dtype = e->dt, .external_noise = 1};
    if (!check_rc(&e->d, vkti_ti_step_create(&s, e->g, te, u, &p, init), "ti step"))
        goto done;
    vkti_ti_io *io = vkti_ti_step_io(s);
    for (int64_t i = 0; i < B * T; i++)
        io->ids[i] = (int32_t)ids[i];
    int64_t per = nl / B;
    float zero = 0.0f;
    for (int64_t b = 0; b < B; b++) {
        int t = (int)ts[b];
        vkti_noise_coefs k = vkti_noise_coefs_at(&ns, t);
        io->timesteps[b] = ts[b];
        io->coef_lat[2 * b] = 1.0f; /* latent = mean: the reference's latent, no sampling */
        io->coef_lat[2 * b + 1] = 0.0f;
        io->coef_noisy[2 * b] = k.a;
        io->coef_noisy[2 * b + 1] = k.b;
        io->coef_target[2 * b] = k.v_noise;
        io->coef_target[2 * b + 1] = k.v_latent;
        io->weights[b] = 1.0f;
        for (int64_t i = 0; i < per; i++)
            vkti_ti_io_put(s, io->std, b * per + i, &zero, 1);
    }
    vkti_ti_io_put(s, io->mean, 0, lat, nl);
    vkti_ti_io_put(s, io->noise, 0, noise, nz);
    vkti_ti_io_put(s, io->eps2, 0, noise, nz);
    vkti_optim_params op = vkti_optim_defaults(VKTI_OPTIM_ADAMW);
    op.lr = 5e-4;
    op.weight_decay = 1e-2;
    op.loss_scale = loss_scale;
    vkti_optim_hyper(io->hyper, &op);
    ggrad = malloc(sizeof(float) * (size_t)ng);
    grow = malloc(sizeof(float) * (size_t)nnew);
    if (!ggrad || !grow || !check_rc(&e->d, vkti_ti_step_micro(s), "ti step micro") ||
        !check_rc(&e->d, vkti_ti_step_get_grad(s, ggrad), "gradient") ||
        !check_rc(&e->d, vkti_ti_step_update(s), "ti step update") ||
        !check_rc(&e->d, vkti_ti_step_get_rows(s, grow), "rows"))
        goto done;
    for (int64_t i = 0; i < ng; i++)
        ggrad[i] /= loss_scale;
    float gl = io->loss[0];
    compare("ti step: loss", &gl, loss, 1, gb(e->dt, 1e-4, 1e-2));
    compare("ti step: d(placeholder row)", ggrad, grad, ng, gb(e->dt, 1e-3, 3e-2));
    /* The first AdamW step moves each element by lr * g / (|g| + eps): by the sign of g. Elements
     * whose gradient is within rounding of zero may take either sign, so they are left out. */
    double rms = 0;
    for (int64_t i = 0; i < ng; i++)
        rms += (double)grad[i] * grad[i];
    rms = sqrt(rms / (double)ng);
    int64_t kept = 0;
    for (int64_t i = 0; i < nnew; i++)
        if (fabs(grad[i]) > 0.05 * rms) {
            grow[kept] = grow[i];
            newr[kept] = newr[i];
            kept++;
        }
    printf("     AdamW step compared on %lld of %lld elements (|gradient| > 5%% of its RMS)\n", (long long)kept,
           (long long)nnew);
    compare("ti step: row after one AdamW step", grow, newr, kept, gb(e->dt, 1e-5, 1e-3));
    /* every other row of the vocabulary: bit-identical to the file's (as stored in the dtype) */
    {
        const vkti_tensor *table = vkti_clip_text_token_table(te);
        const vkti_io_tensor *ft = vkti_model_find(&e->m, VKTI_SD_TEXT_ENCODER, "text_model.embeddings.token_embedding.weight");
        int64_t n = vkti_tensor_numel(table), diff = 0;
        float *dev = download(e, table), *file = malloc(sizeof(float) * (size_t)n);
        if (dev && file && vkti_io_tensor_to_f32(&e->d, ft, file, (uint64_t)n) == 0) {
            for (int64_t i = 0; i < n; i++) {
                float want = e->dt == VKTI_F16 ? vkti_f16_to_f32(vkti_f32_to_f16(file[i])) : file[i];
                diff += memcmp(&want, &dev[i], sizeof want) != 0;
            }
            printf("%s ti step: %lld frozen embedding rows bit-identical after the step (%lld elements differ)\n",
                   diff ? "FAIL" : "ok  ", (long long)(n / ft->shape[1]), (long long)diff);
            if (diff)
                failed++;
            else
                passed++;
        } else {
            printf("FAIL could not read the token table back\n");
            failed++;
        }
        free(dev);
        free(file);
    }
done:
    free(ids), free(init), free(lat), free(noise), free(ts), free(loss), free(grad), free(newr), free(ggrad), free(grow);
    vkti_ti_step_free(s);
    vkti_unet_free(u);
    vkti_clip_text_free(te);
    vkti_noise_schedule_free(&ns);
    if (r.open)
        vkti_safetensors_close(&r.st);
}

/* Runs every check on one model against one reference folder. */
static void run_model(env *e, const char *model, const char *ref, const char *which, const char *dtypes)
{
    e->ref_dir = ref;
    if (!check_rc(&e->d, vkti_model_open(&e->d, &e->m, model, NULL), model))
        return;
    printf("==== model %s; references %s\n", model, ref);
    for (int k = 0; k < 2; k++) {
        e->dt = k ? VKTI_F16 : VKTI_F32;
        if ((k == 0 && !strcmp(dtypes, "f16")) || (k == 1 && !strcmp(dtypes, "f32")) ||
            (e->dt == VKTI_F16 && !vkti_gpu_info(e->g)->storage16))
            continue;
        printf("---- %s storage\n", vkti_dtype_name(e->dt));
        if (!check_rc(&e->d, vkti_arena_create(e->g, "test", 0, &e->arena), "arena") ||
            !check_rc(&e->d, vkti_cmd_create(e->g, &e->cmd), "cmd"))
            break;
        if (strstr(which, "te"))
            test_text_encoder(e);
        if (strstr(which, "unet"))
            test_unet(e);
        if (strstr(which, "vae"))
            test_vae(e);
        if (strstr(which, "step"))
            test_ti_step(e);
        vkti_cmd_free(e->cmd);
        vkti_arena_free(e->arena);
        e->cmd = NULL;
        e->arena = NULL;
    }
    vkti_model_close(&e->m);
}

int main(int argc, char **argv)
{
    const char *model = NULL, *ref = NULL, *which = "te,unet,vae,step", *dtypes = "both";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--ref") && i + 1 < argc)
            ref = argv[++i];
        else if (!strcmp(argv[i], "--which") && i + 1 < argc)
            which = argv[++i];
        else if (!strcmp(argv[i], "--dtype") && i + 1 < argc)
            dtypes = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--model DIR --ref DIR] [--dtype f32|f16|both] [--which te,unet,vae,step]\n",
                    argv[0]);
            return 2;
        }
    }
    const char *src_dir = getenv("VKTI_SOURCE_DIR"), *bd = getenv("VKTI_BUILD_DIR");
    env e;
    memset(&e, 0, sizeof e);
    e.d.log = log_line;
    e.d.level = VKTI_LOG_WARN;
    const char *sync = getenv("VKTI_SYNC_VALIDATION");
    vkti_gpu_options o = {.validation = 1, .sync_validation = sync && sync[0] == '1', .device = getenv("VKTI_DEVICE"),
                          .disable = getenv("VKTI_DISABLE")};
    if (!check_rc(&e.d, vkti_gpu_create(&e.g, &e.d, &o), "device")) {
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }
    printf("device %s\n", vkti_gpu_info(e.g)->name);
    if (model) {
        run_model(&e, model, ref ? ref : ".", which, dtypes);
    } else {
        static const char *const presets[] = {"tiny", "tiny-sd2"};
        for (int p = 0; p < 2; p++) {
            char model_dir[1024], ref_dir[1024];
            vkti_sd_synth syn;
            snprintf(model_dir, sizeof model_dir, "%s/networks-%s", bd ? bd : ".", presets[p]);
            snprintf(ref_dir, sizeof ref_dir, "%s/tests/data/ref/%s", src_dir ? src_dir : ".", presets[p]);
            if (!check_rc(&e.d, vkti_sd_synth_preset(&e.d, presets[p], &syn), presets[p]))
                continue;
            syn.seed = 1;
            if (check_rc(&e.d, vkti_sd_synth_write(&e.d, &syn, model_dir, NULL, NULL), "writing the tiny model"))
                run_model(&e, model_dir, ref_dir, which, dtypes);
        }
    }
    int vmsg = vkti_gpu_validation_messages(e.g);
    if (vmsg) {
        printf("FAIL %d validation message(s)\n", vmsg);
        failed++;
    }
    vkti_gpu_free(e.g);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
