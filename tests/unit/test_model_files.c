/* test_model_files.c — opening Stable Diffusion models. The tiny presets are generated in-process
 * (sd_synth.h, the code behind tools/make_tiny_sd) into a scratch folder under the build tree, as a
 * diffusers folder, an LDM single-file .safetensors and a torch .ckpt; then:
 *  - all three layouts give bit-identical tensors (dtype, shape, every byte in logical order) for
 *    every name of every network, the same configs and the same fingerprint; SD 2.x's q/k/v come out
 *    of OpenCLIP's fused in_proj and the VAE's 1x1-conv attention weights are viewed as linear;
 *  - family, configs and prediction type are inferred from names and shapes alone (the .ckpt carries
 *    no configs): tiny, tiny-sd2, tiny-sd2 as SD 2.0-base (global_step 875000: epsilon), and SD 1.5 /
 *    SD 2.1 name-and-shape tables (header-only fakes: descriptors without data), whose inferred
 *    configs must be the released ones;
 *  - a missing tensor, a wrong shape, a non-float tensor give messages naming the tensor and the
 *    expected shape, in both layouts; SDXL, SD3/Flux, a lone UNet, a model_index of SDXL, an
 *    inpainting UNet and mismatched networks are refused by name;
 *  - the fp16 variant is skipped in favour of full precision (and used when alone), sharded
 *    weights (*.safetensors.index.json) and unwrapped CLIPTextModel names are read;
 *  - the fingerprint differs between two seeds and between dtypes;
 *  - every file of the hostile corpus (tests/data/hostile) is refused as a model, without a crash;
 *  - the tokenizer is found in the folder, through --tokenizer, and its absence lists where it
 *    was looked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/ldm_infer.h"
#include "io/model_files.h"
#include "io/safetensors.h"
#include "io/sd_synth.h"
#include "check.h"

static char root[4096];
static char src_dir[4096];

static void path_of(char *out, const char *name) { snprintf(out, 4400, "%s/%s", root, name); }

/* Writes preset (seed) as root/name (folder), root/name.safetensors and root/name.ckpt. */
static int make(const char *preset, uint64_t seed, const char *name, void (*edit)(vkti_sd_synth *))
{
    vkti_diag d = {0};
    vkti_sd_synth s;
    if (vkti_sd_synth_preset(&d, preset, &s)) {
        printf("preset %s: %s\n", preset, d.msg);
        return -1;
    }
    char tok[4200];
    snprintf(tok, sizeof tok, "%s/tests/data/tokenizer/tiny", src_dir);
    s.seed = seed;
    s.tokenizer_from = tok;
    if (edit)
        edit(&s);
    char dir[4400], single[4500], ckpt[4500];
    path_of(dir, name);
    snprintf(single, sizeof single, "%s.safetensors", dir);
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", dir);
    int rc = vkti_sd_synth_write(&d, &s, dir, single, ckpt);
    if (rc)
        printf("writing %s: %s\n", name, d.msg);
    return rc;
}

static int open_model(vkti_model *m, const char *name, const char *tok, char *msg)
{
    vkti_diag d = {0};
    char p[4400];
    path_of(p, name);
    int rc = vkti_model_open(&d, m, p, tok);
    if (msg)
        snprintf(msg, VKTI_MSG_MAX, "%s", d.msg);
    else if (rc)
        printf("  opening %s: %s\n", name, d.msg);
    return rc;
}

/* Every tensor of every network: same dtype, shape and bytes (packed copies compared). */
static int same_tensors(const vkti_model *a, const vkti_model *b, char *why, size_t cap)
{
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++) {
        const vkti_model_part *pa = &a->parts[c], *pb = &b->parts[c];
        if (pa->table.count != pb->table.count) {
            snprintf(why, cap, "%s: %zu vs %zu tensors", vkti_sd_component_name(c), pa->table.count, pb->table.count);
            return 0;
        }
        for (size_t i = 0; i < pa->table.count; i++) {
            const vkti_io_tensor *ta = &pa->tensors[i];
            const vkti_io_tensor *tb = vkti_model_find(b, (vkti_sd_component)c, ta->name);
            int ok = tb && ta->dtype == tb->dtype && ta->ndim == tb->ndim && ta->numel == tb->numel;
            for (int k = 0; ok && k < ta->ndim; k++)
                ok = ta->shape[k] == tb->shape[k];
            if (ok) {
                uint8_t *x = malloc(ta->bytes + 1), *y = malloc(ta->bytes + 1);
                vkti_diag d = {0};
                ok = x && y && !vkti_io_tensor_copy(&d, ta, x, ta->bytes) && !vkti_io_tensor_copy(&d, tb, y, tb->bytes) &&
                     !memcmp(x, y, ta->bytes);
                free(x);
                free(y);
            }
            if (!ok) {
                snprintf(why, cap, "%s tensor %s differs", vkti_sd_component_name(c), ta->name);
                return 0;
            }
        }
    }
    return 1;
}

static void check_layouts(const char *preset, const char *name, size_t unused_single)
{
    vkti_model a, b, c;
    int ra = open_model(&a, name, NULL, NULL);
    char single[256], ckpt[256];
    snprintf(single, sizeof single, "%s.safetensors", name);
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", name);
    int rb = open_model(&b, single, NULL, NULL);
    int rc = open_model(&c, ckpt, NULL, NULL);
    CHECK(ra == 0 && rb == 0 && rc == 0, "%s: all three layouts open", preset);
    if (ra || rb || rc)
        goto done;
    char why[512] = "";
    CHECK(same_tensors(&a, &b, why, sizeof why), "%s: diffusers vs single safetensors: %s", preset, why);
    CHECK(same_tensors(&a, &c, why, sizeof why), "%s: diffusers vs .ckpt: %s", preset, why);
    CHECK(a.layout == VKTI_MODEL_DIFFUSERS && b.layout == VKTI_MODEL_LDM && c.layout == VKTI_MODEL_LDM &&
              b.format == VKTI_MODEL_SAFETENSORS && c.format == VKTI_MODEL_TORCH,
          "%s: layouts and formats", preset);
    CHECK(!strcmp(a.fingerprint, b.fingerprint) && !strcmp(a.fingerprint, c.fingerprint),
          "%s: one fingerprint for the three layouts (%s %s %s)", preset, a.fingerprint, b.fingerprint, c.fingerprint);
    CHECK(!memcmp(&a.unet, &b.unet, sizeof a.unet) && !memcmp(&a.text_encoder, &b.text_encoder, sizeof a.text_encoder) &&
              !memcmp(&a.vae, &b.vae, sizeof a.vae) && !strcmp(a.scheduler_json, b.scheduler_json),
          "%s: the single file's __metadata__ configs equal the folder's", preset);
    CHECK(a.family == b.family && a.family == c.family, "%s: one family", preset);
    CHECK(a.unused_tensors == 0 && b.unused_tensors == unused_single && c.unused_tensors == unused_single,
          "%s: unused tensors %zu / %zu / %zu (want 0 / %zu)", preset, a.unused_tensors, b.unused_tensors,
          c.unused_tensors, unused_single);
    CHECK(a.has_tokenizer && strstr(a.tokenizer.dir, "tokenizer"), "%s: the folder's tokenizer found", preset);
    CHECK(a.parts[0].dtype_count[VKTI_IO_F32] == a.parts[0].table.count, "%s: all F32", preset);
    /* lookups */
    const vkti_io_tensor *t = vkti_model_find(&b, VKTI_SD_UNET, "conv_in.weight");
    CHECK(t && t->ndim == 4 && t->shape[0] == 32 && t->shape[1] == 4 && !strcmp(t->name, "conv_in.weight"),
          "%s: conv_in.weight by its diffusers name in the single file", preset);
    CHECK(!vkti_model_find(&a, VKTI_SD_UNET, "conv_in.weights") && !vkti_model_find(&a, VKTI_SD_VAE, "conv_in.weight"),
          "%s: unknown names are not found", preset);
    vkti_diag d = {0};
    vkti_io_tensor out;
    const int64_t good[2] = {32, 32}, bad[2] = {32, 33};
    CHECK(vkti_model_tensor_shape(&d, &a, VKTI_SD_TEXT_ENCODER, "text_model.encoder.layers.1.self_attn.q_proj.weight", 2,
                                  good, &out) == 0,
          "%s: q_proj [32, 32]: %s", preset, d.msg);
    CHECK(vkti_model_tensor_shape(&d, &c, VKTI_SD_TEXT_ENCODER, "text_model.encoder.layers.1.self_attn.q_proj.weight", 2,
                                  bad, &out) != 0 &&
              strstr(d.msg, "q_proj.weight") && strstr(d.msg, "[32, 33]") && strstr(d.msg, "[32, 32]"),
          "%s: a builder's wrong expected shape is named: %s", preset, d.msg);
    CHECK(vkti_model_tensor(&d, &a, VKTI_SD_UNET, "nope.weight", &out) != 0 && strstr(d.msg, "nope.weight"),
          "%s: vkti_model_tensor names a missing tensor", preset);
done:
    if (!ra)
        vkti_model_close(&a);
    if (!rb)
        vkti_model_close(&b);
    if (!rc)
        vkti_model_close(&c);
}

/* ---- inference ------------------------------------------------------------------------------------ */

static void check_inferred(const char *preset, const char *ckpt, int want_v)
{
    vkti_diag d = {0};
    vkti_sd_synth s;
    vkti_sd_synth_preset(&d, preset, &s);
    vkti_model m;
    if (open_model(&m, ckpt, NULL, NULL)) {
        CHECK(0, "%s: open", ckpt);
        return;
    }
    const vkti_unet_config *u = &m.unet, *w = &s.unet;
    int ok = u->num_blocks == w->num_blocks && u->in_channels == w->in_channels && u->out_channels == w->out_channels &&
             u->cross_attention_dim == w->cross_attention_dim && u->use_linear_projection == w->use_linear_projection &&
             u->time_embedding_dim == w->time_embedding_dim && u->conv_in_kernel == 3 && u->conv_out_kernel == 3;
    for (int i = 0; ok && i < u->num_blocks; i++)
        ok = u->block_out_channels[i] == w->block_out_channels[i] && u->layers_per_block[i] == w->layers_per_block[i] &&
             u->down_block_types[i] == w->down_block_types[i] && u->up_block_types[i] == w->up_block_types[i] &&
             u->transformer_layers_per_block[i] == w->transformer_layers_per_block[i];
    CHECK(ok, "%s: the UNet's structure inferred from shapes", ckpt);
    const vkti_clip_text_config *t = &m.text_encoder, *tw = &s.text;
    CHECK(t->vocab_size == tw->vocab_size && t->hidden_size == tw->hidden_size &&
              t->num_hidden_layers == tw->num_hidden_layers && t->intermediate_size == tw->intermediate_size &&
              t->max_position_embeddings == tw->max_position_embeddings && t->hidden_act == tw->hidden_act,
          "%s: the text encoder inferred (layers %d)", ckpt, t->num_hidden_layers);
    const vkti_vae_config *v = &m.vae, *vw = &s.vae;
    ok = v->num_blocks == vw->num_blocks && v->layers_per_block == vw->layers_per_block &&
         v->latent_channels == vw->latent_channels && v->in_channels == 3 && v->out_channels == 3 &&
         v->use_quant_conv && v->use_post_quant_conv && v->mid_block_add_attention;
    for (int i = 0; ok && i < v->num_blocks; i++)
        ok = v->block_out_channels[i] == vw->block_out_channels[i];
    CHECK(ok, "%s: the VAE inferred", ckpt);
    CHECK(m.family == s.family && m.scheduler.v_prediction == want_v, "%s: family %s, v_prediction %d (want %d)", ckpt,
          vkti_sd_family_name(m.family), m.scheduler.v_prediction, want_v);
    /* what shapes cannot show comes from the family: SD 1.x 8 heads, SD 2.x 64-wide (else 8) */
    CHECK(u->heads[0] == 8 && u->heads[1] == (s.family == VKTI_SD_FAMILY_SD2 ? 1 : 8) && u->norm_num_groups == 32 &&
              m.vae.norm_num_groups == 16,
          "%s: heads %d, %d and groups %d / %d from the family", ckpt, u->heads[0], u->heads[1], u->norm_num_groups,
          m.vae.norm_num_groups);
    vkti_model_close(&m);
}

/* The LDM names and shapes of a table as header-only tensors (no data). */
static size_t fake_from(vkti_io_tensor *out, size_t at, const vkti_sd_table *t)
{
    for (size_t i = 0; i < t->count; i++) {
        const vkti_sd_tensor *e = &t->t[i];
        int dup = 0;
        for (size_t k = 0; k < at && !dup; k++)
            dup = !strcmp(out[k].name, e->ldm);
        if (dup)
            continue;
        vkti_io_tensor *x = &out[at++];
        memset(x, 0, sizeof *x);
        x->name = e->ldm;
        x->dtype = VKTI_IO_F16;
        x->ndim = vkti_sd_ldm_shape(e, x->shape);
        vkti_io_tensor_set_packed(x);
    }
    return at;
}

static void check_released_inference(void)
{
    vkti_diag d = {0};
    for (int v2 = 0; v2 < 2; v2++) {
        vkti_unet_config u;
        vkti_clip_text_config t, t24;
        vkti_vae_config v;
        v2 ? vkti_unet_config_sd21(&u) : vkti_unet_config_sd15(&u);
        v2 ? vkti_clip_text_config_sd21(&t) : vkti_clip_text_config_sd15(&t);
        vkti_vae_config_sd15(&v);
        t24 = t;
        t24.num_hidden_layers += v2; /* the checkpoint holds OpenCLIP's 24 layers */
        vkti_sd_table tu, tt, tv;
        vkti_sd_unet_tensors(&d, &u, &tu);
        vkti_sd_text_tensors(&d, &t24, v2 ? VKTI_SD_FAMILY_SD2 : VKTI_SD_FAMILY_SD1, &tt);
        vkti_sd_vae_tensors(&d, &v, &tv);
        vkti_io_tensor *all = calloc(tu.count + tt.count + tv.count + 4, sizeof *all);
        size_t n = fake_from(all, 0, &tu);
        n = fake_from(all, n, &tt);
        n = fake_from(all, n, &tv);
        vkti_ldm_sort(all, n);
        vkti_ldm_guess g;
        int rc = vkti_ldm_infer(&d, all, n, -1, v2 ? "sd21.safetensors" : "sd15.safetensors", &g);
        CHECK(rc == 0, "%s tables: %s", v2 ? "SD 2.1" : "SD 1.5", d.msg);
        if (!rc) {
            vkti_unet_config want;
            v2 ? vkti_unet_config_sd21(&want) : vkti_unet_config_sd15(&want);
            want.upcast_attention = 0; /* not in the weights (SD 2.1's config sets it) */
            CHECK(!memcmp(&g.unet, &want, sizeof want), "%s: the inferred UNet config is the released one",
                  v2 ? "SD 2.1" : "SD 1.5");
            CHECK(!memcmp(&g.text, &t, sizeof t), "%s: the inferred text encoder config is the released one (%d layers)",
                  v2 ? "SD 2.1" : "SD 1.5", g.text.num_hidden_layers);
            v.sample_size = v2 ? 768 : 512; /* SD 2.1 (768-v) works at 768 pixels */
            CHECK(!memcmp(&g.vae, &v, sizeof v), "%s: the inferred VAE config", v2 ? "SD 2.1" : "SD 1.5");
            CHECK(g.family == (v2 ? VKTI_SD_FAMILY_SD2 : VKTI_SD_FAMILY_SD1) && g.v_prediction == v2,
                  "%s: family and prediction", v2 ? "SD 2.1" : "SD 1.5");
        }
        if (v2) { /* SD 2.0-base's global_step: epsilon, 64 latents */
            rc = vkti_ldm_infer(&d, all, n, 875000, "sd20base.ckpt", &g);
            CHECK(rc == 0 && !g.v_prediction && g.unet.sample_size == 64 && strstr(g.reason, "875000"),
                  "SD 2.x with global_step 875000 is epsilon: %s", rc ? d.msg : g.reason);
        }
        /* SDXL: refused by name */
        all[n].name = "conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight";
        all[n].ndim = 2;
        all[n].shape[0] = 77;
        all[n].shape[1] = 768;
        vkti_ldm_sort(all, n + 1);
        rc = vkti_ldm_infer(&d, all, n + 1, -1, "xl.safetensors", &g);
        CHECK(rc != 0 && strstr(d.msg, "SDXL"), "an SDXL checkpoint refused: %s", d.msg);
        free(all);
        vkti_sd_table_free(&tu);
        vkti_sd_table_free(&tt);
        vkti_sd_table_free(&tv);
    }
    /* other files */
    vkti_io_tensor one[2];
    memset(one, 0, sizeof one);
    one[0].name = "conv_in.weight";
    one[1].name = "down_blocks.0.resnets.0.conv1.weight";
    vkti_ldm_guess g;
    CHECK(vkti_ldm_infer(&d, one, 2, -1, "unet.safetensors", &g) != 0 && strstr(d.msg, "diffusers folder"),
          "a lone diffusers UNet file: %s", d.msg);
    one[0].name = "model.diffusion_model.double_blocks.0.img_attn.norm.key_norm.scale";
    CHECK(vkti_ldm_infer(&d, one, 1, -1, "flux.safetensors", &g) != 0 && strstr(d.msg, "Flux"), "Flux: %s", d.msg);
    CHECK(vkti_ldm_infer(&d, one, 0, -1, "empty.safetensors", &g) != 0 && strstr(d.msg, "no tensors"), "empty: %s", d.msg);
}

/* ---- broken files ---------------------------------------------------------------------------------- */

/* Rewrites a safetensors file: without tensor drop, with tensor reshape given a new shape, or
 * with tensor retype stored as I32. */
static int rewrite(const char *path, const char *drop, const char *reshape, const int64_t *shape, int ndim,
                   const char *retype)
{
    vkti_diag d = {0};
    vkti_safetensors st;
    uint8_t *copy = NULL;
    size_t size;
    if (vkti_file_read(&d, path, (size_t)1 << 30, &copy, &size) || vkti_safetensors_parse(&d, &st, path, copy, size)) {
        printf("rewrite %s: %s\n", path, d.msg);
        free(copy);
        return -1;
    }
    vkti_io_tensor *t = calloc(st.count + 1, sizeof *t);
    size_t n = 0;
    uint8_t *junk = calloc(1, 1 << 20);
    for (size_t i = 0; i < st.count; i++) {
        if (drop && !strcmp(st.tensors[i].name, drop))
            continue;
        t[n] = st.tensors[i];
        if (reshape && !strcmp(t[n].name, reshape)) {
            t[n].ndim = ndim;
            for (int k = 0; k < ndim; k++)
                t[n].shape[k] = shape[k];
            t[n].data = junk;
            vkti_io_tensor_set_packed(&t[n]);
        }
        if (retype && !strcmp(t[n].name, retype)) {
            t[n].dtype = VKTI_IO_I32;
            vkti_io_tensor_set_packed(&t[n]);
        }
        n++;
    }
    int rc = vkti_safetensors_write(&d, path, t, n, st.meta, st.meta_count);
    if (rc)
        printf("rewrite %s: %s\n", path, d.msg);
    vkti_safetensors_close(&st);
    free(copy);
    free(t);
    free(junk);
    return rc;
}

static void check_broken(void)
{
    char msg[VKTI_MSG_MAX], p[4400];
    vkti_model m;
    /* diffusers folder */
    if (make("tiny", 5, "broken", NULL))
        return;
    path_of(p, "broken/unet/diffusion_pytorch_model.safetensors");
    rewrite(p, "down_blocks.0.resnets.0.conv1.weight", NULL, NULL, 0, NULL);
    int rc = open_model(&m, "broken", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "down_blocks.0.resnets.0.conv1.weight") && strstr(msg, "[32, 32, 3, 3]") &&
              strstr(msg, "diffusion_pytorch_model.safetensors"),
          "a missing tensor: %s", msg);
    if (!rc)
        vkti_model_close(&m);
    const int64_t wrong[2] = {32, 31};
    path_of(p, "broken/vae/diffusion_pytorch_model.safetensors");
    make("tiny", 5, "broken", NULL);
    rewrite(p, NULL, "encoder.mid_block.attentions.0.to_k.weight", wrong, 2, NULL);
    rc = open_model(&m, "broken", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "encoder.mid_block.attentions.0.to_k.weight") && strstr(msg, "[32, 31]") &&
              strstr(msg, "[32, 32]"),
          "a wrong shape: %s", msg);
    if (!rc)
        vkti_model_close(&m);
    make("tiny", 5, "broken", NULL);
    path_of(p, "broken/text_encoder/model.safetensors");
    rewrite(p, NULL, NULL, NULL, 0, "text_model.final_layer_norm.weight");
    rc = open_model(&m, "broken", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "final_layer_norm.weight") && strstr(msg, "I32") && strstr(msg, "floating point"),
          "an integer weight: %s", msg);
    if (!rc)
        vkti_model_close(&m);
    /* single file: both names in the message */
    path_of(p, "broken.safetensors");
    rewrite(p, "model.diffusion_model.input_blocks.1.0.in_layers.2.weight", NULL, NULL, 0, NULL);
    rc = open_model(&m, "broken.safetensors", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "model.diffusion_model.input_blocks.1.0.in_layers.2.weight") &&
              strstr(msg, "down_blocks.0.resnets.0.conv1.weight") && strstr(msg, "[32, 32, 3, 3]"),
          "a missing tensor in a single file: %s", msg);
    if (!rc)
        vkti_model_close(&m);
    make("tiny-sd2", 5, "broken2", NULL);
    const int64_t qkv[2] = {95, 32};
    path_of(p, "broken2.safetensors");
    rewrite(p, NULL, "cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight", qkv, 2, NULL);
    rc = open_model(&m, "broken2.safetensors", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "resblocks.1.attn.in_proj_weight") && strstr(msg, "[95, 32]") &&
              strstr(msg, "[96, 32]") && strstr(msg, "self_attn"),
          "a wrong fused q/k/v shape: %s", msg);
    if (!rc)
        vkti_model_close(&m);
    /* no weights, no config, not a model */
    make("tiny", 5, "broken", NULL);
    path_of(p, "broken/vae/diffusion_pytorch_model.safetensors");
    vkti_file_remove(p);
    rc = open_model(&m, "broken", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "no weights in vae/"), "no vae weights: %s", msg);
    if (!rc)
        vkti_model_close(&m);
    path_of(p, "broken/unet/config.json");
    vkti_file_remove(p);
    rc = open_model(&m, "broken", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "unet/config.json"), "no unet config: %s", msg);
    if (!rc)
        vkti_model_close(&m);
    path_of(p, "not-a-model");
    vkti_diag d = {0};
    vkti_mkdir_p(&d, p);
    rc = open_model(&m, "not-a-model", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "not a diffusers model folder"), "an empty folder: %s", msg);
    rc = open_model(&m, "nothing-here", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "no such file"), "a missing path: %s", msg);
    /* an SDXL pipeline folder */
    make("tiny", 5, "xl", NULL);
    path_of(p, "xl/model_index.json");
    const char xl[] = "{\"_class_name\": \"StableDiffusionXLPipeline\"}";
    vkti_file_write_atomic(&d, p, xl, strlen(xl));
    rc = open_model(&m, "xl", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "StableDiffusionXLPipeline"), "an SDXL folder: %s", msg);
    /* a config vkti refuses, named with its file */
    make("tiny", 5, "xl", NULL);
    path_of(p, "xl/unet/config.json");
    uint8_t *text;
    size_t len;
    if (vkti_file_read(&d, p, 1 << 20, &text, &len) == 0) {
        char *edited = malloc(len + 64);
        snprintf(edited, len + 64, "{\"addition_embed_type\": \"text_time\", %s", (char *)text + 1);
        vkti_file_write_atomic(&d, p, edited, strlen(edited));
        free(edited);
        free(text);
    }
    rc = open_model(&m, "xl", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "addition_embed_type") && strstr(msg, "xl/unet/config.json"),
          "an SDXL unet config in a folder: %s", msg);
}

static void cross_attention_64(vkti_sd_synth *s) { s->unet.cross_attention_dim = 64; }
static void inpainting(vkti_sd_synth *s) { s->unet.in_channels = 9; }

static void check_mismatched(void)
{
    char msg[VKTI_MSG_MAX];
    vkti_model m;
    if (make("tiny", 1, "mismatch", cross_attention_64) == 0) {
        int rc = open_model(&m, "mismatch", NULL, msg);
        CHECK(rc != 0 && strstr(msg, "cross_attention_dim (64)") && strstr(msg, "hidden_size (32)"),
              "a UNet for another text encoder: %s", msg);
        rc = open_model(&m, "mismatch.safetensors", NULL, msg);
        CHECK(rc != 0 && strstr(msg, "cross_attention_dim"), "... in a single file: %s", msg);
    }
    if (make("tiny", 1, "inpaint", inpainting) == 0) {
        int rc = open_model(&m, "inpaint.ckpt", NULL, msg);
        CHECK(rc != 0 && strstr(msg, "inpainting"), "an inpainting UNet: %s", msg);
    }
}

/* ---- variants, shards, names ------------------------------------------------------------------------ */

static void fp16_variant(vkti_sd_synth *s) { s->fp16_variant = 1; }

static void check_variants(void)
{
    char msg[VKTI_MSG_MAX], p[4400];
    vkti_model m, full;
    if (make("tiny", 7, "variant", fp16_variant))
        return;
    int rc = open_model(&m, "variant", NULL, NULL);
    int noted = 0;
    for (int i = 0; !rc && i < m.note_count; i++)
        noted |= strstr(m.notes[i], "full precision") && strstr(m.notes[i], "fp16");
    CHECK(rc == 0 && noted && m.parts[0].dtype_count[VKTI_IO_F32] == m.parts[0].table.count,
          "full precision preferred to the fp16 variant, and said");
    char fp_full[17] = "";
    if (!rc) {
        snprintf(fp_full, sizeof fp_full, "%s", m.fingerprint);
        vkti_model_close(&m);
    }
    static const char *const files[3] = {"variant/unet/diffusion_pytorch_model.safetensors",
                                         "variant/text_encoder/model.safetensors",
                                         "variant/vae/diffusion_pytorch_model.safetensors"};
    for (int i = 0; i < 3; i++) {
        path_of(p, files[i]);
        vkti_file_remove(p);
    }
    rc = open_model(&m, "variant", NULL, msg);
    noted = 0;
    for (int i = 0; !rc && i < m.note_count; i++)
        noted |= strstr(m.notes[i], "only the fp16 variant") != NULL;
    CHECK(rc == 0 && noted && m.parts[1].dtype_count[VKTI_IO_F16] == m.parts[1].table.count &&
              strcmp(m.fingerprint, fp_full),
          "the fp16 variant alone is used, with another fingerprint: %s", msg);
    if (!rc)
        vkti_model_close(&m);

    /* the unet in two shards with an index; the text encoder's names unwrapped (transformers >= 5.6) */
    if (make("tiny", 7, "shards", NULL) || open_model(&full, "shards", NULL, NULL))
        return;
    vkti_diag d = {0};
    vkti_safetensors st;
    path_of(p, "shards/unet/diffusion_pytorch_model.safetensors");
    uint8_t *copy;
    size_t size;
    if (vkti_file_read(&d, p, (size_t)1 << 30, &copy, &size) == 0 && vkti_safetensors_parse(&d, &st, p, copy, size) == 0) {
        const size_t half = st.count / 2;
        static char index[1 << 16];
        char shard[4400];
        path_of(shard, "shards/unet/diffusion_pytorch_model-00001-of-00002.safetensors");
        vkti_safetensors_write(&d, shard, st.tensors, half, NULL, 0);
        path_of(shard, "shards/unet/diffusion_pytorch_model-00002-of-00002.safetensors");
        vkti_safetensors_write(&d, shard, st.tensors + half, st.count - half, NULL, 0);
        size_t o = (size_t)snprintf(index, sizeof index, "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {");
        for (size_t i = 0; i < st.count && o < sizeof index; i++)
            o += (size_t)snprintf(index + o, sizeof index - o, "%s\"%s\": \"diffusion_pytorch_model-0000%d-of-00002.safetensors\"",
                                  i ? ", " : "", st.tensors[i].name, i < half ? 1 : 2);
        if (o < sizeof index)
            snprintf(index + o, sizeof index - o, "}}");
        path_of(shard, "shards/unet/diffusion_pytorch_model.safetensors.index.json");
        vkti_file_write_atomic(&d, shard, index, strlen(index));
        vkti_safetensors_close(&st);
        free(copy);
        vkti_file_remove(p);
    }
    path_of(p, "shards/text_encoder/model.safetensors");
    if (vkti_file_read(&d, p, (size_t)1 << 30, &copy, &size) == 0 && vkti_safetensors_parse(&d, &st, p, copy, size) == 0) {
        vkti_io_tensor *t = calloc(st.count, sizeof *t);
        for (size_t i = 0; i < st.count; i++) {
            t[i] = st.tensors[i];
            if (!strncmp(t[i].name, "text_model.", 11))
                t[i].name += 11;
        }
        vkti_safetensors_write(&d, p, t, st.count, st.meta, st.meta_count);
        free(t);
        vkti_safetensors_close(&st);
        free(copy);
    }
    rc = open_model(&m, "shards", NULL, msg);
    char why[512] = "";
    CHECK(rc == 0 && same_tensors(&full, &m, why, sizeof why) && strstr(m.parts[0].files, "2 shards") &&
              !strcmp(full.fingerprint, m.fingerprint),
          "sharded unet and unwrapped text encoder names: %s%s", msg, why);
    if (!rc)
        vkti_model_close(&m);
    /* an index pointing outside the folder, or at a shard lacking the tensor */
    path_of(p, "shards/unet/diffusion_pytorch_model.safetensors.index.json");
    const char evil[] = "{\"weight_map\": {\"conv_in.weight\": \"../../x.safetensors\"}}";
    vkti_file_write_atomic(&d, p, evil, strlen(evil));
    rc = open_model(&m, "shards", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "same folder"), "an index naming ../: %s", msg);
    const char lying[] = "{\"weight_map\": {\"conv_in.weight\": \"diffusion_pytorch_model-00002-of-00002.safetensors\"}}";
    vkti_file_write_atomic(&d, p, lying, strlen(lying));
    rc = open_model(&m, "shards", NULL, msg);
    CHECK(rc != 0 && strstr(msg, "conv_in.weight") && strstr(msg, "does not hold it"), "a lying index: %s", msg);
    vkti_model_close(&full);
}

/* A single file saved with old transformers: its CLIP names lack "text_model." */
static void check_old_clip_names(void)
{
    vkti_diag d = {0};
    char p[4400];
    path_of(p, "oldclip.safetensors");
    if (make("tiny", 4, "oldclip", NULL))
        return;
    vkti_safetensors st;
    uint8_t *copy;
    size_t size;
    if (vkti_file_read(&d, p, (size_t)1 << 30, &copy, &size) || vkti_safetensors_parse(&d, &st, p, copy, size))
        return;
    vkti_io_tensor *t = calloc(st.count, sizeof *t);
    char (*names)[VKTI_SD_NAME_MAX] = calloc(st.count, sizeof *names);
    static const char prefix[] = "cond_stage_model.transformer.text_model.";
    for (size_t i = 0; i < st.count; i++) {
        t[i] = st.tensors[i];
        if (!strncmp(t[i].name, prefix, sizeof prefix - 1)) {
            snprintf(names[i], sizeof names[i], "cond_stage_model.transformer.%s", t[i].name + sizeof prefix - 1);
            t[i].name = names[i];
        }
    }
    int rc = vkti_safetensors_write(&d, p, t, st.count, NULL, 0); /* no configs: inferred */
    free(t);
    free(names);
    vkti_safetensors_close(&st);
    free(copy);
    vkti_model a, b;
    if (rc || open_model(&a, "oldclip", NULL, NULL))
        return;
    char msg[VKTI_MSG_MAX], why[256] = "";
    rc = open_model(&b, "oldclip.safetensors", NULL, msg);
    CHECK(rc == 0 && b.family == VKTI_SD_FAMILY_SD1 && same_tensors(&a, &b, why, sizeof why),
          "CLIP names without text_model. (old transformers): %s%s", rc ? msg : "", why);
    if (!rc)
        vkti_model_close(&b);
    vkti_model_close(&a);
}

static void check_fingerprints(void)
{
    vkti_model a, b;
    if (make("tiny", 11, "seed11", NULL) || make("tiny", 12, "seed12", NULL))
        return;
    if (open_model(&a, "seed11.safetensors", NULL, NULL) || open_model(&b, "seed12", NULL, NULL))
        return;
    CHECK(strlen(a.fingerprint) == 16 && strcmp(a.fingerprint, b.fingerprint), "two seeds, two fingerprints (%s %s)",
          a.fingerprint, b.fingerprint);
    char why[256];
    CHECK(!same_tensors(&a, &b, why, sizeof why), "two seeds, different weights");
    vkti_model_close(&a);
    vkti_model_close(&b);
}

static void check_tokenizer(void)
{
    vkti_model m;
    char p[4400], single[4400];
    /* the single file alone in a folder: no tokenizer there (the hub cache is searched too: it may
     * exist on a developer's machine, so only the message's form is checked when absent) */
    path_of(p, "alone");
    vkti_diag d = {0};
    vkti_mkdir_p(&d, p);
    path_of(p, "tiny.safetensors");
    path_of(single, "alone/model.safetensors");
    uint8_t *data;
    size_t size;
    if (vkti_file_read(&d, p, (size_t)1 << 30, &data, &size) == 0) {
        vkti_file_write_atomic(&d, single, data, size);
        free(data);
    }
    if (open_model(&m, "alone/model.safetensors", NULL, NULL) == 0) {
        const char *dir;
        if (!m.has_tokenizer) {
            CHECK(m.tokenizer_error && strstr(m.tokenizer_error, "looked in") && strstr(m.tokenizer_error, "alone") &&
                      strstr(m.tokenizer_error, "--tokenizer"),
                  "a missing tokenizer lists where it was looked for: %s", m.tokenizer_error);
            CHECK(vkti_model_tokenizer_dir(&d, &m, &dir) != 0 && strstr(d.msg, "looked in"),
                  "vkti_model_tokenizer_dir fails with that list");
        } else {
            printf("note: a CLIP tokenizer was found in a Hugging Face cache (%s); absence not tested\n", m.tokenizer.dir);
        }
        vkti_model_close(&m);
    }
    path_of(p, "tiny/tokenizer");
    if (open_model(&m, "alone/model.safetensors", p, NULL) == 0) {
        const char *dir = NULL;
        CHECK(m.has_tokenizer && vkti_model_tokenizer_dir(&d, &m, &dir) == 0 && !strcmp(dir, p),
              "--tokenizer DIR found: %s", dir ? dir : "");
        vkti_model_close(&m);
    }
    /* what a path is */
    path_of(p, "tiny");
    CHECK(vkti_model_path_is_model(p), "a diffusers folder is a model");
    path_of(p, "tiny.safetensors");
    CHECK(vkti_model_path_is_model(p), "a single .safetensors is a model");
    path_of(p, "tiny.ckpt");
    CHECK(vkti_model_path_is_model(p), "a .ckpt is a model");
    path_of(p, "not-a-model");
    CHECK(!vkti_model_path_is_model(p), "an empty folder is not");
    float v[32] = {0};
    vkti_io_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "emb_params";
    t.dtype = VKTI_IO_F32;
    t.ndim = 2;
    t.shape[0] = 1;
    t.shape[1] = 32;
    t.data = (const uint8_t *)v;
    vkti_io_tensor_set_packed(&t);
    path_of(p, "embedding.safetensors");
    vkti_safetensors_write(&d, p, &t, 1, NULL, 0);
    CHECK(!vkti_model_path_is_model(p), "an embedding file is not a model");
}

/* Every file of the hostile corpus (tests/data/hostile) is refused as a model, cleanly. */
static void check_hostile_corpus(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/tests/data/hostile", src_dir);
    vkti_diag d = {0};
    char **names;
    int n;
    if (vkti_dir_list(&d, dir, &names, &n)) {
        CHECK(0, "%s: %s", dir, d.msg);
        return;
    }
    int refused = 0, files = 0;
    for (int i = 0; i < n; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (!vkti_file_exists(p) || !strcmp(names[i], "EXPECTED"))
            continue;
        files++;
        vkti_model m;
        (void)vkti_model_path_is_model(p);
        if (vkti_model_open(&d, &m, p, NULL) != 0 && d.msg[0])
            refused++;
        else
            vkti_model_close(&m);
    }
    vkti_dir_list_free(names, n);
    CHECK(files >= 30 && refused == files, "hostile corpus: %d of %d files refused as models", refused, files);
}

/* Removes a folder and everything in it. */

int main(void)
{
    const char *bd = getenv("VKTI_BUILD_DIR"), *sd = getenv("VKTI_SOURCE_DIR");
    snprintf(root, sizeof root, "%s/test-model-files-%ld", bd ? bd : ".", (long)(vkti_now() * 1e3) % 1000000);
    snprintf(src_dir, sizeof src_dir, "%s", sd ? sd : ".");
    vkti_diag d = {0};
    if (vkti_mkdir_p(&d, root)) {
        printf("cannot make %s: %s\n0 passed, 1 failed\n", root, d.msg);
        return 1;
    }
    if (make("tiny", 1, "tiny", NULL) == 0)
        check_layouts("tiny", "tiny", 1); /* position_ids */
    if (make("tiny-sd2", 2, "tiny2", NULL) == 0)
        check_layouts("tiny-sd2", "tiny2", 14); /* OpenCLIP's last resblock (12), text_projection, logit_scale */
    check_inferred("tiny", "tiny.ckpt", 0);
    check_inferred("tiny-sd2", "tiny2.ckpt", 1);
    vkti_sd_synth s;
    vkti_sd_synth_preset(&d, "tiny-sd2", &s);
    s.v_prediction = 0; /* written with global_step 875000 */
    s.seed = 3;
    char dir[4400];
    path_of(dir, "tiny2eps.ckpt");
    CHECK(vkti_sd_synth_write(&d, &s, NULL, NULL, dir) == 0, "tiny-sd2 epsilon .ckpt: %s", d.msg);
    check_inferred("tiny-sd2", "tiny2eps.ckpt", 0);
    check_released_inference();
    check_broken();
    check_mismatched();
    check_variants();
    check_old_clip_names();
    check_hostile_corpus();
    check_fingerprints();
    check_tokenizer();
    if (!failed)
        rm_tree(root); /* kept for a look when something failed */
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
