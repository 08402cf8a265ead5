/* test_txt2img.c — text to image on the tiny model (written in-process by io/sd_synth.h, opened
 * through sample/pipeline.h) on the Vulkan device with the validation layer on: every sampler
 * runs and is deterministic; a batch's image i is the image of seed + i alone; the starting
 * latents are the documented Philox draws; an embedding whose vectors are the token table's rows
 * of two words gives exactly the image of those words (the learned-row path); guidance changes the
 * picture; the parameter checks. Also the decode's host side: diffusers' pixel postprocessing,
 * the tiled assembly (pieces cut from one picture reassemble to it), the tile plan, and the memory
 * estimate against what the decoder really allocates.
 * Fidelity (f32 networks): tests/fixtures/pipeline_reference_tiny.safetensors holds diffusers'
 * StableDiffusionPipeline's final latents on this same tiny model, prompt, negative prompt, seed
 * and Philox noise, 20 steps with guidance 7, for DDIM (eta 0 and 1), Euler a, DPM++ 2M and its
 * Karras variant (tools/ref/pipeline_reference.py --save-reference, on the GPU machine). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/safetensors.h"
#include "io/sd_synth.h"
#include "ops/rng.h"
#include "sample/decode.h"
#include "sample/pipeline.h"
#include "sample/prompt.h"
#include "check.h"

/* ---- host side of the decode -------------------------------------------------------------------- */

static void test_pixels(void)
{
    CHECK(vkti_decode_pixel(-1.0f) == 0 && vkti_decode_pixel(1.0f) == 255 && vkti_decode_pixel(-7.0f) == 0 &&
          vkti_decode_pixel(3.0f) == 255, "ends and clamping");
    /* 0 -> 0.5 * 255 = 127.5, rounded half to even: 128; 1/255 steps land on their level */
    CHECK(vkti_decode_pixel(0.0f) == 128, "0 gives %d", vkti_decode_pixel(0.0f));
    int ok = 1;
    for (int v = 0; v < 256; v++)
        ok &= vkti_decode_pixel((float)(v / 127.5 - 1.0)) == v;
    CHECK(ok, "every 8-bit level comes back");
    CHECK(vkti_decode_pixel(NAN) == 0, "NaN is 0");
}

/* pieces cut from one picture blend into that picture */
static void test_assemble(int h, int w, int tile, int f)
{
    const int H = h * f, W = w * f;
    float *img = malloc(sizeof(float) * (size_t)H * W * 3);
    uint8_t *want = malloc((size_t)H * W * 3), *got = malloc((size_t)H * W * 3);
    for (int i = 0; i < H * W * 3; i++)
        img[i] = (float)sin(i * 0.37) * 0.9f;
    for (int i = 0; i < H * W * 3; i++)
        want[i] = vkti_decode_pixel(img[i]);
    int rows, cols;
    vkti_decode_tiles(h, w, tile, &rows, &cols);
    vkti_decode_piece *ps = calloc((size_t)rows * cols, sizeof *ps);
    int stride = tile * 3 / 4;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            vkti_decode_piece *p = &ps[i * cols + j];
            p->y0 = tile ? i * stride : 0;
            p->x0 = tile ? j * stride : 0;
            p->lh = tile ? (h - p->y0 < tile ? h - p->y0 : tile) : h;
            p->lw = tile ? (w - p->x0 < tile ? w - p->x0 : tile) : w;
            p->ph = p->lh * f;
            p->pw = p->lw * f;
            p->px = malloc(sizeof(float) * (size_t)p->ph * p->pw * 3);
            for (int y = 0; y < p->ph; y++)
                memcpy(p->px + (size_t)y * p->pw * 3, img + ((size_t)(p->y0 * f + y) * W + (size_t)p->x0 * f) * 3,
                       sizeof(float) * (size_t)p->pw * 3);
        }
    memset(got, 0xee, (size_t)H * W * 3);
    vkti_decode_assemble(got, ps, h, w, tile, f);
    int worst = 0;
    for (int i = 0; i < H * W * 3; i++)
        worst = abs(got[i] - want[i]) > worst ? abs(got[i] - want[i]) : worst;
    /* a blend of equal values is that value to an ulp: a pixel may round the other way at .5 */
    CHECK(worst <= 1, "tiles of %d over %dx%d (f %d, %dx%d pieces) reassemble with a difference of %d", tile, h, w, f, rows,
          cols, worst);
    for (int k = 0; k < rows * cols; k++)
        free(ps[k].px);
    free(ps);
    free(img);
    free(want);
    free(got);
}

static void test_plan(void)
{
    vkti_vae_dims d = {.in_channels = 3, .out_channels = 3, .latent = 4, .nblocks = 4, .channels = {128, 256, 512, 512},
                       .layers_per_block = 2, .groups = 32, .eps = 1e-6f, .use_quant_conv = 1, .use_post_quant_conv = 1,
                       .mid_attn = 1, .scaling_factor = 0.18215f};
    uint64_t big, e512 = vkti_decode_estimate(&d, VKTI_F16, 64, 64, &big);
    /* SD 1.5 at 512 x 512 in f16: about 1.1 GiB of activations (plus the arenas' slack), the largest
     * tensor the 2x-upsampled 256 channels at 512 x 512: 128 MiB */
    CHECK(e512 > (900ull << 20) && e512 < (2200ull << 20), "SD 1.5 512x512 decode estimate %.0f MiB", (double)e512 / 1048576.0);
    CHECK(big == (128ull << 20), "largest tensor %.0f MiB", (double)big / 1048576.0);
    vkti_diag dg = {0};
    int tile = -1;
    CHECK(vkti_decode_plan(&dg, &d, VKTI_F16, 64, 64, 0, 4ull << 30, &tile) == 0 && tile == 0, "no budget: whole");
    CHECK(vkti_decode_plan(&dg, &d, VKTI_F16, 64, 64, e512, 4ull << 30, &tile) == 0 && tile == 0, "just fits: whole");
    CHECK(vkti_decode_plan(&dg, &d, VKTI_F16, 128, 128, e512, 4ull << 30, &tile) == 0 && tile > 0 && tile <= 64 &&
              vkti_decode_estimate(&d, VKTI_F16, tile, tile, NULL) <= e512,
          "1024x1024 under the 512 budget: tiles of %d", tile);
    /* lavapipe's 128 MiB bindings: f32 at 512 x 512 must tile */
    CHECK(vkti_decode_plan(&dg, &d, VKTI_F32, 64, 64, 0, 128ull << 20, &tile) == 0 && tile > 0 && tile < 64,
          "f32 512x512 with 128 MiB bindings: tiles of %d", tile);
    CHECK(vkti_decode_plan(&dg, &d, VKTI_F16, 64, 64, 100ull << 20, 4ull << 30, &tile) == VKTI_E_OOM &&
              strstr(dg.msg, "raise --max-vram"),
          "a budget too small: %s", dg.msg);
}

/* ---- on the device ------------------------------------------------------------------------------ */

typedef struct env {
    vkti_gpu *g;
    vkti_sd_pipeline p;
    vkti_dtype dt;
} env;

static vkti_txt2img_params params(void)
{
    vkti_txt2img_params p = {.prompt = "a photo of x", .negative = "blurry", .sampler = VKTI_SAMPLER_EULER_A,
                             .steps = 4, .cfg = 7.0, .seed = 42, .width = 32, .height = 48, .batch = 1};
    return p;
}

static int run(env *e, const vkti_txt2img_params *p, vkti_txt2img_result *r)
{
    vkti_diag *d = vkti_gpu_diag(e->g);
    int rc = vkti_txt2img(d, &e->p.nets, p, r);
    if (rc)
        printf("  txt2img: %s\n", d->msg);
    return rc;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* ---- diffusers' pipeline, whole loops ------------------------------------------------------------- */

/* The largest difference of the final latents, relative to the reference's RMS. Measured against
 * this fixture, 2026-11-26: H200 4.4e-6 (DDIM) to 7.9e-6 (DDIM eta 1); lavapipe 4.8e-6 to 8.6e-6
 * (Euler a). 1e-4 leaves room for other drivers' float rounding over 20 steps, while the errors
 * this test has caught — Euler a's and DPM++'s timesteps from the wrong class defaults, a
 * reference started from unscaled noise — were 0.6 to 3.4. */
#define PIPELINE_TOL 1e-4

static void test_diffusers(env *e, const char *src_dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/fixtures/pipeline_reference_tiny.safetensors", src_dir);
    vkti_diag d = {0};
    vkti_safetensors st;
    if (vkti_safetensors_open(&d, &st, path)) {
        CHECK(0, "the pipeline fixture: %s", d.msg);
        return;
    }
    static const struct { const char *key; vkti_sampler s; int karras; int eta; } runs[] = {
        {"ddim.latents", VKTI_SAMPLER_DDIM, 0, 0},         {"ddim_eta.latents", VKTI_SAMPLER_DDIM, 0, 1},
        {"euler_a.latents", VKTI_SAMPLER_EULER_A, 0, 0},   {"dpmpp_2m.latents", VKTI_SAMPLER_DPMPP_2M, 0, 0},
        {"dpmpp_2m_karras.latents", VKTI_SAMPLER_DPMPP_2M, 1, 0},
    };
    const char *prompt = vkti_safetensors_meta(&st, "prompt"), *neg = vkti_safetensors_meta(&st, "negative");
    const char *steps = vkti_safetensors_meta(&st, "steps"), *cfg = vkti_safetensors_meta(&st, "cfg");
    const char *seed = vkti_safetensors_meta(&st, "seed"), *w = vkti_safetensors_meta(&st, "width");
    const char *h = vkti_safetensors_meta(&st, "height"), *eta = vkti_safetensors_meta(&st, "eta");
    CHECK(prompt && neg && steps && cfg && seed && w && h && eta, "the fixture's settings");
    if (!(prompt && neg && steps && cfg && seed && w && h && eta)) {
        vkti_safetensors_close(&st);
        return;
    }
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const vkti_io_tensor *t = vkti_safetensors_find(&st, runs[i].key);
        vkti_txt2img_params p = {.prompt = prompt, .negative = neg, .sampler = runs[i].s, .karras = runs[i].karras,
                                 .eta = runs[i].eta ? atof(eta) : 0, .steps = atoi(steps), .cfg = atof(cfg),
                                 .seed = (uint64_t)atoll(seed), .width = atoi(w), .height = atoi(h), .batch = 1};
        vkti_txt2img_result r;
        if (!t || t->dtype != VKTI_IO_F32 || run(e, &p, &r)) {
            CHECK(0, "%s: no reference or no run", runs[i].key);
            continue;
        }
        size_t n = (size_t)r.latent_h * r.latent_w * r.latent_c;
        double rms = 0, worst = 0;
        if (t->numel != n) {
            CHECK(0, "%s: %llu reference values for %zu latents", runs[i].key, (unsigned long long)t->numel, n);
        } else {
            for (size_t j = 0; j < n; j++) {
                float v;
                memcpy(&v, t->data + 4 * j, 4);
                rms += (double)v * v;
                worst = fmax(worst, fabs((double)r.latents[j] - v));
            }
            rms = sqrt(rms / (double)n);
            CHECK(worst <= PIPELINE_TOL * rms, "%s: 20 steps as diffusers' pipeline: worst %.3g of the RMS %.3g",
                  runs[i].key, worst / rms, rms);
            printf("   %-24s vkti vs diffusers: worst %.2g of the RMS\n", runs[i].key, worst / rms);
        }
        vkti_txt2img_result_free(&r);
    }
    vkti_safetensors_close(&st);
}

static void test_samplers(env *e)
{
    for (int s = 0; s < 4; s++) {
        vkti_txt2img_params p = params();
        p.sampler = s == 3 ? VKTI_SAMPLER_DPMPP_2M : (vkti_sampler)s;
        p.karras = s == 3;
        p.eta = s == 0 ? 0.3 : 0.0;
        vkti_txt2img_result a, b;
        if (run(e, &p, &a)) {
            CHECK(0, "%s", vkti_sampler_name(p.sampler));
            continue;
        }
        int ok = run(e, &p, &b) == 0;
        size_t n = (size_t)a.latent_h * a.latent_w * a.latent_c, px = (size_t)p.width * p.height * 3;
        CHECK(ok && a.latent_h == 6 && a.latent_w == 4 && a.latent_c == 4, "%s: latent %dx%dx%d", vkti_sampler_name(p.sampler),
              a.latent_h, a.latent_w, a.latent_c);
        CHECK(ok && !memcmp(a.latents, b.latents, n * 4) && !memcmp(a.rgb, b.rgb, px), "%s%s: the same run twice gives "
              "the same bits", vkti_sampler_name(p.sampler), p.karras ? " karras" : "");
        int lo = 255, hi = 0, finite = 1;
        for (size_t i = 0; i < px; i++) {
            lo = a.rgb[i] < lo ? a.rgb[i] : lo;
            hi = a.rgb[i] > hi ? a.rgb[i] : hi;
        }
        for (size_t i = 0; i < n; i++)
            finite &= isfinite(a.latents[i]);
        CHECK(finite && hi > lo, "%s: a picture (pixels %d .. %d)", vkti_sampler_name(p.sampler), lo, hi);
        vkti_txt2img_result_free(&a);
        if (ok)
            vkti_txt2img_result_free(&b);
    }
}

static void test_seeds(env *e)
{
    vkti_txt2img_params p = params();
    p.batch = 3;
    p.seed = 1000;
    vkti_txt2img_result all, one;
    if (run(e, &p, &all))
        return;
    size_t n = (size_t)all.latent_h * all.latent_w * all.latent_c, px = (size_t)p.width * p.height * 3;
    p.batch = 1;
    p.seed = 1002;
    if (run(e, &p, &one) == 0) {
        CHECK(!memcmp(all.initial + 2 * n, one.initial, n * 4), "image 2 of a batch starts where seed + 2 alone starts");
        double dl = max_diff(all.latents + 2 * n, one.latents, n);
        int dp = 0;
        for (size_t i = 0; i < px; i++)
            dp = abs(all.rgb[2 * px + i] - one.rgb[i]) > dp ? abs(all.rgb[2 * px + i] - one.rgb[i]) : dp;
        /* the batch runs the networks over 6 rows instead of 2: products may round differently */
        CHECK(dl < 1e-3 && dp <= 2, "image 2 of a batch is seed + 2's image (latents %.2g, pixels %d apart)", dl, dp);
        CHECK(memcmp(all.initial, all.initial + n, n * 4) != 0, "images of a batch start from different noise");
        vkti_txt2img_result_free(&one);
    }
    /* the starting latents are Philox normal draws (key seed + i, counter 0, stream 0) times the init sigma */
    vkti_diag *d = vkti_gpu_diag(e->g);
    vkti_arena *a = NULL;
    vkti_cmd *c = NULL;
    vkti_tensor key, z;
    float *host = malloc(sizeof(float) * n);
    uint32_t k[4];
    vkti_rng_key(k, 1001, 0);
    if (host && !vkti_arena_create(e->g, "t", 0, &a) && !vkti_cmd_create(e->g, &c) &&
        !vkti_arena_tensor(a, &key, VKTI_U32, 1, (int64_t[]){4}) && !vkti_tensor_upload(e->g, &key, k, 16) &&
        !vkti_arena_tensor(a, &z, VKTI_F32, 1, (int64_t[]){(int64_t)n}) && !vkti_cmd_begin(c) &&
        !vkti_rng_normal_forward(c, &z, &key, 0, 0) && !vkti_cmd_end(c) && !vkti_cmd_submit(c, 1) &&
        !vkti_tensor_download_f32(e->g, &z, host, (int64_t)n)) {
        vkti_sampler_plan plan;
        vkti_sampler_settings st = {VKTI_SAMPLER_EULER_A, 4, 0, 0, 7};
        if (!vkti_sampler_plan_init(d, &plan, &e->p.schedule, &e->p.sampling, &st)) {
            int same = 1;
            for (size_t i = 0; i < n; i++)
                same &= all.initial[n + i] == host[i] * plan.init_sigma;
            CHECK(same, "the starting latent of seed 1001 is its Philox draw times init sigma %g", plan.init_sigma);
            vkti_sampler_plan_free(&plan);
        }
    } else {
        CHECK(0, "rng: %s", d->msg);
    }
    vkti_gpu_wait_idle(e->g);
    vkti_cmd_free(c);
    vkti_arena_free(a);
    free(host);
    vkti_txt2img_result_free(&all);
}

/* an embedding made of the token table's rows of "x" and "y": "a <xy>" must be "a x y" */
static void test_embedding(env *e)
{
    vkti_diag *d = vkti_gpu_diag(e->g);
    const vkti_clip_text_dims *td = vkti_clip_text_get_dims(e->p.te);
    const int D = td->width;
    int32_t ix = vkti_tokenizer_token_id(e->p.tok, "x</w>"), iy = vkti_tokenizer_token_id(e->p.tok, "y</w>");
    float *table = malloc(sizeof(float) * (size_t)td->vocab * D);
    vkti_embedding emb;
    memset(&emb, 0, sizeof emb);
    if (!table || ix < 0 || iy < 0 ||
        vkti_tensor_download_f32(e->g, vkti_clip_text_token_table(e->p.te), table, (int64_t)td->vocab * D) ||
        vkti_embedding_alloc(d, &emb, "<xy>", 2, D, 0)) {
        CHECK(0, "embedding setup: %s", d->msg);
        free(table);
        return;
    }
    memcpy(emb.vec[0], table + (size_t)ix * D, sizeof(float) * D);
    memcpy(emb.vec[0] + D, table + (size_t)iy * D, sizeof(float) * D);
    vkti_prompt_rows rows = {.vocab = td->vocab, .width = D};
    int32_t first = -1;
    int rc = vkti_prompt_add_embedding(d, e->p.tok, &rows, &emb, NULL, "xy.safetensors", &first);
    CHECK(rc == 0 && first == td->vocab && rows.count == 2, "added: %s", d->msg);
    int32_t ids[77], want[77];
    int cut = -1;
    CHECK(vkti_prompt_encode(d, e->p.tok, "a <xy> photo", ids, 77, &cut) == 0 && cut == 0 && ids[2] == td->vocab &&
              ids[3] == td->vocab + 1,
          "the prompt expands <xy> to <xy> <xy>_1: %d %d", ids[2], ids[3]);
    CHECK(vkti_prompt_has(ids, 77, first), "found");
    /* the tokens after it move along */
    CHECK(vkti_prompt_encode(d, e->p.tok, "a x y photo", want, 77, NULL) == 0 && want[4] == ids[4] && want[5] == ids[5],
          "same tail");
    /* width and duplicate refusals */
    vkti_embedding wide;
    if (!vkti_embedding_alloc(d, &wide, "<w>", 1, 768, 0)) {
        rc = vkti_prompt_add_embedding(d, e->p.tok, &rows, &wide, NULL, "wide.pt", NULL);
        CHECK(rc == VKTI_E_INVALID && strstr(d->msg, "wide.pt: its vectors are 768 wide (SD 1.x), this model's text encoder "
                                                      "is 32 wide"), "width refused: %s", d->msg);
        vkti_embedding_free(&wide);
    }
    rc = vkti_prompt_add_embedding(d, e->p.tok, &rows, &emb, NULL, "again.pt", NULL);
    CHECK(rc == VKTI_E_INVALID && strstr(d->msg, "again.pt") && strstr(d->msg, "already a token"), "duplicate: %s", d->msg);
    /* the images */
    vkti_txt2img_params p = params();
    p.prompt = "a <xy> photo";
    p.rows = rows.rows;
    p.nrows = rows.count;
    vkti_txt2img_result a, b;
    if (run(e, &p, &a) == 0) {
        p.prompt = "a x y photo";
        if (run(e, &p, &b) == 0) {
            size_t n = (size_t)a.latent_h * a.latent_w * a.latent_c;
            CHECK(!memcmp(a.latents, b.latents, n * 4), "\"a <xy> photo\" with the rows of x and y is \"a x y photo\" "
                  "(latents %.2g apart)", max_diff(a.latents, b.latents, n));
            vkti_txt2img_result_free(&b);
        }
        vkti_txt2img_result_free(&a);
    }
    /* guidance 1 uses the conditional half only: the negative prompt no longer matters */
    p = params();
    p.cfg = 1.0;
    vkti_txt2img_result g1, g2, g7;
    if (run(e, &p, &g1) == 0) {
        p.negative = "something else entirely";
        if (run(e, &p, &g2) == 0) {
            size_t n = (size_t)g1.latent_h * g1.latent_w * g1.latent_c;
            CHECK(!g1.guided && !memcmp(g1.latents, g2.latents, n * 4), "cfg 1 ignores the negative prompt");
            p.cfg = 7.0;
            if (run(e, &p, &g7) == 0) {
                CHECK(g7.guided && memcmp(g1.latents, g7.latents, n * 4), "cfg 7 differs from cfg 1");
                vkti_txt2img_result_free(&g7);
            }
            vkti_txt2img_result_free(&g2);
        }
        vkti_txt2img_result_free(&g1);
    }
    vkti_prompt_rows_free(&rows);
    vkti_embedding_free(&emb);
    free(table);
}

static void test_checks(env *e)
{
    vkti_diag *d = vkti_gpu_diag(e->g);
    const vkti_vae_dims *vd = vkti_vae_get_dims(e->p.vae);
    struct {
        int w, h, steps, batch;
        double cfg;
        const char *msg;
    } cases[] = {
        {100, 32, 4, 1, 7, "--width 100 is not a multiple of 8"},
        {32, 40, 4, 1, 7, "--height 40 is not a multiple of 16 (the VAE's factor 8 times the UNet's downsampling 2); try 32"},
        {8, 32, 4, 1, 7, "--width 8 is not a multiple of 16"},
        {32, 32, 0, 1, 7, "--steps must be from 1 to 1000, not 0"},
        {32, 32, 4, 0, 7, "--batch must be from 1"},
        {32, 32, 4, 1, -1, "--cfg must be from 0 to 100"},
        {8192, 32, 4, 1, 7, "--width 8192 is more than 4096 pixels"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vkti_txt2img_params p = params();
        p.width = cases[i].w;
        p.height = cases[i].h;
        p.steps = cases[i].steps;
        p.batch = cases[i].batch;
        p.cfg = cases[i].cfg;
        int rc = vkti_txt2img_check(d, &e->p.unet_dims, vd, &p);
        CHECK(rc == VKTI_E_INVALID && strstr(d->msg, cases[i].msg), "check %zu: %s", i, d->msg);
    }
}

/* what the decoder allocates stays under the estimate */
static void test_estimate(env *e)
{
    const vkti_vae_dims *vd = vkti_vae_get_dims(e->p.vae);
    const int sizes[3][2] = {{4, 4}, {8, 6}, {12, 12}};
    vkti_diag *d = vkti_gpu_diag(e->g);
    for (int k = 0; k < 3; k++) {
        int h = sizes[k][0], w = sizes[k][1];
        vkti_arena *a = NULL;
        vkti_cmd *c = NULL;
        vkti_tensor lat;
        uint8_t *rgb = malloc((size_t)h * w * 64 * 3);
        float *zeros = calloc((size_t)h * w * 4, sizeof(float));
        /* a fresh decoder: its arenas start empty */
        vkti_vae *vae = NULL;
        if (!rgb || !zeros || vkti_vae_create(&vae, e->g, vd, &e->p.src[VKTI_SD_VAE], e->dt, VKTI_VAE_DECODER) ||
            vkti_arena_create(e->g, "lat", 0, &a) || vkti_cmd_create(e->g, &c) ||
            vkti_arena_tensor(a, &lat, VKTI_F32, 4, (int64_t[]){1, h, w, 4}) ||
            vkti_tensor_upload(e->g, &lat, zeros, sizeof(float) * (size_t)h * w * 4)) {
            CHECK(0, "estimate setup: %s", d->msg);
        } else {
            uint64_t before = vkti_gpu_bytes_in_use(e->g);
            int rc = vkti_decode_rgb(c, vae, e->dt, &lat, 0, rgb, NULL, NULL);
            uint64_t used = vkti_gpu_bytes_in_use(e->g) - before, est = vkti_decode_estimate(vd, e->dt, h, w, NULL);
            CHECK(rc == 0 && used <= est, "decode %dx%d: %.1f MiB allocated, estimate %.1f MiB", h, w, (double)used / 1048576.0,
                  (double)est / 1048576.0);
        }
        vkti_gpu_wait_idle(e->g);
        vkti_cmd_free(c);
        vkti_arena_free(a);
        vkti_vae_free(vae);
        free(rgb);
        free(zeros);
    }
    /* tiles as large as the latent are the whole decode; smaller ones still give a picture */
    vkti_txt2img_params p = params();
    p.width = p.height = 128;
    p.steps = 2;
    vkti_txt2img_result r;
    if (vkti_txt2img_sample(d, &e->p.nets, &p, &r) == 0) {
        vkti_arena *a = NULL;
        vkti_cmd *c = NULL;
        vkti_tensor lat;
        size_t px = 128 * 128 * 3;
        uint8_t *whole = malloc(px), *same = malloc(px), *tiled = malloc(px);
        if (whole && same && tiled && !vkti_arena_create(e->g, "lat", 0, &a) && !vkti_cmd_create(e->g, &c) &&
            !vkti_arena_tensor(a, &lat, VKTI_F32, 4, (int64_t[]){1, 16, 16, 4}) &&
            !vkti_tensor_upload(e->g, &lat, r.latents, sizeof(float) * 16 * 16 * 4)) {
            int rc = vkti_decode_rgb(c, e->p.vae, e->dt, &lat, 0, whole, NULL, NULL) ||
                     vkti_decode_rgb(c, e->p.vae, e->dt, &lat, 16, same, NULL, NULL) ||
                     vkti_decode_rgb(c, e->p.vae, e->dt, &lat, 8, tiled, NULL, NULL);
            CHECK(rc == 0 && !memcmp(whole, same, px), "a tile the size of the latent is the whole decode");
            double mad = 0;
            for (size_t i = 0; i < px; i++)
                mad += abs(whole[i] - tiled[i]);
            mad /= (double)px;
            /* the tiny random VAE's group norms see only a tile: close, not equal */
            CHECK(rc == 0 && mad < 40, "8-latent tiles: mean difference %.2f levels from the whole", mad);
        } else {
            CHECK(0, "tile setup: %s", d->msg);
        }
        vkti_gpu_wait_idle(e->g);
        vkti_cmd_free(c);
        vkti_arena_free(a);
        free(whole);
        free(same);
        free(tiled);
        vkti_txt2img_result_free(&r);
    }
}

int main(void)
{
    test_pixels();
    test_assemble(8, 8, 0, 8);
    test_assemble(20, 13, 8, 8);
    test_assemble(32, 24, 16, 2);
    test_assemble(100, 64, 64, 8);
    test_assemble(9, 17, 8, 4);
    test_plan();
    const char *bd = getenv("VKTI_BUILD_DIR"), *sd = getenv("VKTI_SOURCE_DIR");
    char root[4096], tok[4200], dir[4300];
    snprintf(root, sizeof root, "%s/test-txt2img-%ld", bd ? bd : ".", (long)(vkti_now() * 1e3) % 1000000);
    snprintf(tok, sizeof tok, "%s/tests/data/tokenizer/tiny", sd ? sd : ".");
    snprintf(dir, sizeof dir, "%s/tiny", root);
    vkti_diag d = {0};
    env e;
    memset(&e, 0, sizeof e);
    vkti_gpu_options o = {.validation = 1, .sync_validation = sync_validation_asked(), .device = vkti_env("VKTI_DEVICE")};
    vkti_sd_synth s;
    if (vkti_mkdir_p(&d, root) || vkti_gpu_create(&e.g, &d, &o) || vkti_sd_synth_preset(&d, "tiny", &s)) {
        printf("setup: %s\n%d passed, %d failed\n", d.msg, passed, failed + 1);
        return 1;
    }
    printf("device: %s\n", vkti_gpu_info(e.g)->name);
    s.seed = 1;
    s.tokenizer_from = tok;
    for (int pass = 0; pass < 2; pass++) {
        e.dt = pass ? VKTI_F16 : VKTI_F32;
        if (e.dt == VKTI_F16 && !vkti_gpu_info(e.g)->storage16)
            continue;
        printf("-- %s networks\n", vkti_dtype_name(e.dt));
        if ((pass == 0 && vkti_sd_synth_write(&d, &s, dir, NULL, NULL)) ||
            vkti_sd_pipeline_open(vkti_gpu_diag(e.g), &e.p, dir, NULL) ||
            vkti_sd_pipeline_load(vkti_gpu_diag(e.g), &e.p, e.g, e.dt)) {
            CHECK(0, "tiny model: %s %s", d.msg, vkti_gpu_diag(e.g)->msg);
            break;
        }
        double t0 = vkti_now();
        test_samplers(&e);
        if (e.dt == VKTI_F32)
            test_diffusers(&e, sd ? sd : ".");
        double t1 = vkti_now();
        test_seeds(&e);
        double t2 = vkti_now();
        test_embedding(&e);
        double t3 = vkti_now();
        test_checks(&e);
        test_estimate(&e);
        printf("   samplers %.1f s, seeds %.1f s, embedding %.1f s, checks and decode %.1f s\n", t1 - t0, t2 - t1, t3 - t2,
               vkti_now() - t3);
        vkti_sd_pipeline_close(&e.p);
    }
    CHECK(vkti_gpu_validation_messages(e.g) == 0, "%d validation messages", vkti_gpu_validation_messages(e.g));
    vkti_gpu_free(e.g);
    if (!failed)
        rm_tree(root);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
