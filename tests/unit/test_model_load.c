/* test_model_load.c — the join between the model loader and the networks: the tiny presets
 * (generated in-process by sd_synth.h) opened by vkti_model_open from the diffusers folder and
 * from the single file, their configs turned into network dimensions (model/sd_dims.h), and the
 * CLIP text encoder, the UNet and the VAE (encoder and decoder) created on the Vulkan device with
 * vkti_model_weight_get as their weight source: every weight a builder asks for must be one the
 * loader has, with the shape the builder expects, and the parameter counts must agree. Also the
 * glue's refusals. Runs on lavapipe with the validation layer on (any message fails). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "gpu/gpu.h"
#include "io/model_files.h"
#include "io/sd_synth.h"
#include "model/sd_dims.h"
#include "check.h"

static void load_all(vkti_gpu *g, const char *path, vkti_dtype dtype)
{
    vkti_diag *d = vkti_gpu_diag(g);
    vkti_model m;
    if (vkti_model_open(d, &m, path, NULL)) {
        CHECK(0, "%s: %s", path, d->msg);
        return;
    }
    vkti_model_net nets[3] = {{&m, VKTI_SD_UNET}, {&m, VKTI_SD_TEXT_ENCODER}, {&m, VKTI_SD_VAE}};
    vkti_weight_source src[3];
    for (int i = 0; i < 3; i++)
        src[i] = (vkti_weight_source){vkti_model_weight_get, &nets[i]};
    const char *dt = dtype == VKTI_F16 ? "f16" : "f32";

    vkti_clip_text_dims td;
    vkti_clip_text_dims_from_config(&m.text_encoder, &td);
    vkti_clip_text *te = NULL;
    int rc = vkti_clip_text_create(&te, g, &td, &src[VKTI_SD_TEXT_ENCODER], dtype);
    CHECK(rc == 0 && vkti_clip_text_params(te) == m.parts[VKTI_SD_TEXT_ENCODER].params,
          "%s (%s): text encoder: %s (%llu parameters loaded, %llu in the model)", path, dt, rc ? d->msg : "ok",
          te ? (unsigned long long)vkti_clip_text_params(te) : 0ull,
          (unsigned long long)m.parts[VKTI_SD_TEXT_ENCODER].params);
    vkti_clip_text_free(te);

    vkti_unet_dims ud;
    vkti_unet *u = NULL;
    rc = vkti_unet_dims_from_config(d, &m.unet, &ud);
    if (!rc)
        rc = vkti_unet_create(&u, g, &ud, &src[VKTI_SD_UNET], dtype);
    CHECK(rc == 0 && vkti_unet_params(u) == m.parts[VKTI_SD_UNET].params, "%s (%s): unet: %s (%llu of %llu)", path,
          dt, rc ? d->msg : "ok", u ? (unsigned long long)vkti_unet_params(u) : 0ull,
          (unsigned long long)m.parts[VKTI_SD_UNET].params);
    vkti_unet_free(u);

    vkti_vae_dims vd;
    vkti_vae *v = NULL;
    rc = vkti_vae_dims_from_config(d, &m.vae, &vd);
    if (!rc)
        rc = vkti_vae_create(&v, g, &vd, &src[VKTI_SD_VAE], dtype, VKTI_VAE_ENCODER | VKTI_VAE_DECODER);
    CHECK(rc == 0 && vkti_vae_params(v) == m.parts[VKTI_SD_VAE].params, "%s (%s): vae: %s (%llu of %llu)", path, dt,
          rc ? d->msg : "ok", v ? (unsigned long long)vkti_vae_params(v) : 0ull,
          (unsigned long long)m.parts[VKTI_SD_VAE].params);
    vkti_vae_free(v);

    /* a name the model lacks: the builder's error names it and the model */
    const vkti_io_tensor *t;
    CHECK(vkti_model_weight_get(&nets[0], d, "down_blocks.9.resnets.0.conv1.weight", &t) != 0 &&
              strstr(d->msg, "down_blocks.9.resnets.0.conv1.weight") && strstr(d->msg, "unet"),
          "a missing weight named: %s", d->msg);
    vkti_model_close(&m);
}

static void check_glue_refusals(void)
{
    vkti_diag d = {0};
    vkti_unet_config u;
    vkti_unet_config_sd15(&u);
    vkti_unet_dims ud;
    CHECK(vkti_unet_dims_from_config(&d, &u, &ud) == 0 && ud.nblocks == 4 && ud.layers[0] == 2 && ud.layers[3] == 2 &&
              ud.heads[2] == 8 && ud.down_attn[2] && !ud.down_attn[3] && !ud.up_attn[0] && ud.up_attn[1] &&
              ud.time_dim == 1280 && ud.cross_dim == 768 && ud.groups == 32 && ud.mid_attn,
          "SD 1.5's unet dimensions");
    u.layers_per_block[3] = 3; /* per-block resnet counts are built as they are */
    u.layers_is_list = 1;
    CHECK(vkti_unet_dims_from_config(&d, &u, &ud) == 0 && ud.layers[3] == 3 && ud.layers[2] == 2,
          "per-block layers: %s", d.msg);
    vkti_unet_config_sd15(&u);
    u.conv_in_kernel = 1;
    CHECK(vkti_unet_dims_from_config(&d, &u, &ud) != 0 && strstr(d.msg, "conv_in_kernel"), "a 1x1 conv_in: %s", d.msg);
    vkti_unet_config_sd15(&u);
    u.num_blocks = 7;
    for (int i = 4; i < 7; i++) {
        u.block_out_channels[i] = 1280;
        u.layers_per_block[i] = 2;
    }
    CHECK(vkti_unet_dims_from_config(&d, &u, &ud) != 0 && strstr(d.msg, "7 blocks"), "seven blocks: %s", d.msg);
    vkti_clip_text_config t;
    vkti_clip_text_config_sd21(&t);
    vkti_clip_text_dims td;
    vkti_clip_text_dims_from_config(&t, &td);
    CHECK(td.act == VKTI_ACT_GELU && td.layers == 23 && td.width == 1024 && td.heads == 16, "SD 2.1's text dimensions");
    vkti_vae_config v;
    vkti_vae_config_sd15(&v);
    vkti_vae_dims vd;
    CHECK(vkti_vae_dims_from_config(&d, &v, &vd) == 0 && vd.nblocks == 4 && vd.channels[3] == 512 && vd.eps == 1e-6f &&
              vd.mid_attn && vd.scaling_factor == 0.18215f,
          "SD 1.5's vae dimensions");
}

/* Removes a folder and everything in it. */

int main(void)
{
    const char *bd = getenv("VKTI_BUILD_DIR"), *sd = getenv("VKTI_SOURCE_DIR");
    char root[4096], tok[4200];
    snprintf(root, sizeof root, "%s/test-model-load-%ld", bd ? bd : ".", (long)(vkti_now() * 1e3) % 1000000);
    snprintf(tok, sizeof tok, "%s/tests/data/tokenizer/tiny", sd ? sd : ".");
    check_glue_refusals();
    vkti_diag d = {0};
    vkti_gpu *g = NULL;
    vkti_gpu_options o = {.validation = 1, .sync_validation = sync_validation_asked(), .device = vkti_env("VKTI_DEVICE")};
    if (vkti_mkdir_p(&d, root) || vkti_gpu_create(&g, &d, &o)) {
        printf("setup: %s\n%d passed, %d failed\n", d.msg, passed, failed + 1);
        return 1;
    }
    printf("device: %s\n", vkti_gpu_info(g)->name);
    static const char *const presets[2] = {"tiny", "tiny-sd2"};
    for (int p = 0; p < 2; p++) {
        vkti_sd_synth s;
        char dir[4400], single[4500];
        snprintf(dir, sizeof dir, "%s/%s", root, presets[p]);
        snprintf(single, sizeof single, "%s.safetensors", dir);
        if (vkti_sd_synth_preset(&d, presets[p], &s)) {
            CHECK(0, "%s", d.msg);
            continue;
        }
        s.seed = 1;
        s.tokenizer_from = tok;
        if (vkti_sd_synth_write(&d, &s, dir, single, NULL)) {
            CHECK(0, "writing %s: %s", presets[p], d.msg);
            continue;
        }
        load_all(g, dir, VKTI_F32);
        load_all(g, single, vkti_gpu_info(g)->storage16 ? VKTI_F16 : VKTI_F32);
        vkti_file_remove(single);
    }
    CHECK(vkti_gpu_validation_messages(g) == 0, "%d validation messages", vkti_gpu_validation_messages(g));
    vkti_gpu_free(g);
    if (!failed)
        rm_tree(root);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
