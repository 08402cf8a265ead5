/* make_tiny_sd.c — writes a random Stable Diffusion model, deterministic from --seed: a diffusers
 * folder, the same weights as one LDM single-file .safetensors (and, on request, a torch .ckpt).
 * The fixture of the model tests and the CI demo (tiny presets), and an SD 1.5-shaped model for
 * GPU fidelity runs and benchmarks (sd15). What the weights are: src/io/sd_synth.h.
 *
 * usage: make_tiny_sd --out DIR [--preset tiny|tiny-sd2|sd15] [--seed N] [options]
 *   --out DIR              the diffusers folder to write
 *   --single FILE          the single file (default for the tiny presets: DIR.safetensors;
 *                          sd15: none); --no-single: none
 *   --ckpt FILE            also a torch .ckpt of the single file's tensors (models under 4 GB)
 *   --dtype f32|f16|bf16   weight dtype (tiny: f32, sd15: f16)
 *   --fp16-variant         also write the diffusers *.fp16.safetensors variants
 *   --tokenizer-from DIR   vocab.json + merges.txt to copy into DIR/tokenizer/ (tiny presets:
 *                          tests/data/tokenizer/tiny of the source tree; sd15: $VKTI_CLIP_VOCAB,
 *                          else none)
 *   --prediction epsilon|v_prediction
 *   sizes: --unet-channels A,B,.. --unet-layers N --heads N|A,B,.. --groups N
 *          --context N (text width = cross-attention width) --text-layers N --text-heads N
 *          --text-mlp N --vocab N --vae-channels A,B,.. --vae-layers N --vae-groups N --sample N
 * Exit code 0 on success, 1 on bad arguments or a failed write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/sd_synth.h"
#include "io/sd_tensors.h"

#ifndef VKTI_SOURCE_DIR
#define VKTI_SOURCE_DIR "."
#endif

static int usage(const char *msg)
{
    fprintf(stderr, "make_tiny_sd: %s\nusage: make_tiny_sd --out DIR [--preset tiny|tiny-sd2|sd15] [--seed N] "
                    "[--single FILE | --no-single] [--ckpt FILE] [--dtype f32|f16|bf16] [--fp16-variant] "
                    "[--tokenizer-from DIR] [--prediction epsilon|v_prediction] [size options: see the source]\n",
            msg);
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi)
        return 0;
    *out = (int)v;
    return 1;
}

/* "32,64" -> out[], count */
static int parse_list(const char *s, int *out, int max, int *count)
{
    int n = 0;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > VKTI_SD_MAX_CHANNELS || n == max)
            return 0;
        out[n++] = (int)v;
        if (*end == ',')
            end++;
        else if (*end)
            return 0;
        s = end;
    }
    *count = n;
    return n > 0;
}

static uint64_t params(const vkti_sd_table *t) { return vkti_sd_table_params(t); }

int main(int argc, char **argv)
{
    const char *preset = "tiny", *out = NULL, *single = NULL, *ckpt = NULL, *dtype = NULL, *tok = NULL, *pred = NULL;
    int no_single = 0, fp16_variant = 0;
    unsigned long long seed = 0;
    /* first pass: the preset */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--preset") && i + 1 < argc)
            preset = argv[i + 1];
    vkti_diag d;
    memset(&d, 0, sizeof d);
    vkti_sd_synth s;
    if (vkti_sd_synth_preset(&d, preset, &s))
        return usage(d.msg);
    const int tiny = strcmp(preset, "sd15") != 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int list[VKTI_SD_MAX_BLOCKS], n, x;
        if (!strcmp(a, "--no-single") || !strcmp(a, "--fp16-variant")) {
            *(!strcmp(a, "--no-single") ? &no_single : &fp16_variant) = 1;
            continue;
        }
        if (!v)
            return usage("an option needs a value");
        i++;
        if (!strcmp(a, "--preset")) {
        } else if (!strcmp(a, "--out")) {
            out = v;
        } else if (!strcmp(a, "--single")) {
            single = v;
        } else if (!strcmp(a, "--ckpt")) {
            ckpt = v;
        } else if (!strcmp(a, "--dtype")) {
            dtype = v;
        } else if (!strcmp(a, "--tokenizer-from")) {
            tok = v;
        } else if (!strcmp(a, "--prediction")) {
            pred = v;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            seed = strtoull(v, &end, 10);
            if (!*v || *end)
                return usage("--seed needs a whole number");
        } else if (!strcmp(a, "--unet-channels")) {
            if (!parse_list(v, list, VKTI_SD_MAX_BLOCKS, &n))
                return usage("--unet-channels needs widths like 32,64");
            s.unet.num_blocks = n;
            for (int b = 0; b < n; b++) { /* SD's pattern: attention everywhere but the deepest block */
                s.unet.block_out_channels[b] = list[b];
                s.unet.down_block_types[b] = b < n - 1 || n == 1 ? VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D : VKTI_UNET_DOWN_BLOCK_2D;
                s.unet.up_block_types[b] = b > 0 || n == 1 ? VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D : VKTI_UNET_UP_BLOCK_2D;
                s.unet.layers_per_block[b] = s.unet.layers_per_block[0];
                s.unet.transformer_layers_per_block[b] = 1;
                s.unet.heads[b] = s.unet.heads[0];
            }
        } else if (!strcmp(a, "--unet-layers")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_LAYERS, &x))
                return usage("--unet-layers needs a number of resnets per block");
            for (int b = 0; b < VKTI_SD_MAX_BLOCKS; b++)
                s.unet.layers_per_block[b] = x;
        } else if (!strcmp(a, "--heads")) {
            if (!parse_list(v, list, VKTI_SD_MAX_BLOCKS, &n) || (n != 1 && n != s.unet.num_blocks))
                return usage("--heads needs one head count, or one per block (after --unet-channels)");
            for (int b = 0; b < s.unet.num_blocks; b++)
                s.unet.heads[b] = list[n == 1 ? 0 : b];
            s.unet.heads_is_list = n > 1;
        } else if (!strcmp(a, "--groups")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_CHANNELS, &s.unet.norm_num_groups))
                return usage("--groups needs a number");
        } else if (!strcmp(a, "--context")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_CHANNELS, &x))
                return usage("--context needs a width");
            s.unet.cross_attention_dim = s.text.hidden_size = x;
        } else if (!strcmp(a, "--text-layers")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_TEXT_LAYERS, &s.text.num_hidden_layers))
                return usage("--text-layers needs a number");
        } else if (!strcmp(a, "--text-heads")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_HEADS, &s.text.num_attention_heads))
                return usage("--text-heads needs a number");
        } else if (!strcmp(a, "--text-mlp")) {
            if (!parse_int(v, 1, 4 * VKTI_SD_MAX_CHANNELS, &s.text.intermediate_size))
                return usage("--text-mlp needs a width");
        } else if (!strcmp(a, "--vocab")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_VOCAB, &s.text.vocab_size))
                return usage("--vocab needs a number of tokens");
        } else if (!strcmp(a, "--vae-channels")) {
            if (!parse_list(v, list, VKTI_SD_MAX_BLOCKS, &n))
                return usage("--vae-channels needs widths like 16,32,32,32");
            s.vae.num_blocks = n;
            memcpy(s.vae.block_out_channels, list, (size_t)n * sizeof *list);
        } else if (!strcmp(a, "--vae-layers")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_LAYERS, &s.vae.layers_per_block))
                return usage("--vae-layers needs a number");
        } else if (!strcmp(a, "--vae-groups")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_CHANNELS, &s.vae.norm_num_groups))
                return usage("--vae-groups needs a number");
        } else if (!strcmp(a, "--sample")) {
            if (!parse_int(v, 1, VKTI_SD_MAX_SAMPLE, &s.unet.sample_size))
                return usage("--sample needs the latent size");
            s.vae.sample_size = s.unet.sample_size * (1 << (s.vae.num_blocks - 1));
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option %.60s", a);
            return usage(msg);
        }
    }
    if (!out)
        return usage("--out DIR is needed");
    s.seed = seed;
    s.fp16_variant = fp16_variant;
    if (dtype) {
        if (!strcmp(dtype, "f32"))
            s.dtype = VKTI_IO_F32;
        else if (!strcmp(dtype, "f16"))
            s.dtype = VKTI_IO_F16;
        else if (!strcmp(dtype, "bf16"))
            s.dtype = VKTI_IO_BF16;
        else
            return usage("--dtype is f32, f16 or bf16");
    }
    if (pred) {
        if (strcmp(pred, "epsilon") && strcmp(pred, "v_prediction"))
            return usage("--prediction is epsilon or v_prediction");
        s.v_prediction = !strcmp(pred, "v_prediction");
    }
    char tokdir[4200], single_buf[4200];
    if (!tok && tiny) {
        const char *src = vkti_env("VKTI_SOURCE_DIR");
        snprintf(tokdir, sizeof tokdir, "%s/tests/data/tokenizer/tiny", src ? src : VKTI_SOURCE_DIR);
        tok = tokdir;
    } else if (!tok) {
        tok = vkti_env("VKTI_CLIP_VOCAB"); /* CLIP's vocab.json + merges.txt, as the tokenizer tests use */
        if (!tok)
            fprintf(stderr, "make_tiny_sd: no tokenizer/ folder (pass --tokenizer-from DIR with CLIP's vocab.json "
                            "and merges.txt, or set VKTI_CLIP_VOCAB)\n");
    }
    s.tokenizer_from = tok;
    if (!single && tiny && !no_single) {
        size_t n = strlen(out);
        while (n > 1 && out[n - 1] == '/')
            n--;
        snprintf(single_buf, sizeof single_buf, "%.*s.safetensors", (int)n, out);
        single = single_buf;
    }
    if (no_single)
        single = NULL;
    const double t0 = vkti_now();
    if (vkti_sd_synth_write(&d, &s, out, single, ckpt)) {
        fprintf(stderr, "make_tiny_sd: %s\n", d.msg);
        return 1;
    }
    vkti_sd_table tu, tt, tv;
    vkti_unet_config u = s.unet;
    vkti_unet_config_check(&d, &u, "");
    if (vkti_sd_unet_tensors(&d, &u, &tu) || vkti_sd_text_tensors(&d, &s.text, s.family, &tt) ||
        vkti_sd_vae_tensors(&d, &s.vae, &tv))
        return 1;
    printf("%s (seed %llu, %s): unet %llu, text encoder %llu, vae %llu parameters\n", preset, seed,
           vkti_io_dtype_name(s.dtype), (unsigned long long)params(&tu), (unsigned long long)params(&tt),
           (unsigned long long)params(&tv));
    printf("  diffusers folder: %s\n", out);
    if (single)
        printf("  single file:      %s\n", single);
    if (ckpt)
        printf("  torch checkpoint: %s\n", ckpt);
    printf("  written in %.1f s\n", vkti_now() - t0);
    vkti_sd_table_free(&tu);
    vkti_sd_table_free(&tt);
    vkti_sd_table_free(&tv);
    return 0;
}
