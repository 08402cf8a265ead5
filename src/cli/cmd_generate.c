/* cmd_generate.c — `vkti generate`: text to image with a Stable Diffusion model, embeddings,
 * the samplers and classifier-free guidance, a progress line, PNGs with A1111's parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "vkti/generate.h"
#include "vkti/train_config.h"

static const char HELP[] =
    "usage: vkti generate --model PATH --prompt TEXT --out FILE.png [options]\n"
    "\n"
    "Text to image with a Stable Diffusion model, as diffusers' StableDiffusionPipeline does it.\n"
    "\n"
    "  --model PATH         a diffusers folder or a single-file checkpoint (.safetensors, .ckpt)\n"
    "  --tokenizer DIR      the CLIP tokenizer (default: beside the model, then the Hugging Face cache)\n"
    "  --prompt TEXT        what to draw (75 tokens at most; more are cut, as diffusers does)\n"
    "  --negative TEXT      what to steer away from (classifier-free guidance; default none)\n"
    "  --embedding FILE[:TOKEN]\n"
    "                       a textual-inversion embedding (diffusers, kohya or AUTOMATIC1111 file),\n"
    "                       under its own token or TOKEN; the prompt must contain the token. Repeat\n"
    "                       for several. A multi-vector embedding needs only its token in the prompt\n"
    "  --sampler NAME       ddim, euler_a (default) or dpmpp_2m (DPM++ 2M)\n"
    "  --karras             Karras sigmas (dpmpp_2m only: \"DPM++ 2M Karras\")\n"
    "  --eta X              DDIM's eta, 0 (default, deterministic) to 1\n"
    "  --steps N            sampler steps (default 20)\n"
    "  --cfg X              guidance scale (default 7; 1 or less: no guidance, no negative prompt)\n"
    "  --seed N             0 .. 2^53-1 (default: random, printed); image i of a batch uses N + i\n"
    "  --width PX           image width, a multiple of 8 and of the model's factor (64 for SD);\n"
    "  --height PX          default: the model's own size (512 for SD 1.x, 768 for SD 2.x 768-v)\n"
    "  --batch N            images in one run (default 1); FILE.png becomes FILE-1.png .. FILE-N.png\n"
    "  --out FILE.png       where to write; the PNG carries the settings as AUTOMATIC1111's\n"
    "                       \"parameters\" text (its PNG Info shows them)\n"
    "  --save-latents FILE  also write the starting and final latents (safetensors, f32, NHWC)\n"
    "\n"
    "Global options apply: --device, --precision fp16|fp32, --max-vram SIZE (the VAE decode works in\n"
    "tiles when a whole image does not fit; it says so), -v.\n"
    "The same seed gives the same starting noise on every device (Philox); see vkti/generate.h.\n"
    "Exit code 0 on success, 1 on bad input (nothing is written), 2 on a device problem.\n";

/* A progress line that needs no terminal: "sampling [########....] 20/20" grows by marks as the
 * steps finish, so it reads the same on a terminal and in a log file. */
typedef struct progress_state {
    char stage[16];
    int marks;
} progress_state;

#define PROGRESS_MARKS 32

static void on_progress(void *user, const char *stage, int done, int total)
{
    progress_state *ps = user;
    if (!strcmp(stage, "loading")) {
        if (done == 0)
            fprintf(stderr, "loading the model...\n");
        return;
    }
    if (strcmp(stage, "sampling") && strcmp(stage, "decoding"))
        return;
    if (strcmp(ps->stage, stage)) {
        snprintf(ps->stage, sizeof ps->stage, "%s", stage);
        ps->marks = 0;
        fprintf(stderr, "%-9s [", stage);
    }
    int want = total > 0 ? done * PROGRESS_MARKS / total : PROGRESS_MARKS;
    for (; ps->marks < want; ps->marks++)
        fputc('#', stderr);
    if (done == total)
        fprintf(stderr, "] %d/%d\n", done, total);
    fflush(stderr);
}

/* FILE[:TOKEN]: the token after the last ':' unless that looks like part of a path (C:\...) */
static vkti_generate_embedding split_embedding(char *arg)
{
    vkti_generate_embedding e = {arg, NULL};
    char *colon = strrchr(arg, ':');
    if (colon && colon > arg + 1 && colon[1] && !strpbrk(colon + 1, "/\\")) {
        *colon = 0;
        e.token = colon + 1;
    }
    return e;
}

static int parse_int(const char *cmd, const char *flag, const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || x < lo || x > hi)
        return cli_usage_error(cmd, "%s needs a whole number from %lld to %lld%s%s%s", flag, lo, hi, v ? ", not '" : "",
                               v ? v : "", v ? "'" : "");
    *out = x;
    return 0;
}

static int parse_real(const char *cmd, const char *flag, const char *v, double *out)
{
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || x != x)
        return cli_usage_error(cmd, "%s needs a number%s%s%s", flag, v ? ", not '" : "", v ? v : "", v ? "'" : "");
    *out = x;
    return 0;
}

int cmd_generate(int argc, char **argv, const cli_globals *g)
{
    const char *cmd = "generate";
    vkti_generate_options o;
    vkti_generate_options_init(&o);
    vkti_generate_embedding embs[VKTI_GENERATE_MAX_EMBEDDINGS];
    int nemb = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n = 0;
        if (cli_is_help(a)) {
            fputs(HELP, stdout);
            return 0;
        }
#define VALUE() \
    do { \
        if (!v) \
            return cli_usage_error(cmd, "%s needs a value", a); \
        i++; \
    } while (0)
        if (!strcmp(a, "--model")) {
            VALUE();
            o.model = v;
        } else if (!strcmp(a, "--tokenizer")) {
            VALUE();
            o.tokenizer = v;
        } else if (!strcmp(a, "--prompt")) {
            VALUE();
            o.prompt = v;
        } else if (!strcmp(a, "--negative")) {
            VALUE();
            o.negative = v;
        } else if (!strcmp(a, "--embedding")) {
            VALUE();
            if (nemb == VKTI_GENERATE_MAX_EMBEDDINGS)
                return cli_usage_error(cmd, "at most %d embeddings", VKTI_GENERATE_MAX_EMBEDDINGS);
            embs[nemb++] = split_embedding(argv[i]);
        } else if (!strcmp(a, "--sampler")) {
            VALUE();
            if (vkti_sampler_parse(v, &o.sampler))
                return cli_usage_error(cmd, "--sampler must be ddim, euler_a or dpmpp_2m, not '%s'", v);
        } else if (!strcmp(a, "--karras")) {
            o.karras = 1;
        } else if (!strcmp(a, "--eta")) {
            VALUE();
            if (parse_real(cmd, a, v, &o.eta))
                return 1;
        } else if (!strcmp(a, "--cfg")) {
            VALUE();
            if (parse_real(cmd, a, v, &o.cfg))
                return 1;
        } else if (!strcmp(a, "--steps")) {
            if (parse_int(cmd, a, v, 1, VKTI_GENERATE_MAX_STEPS, &n))
                return 1;
            i++;
            o.steps = (int)n;
        } else if (!strcmp(a, "--seed")) {
            if (parse_int(cmd, a, v, 0, VKTI_GENERATE_MAX_SEED, &n))
                return 1;
            i++;
            o.seed = n;
        } else if (!strcmp(a, "--width") || !strcmp(a, "--height")) {
            if (parse_int(cmd, a, v, 8, VKTI_GENERATE_MAX_SIDE, &n))
                return 1;
            i++;
            if (a[2] == 'w')
                o.width = (int)n;
            else
                o.height = (int)n;
        } else if (!strcmp(a, "--batch")) {
            if (parse_int(cmd, a, v, 1, VKTI_GENERATE_MAX_BATCH, &n))
                return 1;
            i++;
            o.batch = (int)n;
        } else if (!strcmp(a, "--out")) {
            VALUE();
            o.out = v;
        } else if (!strcmp(a, "--save-latents")) {
            VALUE();
            o.save_latents = v;
        } else {
            return cli_usage_error(cmd, "unknown option '%s'", a);
        }
#undef VALUE
    }
    if (!o.model)
        return cli_usage_error(cmd, "--model is needed: a diffusers folder or a checkpoint file");
    if (!o.prompt)
        return cli_usage_error(cmd, "--prompt is needed");
    if (!o.out)
        return cli_usage_error(cmd, "--out is needed: the PNG file to write");
    if (g->max_vram) {
        vkti_train_config tc;
        char err[256];
        vkti_train_config_init(&tc);
        if (vkti_train_config_set(&tc, "max_vram", g->max_vram, err, sizeof err)) {
            fprintf(stderr, "vkti: %s\n", err);
            return 1;
        }
        o.max_vram = tc.max_vram;
    }
    o.embeddings = embs;
    o.embedding_count = nemb;
    progress_state ps = {{0}, 0};
    o.progress = on_progress;
    o.progress_user = &ps;
    vkti_ctx *ctx = cli_context(g);
    if (!ctx)
        return 2;
    vkti_generate_report *r = NULL;
    int rc = vkti_generate(ctx, &o, &r);
    if (rc) {
        int code = cli_fail(ctx, rc);
        return cli_done(ctx, code);
    }
    if (r->truncated)
        fprintf(stderr, "warning: the prompt or the negative prompt was cut to the 75 tokens the text encoder reads\n");
    if (r->decode_tile)
        fprintf(stderr, "note: decoded in %d tiles of %dx%d pixels to stay within %s (as diffusers' tiled VAE decode)\n",
                r->decode_pieces, r->decode_tile, r->decode_tile, g->max_vram ? "--max-vram" : "the device's limits");
    for (int i = 0; i < r->images; i++)
        printf("wrote %s (%dx%d, seed %lld)\n", r->files[i], r->width, r->height, (long long)(r->seed + i));
    printf("%s, %d steps, CFG %g: load %.2f s, text %.3f s, sampling %.3f s (%.2f steps/s), decode %.3f s, total %.2f s "
           "on %s (%s), peak %.0f MiB\n",
           vkti_sampler_a1111_name(o.sampler, o.karras), o.steps, o.cfg, r->seconds_load, r->seconds_text,
           r->seconds_sampling, r->steps_per_second, r->seconds_decode, r->seconds_total, r->device, r->precision,
           (double)r->peak_bytes / 1048576.0);
    vkti_generate_report_free(r);
    return cli_done(ctx, 0);
}
