/* test_sd_config.c — the diffusers configs and the tensor tables: the released models' configs
 * (SD 1.5 and SD 2.1 config.json texts as the Hugging Face hub has them) parse to the expected
 * structs; the tables give SD 1.5's exact tensor and parameter counts (686 / 196 / 248 tensors;
 * 859,520,964 / 123,060,480 / 83,653,863 parameters) and SD 2.1's; spot checks of LDM names and
 * shapes of real checkpoints; diffusers' head arithmetic and up-block channel arithmetic; every
 * config round-trips through its JSON; hostile and unsupported configs (wrong types, absurd sizes,
 * SDXL and other architectures) are refused with the key named. When
 * tests/data/models/sd_tables.json is there (tools/ref/check_sd_layouts.py --tables, on the GPU
 * machine: the parameters diffusers and transformers build for SD 1.5 and SD 2.1), every name and
 * shape of vkti's tables is compared with it; otherwise that check is skipped with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/platform.h"
#include "io/sd_config.h"
#include "io/sd_synth.h"
#include "io/sd_tensors.h"
#include "check.h"

/* ---- the hub's config files (stable-diffusion-v1-5, stabilityai/stable-diffusion-2-1, SDXL) ---- */

static const char SD15_UNET[] =
    "{\"_class_name\": \"UNet2DConditionModel\", \"_diffusers_version\": \"0.6.0\", \"act_fn\": \"silu\","
    " \"attention_head_dim\": 8, \"block_out_channels\": [320, 640, 1280, 1280], \"center_input_sample\": false,"
    " \"cross_attention_dim\": 768, \"down_block_types\": [\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\","
    " \"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"downsample_padding\": 1, \"flip_sin_to_cos\": true,"
    " \"freq_shift\": 0, \"in_channels\": 4, \"layers_per_block\": 2, \"mid_block_scale_factor\": 1,"
    " \"norm_eps\": 1e-05, \"norm_num_groups\": 32, \"out_channels\": 4, \"sample_size\": 64,"
    " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"]}";

static const char SD21_UNET[] =
    "{\"_class_name\": \"UNet2DConditionModel\", \"_diffusers_version\": \"0.10.0.dev0\", \"act_fn\": \"silu\","
    " \"attention_head_dim\": [5, 10, 20, 20], \"block_out_channels\": [320, 640, 1280, 1280],"
    " \"center_input_sample\": false, \"cross_attention_dim\": 1024, \"down_block_types\": [\"CrossAttnDownBlock2D\","
    " \"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"downsample_padding\": 1,"
    " \"dual_cross_attention\": false, \"flip_sin_to_cos\": true, \"freq_shift\": 0, \"in_channels\": 4,"
    " \"layers_per_block\": 2, \"mid_block_scale_factor\": 1, \"norm_eps\": 1e-05, \"norm_num_groups\": 32,"
    " \"num_class_embeds\": null, \"only_cross_attention\": false, \"out_channels\": 4,"
    " \"resnet_time_scale_shift\": \"default\", \"sample_size\": 96, \"up_block_types\": [\"UpBlock2D\","
    " \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"], \"upcast_attention\": true,"
    " \"use_linear_projection\": true}";

static const char SDXL_UNET[] =
    "{\"_class_name\": \"UNet2DConditionModel\", \"act_fn\": \"silu\", \"addition_embed_type\": \"text_time\","
    " \"addition_embed_type_num_heads\": 64, \"addition_time_embed_dim\": 256, \"attention_head_dim\": [5, 10, 20],"
    " \"block_out_channels\": [320, 640, 1280], \"cross_attention_dim\": 2048, \"down_block_types\":"
    " [\"DownBlock2D\", \"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\"], \"layers_per_block\": 2,"
    " \"projection_class_embeddings_input_dim\": 2816, \"sample_size\": 128, \"transformer_layers_per_block\":"
    " [1, 2, 10], \"up_block_types\": [\"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"UpBlock2D\"],"
    " \"use_linear_projection\": true}";

static const char SD15_TEXT[] =
    "{\"_name_or_path\": \"openai/clip-vit-large-patch14\", \"architectures\": [\"CLIPTextModel\"],"
    " \"attention_dropout\": 0.0, \"bos_token_id\": 0, \"dropout\": 0.0, \"eos_token_id\": 2,"
    " \"hidden_act\": \"quick_gelu\", \"hidden_size\": 768, \"initializer_factor\": 1.0, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 3072, \"layer_norm_eps\": 1e-05, \"max_position_embeddings\": 77,"
    " \"model_type\": \"clip_text_model\", \"num_attention_heads\": 12, \"num_hidden_layers\": 12, \"pad_token_id\": 1,"
    " \"projection_dim\": 768, \"torch_dtype\": \"float32\", \"transformers_version\": \"4.22.0.dev0\","
    " \"vocab_size\": 49408}";

static const char SD21_TEXT[] =
    "{\"architectures\": [\"CLIPTextModel\"], \"attention_dropout\": 0.0, \"bos_token_id\": 0, \"dropout\": 0.0,"
    " \"eos_token_id\": 2, \"hidden_act\": \"gelu\", \"hidden_size\": 1024, \"initializer_factor\": 1.0,"
    " \"initializer_range\": 0.02, \"intermediate_size\": 4096, \"layer_norm_eps\": 1e-05,"
    " \"max_position_embeddings\": 77, \"model_type\": \"clip_text_model\", \"num_attention_heads\": 16,"
    " \"num_hidden_layers\": 23, \"pad_token_id\": 1, \"projection_dim\": 512, \"torch_dtype\": \"float32\","
    " \"vocab_size\": 49408}";

static const char SD15_VAE[] =
    "{\"_class_name\": \"AutoencoderKL\", \"_diffusers_version\": \"0.6.0\", \"act_fn\": \"silu\","
    " \"block_out_channels\": [128, 256, 512, 512], \"down_block_types\": [\"DownEncoderBlock2D\","
    " \"DownEncoderBlock2D\", \"DownEncoderBlock2D\", \"DownEncoderBlock2D\"], \"in_channels\": 3,"
    " \"latent_channels\": 4, \"layers_per_block\": 2, \"norm_num_groups\": 32, \"out_channels\": 3,"
    " \"sample_size\": 512, \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\", \"UpDecoderBlock2D\","
    " \"UpDecoderBlock2D\"]}";

static const char SD21_SCHED[] =
    "{\"_class_name\": \"DDIMScheduler\", \"_diffusers_version\": \"0.8.0\", \"beta_end\": 0.012,"
    " \"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"clip_sample\": false,"
    " \"num_train_timesteps\": 1000, \"prediction_type\": \"v_prediction\", \"set_alpha_to_one\": false,"
    " \"skip_prk_steps\": true, \"steps_offset\": 1, \"trained_betas\": null}";

/* ---- the released configs ---------------------------------------------------------------------- */

static void check_released(void)
{
    vkti_diag d = {0};
    vkti_unet_config u, want;
    int rc = vkti_unet_config_parse(&d, &u, SD15_UNET, strlen(SD15_UNET), "sd15/unet/config.json");
    CHECK(rc == 0, "SD 1.5 unet config: %s", d.msg);
    vkti_unet_config_sd15(&want);
    CHECK(rc == 0 && !memcmp(&u, &want, sizeof u), "SD 1.5 unet config differs from vkti_unet_config_sd15");
    CHECK(u.num_blocks == 4 && u.heads[0] == 8 && u.heads[3] == 8 && u.head_dim[0] == 40 && u.head_dim[1] == 80 &&
              u.head_dim[2] == 160 && u.time_embedding_dim == 1280 && u.cross_attention_dim == 768,
          "SD 1.5: \"attention_head_dim\": 8 is 8 heads of 40, 80, 160, 160 (got %d heads of %d, %d, %d, %d)", u.heads[0],
          u.head_dim[0], u.head_dim[1], u.head_dim[2], u.head_dim[3]);
    rc = vkti_unet_config_parse(&d, &u, SD21_UNET, strlen(SD21_UNET), "sd21/unet/config.json");
    CHECK(rc == 0, "SD 2.1 unet config: %s", d.msg);
    vkti_unet_config_sd21(&want);
    CHECK(rc == 0 && !memcmp(&u, &want, sizeof u), "SD 2.1 unet config differs from vkti_unet_config_sd21");
    CHECK(u.heads[0] == 5 && u.heads[1] == 10 && u.heads[2] == 20 && u.head_dim[0] == 64 && u.head_dim[1] == 64 &&
              u.head_dim[3] == 64 && u.use_linear_projection && u.upcast_attention,
          "SD 2.1: [5, 10, 20, 20] heads of 64 channels");
    rc = vkti_unet_config_parse(&d, &u, SDXL_UNET, strlen(SDXL_UNET), "sdxl/unet/config.json");
    CHECK(rc != 0 && strstr(d.msg, "addition_embed_type") && strstr(d.msg, "SDXL"),
          "SDXL's unet config refused naming addition_embed_type (got: %s)", rc ? d.msg : "accepted");

    vkti_clip_text_config t, tw;
    rc = vkti_clip_text_config_parse(&d, &t, SD15_TEXT, strlen(SD15_TEXT), "sd15/text_encoder/config.json");
    vkti_clip_text_config_sd15(&tw);
    CHECK(rc == 0 && !memcmp(&t, &tw, sizeof t), "SD 1.5 text encoder config: %s", rc ? d.msg : "differs");
    rc = vkti_clip_text_config_parse(&d, &t, SD21_TEXT, strlen(SD21_TEXT), "sd21/text_encoder/config.json");
    vkti_clip_text_config_sd21(&tw);
    CHECK(rc == 0 && !memcmp(&t, &tw, sizeof t), "SD 2.1 text encoder config: %s", rc ? d.msg : "differs");
    static const char xl_text2[] = "{\"architectures\": [\"CLIPTextModelWithProjection\"], \"hidden_size\": 1280}";
    rc = vkti_clip_text_config_parse(&d, &t, xl_text2, strlen(xl_text2), "text_encoder_2/config.json");
    CHECK(rc != 0 && strstr(d.msg, "architectures") && strstr(d.msg, "SDXL"),
          "SDXL's second text encoder refused (got: %s)", rc ? d.msg : "accepted");

    vkti_vae_config v, vw;
    rc = vkti_vae_config_parse(&d, &v, SD15_VAE, strlen(SD15_VAE), "sd15/vae/config.json");
    vkti_vae_config_sd15(&vw);
    CHECK(rc == 0 && !memcmp(&v, &vw, sizeof v), "SD 1.5 vae config: %s", rc ? d.msg : "differs");

    vkti_scheduler_info si;
    rc = vkti_scheduler_info_parse(&d, &si, SD21_SCHED, strlen(SD21_SCHED), "sd21/scheduler/scheduler_config.json");
    CHECK(rc == 0 && si.v_prediction && !strcmp(si.class_name, "DDIMScheduler") &&
              !strcmp(si.beta_schedule, "scaled_linear") && si.beta_start == 0.00085 && si.beta_end == 0.012 &&
              si.num_train_timesteps == 1000,
          "SD 2.1 scheduler config: %s", rc ? d.msg : "wrong values");
    for (int vp = 0; vp < 2; vp++) {
        char *text = vkti_scheduler_config_sd(vp);
        rc = text ? vkti_scheduler_info_parse(&d, &si, text, strlen(text), "generated") : -1;
        CHECK(rc == 0 && si.v_prediction == vp && !strcmp(si.class_name, vp ? "DDIMScheduler" : "PNDMScheduler"),
              "the generated scheduler config (v=%d)", vp);
        free(text);
    }
}

/* ---- tables ------------------------------------------------------------------------------------- */

static void check_entry(const vkti_sd_table *t, const char *name, const char *ldm, int ndim, int64_t a, int64_t b,
                        int64_t c, int64_t e)
{
    const vkti_sd_tensor *x = vkti_sd_table_find(t, name);
    int64_t ls[4];
    const int lnd = x ? vkti_sd_ldm_shape(x, ls) : 0;
    const int64_t want[4] = {a, b, c, e};
    int ok = x && !strcmp(x->ldm, ldm) && lnd == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = ls[i] == want[i];
    char buf[64];
    CHECK(ok, "%s: want %s %s, got %s %s", name, ldm, vkti_sd_shape_str(ndim, want, buf, sizeof buf),
          x ? x->ldm : "(absent)", x ? vkti_sd_shape_str(lnd, ls, (char[64]){0}, 64) : "");
}

static void check_tables(void)
{
    vkti_diag d = {0};
    vkti_unet_config u;
    vkti_clip_text_config t;
    vkti_vae_config v;
    vkti_sd_table tu, tt, tv;
    vkti_unet_config_sd15(&u);
    vkti_clip_text_config_sd15(&t);
    vkti_vae_config_sd15(&v);
    int rc = vkti_sd_unet_tensors(&d, &u, &tu) | vkti_sd_text_tensors(&d, &t, VKTI_SD_FAMILY_SD1, &tt) |
             vkti_sd_vae_tensors(&d, &v, &tv);
    CHECK(rc == 0, "SD 1.5 tables: %s", d.msg);
    /* stable-diffusion-v1-5's files: unet 686 tensors, text_encoder 196 (+ position_ids), vae 248 */
    CHECK(tu.count == 686 && vkti_sd_table_params(&tu) == 859520964ull, "SD 1.5 UNet: %zu tensors, %llu parameters",
          tu.count, (unsigned long long)vkti_sd_table_params(&tu));
    CHECK(tt.count == 196 && vkti_sd_table_params(&tt) == 123060480ull, "SD 1.5 text encoder: %zu tensors, %llu",
          tt.count, (unsigned long long)vkti_sd_table_params(&tt));
    CHECK(tv.count == 248 && vkti_sd_table_params(&tv) == 83653863ull, "SD 1.5 VAE: %zu tensors, %llu", tv.count,
          (unsigned long long)vkti_sd_table_params(&tv));
    /* names and shapes of v1-5-pruned-emaonly.safetensors, including diffusers' own family key
     * (CHECKPOINT_KEY_NAMES["v1"]) */
    check_entry(&tu, "up_blocks.3.resnets.2.conv_shortcut.weight",
                "model.diffusion_model.output_blocks.11.0.skip_connection.weight", 4, 320, 640, 1, 1);
    check_entry(&tu, "conv_in.weight", "model.diffusion_model.input_blocks.0.0.weight", 4, 320, 4, 3, 3);
    check_entry(&tu, "time_embedding.linear_2.weight", "model.diffusion_model.time_embed.2.weight", 2, 1280, 1280, 0, 0);
    check_entry(&tu, "down_blocks.0.downsamplers.0.conv.weight", "model.diffusion_model.input_blocks.3.0.op.weight", 4,
                320, 320, 3, 3);
    check_entry(&tu, "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight",
                "model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight", 2, 320, 768, 0, 0);
    check_entry(&tu, "down_blocks.3.resnets.1.time_emb_proj.weight",
                "model.diffusion_model.input_blocks.11.0.emb_layers.1.weight", 2, 1280, 1280, 0, 0);
    check_entry(&tu, "mid_block.attentions.0.proj_in.weight", "model.diffusion_model.middle_block.1.proj_in.weight", 4,
                1280, 1280, 1, 1);
    check_entry(&tu, "mid_block.resnets.1.norm2.weight", "model.diffusion_model.middle_block.2.out_layers.0.weight", 1,
                1280, 0, 0, 0);
    check_entry(&tu, "up_blocks.0.upsamplers.0.conv.weight", "model.diffusion_model.output_blocks.2.1.conv.weight", 4,
                1280, 1280, 3, 3);
    check_entry(&tu, "up_blocks.1.upsamplers.0.conv.weight", "model.diffusion_model.output_blocks.5.2.conv.weight", 4,
                1280, 1280, 3, 3);
    check_entry(&tu, "up_blocks.1.resnets.0.conv1.weight", "model.diffusion_model.output_blocks.3.0.in_layers.2.weight",
                4, 1280, 2560, 3, 3);
    check_entry(&tu, "up_blocks.2.attentions.2.transformer_blocks.0.ff.net.0.proj.weight",
                "model.diffusion_model.output_blocks.8.1.transformer_blocks.0.ff.net.0.proj.weight", 2, 5120, 640, 0, 0);
    check_entry(&tu, "conv_out.weight", "model.diffusion_model.out.2.weight", 4, 4, 320, 3, 3);
    check_entry(&tt, "text_model.encoder.layers.11.mlp.fc1.weight",
                "cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc1.weight", 2, 3072, 768, 0, 0);
    check_entry(&tt, "text_model.embeddings.token_embedding.weight",
                "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", 2, 49408, 768, 0, 0);
    check_entry(&tv, "decoder.up_blocks.3.resnets.0.conv_shortcut.weight",
                "first_stage_model.decoder.up.0.block.0.nin_shortcut.weight", 4, 128, 256, 1, 1);
    check_entry(&tv, "encoder.mid_block.attentions.0.to_q.weight", "first_stage_model.encoder.mid.attn_1.q.weight", 4, 512,
                512, 1, 1);
    check_entry(&tv, "decoder.mid_block.attentions.0.to_out.0.weight",
                "first_stage_model.decoder.mid.attn_1.proj_out.weight", 4, 512, 512, 1, 1);
    check_entry(&tv, "encoder.conv_out.weight", "first_stage_model.encoder.conv_out.weight", 4, 8, 512, 3, 3);
    check_entry(&tv, "quant_conv.weight", "first_stage_model.quant_conv.weight", 4, 8, 8, 1, 1);
    check_entry(&tv, "encoder.down_blocks.0.downsamplers.0.conv.weight",
                "first_stage_model.encoder.down.0.downsample.conv.weight", 4, 128, 128, 3, 3);
    check_entry(&tv, "decoder.up_blocks.0.upsamplers.0.conv.weight", "first_stage_model.decoder.up.3.upsample.conv.weight",
                4, 512, 512, 3, 3);
    vkti_sd_table_free(&tu);
    vkti_sd_table_free(&tt);
    vkti_sd_table_free(&tv);

    vkti_unet_config_sd21(&u);
    vkti_clip_text_config_sd21(&t);
    rc = vkti_sd_unet_tensors(&d, &u, &tu) | vkti_sd_text_tensors(&d, &t, VKTI_SD_FAMILY_SD2, &tt);
    CHECK(rc == 0 && tu.count == 686 && vkti_sd_table_params(&tu) == 865910724ull,
          "SD 2.1 UNet: %zu tensors, %llu parameters", tu.count, (unsigned long long)vkti_sd_table_params(&tu));
    /* 23 OpenCLIP layers: q, k and v split out of in_proj */
    CHECK(rc == 0 && tt.count == 2 + 23 * 16 + 2 && vkti_sd_table_params(&tt) == 340387840ull,
          "SD 2.1 text encoder: %zu tensors, %llu parameters", tt.count, (unsigned long long)vkti_sd_table_params(&tt));
    check_entry(&tu, "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight",
                "model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight", 2, 320, 1024, 0, 0);
    check_entry(&tu, "mid_block.attentions.0.proj_in.weight", "model.diffusion_model.middle_block.1.proj_in.weight", 2,
                1280, 1280, 0, 0);
    check_entry(&tt, "text_model.encoder.layers.0.self_attn.k_proj.weight",
                "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", 2, 3072, 1024, 0, 0);
    check_entry(&tt, "text_model.encoder.layers.22.self_attn.v_proj.bias",
                "cond_stage_model.model.transformer.resblocks.22.attn.in_proj_bias", 1, 3072, 0, 0, 0);
    check_entry(&tt, "text_model.encoder.layers.3.mlp.fc2.weight",
                "cond_stage_model.model.transformer.resblocks.3.mlp.c_proj.weight", 2, 1024, 4096, 0, 0);
    check_entry(&tt, "text_model.embeddings.position_embedding.weight", "cond_stage_model.model.positional_embedding", 2,
                77, 1024, 0, 0);
    check_entry(&tt, "text_model.final_layer_norm.bias", "cond_stage_model.model.ln_final.bias", 1, 1024, 0, 0, 0);
    const vkti_sd_tensor *q = vkti_sd_table_find(&tt, "text_model.encoder.layers.0.self_attn.q_proj.weight");
    const vkti_sd_tensor *vv = vkti_sd_table_find(&tt, "text_model.encoder.layers.0.self_attn.v_proj.weight");
    CHECK(q && vv && q->ldm_op == VKTI_LDM_QKV && q->ldm_part == 0 && vv->ldm_part == 2, "q is part 0, v part 2");
    vkti_sd_table_free(&tu);
    vkti_sd_table_free(&tt);
}

/* diffusers' up-block arithmetic for SD 1.5 (CrossAttnUpBlock2D's resnet_in_channels + res_skip_channels) */
static void check_blocks(void)
{
    vkti_unet_config u;
    vkti_unet_config_sd15(&u);
    static const int want[4][3] = {{2560, 2560, 2560}, {2560, 2560, 1920}, {1920, 1280, 960}, {960, 640, 640}};
    for (int i = 0; i < 4; i++) {
        vkti_unet_block_info b;
        vkti_unet_up_block(&u, i, &b);
        CHECK(b.layers == 3 && b.resnet_in[0] == want[i][0] && b.resnet_in[1] == want[i][1] &&
                  b.resnet_in[2] == want[i][2] && b.has_attention == (i > 0) && b.has_sampler == (i < 3),
              "up block %d: resnet inputs %d, %d, %d", i, b.resnet_in[0], b.resnet_in[1], b.resnet_in[2]);
    }
    vkti_unet_block_info b;
    vkti_unet_down_block(&u, 1, &b);
    CHECK(b.layers == 2 && b.resnet_in[0] == 320 && b.resnet_in[1] == 640 && b.heads == 8 && b.head_dim == 80 &&
              b.has_sampler,
          "down block 1");
    vkti_unet_mid_block(&u, &b);
    CHECK(b.out_channels == 1280 && b.heads == 8 && b.head_dim == 160 && b.transformer_layers == 1, "mid block");
}

/* ---- round trips ----------------------------------------------------------------------------------- */

static void check_round_trips(void)
{
    static const char *const presets[3] = {"tiny", "tiny-sd2", "sd15"};
    vkti_diag d = {0};
    for (int p = 0; p < 4; p++) {
        vkti_sd_synth s;
        if (p < 3) {
            CHECK(vkti_sd_synth_preset(&d, presets[p], &s) == 0, "preset %s: %s", presets[p], d.msg);
        } else { /* SD 2.1, and lists where ints would do */
            vkti_unet_config_sd21(&s.unet);
            vkti_clip_text_config_sd21(&s.text);
            vkti_vae_config_sd15(&s.vae);
            s.unet.layers_is_list = s.unet.transformer_layers_is_list = 1;
            s.unet.layers_per_block[3] = 3;
            s.unet.transformer_layers_per_block[1] = 2;
            s.unet.time_embedding_dim_set = 1;
            s.unet.time_embedding_dim = 1024;
            s.vae.mid_block_add_attention = 0;
            s.vae.use_quant_conv = 0;
        }
        const char *name = p < 3 ? presets[p] : "sd21+lists";
        char *j1 = vkti_unet_config_to_json(&s.unet);
        vkti_unet_config u;
        int rc = vkti_unet_config_parse(&d, &u, j1, strlen(j1), name);
        char *j2 = rc ? NULL : vkti_unet_config_to_json(&u);
        CHECK(rc == 0 && !memcmp(&u, &s.unet, sizeof u) && j2 && !strcmp(j1, j2), "%s unet config round trip: %s", name,
              rc ? d.msg : "differs");
        free(j1);
        free(j2);
        j1 = vkti_clip_text_config_to_json(&s.text);
        vkti_clip_text_config t;
        rc = vkti_clip_text_config_parse(&d, &t, j1, strlen(j1), name);
        j2 = rc ? NULL : vkti_clip_text_config_to_json(&t);
        CHECK(rc == 0 && !memcmp(&t, &s.text, sizeof t) && j2 && !strcmp(j1, j2), "%s text config round trip: %s", name,
              rc ? d.msg : "differs");
        free(j1);
        free(j2);
        j1 = vkti_vae_config_to_json(&s.vae);
        vkti_vae_config v;
        rc = vkti_vae_config_parse(&d, &v, j1, strlen(j1), name);
        j2 = rc ? NULL : vkti_vae_config_to_json(&v);
        CHECK(rc == 0 && !memcmp(&v, &s.vae, sizeof v) && j2 && !strcmp(j1, j2), "%s vae config round trip: %s", name,
              rc ? d.msg : "differs");
        free(j1);
        free(j2);
    }
    /* the tiny presets are what the issue asks for */
    vkti_sd_synth s;
    vkti_sd_synth_preset(&d, "tiny", &s);
    CHECK(s.unet.head_dim[0] == 16 && s.unet.head_dim[1] == 32 && s.unet.heads[0] == 2 && s.text.vocab_size == 809 &&
              s.text.bos_token_id == 807 && s.text.eos_token_id == 808 && s.vae.num_blocks == 4 &&
              s.unet.cross_attention_dim == 32 && s.unet.norm_num_groups == 8 && s.family == VKTI_SD_FAMILY_SD1,
          "tiny preset");
    vkti_sd_synth_preset(&d, "tiny-sd2", &s);
    CHECK(s.unet.use_linear_projection && s.unet.heads_is_list && s.unet.head_dim[0] == 16 && s.unet.head_dim[1] == 16 &&
              s.text.hidden_act == VKTI_CLIP_GELU && s.v_prediction && s.family == VKTI_SD_FAMILY_SD2,
          "tiny-sd2 preset");
    CHECK(vkti_sd_synth_preset(&d, "sdxl", &s) != 0 && strstr(d.msg, "sdxl"), "unknown preset refused");
}

/* ---- refusals ----------------------------------------------------------------------------------------- */

typedef struct bad {
    int which;          /* 0 unet, 1 text, 2 vae */
    const char *json;
    const char *key;    /* the message must name it */
} bad;

static const bad BAD[] = {
    /* wrong types */
    {0, "{\"block_out_channels\": \"320\"}", "block_out_channels"},
    {0, "{\"layers_per_block\": 2.5}", "layers_per_block"},
    {0, "{\"norm_eps\": \"1e-5\"}", "norm_eps"},
    {0, "{\"use_linear_projection\": 1}", "use_linear_projection"},
    {0, "{\"flip_sin_to_cos\": \"yes\"}", "flip_sin_to_cos"},
    {0, "{\"cross_attention_dim\": null}", "cross_attention_dim"},
    {0, "{\"down_block_types\": \"CrossAttnDownBlock2D\"}", "down_block_types"},
    {0, "{\"sample_size\": [64, 32]}", "sample_size"},
    {0, "{\"attention_head_dim\": {\"a\": 1}}", "attention_head_dim"},
    /* absurd sizes */
    {0, "{\"in_channels\": -1}", "in_channels"},
    {0, "{\"cross_attention_dim\": 1e300}", "cross_attention_dim"},
    {0, "{\"block_out_channels\": [320, 640, 1099511627776, 1280]}", "block_out_channels[2]"},
    {0, "{\"block_out_channels\": []}", "block_out_channels"},
    {0, "{\"block_out_channels\": [32,32,32,32,32,32,32,32,32]}", "block_out_channels"},
    {0, "{\"layers_per_block\": 100000}", "layers_per_block"},
    {0, "{\"attention_head_dim\": [8, 8]}", "attention_head_dim"},
    {0, "{\"attention_head_dim\": 7}", "attention_head_dim"},
    {0, "{\"norm_num_groups\": 48}", "norm_num_groups"},
    {0, "{\"transformer_layers_per_block\": [[1, 2], [1, 2], [1, 2], [1, 2]]}", "transformer_layers_per_block"},
    {0, "{\"sample_size\": 1e9}", "sample_size"},
    /* networks vkti does not build */
    {0, "{\"num_attention_heads\": 8}", "num_attention_heads"},
    {0, "{\"resnet_time_scale_shift\": \"scale_shift\"}", "resnet_time_scale_shift"},
    {0, "{\"class_embed_type\": \"timestep\"}", "class_embed_type"},
    {0, "{\"num_class_embeds\": 1000}", "num_class_embeds"},
    {0, "{\"addition_embed_type\": \"text_time\"}", "addition_embed_type"},
    {0, "{\"encoder_hid_dim\": 1024}", "encoder_hid_dim"},
    {0, "{\"time_embedding_type\": \"fourier\"}", "time_embedding_type"},
    {0, "{\"time_embedding_act_fn\": \"silu\"}", "time_embedding_act_fn"},
    {0, "{\"time_cond_proj_dim\": 256}", "time_cond_proj_dim"},
    {0, "{\"attention_type\": \"gated\"}", "attention_type"},
    {0, "{\"only_cross_attention\": true}", "only_cross_attention"},
    {0, "{\"only_cross_attention\": [false, true, false, false]}", "only_cross_attention"},
    {0, "{\"dual_cross_attention\": true}", "dual_cross_attention"},
    {0, "{\"center_input_sample\": true}", "center_input_sample"},
    {0, "{\"act_fn\": \"gelu\"}", "act_fn"},
    {0, "{\"mid_block_type\": \"UNetMidBlock2DSimpleCrossAttn\"}", "mid_block_type"},
    {0, "{\"mid_block_type\": null}", "mid_block_type"},
    {0, "{\"down_block_types\": [\"AttnDownBlock2D\", \"DownBlock2D\", \"DownBlock2D\", \"DownBlock2D\"]}",
     "down_block_types"},
    {0, "{\"up_block_types\": [\"UpBlock2D\", \"UpBlock2D\"]}", "up_block_types"},
    {0, "{\"cross_attention_dim\": [768, 1024, 768, 768]}", "cross_attention_dim"},
    {0, "{\"resnet_out_scale_factor\": 2.0}", "resnet_out_scale_factor"},
    {0, "{\"downsample_padding\": 0}", "downsample_padding"},
    {0, "{\"conv_in_kernel\": 5}", "conv_in_kernel"},
    {0, "{\"_class_name\": \"UNet2DModel\"}", "_class_name"},
    {0, "{\"in_channels\": 4, \"in_channels\": 9}", "in_channels"},
    {0, "[1, 2]", "object"},
    {0, "{\"in_channels\": 4", "JSON"},
    {1, "{\"hidden_act\": \"relu\"}", "hidden_act"},
    {1, "{\"hidden_size\": 768, \"num_attention_heads\": 7}", "num_attention_heads"},
    {1, "{\"vocab_size\": 1e9}", "vocab_size"},
    {1, "{\"num_hidden_layers\": 0}", "num_hidden_layers"},
    {1, "{\"max_position_embeddings\": 100000}", "max_position_embeddings"},
    {1, "{\"layer_norm_eps\": -1}", "layer_norm_eps"},
    {1, "{\"model_type\": \"clip\"}", "model_type"},
    {1, "{\"architectures\": [\"T5EncoderModel\"]}", "architectures"},
    {1, "{\"eos_token_id\": \"</s>\"}", "eos_token_id"},
    {2, "{\"shift_factor\": 0.1159}", "shift_factor"},
    {2, "{\"latents_mean\": [0.1, 0.2, 0.3, 0.4]}", "latents_mean"},
    {2, "{\"block_out_channels\": [128, 256], \"down_block_types\": [\"DownBlock2D\", \"DownBlock2D\"],"
        " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"]}", "down_block_types"},
    {2, "{\"block_out_channels\": [100], \"norm_num_groups\": 32}", "norm_num_groups"},
    {2, "{\"latent_channels\": 0}", "latent_channels"},
    {2, "{\"scaling_factor\": \"0.18215\"}", "scaling_factor"},
    {2, "{\"_class_name\": \"AutoencoderTiny\"}", "_class_name"},
    {2, "{\"use_quant_conv\": null}", "use_quant_conv"},
};

static void check_refusals(void)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const bad *b = &BAD[i];
        vkti_diag d = {0};
        vkti_unet_config u;
        vkti_clip_text_config t;
        vkti_vae_config v;
        const size_t n = strlen(b->json);
        int rc = b->which == 0   ? vkti_unet_config_parse(&d, &u, b->json, n, "config.json")
                 : b->which == 1 ? vkti_clip_text_config_parse(&d, &t, b->json, n, "config.json")
                                 : vkti_vae_config_parse(&d, &v, b->json, n, "config.json");
        CHECK(rc != 0 && strstr(d.msg, b->key) && strstr(d.msg, "config.json"), "%s: want a refusal naming %s; got %s",
              b->json, b->key, rc ? d.msg : "accepted");
    }
    /* a config larger than the limit */
    size_t big = VKTI_SD_MAX_CONFIG_BYTES + 10;
    char *text = malloc(big);
    if (text) {
        memset(text, ' ', big);
        text[0] = '{';
        text[big - 1] = '}';
        vkti_diag d = {0};
        vkti_unet_config u;
        CHECK(vkti_unet_config_parse(&d, &u, text, big, "huge.json") != 0 && strstr(d.msg, "larger"),
              "a huge config refused: %s", d.msg);
        free(text);
    }
    /* unknown keys are ignored, defaults are diffusers' */
    static const char extra[] = "{\"foo\": [1, {\"bar\": null}], \"dropout\": 0.1, \"_name_or_path\": \"x\"}";
    vkti_diag d = {0};
    vkti_unet_config u, want;
    vkti_unet_config_sd15(&want);
    int rc = vkti_unet_config_parse(&d, &u, extra, strlen(extra), "extra.json");
    CHECK(rc == 0 && u.cross_attention_dim == 1280 && u.num_blocks == 4 && u.heads[2] == 8 && u.sample_size == 0,
          "unknown keys ignored, diffusers' defaults: %s", d.msg);
}

/* vkti's tables against the names and shapes diffusers / transformers build (the fixture). */
static void check_fixture(void)
{
    const char *src = getenv("VKTI_SOURCE_DIR");
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/models/sd_tables.json", src ? src : ".");
    vkti_diag d = {0};
    uint8_t *text;
    size_t len;
    if (!vkti_file_exists(path) || vkti_file_read(&d, path, 16u << 20, &text, &len)) {
        printf("SKIP diffusers' own tables: %s is absent (tools/ref/check_sd_layouts.py --tables makes it on the GPU "
               "machine)\n", path);
        return;
    }
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    CHECK(root != NULL, "%s: not JSON", path);
    static const char *const models[2] = {"sd15", "sd21"}, *const comps[3] = {"unet", "text_encoder", "vae"};
    for (int mi = 0; root && mi < 2; mi++) {
        vkti_unet_config u;
        vkti_clip_text_config t;
        vkti_vae_config v;
        mi ? vkti_unet_config_sd21(&u) : vkti_unet_config_sd15(&u);
        mi ? vkti_clip_text_config_sd21(&t) : vkti_clip_text_config_sd15(&t);
        vkti_vae_config_sd15(&v);
        vkti_sd_table tabs[3];
        vkti_sd_unet_tensors(&d, &u, &tabs[0]);
        vkti_sd_text_tensors(&d, &t, mi ? VKTI_SD_FAMILY_SD2 : VKTI_SD_FAMILY_SD1, &tabs[1]);
        vkti_sd_vae_tensors(&d, &v, &tabs[2]);
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, models[mi]);
        for (int c = 0; c < 3; c++) {
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(model, comps[c]);
            int n = cJSON_GetArraySize(want), wrong = 0;
            for (const cJSON *e = want ? want->child : NULL; e; e = e->next) {
                const vkti_sd_tensor *x = vkti_sd_table_find(&tabs[c], e->string);
                int ok = x && x->ndim == cJSON_GetArraySize(e);
                int k = 0;
                for (const cJSON *s = e->child; ok && s; s = s->next, k++)
                    ok = x->shape[k] == (int64_t)s->valuedouble;
                if (!ok && wrong++ < 5) {
                    char *shape = cJSON_PrintUnformatted(e), buf[96];
                    printf("  %s %s: %s is %s in diffusers, %s in vkti\n", models[mi], comps[c], e->string,
                           shape ? shape : "?", x ? vkti_sd_shape_str(x->ndim, x->shape, buf, sizeof buf) : "absent");
                    cJSON_free(shape);
                }
            }
            CHECK(want && wrong == 0 && (size_t)n == tabs[c].count, "%s %s: %d of diffusers' %d tensors differ; vkti "
                  "has %zu", models[mi], comps[c], wrong, n, tabs[c].count);
            vkti_sd_table_free(&tabs[c]);
        }
    }
    cJSON_Delete(root);
}

int main(void)
{
    check_released();
    check_fixture();
    check_tables();
    check_blocks();
    check_round_trips();
    check_refusals();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
