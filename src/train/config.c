/* config.c — the training configuration (include/vkti/train_config.h): one table of options
 * drives the command-line flags, the JSON config files, the effective-configuration JSON, the
 * resume fingerprint and the help text, so none of them can drift from the others.
 *
 * Defaults: diffusers' examples/textual_inversion/textual_inversion.py (58eb52c) where the issue
 * is silent — learning rate 1e-4, constant schedule, warmup 500 (used only by warmup schedules),
 * no --scale-lr, 5000 steps, gradient accumulation 1, resolution 512, repeats 100, flip
 * probability 0.5, template "object", 1 vector, AdamW β (0.9, 0.999), ε 1e-8, weight decay 1e-2,
 * no gradient clipping, no min-SNR weighting, save and checkpoint every 500 steps, previews every
 * 100 steps (25 sampler steps, 4 images; its log_validation: DPMSolverMultistepScheduler from the
 * model's config, the pipeline's guidance 7.5) when a preview prompt is given, TensorBoard on.
 * vkti's own: batch 1 (the script's 16 does not fit the GPUs vkti is for; its README's recipe
 * uses 1), center crop (the issue asks for a crop; the script squashes unless --center_crop),
 * init text "*" (A1111's default; the script requires one), seed 0 (the script's is random:
 * vkti runs are repeatable by default), Adam and SGD weight decay 0 and SGD momentum 0.9 (torch's
 * and "SGD with momentum"), validation loss every 100 steps, loss read back every 10 steps,
 * stop after 5 non-finite steps in a row, output "vkti-out", formats diffusers + kohya (the issue),
 * fp16 precision (DESIGN.md). */
#include "vkti/train_config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/platform.h"
#include "train/lr_schedule.h"

#define CONFIG_FILE_MAX (1u << 20)
#define MIN_VRAM (64ull << 20)
#define MAX_VRAM (1ull << 53)

typedef enum otype {
    T_BOOL,
    T_INT,      /* int or int64_t field (wide) in [imin, imax] */
    T_NUM,      /* double in [dmin, dmax], bounds exclusive where *_excl */
    T_TEXT,     /* UTF-8 text without control characters */
    T_PATH,     /* file or folder name */
    T_CHOICE,   /* one of choices[], stored as an int enum */
    T_LR,       /* a rate or an A1111 piecewise string */
    T_TEMPLATE, /* object | style | FILE */
    T_FORMATS,  /* comma list of embedding formats */
    T_SIZE      /* bytes with an optional K/M/G/T suffix */
} otype;

typedef enum ogroup { G_INPUT, G_CONCEPT, G_DATA, G_OPTIM, G_OUTPUT, G_DEVICE } ogroup;
static const char *const group_names[] = {"Inputs", "The concept", "Data", "Optimization", "Outputs", "Device"};

typedef struct opt_def {
    vkti_train_option pub;
    ogroup group;
    otype type;
    size_t offset;
    size_t cap;        /* char arrays: their size */
    int wide;          /* T_INT: 1 for int64_t */
    int64_t imin, imax;
    double dmin, dmax;
    int min_excl, max_excl;
    const char *const *choices;
} opt_def;

static const char *const crop_names[] = {"center", "random", NULL};
static const char *const lr_names[] = {"constant", "constant_with_warmup", "linear", "cosine", "piecewise", NULL};
static const char *const optimizer_names[] = {"adamw", "adam", "sgd", NULL};
static const char *const prediction_names[] = {"auto", "epsilon", "v_prediction", NULL};
static const char *const precision_names[] = {"fp16", "fp32", NULL};
static const char *const preview_sampler_names[] = {"ddim", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", NULL};

#define OFF(f) offsetof(vkti_train_config, f)
#define CAP(f) sizeof(((vkti_train_config *)0)->f)
#define PUB(key, flag, metavar, help, fixed) {key, flag, metavar, help, fixed}
#define O_BOOL(g, key, flag, help, fixed, f) {PUB(key, flag, NULL, help, fixed), g, T_BOOL, OFF(f), 0, 0, 0, 0, 0, 0, 0, 0, NULL}
#define O_INT(g, key, flag, mv, help, fixed, f, lo, hi) \
    {PUB(key, flag, mv, help, fixed), g, T_INT, OFF(f), 0, CAP(f) == 8, lo, hi, 0, 0, 0, 0, NULL}
#define O_NUM(g, key, flag, mv, help, fixed, f, lo, hi, lx, hx) \
    {PUB(key, flag, mv, help, fixed), g, T_NUM, OFF(f), 0, 0, 0, 0, lo, hi, lx, hx, NULL}
#define O_STR(g, t, key, flag, mv, help, fixed, f) {PUB(key, flag, mv, help, fixed), g, t, OFF(f), CAP(f), 0, 0, 0, 0, 0, 0, 0, NULL}
#define O_CHOICE(g, key, flag, mv, help, fixed, f, names) \
    {PUB(key, flag, mv, help, fixed), g, T_CHOICE, OFF(f), 0, 0, 0, 0, 0, 0, 0, 0, names}

static const opt_def options[] = {
    O_STR(G_INPUT, T_PATH, "model", "--model", "PATH",
          "Stable Diffusion model: a diffusers folder or a single-file .safetensors checkpoint", 0, model),
    O_STR(G_INPUT, T_PATH, "data", "--data", "DIR",
          "folder of training images (JPEG, PNG, BMP), each with an optional NAME.txt caption", 0, data),
    O_STR(G_INPUT, T_PATH, "tokenizer", "--tokenizer", "DIR",
          "CLIP tokenizer folder (vocab.json, merges.txt) if the model has none", 0, tokenizer),
    O_STR(G_INPUT, T_PATH, "resume", "--resume", "DIR", "continue the run checkpointed in DIR, bit-identically", 0,
          resume),
    O_STR(G_CONCEPT, T_TEXT, "token", "--token", "TEXT",
          "the new word, e.g. \"<my-cat>\" (no spaces; not already in the vocabulary)", 1, token),
    O_STR(G_CONCEPT, T_TEXT, "init_text", "--init", "TEXT",
          "words whose embeddings the new vectors start from (spread over the vectors)", 1, init_text),
    O_INT(G_CONCEPT, "num_vectors", "--num-vectors", "N", "embedding vectors the token stands for (1-75)", 1,
          num_vectors, 1, 75),
    {PUB("template", "--template", "object|style|FILE",
         "prompt templates: diffusers' object or style set, or an A1111 file with [name] and [filewords]", 1),
     G_CONCEPT, T_TEMPLATE, OFF(template_file), CAP(template_file), 0, 0, 0, 0, 0, 0, 0, NULL},
    O_INT(G_DATA, "resolution", "--resolution", "PX", "training size in pixels, a multiple of 8 (64-4096)", 1,
          resolution, 64, 4096),
    O_CHOICE(G_DATA, "crop", "--crop", "center|random", "how the resized image is cropped to a square", 1, crop,
             crop_names),
    O_NUM(G_DATA, "flip_prob", "--flip-prob", "P", "probability of a horizontal flip per sample (0 = never)", 1,
          flip_prob, 0, 1, 0, 0),
    O_INT(G_DATA, "repeats", "--repeats", "N", "times each image appears per epoch", 1, repeats, 1, 100000),
    O_BOOL(G_DATA, "loss_mask", "--loss-mask", "weight the loss by each image's alpha channel", 1, loss_mask),
    O_INT(G_OPTIM, "steps", "--steps", "N", "optimizer updates", 1, steps, 1, VKTI_TRAIN_MAX_STEPS),
    {PUB("learning_rate", "--lr", "X|\"R:S, ..., R\"",
         "learning rate, or AUTOMATIC1111's piecewise rates \"0.005:100, 1e-3:1000, 1e-5\" (each until its step)", 1),
     G_OPTIM, T_LR, OFF(learning_rate), 0, 0, 0, 0, 0, 0, 0, 0, NULL},
    O_CHOICE(G_OPTIM, "lr_schedule", "--lr-schedule", "constant|constant_with_warmup|linear|cosine",
             "how the rate changes over the run (diffusers' schedules)", 1, lr_schedule, lr_names),
    O_INT(G_OPTIM, "lr_warmup_steps", "--lr-warmup", "N",
          "updates over which the rate rises from 0 (warmup schedules only)", 1, lr_warmup_steps, 0,
          VKTI_TRAIN_MAX_STEPS),
    O_BOOL(G_OPTIM, "scale_lr", "--scale-lr", "multiply the rate(s) by batch size x gradient accumulation", 1,
           scale_lr),
    O_INT(G_OPTIM, "batch_size", "--batch", "N", "samples per forward pass (1-1024)", 1, batch_size, 1, 1024),
    O_INT(G_OPTIM, "grad_accum", "--grad-accum", "N", "forward passes per optimizer update (1-1024)", 1, grad_accum,
          1, 1024),
    O_CHOICE(G_OPTIM, "optimizer", "--optimizer", "adamw|adam|sgd", "optimizer of the embedding vectors", 1, optimizer,
             optimizer_names),
    O_NUM(G_OPTIM, "adam_beta1", "--adam-beta1", "X", "Adam/AdamW first-moment decay", 1, adam_beta1, 0, 1, 0, 1),
    O_NUM(G_OPTIM, "adam_beta2", "--adam-beta2", "X", "Adam/AdamW second-moment decay", 1, adam_beta2, 0, 1, 0, 1),
    O_NUM(G_OPTIM, "adam_epsilon", "--adam-eps", "X", "Adam/AdamW epsilon", 1, adam_epsilon, 0, 1, 1, 0),
    O_NUM(G_OPTIM, "weight_decay", "--weight-decay", "X",
          "weight decay (decoupled for AdamW, L2 for Adam and SGD); default AdamW 1e-2, Adam and SGD 0", 1,
          weight_decay, 0, 1000, 0, 0),
    O_NUM(G_OPTIM, "sgd_momentum", "--momentum", "X", "SGD momentum", 1, sgd_momentum, 0, 1, 0, 1),
    O_NUM(G_OPTIM, "max_grad_norm", "--max-grad-norm", "X", "clip the gradient's norm to X (0 = no clipping)", 1,
          max_grad_norm, 0, 1e6, 0, 0),
    O_NUM(G_OPTIM, "min_snr_gamma", "--min-snr-gamma", "X", "min-SNR-gamma loss weighting, e.g. 5 (0 = off)", 1,
          min_snr_gamma, 0, 1e6, 0, 0),
    O_CHOICE(G_OPTIM, "prediction_type", "--prediction-type", "auto|epsilon|v_prediction",
             "what the UNet predicts (auto: from the model's scheduler config)", 1, prediction_type, prediction_names),
    O_INT(G_OPTIM, "seed", "--seed", "N", "random seed of the whole run (0 to 2^53-1)", 1, seed, 0,
          VKTI_TRAIN_MAX_SEED),
    O_INT(G_OPTIM, "max_nonfinite_steps", "--max-nonfinite", "N",
          "stop after N steps in a row with a non-finite loss or gradient", 0, max_nonfinite_steps, 1, 1000000),
    O_STR(G_OUTPUT, T_PATH, "out", "--out", "DIR", "output folder (embeddings, checkpoints, logs, previews)", 0, out),
    {PUB("format", "--format", "LIST", "embedding formats to write: diffusers,kohya,a1111 (or all)", 0), G_OUTPUT,
     T_FORMATS, OFF(formats), 0, 0, 0, 0, 0, 0, 0, 0, NULL},
    O_INT(G_OUTPUT, "save_every", "--save-every", "N", "write the embedding every N steps (0 = only at the end)", 0,
          save_every, 0, VKTI_TRAIN_MAX_STEPS),
    O_INT(G_OUTPUT, "checkpoint_every", "--checkpoint-every", "N", "write a resumable checkpoint every N steps (0 = never)",
          0, checkpoint_every, 0, VKTI_TRAIN_MAX_STEPS),
    O_INT(G_OUTPUT, "eval_every", "--eval-every", "N", "deterministic validation loss every N steps (0 = never)", 0,
          eval_every, 0, VKTI_TRAIN_MAX_STEPS),
    O_INT(G_OUTPUT, "preview_every", "--preview-every", "N", "preview images every N steps (needs --preview-prompt)", 0,
          preview_every, 0, VKTI_TRAIN_MAX_STEPS),
    O_STR(G_OUTPUT, T_TEXT, "preview_prompt", "--preview-prompt", "TEXT", "prompt of the previews (\"\" = none)", 0,
          preview_prompt),
    O_STR(G_OUTPUT, T_TEXT, "preview_negative", "--preview-negative", "TEXT", "negative prompt of the previews", 0,
          preview_negative),
    O_INT(G_OUTPUT, "preview_seed", "--preview-seed", "N", "seed of the previews (-1 = the training seed)", 0,
          preview_seed, -1, VKTI_TRAIN_MAX_SEED),
    O_INT(G_OUTPUT, "preview_steps", "--preview-steps", "N", "sampler steps per preview", 0, preview_steps, 1, 1000),
    O_INT(G_OUTPUT, "preview_images", "--preview-images", "N", "images per preview", 0, preview_images, 1, 64),
    O_CHOICE(G_OUTPUT, "preview_sampler", "--preview-sampler", "ddim|euler_a|dpmpp_2m|dpmpp_2m_karras",
             "sampler of the previews (as vkti generate's --sampler)", 0, preview_sampler, preview_sampler_names),
    O_NUM(G_OUTPUT, "preview_cfg", "--preview-cfg", "X", "classifier-free guidance scale of the previews (1 = none)", 0,
          preview_cfg, 1, 100, 0, 0),
    O_INT(G_OUTPUT, "log_every", "--log-every", "N", "read the loss back and log it every N steps", 0, log_every, 1,
          VKTI_TRAIN_MAX_STEPS),
    O_BOOL(G_OUTPUT, "tensorboard", "--tensorboard", "also write TensorBoard event files", 0, tensorboard),
    O_STR(G_DEVICE, T_TEXT, "device", "--device", "N|NAME", "Vulkan device: its index or part of its name", 0, device),
    O_CHOICE(G_DEVICE, "precision", "--precision", "fp16|fp32", "storage precision of weights and activations", 1,
             precision, precision_names),
    {PUB("max_vram", "--max-vram", "SIZE",
         "device memory budget, e.g. 6G (0 = no limit); over it the UNet's attention blocks are recomputed in the "
         "backward", 0),
     G_DEVICE, T_SIZE, OFF(max_vram), 0, 0, 0, 0, 0, 0, 0, 0, NULL},
};
#define OPTION_COUNT ((int)(sizeof options / sizeof options[0]))

void vkti_train_config_init(vkti_train_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->init_text, sizeof c->init_text, "*");
    c->num_vectors = 1;
    c->template_kind = VKTI_TEMPLATE_OBJECT;
    c->resolution = 512;
    c->crop = VKTI_CROP_CENTER;
    c->flip_prob = 0.5;
    c->repeats = 100;
    c->steps = 5000;
    c->learning_rate = 1e-4;
    c->lr_schedule = VKTI_LR_CONSTANT;
    c->lr_warmup_steps = 500;
    c->batch_size = 1;
    c->grad_accum = 1;
    c->optimizer = VKTI_OPTIMIZER_ADAMW;
    c->adam_beta1 = 0.9;
    c->adam_beta2 = 0.999;
    c->adam_epsilon = 1e-8;
    c->weight_decay = -1;
    c->sgd_momentum = 0.9;
    c->prediction_type = VKTI_PREDICTION_AUTO;
    c->max_nonfinite_steps = 5;
    snprintf(c->out, sizeof c->out, "vkti-out");
    c->formats = VKTI_FORMAT_DIFFUSERS | VKTI_FORMAT_KOHYA;
    c->save_every = 500;
    c->checkpoint_every = 500;
    c->eval_every = 100;
    c->preview_every = 100;
    c->preview_seed = -1;
    c->preview_steps = 25;
    c->preview_images = 4;
    c->preview_sampler = VKTI_PREVIEW_DPMPP_2M;
    c->preview_cfg = 7.5;
    c->log_every = 10;
    c->tensorboard = 1;
    c->precision = VKTI_PRECISION_FP16;
}

double vkti_train_config_weight_decay(const vkti_train_config *c)
{
    if (c->weight_decay >= 0)
        return c->weight_decay;
    return c->optimizer == VKTI_OPTIMIZER_ADAMW ? 1e-2 : 0.0;
}

int64_t vkti_train_config_preview_seed(const vkti_train_config *c)
{
    return c->preview_seed >= 0 ? c->preview_seed : c->seed;
}

/* ---- messages ----------------------------------------------------------------------------- */

static int fail(char *err, size_t cap, int status, const char *fmt, ...) VKTI_PRINTF(4, 5);
static int fail(char *err, size_t cap, int status, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return status;
}

#define NAMED(o) (o)->pub.key, (o)->pub.flag

/* ---- value parsing ------------------------------------------------------------------------ */

static void trim(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* Copies the trimmed value into buf; 0 if it does not fit. */
static int trimmed(const char *v, char *buf, size_t cap)
{
    const char *b = v, *e = v + strlen(v);
    trim(&b, &e);
    if ((size_t)(e - b) >= cap)
        return 0;
    memcpy(buf, b, (size_t)(e - b));
    buf[e - b] = 0;
    return 1;
}

static int parse_int(const char *v, int64_t *out)
{
    char buf[32];
    if (!trimmed(v, buf, sizeof buf) || !buf[0])
        return 0;
    const char *p = buf;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return 0;
    int64_t x = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p) || x > (INT64_MAX - 9) / 10)
            return 0;
        x = x * 10 + (*p - '0');
    }
    *out = neg ? -x : x;
    return 1;
}

/* A finite decimal number (no hex, no nan/inf, no underscores). */
static int parse_num(const char *v, double *out)
{
    char buf[64];
    if (!trimmed(v, buf, sizeof buf) || !buf[0])
        return 0;
    for (const char *p = buf; *p; p++)
        if (!(isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
            return 0;
    char *end = NULL;
    errno = 0;
    double x = strtod(buf, &end);
    if (*end || !isfinite(x) || (errno == ERANGE && fabs(x) > 1))
        return 0;
    *out = x;
    return 1;
}

static int parse_bool(const char *v, int *out)
{
    char buf[8];
    if (!trimmed(v, buf, sizeof buf))
        return 0;
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    static const char *const yes[] = {"true", "1", "yes", "on"}, *const no[] = {"false", "0", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(buf, yes[i])) {
            *out = 1;
            return 1;
        }
        if (!strcmp(buf, no[i])) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* Valid UTF-8 (no overlongs, no surrogates) without control characters. 0 ok, else the byte offset + 1. */
static size_t bad_text_at(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (p[i]) {
        unsigned c = p[i];
        if (c < 0x20 || c == 0x7f)
            return i + 1;
        if (c < 0x80) {
            i++;
            continue;
        }
        int n;
        unsigned min;
        if ((c & 0xe0) == 0xc0)
            n = 1, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0)
            n = 2, min = 0x800, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0)
            n = 3, min = 0x10000, c &= 0x07;
        else
            return i + 1;
        for (int k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return i + 1;
            c = (c << 6) | (p[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c < 0xa0))
            return i + 1;
        i += (size_t)n + 1;
    }
    return 0;
}

static int set_text(const opt_def *o, char *field, const char *v, char *err, size_t cap)
{
    size_t n = strlen(v);
    if (n >= o->cap)
        return fail(err, cap, VKTI_E_INVALID, "%s (%s): %zu bytes is longer than the %zu allowed", NAMED(o), n,
                    o->cap - 1);
    size_t at = bad_text_at(v);
    if (at)
        return fail(err, cap, VKTI_E_INVALID,
                    "%s (%s): byte %zu is a control character or not UTF-8; write plain text", NAMED(o), at);
    if (!strcmp(o->pub.key, "token")) {
        if (!n)
            return fail(err, cap, VKTI_E_INVALID, "%s (%s) is empty: name the new word, e.g. \"<my-cat>\"", NAMED(o));
        if (n > 56)
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): at most 56 bytes", NAMED(o));
        for (const char *p = v; *p; p++)
            if (isspace((unsigned char)*p))
                return fail(err, cap, VKTI_E_INVALID,
                            "%s (%s): \"%s\" contains a space; the token must be one word, e.g. \"<my-cat>\"", NAMED(o),
                            v);
    }
    if (!strcmp(o->pub.key, "init_text")) {
        const char *b = v, *e = v + n;
        trim(&b, &e);
        if (b == e)
            return fail(err, cap, VKTI_E_INVALID,
                        "%s (%s) is empty: give a word close to the concept (e.g. \"cat\"), or leave it out for \"*\"",
                        NAMED(o));
    }
    memcpy(field, v, n + 1);
    return VKTI_OK;
}

static int set_path(const opt_def *o, char *field, const char *v, char *err, size_t cap)
{
    size_t n = strlen(v);
    if (n >= o->cap)
        return fail(err, cap, VKTI_E_INVALID, "%s (%s): the path is %zu bytes, longer than the %zu allowed", NAMED(o),
                    n, o->cap - 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): the path contains a control character", NAMED(o));
    memcpy(field, v, n + 1);
    return VKTI_OK;
}

static int parse_formats(const char *v, unsigned *out, char *bad, size_t badcap)
{
    unsigned f = 0;
    const char *p = v, *end = v + strlen(v);
    while (1) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *b = p, *e = comma ? comma : end;
        trim(&b, &e);
        size_t n = (size_t)(e - b);
        if (n == 9 && !memcmp(b, "diffusers", 9))
            f |= VKTI_FORMAT_DIFFUSERS;
        else if (n == 5 && !memcmp(b, "kohya", 5))
            f |= VKTI_FORMAT_KOHYA;
        else if (n == 5 && !memcmp(b, "a1111", 5))
            f |= VKTI_FORMAT_A1111;
        else if (n == 3 && !memcmp(b, "all", 3))
            f |= VKTI_FORMAT_DIFFUSERS | VKTI_FORMAT_KOHYA | VKTI_FORMAT_A1111;
        else {
            snprintf(bad, badcap, "%.*s", (int)(n < 40 ? n : 40), b);
            return 0;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = f;
    return 1;
}

/* "6G", "6GiB", "6 GB", "512M", "1.5g", "123456789", "0" -> bytes (K/M/G/T are powers of 1024). */
static int parse_size(const char *v, uint64_t *out)
{
    char buf[48];
    if (!trimmed(v, buf, sizeof buf) || !buf[0])
        return 0;
    char *p = buf;
    while (*p && (isdigit((unsigned char)*p) || *p == '.'))
        p++;
    if (p == buf)
        return 0;
    char num[40];
    memcpy(num, buf, (size_t)(p - buf));
    num[p - buf] = 0;
    double x;
    if (!parse_num(num, &x) || x < 0)
        return 0;
    while (*p == ' ')
        p++;
    double mul = 1;
    switch (tolower((unsigned char)*p)) {
    case 0: break;
    case 'b': mul = 1; p++; break;
    case 'k': mul = 1024.0; p++; break;
    case 'm': mul = 1048576.0; p++; break;
    case 'g': mul = 1073741824.0; p++; break;
    case 't': mul = 1099511627776.0; p++; break;
    default: return 0;
    }
    if (mul > 1) {
        if (tolower((unsigned char)*p) == 'i' && tolower((unsigned char)p[1]) == 'b')
            p += 2;
        else if (tolower((unsigned char)*p) == 'b')
            p++;
    }
    if (*p)
        return 0;
    double bytes = floor(x * mul);
    if (!(bytes < (double)MAX_VRAM))
        return 0;
    *out = (uint64_t)bytes;
    return 1;
}

static const opt_def *find_key(const char *key)
{
    for (int i = 0; i < OPTION_COUNT; i++)
        if (!strcmp(options[i].pub.key, key))
            return &options[i];
    return NULL;
}

static int choice_index(const char *const *names, const char *v)
{
    char buf[64];
    if (!trimmed(v, buf, sizeof buf))
        return -1;
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], buf))
            return i;
    return -1;
}

static void choice_list(const char *const *names, char *out, size_t cap, int skip_piecewise)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; names[i] && n < cap; i++) {
        if (skip_piecewise && !strcmp(names[i], "piecewise"))
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", names[i]);
    }
}

static int set_option(vkti_train_config *c, const opt_def *o, const char *v, char *err, size_t cap)
{
    char *base = (char *)c;
    void *field = base + o->offset;
    switch (o->type) {
    case T_BOOL: {
        int b;
        if (!parse_bool(v, &b))
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): '%.40s' is not true or false", NAMED(o), v);
        *(int *)field = b;
        return VKTI_OK;
    }
    case T_INT: {
        int64_t x;
        if (!parse_int(v, &x))
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): '%.40s' is not a whole number", NAMED(o), v);
        if (x < o->imin || x > o->imax)
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): %lld is outside %lld to %lld", NAMED(o), (long long)x,
                        (long long)o->imin, (long long)o->imax);
        if (!strcmp(o->pub.key, "resolution") && x % 8)
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): %lld is not a multiple of 8 (try %lld)", NAMED(o),
                        (long long)x, (long long)(x - x % 8));
        if (o->wide)
            *(int64_t *)field = x;
        else
            *(int *)field = (int)x;
        return VKTI_OK;
    }
    case T_NUM: {
        double x;
        if (!parse_num(v, &x))
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): '%.40s' is not a finite number", NAMED(o), v);
        if (x < o->dmin || (o->min_excl && x == o->dmin) || x > o->dmax || (o->max_excl && x == o->dmax))
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): %g is outside %s%g, %g%s", NAMED(o), x,
                        o->min_excl ? "(" : "[", o->dmin, o->dmax, o->max_excl ? ")" : "]");
        *(double *)field = x;
        return VKTI_OK;
    }
    case T_TEXT:
        return set_text(o, field, v, err, cap);
    case T_PATH:
        return set_path(o, field, v, err, cap);
    case T_CHOICE: {
        int is_lr = o->choices == lr_names;
        int i = choice_index(o->choices, v);
        if (i < 0) {
            char list[256];
            choice_list(o->choices, list, sizeof list, is_lr);
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): '%.40s' is not one of %s", NAMED(o), v, list);
        }
        *(int *)field = i;
        return VKTI_OK;
    }
    case T_LR: {
        double x;
        const char *b = v, *e = v + strlen(v);
        trim(&b, &e);
        if (b < e && (memchr(b, ':', (size_t)(e - b)) || memchr(b, ',', (size_t)(e - b)))) {
            /* an A1111 string: check its grammar now (its length against the run is checked by finish) */
            if (strlen(v) >= sizeof c->lr_piecewise)
                return fail(err, cap, VKTI_E_INVALID, "%s (%s): the rate string is longer than %zu bytes", NAMED(o),
                            sizeof c->lr_piecewise - 1);
            vkti_diag d = {0};
            vkti_lr_piece pieces[VKTI_LR_MAX_PIECES];
            int count;
            int64_t endstep;
            if (vkti_lr_piecewise_parse(&d, v, VKTI_TRAIN_MAX_STEPS, pieces, VKTI_LR_MAX_PIECES, &count, &endstep))
                return fail(err, cap, VKTI_E_INVALID, "%s (%s): %s", NAMED(o), d.msg);
            snprintf(c->lr_piecewise, sizeof c->lr_piecewise, "%s", v);
            c->learning_rate = pieces[0].rate;
            return VKTI_OK;
        }
        if (!parse_num(v, &x))
            return fail(err, cap, VKTI_E_INVALID,
                        "%s (%s): '%.40s' is not a finite number (or a rate string like \"0.005:100, 1e-5\")",
                        NAMED(o), v);
        if (!(x > 0))
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): %g must be above 0", NAMED(o), x);
        if (x > 10)
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): %g is far too large (textual inversion uses 1e-4 to 5e-3)",
                        NAMED(o), x);
        c->learning_rate = x;
        c->lr_piecewise[0] = 0;
        return VKTI_OK;
    }
    case T_TEMPLATE: {
        char buf[16];
        if (trimmed(v, buf, sizeof buf) && (!strcmp(buf, "object") || !strcmp(buf, "style"))) {
            c->template_kind = !strcmp(buf, "object") ? VKTI_TEMPLATE_OBJECT : VKTI_TEMPLATE_STYLE;
            c->template_file[0] = 0;
            return VKTI_OK;
        }
        if (!v[0])
            return fail(err, cap, VKTI_E_INVALID, "%s (%s) is empty: object, style or a template file", NAMED(o));
        int rc = set_path(o, c->template_file, v, err, cap);
        if (rc == VKTI_OK)
            c->template_kind = VKTI_TEMPLATE_FILE;
        return rc;
    }
    case T_FORMATS: {
        unsigned f;
        char bad[48];
        if (!parse_formats(v, &f, bad, sizeof bad))
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): '%s' is not a format (diffusers, kohya, a1111, all)",
                        NAMED(o), bad);
        c->formats = f;
        return VKTI_OK;
    }
    case T_SIZE: {
        uint64_t bytes;
        if (!parse_size(v, &bytes))
            return fail(err, cap, VKTI_E_INVALID, "%s (%s): '%.40s' is not a size (e.g. 6G, 512M, 0 for no limit)",
                        NAMED(o), v);
        c->max_vram = bytes;
        return VKTI_OK;
    }
    }
    return fail(err, cap, VKTI_E_INTERNAL, "%s: unknown option type", o->pub.key);
}

int vkti_train_config_set(vkti_train_config *c, const char *key, const char *value, char *err, size_t cap)
{
    const opt_def *o = find_key(key);
    if (!o)
        return fail(err, cap, VKTI_E_INVALID, "unknown option '%.60s'", key);
    if (!value)
        return fail(err, cap, VKTI_E_INVALID, "%s (%s) needs a value", NAMED(o));
    return set_option(c, o, value, err, cap);
}

/* ---- options table ------------------------------------------------------------------------ */

int vkti_train_option_count(void) { return OPTION_COUNT; }

const vkti_train_option *vkti_train_option_at(int i)
{
    return i >= 0 && i < OPTION_COUNT ? &options[i].pub : NULL;
}

static const opt_def *find_any(const char *name, int *negated)
{
    *negated = 0;
    for (int i = 0; i < OPTION_COUNT; i++)
        if (!strcmp(options[i].pub.key, name) || !strcmp(options[i].pub.flag, name))
            return &options[i];
    if (!strncmp(name, "--no-", 5)) {
        for (int i = 0; i < OPTION_COUNT; i++)
            if (options[i].type == T_BOOL && !strcmp(options[i].pub.flag + 2, name + 5)) {
                *negated = 1;
                return &options[i];
            }
    }
    return NULL;
}

const vkti_train_option *vkti_train_option_find(const char *key_or_flag, int *negated)
{
    int neg;
    const opt_def *o = find_any(key_or_flag, &neg);
    if (negated)
        *negated = neg;
    return o ? &o->pub : NULL;
}

int vkti_train_config_apply_arg(vkti_train_config *c, const char *arg, const char *next, char *err, size_t cap)
{
    if (strncmp(arg, "--", 2))
        return 0;
    char name[96];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (n >= sizeof name)
        return 0;
    memcpy(name, arg, n);
    name[n] = 0;
    int negated;
    const opt_def *o = find_any(name, &negated);
    if (!o || strncmp(name, "--", 2))
        return 0;
    if (o->type == T_BOOL) {
        int b = 1;
        if (eq && !parse_bool(eq + 1, &b))
            return fail(err, cap, VKTI_E_INVALID, "%s: '%.40s' is not true or false", name, eq + 1);
        if (negated && eq)
            return fail(err, cap, VKTI_E_INVALID, "%s takes no value", name);
        *(int *)((char *)c + o->offset) = negated ? 0 : b;
        return 1;
    }
    if (eq) {
        int rc = set_option(c, o, eq + 1, err, cap);
        return rc ? rc : 1;
    }
    if (!next)
        return fail(err, cap, VKTI_E_INVALID, "%s needs a value (%s)", o->pub.flag, o->pub.metavar);
    if (!strncmp(next, "--", 2) && strlen(next) > 2)
        return fail(err, cap, VKTI_E_INVALID, "%s needs a value (%s), not the option %.40s (write %s=VALUE if you mean it)",
                    o->pub.flag, o->pub.metavar, next, o->pub.flag);
    int rc = set_option(c, o, next, err, cap);
    return rc ? rc : 2;
}

/* ---- getters and JSON ----------------------------------------------------------------------- */

/* Shortest %.Ng that reads back as the same double. */
static void format_double(double x, char *out, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            return;
    }
}

static void format_formats(unsigned f, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s%s%s", f & VKTI_FORMAT_DIFFUSERS ? "diffusers" : "",
             (f & VKTI_FORMAT_DIFFUSERS) && (f & (VKTI_FORMAT_KOHYA | VKTI_FORMAT_A1111)) ? "," : "",
             f & VKTI_FORMAT_KOHYA ? "kohya" : "", (f & VKTI_FORMAT_KOHYA) && (f & VKTI_FORMAT_A1111) ? "," : "",
             f & VKTI_FORMAT_A1111 ? "a1111" : "");
}

static void get_option(const vkti_train_config *c, const opt_def *o, char *out, size_t cap)
{
    const char *base = (const char *)c;
    const void *field = base + o->offset;
    switch (o->type) {
    case T_BOOL: snprintf(out, cap, "%s", *(const int *)field ? "true" : "false"); return;
    case T_INT: {
        int64_t x = o->wide ? *(const int64_t *)field : *(const int *)field;
        if (!strcmp(o->pub.key, "preview_seed"))
            x = vkti_train_config_preview_seed(c);
        snprintf(out, cap, "%lld", (long long)x);
        return;
    }
    case T_NUM: {
        double x = *(const double *)field;
        if (!strcmp(o->pub.key, "weight_decay"))
            x = vkti_train_config_weight_decay(c);
        format_double(x, out, cap);
        return;
    }
    case T_TEXT:
    case T_PATH: snprintf(out, cap, "%s", (const char *)field); return;
    case T_CHOICE: {
        int i = *(const int *)field;
        int n = 0;
        while (o->choices[n])
            n++;
        snprintf(out, cap, "%s", i >= 0 && i < n ? o->choices[i] : "?");
        return;
    }
    case T_LR:
        if (c->lr_piecewise[0])
            snprintf(out, cap, "%s", c->lr_piecewise);
        else
            format_double(c->learning_rate, out, cap);
        return;
    case T_TEMPLATE:
        snprintf(out, cap, "%s", c->template_kind == VKTI_TEMPLATE_OBJECT  ? "object"
                                 : c->template_kind == VKTI_TEMPLATE_STYLE ? "style"
                                                                           : c->template_file);
        return;
    case T_FORMATS: format_formats(c->formats, out, cap); return;
    case T_SIZE: snprintf(out, cap, "%llu", (unsigned long long)c->max_vram); return;
    }
    snprintf(out, cap, "?");
}

int vkti_train_config_get(const vkti_train_config *c, const char *key, char *out, size_t cap)
{
    const opt_def *o = find_key(key);
    if (!o) {
        if (cap)
            out[0] = 0;
        return VKTI_E_INVALID;
    }
    get_option(c, o, out, cap);
    return VKTI_OK;
}

char *vkti_train_config_to_json(const vkti_train_config *c)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    char buf[VKTI_TRAIN_PATH_MAX + 64];
    for (int i = 0; i < OPTION_COUNT; i++) {
        const opt_def *o = &options[i];
        get_option(c, o, buf, sizeof buf);
        cJSON *v;
        switch (o->type) {
        case T_BOOL: v = cJSON_CreateBool(*(const int *)((const char *)c + o->offset)); break;
        /* numbers as raw text: cJSON's own printing may lose the last bit of a double (it accepts a
         * 15-digit form within a relative epsilon); get_option gives the shortest exact form */
        case T_INT:
        case T_NUM:
        case T_SIZE: v = cJSON_CreateRaw(buf); break;
        case T_LR: v = c->lr_piecewise[0] ? cJSON_CreateString(buf) : cJSON_CreateRaw(buf); break;
        default: v = cJSON_CreateString(buf); break;
        }
        if (!v || !cJSON_AddItemToObject(root, o->pub.key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(root);
            return NULL;
        }
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    return s;
}

/* Levenshtein distance of two short strings (for "did you mean"). */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static const char *suggest(const char *key)
{
    const char *best = NULL;
    int bd = 3;
    for (int i = 0; i < OPTION_COUNT; i++) {
        int dist = edit_distance(key, options[i].pub.key);
        if (dist < bd) {
            bd = dist;
            best = options[i].pub.key;
        }
    }
    return best;
}

/* "\u0000" would end the C string cJSON gives us and silently cut a value short. */
static int has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 5 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
            return 1;
        i++; /* skip the escaped character (so "\\u0000" is a backslash then text) */
    }
    return 0;
}

static void line_col(const char *s, size_t at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int vkti_train_config_load_json(vkti_train_config *c, const char *json, size_t len, const char *source, char *err,
                                size_t cap)
{
    if (len > CONFIG_FILE_MAX)
        return fail(err, cap, VKTI_E_FORMAT, "%s: %zu bytes is more than a configuration file may have (%u)", source,
                    len, CONFIG_FILE_MAX);
    if (memchr(json, 0, len))
        return fail(err, cap, VKTI_E_FORMAT, "%s: contains a NUL byte; it is not a JSON text file", source);
    if (has_nul_escape(json, len))
        return fail(err, cap, VKTI_E_FORMAT, "%s: a string contains \\u0000, which no option accepts", source);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        int line, col;
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        line_col(json, at, &line, &col);
        return fail(err, cap, VKTI_E_FORMAT, "%s: not valid JSON (line %d, column %d)", source, line, col);
    }
    /* nothing but spaces may follow the object */
    for (const char *p = end; p && p < json + len; p++)
        if (!isspace((unsigned char)*p)) {
            cJSON_Delete(root);
            return fail(err, cap, VKTI_E_FORMAT, "%s: text after the JSON object", source);
        }
    int rc = VKTI_OK;
    if (!cJSON_IsObject(root)) {
        rc = fail(err, cap, VKTI_E_FORMAT, "%s: the top level must be a JSON object {\"key\": value, ...}", source);
        goto done;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        const char *key = item->string ? item->string : "";
        const opt_def *o = find_key(key);
        if (!o) {
            const char *s = suggest(key);
            rc = fail(err, cap, VKTI_E_INVALID, "%s: unknown key \"%.60s\"%s%s%s", source, key, s ? " (did you mean \"" : "",
                      s ? s : "", s ? "\"?)" : "");
            goto done;
        }
        for (const cJSON *prev = root->child; prev != item; prev = prev->next)
            if (prev->string && !strcmp(prev->string, key)) {
                rc = fail(err, cap, VKTI_E_INVALID, "%s: key \"%s\" appears twice", source, key);
                goto done;
            }
        char buf[VKTI_TRAIN_PATH_MAX + 64];
        const char *want = NULL;
        switch (o->type) {
        case T_BOOL:
            if (!cJSON_IsBool(item))
                want = "true or false";
            else
                snprintf(buf, sizeof buf, "%s", cJSON_IsTrue(item) ? "true" : "false");
            break;
        case T_INT:
            if (!cJSON_IsNumber(item))
                want = "a whole number";
            else if (item->valuedouble != floor(item->valuedouble) || fabs(item->valuedouble) > 9007199254740992.0)
                want = "a whole number";
            else
                snprintf(buf, sizeof buf, "%.0f", item->valuedouble);
            break;
        case T_NUM:
            if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
                want = "a number";
            else
                snprintf(buf, sizeof buf, "%.17g", item->valuedouble);
            break;
        case T_LR:
        case T_SIZE:
            if (cJSON_IsNumber(item) && isfinite(item->valuedouble))
                snprintf(buf, sizeof buf, "%.17g", item->valuedouble);
            else if (cJSON_IsString(item))
                snprintf(buf, sizeof buf, "%s", item->valuestring);
            else
                want = "a number or a string";
            if (!want && cJSON_IsString(item) && strlen(item->valuestring) >= sizeof buf)
                want = "a shorter string";
            break;
        default:
            if (!cJSON_IsString(item))
                want = "a string";
            else if (strlen(item->valuestring) >= sizeof buf)
                want = "a shorter string";
            else
                snprintf(buf, sizeof buf, "%s", item->valuestring);
            break;
        }
        if (want) {
            rc = fail(err, cap, VKTI_E_INVALID, "%s: \"%s\" (%s) must be %s", source, o->pub.key, o->pub.flag, want);
            goto done;
        }
        char inner[VKTI_TRAIN_ERR_MAX];
        if ((rc = set_option(c, o, buf, inner, sizeof inner))) {
            fail(err, cap, rc, "%s: %s", source, inner);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    return rc;
}

int vkti_train_config_load_json_file(vkti_train_config *c, const char *path, char *err, size_t cap)
{
    vkti_diag d = {0};
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = vkti_file_read(&d, path, CONFIG_FILE_MAX, &data, &size);
    if (rc)
        return fail(err, cap, rc, "%s", d.msg);
    rc = vkti_train_config_load_json(c, (const char *)data, size, path, err, cap);
    free(data);
    return rc;
}

/* ---- validation --------------------------------------------------------------------------- */

/* Lexical normal form of a path for comparisons: '/' separators, no "." parts, ".." folded where
 * possible, no trailing '/'. Symbolic links and absolute-versus-relative spellings are not resolved. */
static void normalize_path(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int absolute = in[0] == '/' || in[0] == '\\';
    size_t starts[512];
    int depth = 0;
    if (absolute && cap > 1)
        out[n++] = '/';
    const char *p = in;
    while (*p) {
        while (*p == '/' || *p == '\\')
            p++;
        const char *b = p;
        while (*p && *p != '/' && *p != '\\')
            p++;
        size_t len = (size_t)(p - b);
        if (len == 0 || (len == 1 && b[0] == '.'))
            continue;
        if (len == 2 && b[0] == '.' && b[1] == '.' && depth > 0 &&
            !(n - starts[depth - 1] == 2 && !memcmp(out + starts[depth - 1], "..", 2))) {
            n = starts[--depth];
            if (n > (size_t)absolute)
                n--; /* the separator before it */
            continue;
        }
        if (n > (size_t)absolute && n + 1 < cap)
            out[n++] = '/';
        if (depth < 512)
            starts[depth++] = n;
        for (size_t i = 0; i < len && n + 1 < cap; i++)
            out[n++] = b[i];
    }
    if (n == 0 && cap > 1)
        out[n++] = '.';
    out[n < cap ? n : cap - 1] = 0;
#if defined(_WIN32)
    for (char *q = out; *q; q++)
        *q = (char)tolower((unsigned char)*q);
#endif
}

static int same_path(const char *a, const char *b)
{
    char na[VKTI_TRAIN_PATH_MAX], nb[VKTI_TRAIN_PATH_MAX];
    normalize_path(a, na, sizeof na);
    normalize_path(b, nb, sizeof nb);
    return !strcmp(na, nb);
}

/* Whether path lies inside dir (lexically). */
static int inside(const char *path, const char *dir)
{
    char np[VKTI_TRAIN_PATH_MAX], nd[VKTI_TRAIN_PATH_MAX];
    normalize_path(path, np, sizeof np);
    normalize_path(dir, nd, sizeof nd);
    size_t n = strlen(nd);
    if (!strcmp(nd, "."))
        return np[0] != '/' && strncmp(np, "..", 2) && strcmp(np, ".");
    return !strncmp(np, nd, n) && (np[n] == '/' || (n == 1 && nd[0] == '/'));
}

int vkti_train_config_finish(vkti_train_config *c, char *err, size_t cap)
{
    if (!c->model[0])
        return fail(err, cap, VKTI_E_INVALID,
                    "model (--model) is required: a diffusers folder or a .safetensors checkpoint");
    if (!c->data[0])
        return fail(err, cap, VKTI_E_INVALID, "data (--data) is required: a folder of 3-20 pictures of the concept");
    if (!c->token[0])
        return fail(err, cap, VKTI_E_INVALID, "token (--token) is required: the new word, e.g. \"<my-cat>\"");
    if (!c->out[0])
        return fail(err, cap, VKTI_E_INVALID, "out (--out) is empty: name the output folder");
    if (c->template_kind == VKTI_TEMPLATE_FILE && !c->template_file[0])
        return fail(err, cap, VKTI_E_INVALID, "template (--template) names no file");

    /* outputs must not land on an input */
    struct { const char *path, *what; } ins[] = {
        {c->model, "model (--model)"},
        {c->data, "data (--data)"},
        {c->tokenizer, "tokenizer (--tokenizer)"},
        {c->template_kind == VKTI_TEMPLATE_FILE ? c->template_file : "", "template (--template)"},
    };
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
        if (ins[i].path[0] && same_path(c->out, ins[i].path))
            return fail(err, cap, VKTI_E_INVALID, "out (--out) \"%s\" is the same as %s: choose another output folder",
                        c->out, ins[i].what);
    if (inside(c->out, c->data))
        return fail(err, cap, VKTI_E_INVALID,
                    "out (--out) \"%s\" is inside data (--data) \"%s\": previews written there would become training "
                    "images; choose a folder outside it",
                    c->out, c->data);
    if (c->resume[0] && c->template_kind == VKTI_TEMPLATE_FILE && same_path(c->resume, c->template_file))
        return fail(err, cap, VKTI_E_INVALID, "resume (--resume) names the template file");

    /* the learning rate and its schedule */
    if (c->lr_piecewise[0]) {
        if (c->lr_schedule != VKTI_LR_CONSTANT && c->lr_schedule != VKTI_LR_PIECEWISE)
            return fail(err, cap, VKTI_E_INVALID,
                        "learning_rate (--lr) is an AUTOMATIC1111 rate string, which is its own schedule; it cannot "
                        "be combined with lr_schedule (--lr-schedule) %s",
                        lr_names[c->lr_schedule]);
        c->lr_schedule = VKTI_LR_PIECEWISE;
        vkti_diag d = {0};
        vkti_lr_piece pieces[VKTI_LR_MAX_PIECES];
        int count;
        int64_t end_step;
        if (vkti_lr_piecewise_parse(&d, c->lr_piecewise, c->steps, pieces, VKTI_LR_MAX_PIECES, &count, &end_step))
            return fail(err, cap, VKTI_E_INVALID, "learning_rate (--lr): %s", d.msg);
        if (end_step < c->steps)
            return fail(err, cap, VKTI_E_INVALID,
                        "learning_rate (--lr): the rates end at step %lld but steps (--steps) is %lld; add a last rate "
                        "without a step (\"..., 1e-5\") to hold it, or set --steps %lld",
                        (long long)end_step, (long long)c->steps, (long long)end_step);
    } else if (c->lr_schedule == VKTI_LR_PIECEWISE) {
        return fail(err, cap, VKTI_E_INVALID,
                    "lr_schedule (--lr-schedule) piecewise needs AUTOMATIC1111 rates in learning_rate (--lr), e.g. "
                    "\"0.005:100, 1e-3:1000, 1e-5\"");
    }
    if (!(c->learning_rate > 0) || !isfinite(c->learning_rate))
        return fail(err, cap, VKTI_E_INVALID, "learning_rate (--lr) %g must be a number above 0", c->learning_rate);
    if (c->resolution % 8 || c->resolution < 64)
        return fail(err, cap, VKTI_E_INVALID, "resolution (--resolution) %d must be a multiple of 8, at least 64",
                    c->resolution);
    if (c->steps < 1)
        return fail(err, cap, VKTI_E_INVALID, "steps (--steps) must be at least 1");
    if (c->max_vram && c->max_vram < MIN_VRAM)
        return fail(err, cap, VKTI_E_INVALID,
                    "max_vram (--max-vram) %llu bytes is less than 64 MiB; give a unit (e.g. 6G), or 0 for no limit",
                    (unsigned long long)c->max_vram);
    if (!c->formats)
        return fail(err, cap, VKTI_E_INVALID, "format (--format) names no format");
    c->weight_decay = vkti_train_config_weight_decay(c);
    c->preview_seed = vkti_train_config_preview_seed(c);
    return VKTI_OK;
}

/* ---- resume ------------------------------------------------------------------------------- */

/* Whether a fixed option matters for this configuration (an unused one may change). */
static int relevant(const opt_def *o, const vkti_train_config *c)
{
    const char *k = o->pub.key;
    int adam = c->optimizer == VKTI_OPTIMIZER_ADAM || c->optimizer == VKTI_OPTIMIZER_ADAMW;
    if (!strcmp(k, "adam_beta1") || !strcmp(k, "adam_beta2") || !strcmp(k, "adam_epsilon"))
        return adam;
    if (!strcmp(k, "sgd_momentum"))
        return c->optimizer == VKTI_OPTIMIZER_SGD;
    if (!strcmp(k, "lr_warmup_steps"))
        return c->lr_schedule != VKTI_LR_CONSTANT && c->lr_schedule != VKTI_LR_PIECEWISE;
    if (!strcmp(k, "steps")) /* only where the rates depend on the length of the run */
        return c->lr_schedule == VKTI_LR_LINEAR || c->lr_schedule == VKTI_LR_COSINE;
    return 1;
}

void vkti_train_config_fingerprint(const vkti_train_config *c, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ull;
    char buf[VKTI_TRAIN_PATH_MAX + 64];
    for (int i = 0; i < OPTION_COUNT; i++) {
        const opt_def *o = &options[i];
        if (!o->pub.resume_fixed || !relevant(o, c))
            continue;
        get_option(c, o, buf, sizeof buf);
        const char *parts[] = {o->pub.key, "=", buf, "\n"};
        for (int k = 0; k < 4; k++)
            for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
                h ^= *p;
                h *= 0x100000001b3ull;
            }
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int vkti_train_config_check_resume(const vkti_train_config *saved, const vkti_train_config *now, char *err,
                                   size_t cap)
{
    char a[VKTI_TRAIN_PATH_MAX + 64], b[VKTI_TRAIN_PATH_MAX + 64];
    for (int i = 0; i < OPTION_COUNT; i++) {
        const opt_def *o = &options[i];
        if (!o->pub.resume_fixed || (!relevant(o, saved) && !relevant(o, now)))
            continue;
        get_option(saved, o, a, sizeof a);
        get_option(now, o, b, sizeof b);
        if (strcmp(a, b))
            return fail(err, cap, VKTI_E_INVALID,
                        "%s (%s) was %.200s in the checkpoint and is %.200s now; a resumed run must keep it (or start "
                        "a new run with another --out)",
                        NAMED(o), a, b);
    }
    return VKTI_OK;
}

/* ---- help --------------------------------------------------------------------------------- */

char *vkti_train_options_help(void)
{
    vkti_train_config def;
    vkti_train_config_init(&def);
    size_t cap = 16384, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    int group = -1;
    for (int i = 0; i < OPTION_COUNT; i++) {
        const opt_def *o = &options[i];
        char val[VKTI_TRAIN_PATH_MAX + 64], line[1600];
        get_option(&def, o, val, sizeof val);
        int len = 0;
        if ((int)o->group != group) {
            group = (int)o->group;
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%s:\n", n ? "\n" : "", group_names[group]);
        }
        if (o->type == T_BOOL)
            len += snprintf(line + len, sizeof line - (size_t)len, "  %s, --no-%s\n", o->pub.flag, o->pub.flag + 2);
        else
            len += snprintf(line + len, sizeof line - (size_t)len, "  %s %s\n", o->pub.flag, o->pub.metavar);
        len += snprintf(line + len, sizeof line - (size_t)len, "      %s", o->pub.help);
        if (o->type == T_BOOL)
            len += snprintf(line + len, sizeof line - (size_t)len, " (default: %s)", strcmp(val, "true") ? "off" : "on");
        else if (!strcmp(o->pub.key, "weight_decay") || !strcmp(o->pub.key, "preview_seed"))
            ; /* their defaults depend on other options; the help line says how */
        else if (val[0])
            len += snprintf(line + len, sizeof line - (size_t)len, " (default: %s)", val);
        len += snprintf(line + len, sizeof line - (size_t)len, "  [%s]\n", o->pub.key);
        if (len < 0)
            continue;
        if (n + (size_t)len + 1 > cap) {
            char *t = realloc(s, cap * 2 + (size_t)len);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
            cap = cap * 2 + (size_t)len;
        }
        memcpy(s + n, line, (size_t)len);
        n += (size_t)len;
    }
    s[n] = 0;
    return s;
}
