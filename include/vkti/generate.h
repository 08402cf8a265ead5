/* generate.h — the public API of `vkti generate`: text to image with a Stable Diffusion model,
 * the samplers, classifier-free guidance with a negative prompt, textual-inversion embeddings,
 * and PNGs that carry AUTOMATIC1111's "parameters" text.
 *
 * Samplers follow diffusers' schedulers step for step (the model's scheduler_config.json decides
 * the noise schedule, the prediction type, the timestep spacing and the offsets, as
 * `Scheduler.from_config(pipe.scheduler.config)` would):
 *   ddim      DDIMScheduler (eta: 0 deterministic, 1 DDPM-like)             A1111: "DDIM"
 *   euler_a   EulerAncestralDiscreteScheduler                               A1111: "Euler a"
 *   dpmpp_2m  DPMSolverMultistepScheduler, dpmsolver++, order 2, midpoint,   A1111: "DPM++ 2M"
 *             lower_order_final; karras: use_karras_sigmas                  ("DPM++ 2M Karras")
 *
 * Seeds: image i of a batch uses seed + i, so any image of a batch is reproduced alone with its
 * own seed. The starting latent of seed s is normal sample j of Philox-4x32-10 with key s,
 * counter 0, stream 0 (src/ops/rng.h), element j of the latent in [height/8, width/8, 4] order
 * (channels last); the ancestral noise of step k uses counter k + 1. The same seed gives the same
 * noise on every device; the image may differ in the last bits where devices round differently. */
#ifndef VKTI_GENERATE_H
#define VKTI_GENERATE_H

#include "vkti/vkti.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vkti_sampler {
    VKTI_SAMPLER_DDIM = 0,
    VKTI_SAMPLER_EULER_A = 1,
    VKTI_SAMPLER_DPMPP_2M = 2
} vkti_sampler;

/* "ddim", "euler_a", "dpmpp_2m" */
const char *vkti_sampler_name(vkti_sampler s);
/* AUTOMATIC1111's name: "DDIM", "Euler a", "DPM++ 2M", "DPM++ 2M Karras" */
const char *vkti_sampler_a1111_name(vkti_sampler s, int karras);
/* From vkti's names; VKTI_E_INVALID for any other. */
int vkti_sampler_parse(const char *name, vkti_sampler *out);

#define VKTI_GENERATE_MAX_STEPS 1000
#define VKTI_GENERATE_MAX_BATCH 64
#define VKTI_GENERATE_MAX_SIDE 4096
#define VKTI_GENERATE_MAX_SEED 9007199254740991LL /* 2^53 - 1, as training seeds */
#define VKTI_GENERATE_MAX_EMBEDDINGS 64

/* An embedding to load: the file (any format vkti reads) and the token the prompt calls it by
 * (NULL: the file's own: the diffusers key, a kohya "name", A1111's name). A vector beyond the
 * first is the token + "_1", "_2"...: the prompt names only the token and gets all of them. */
typedef struct vkti_generate_embedding {
    const char *path;
    const char *token;
} vkti_generate_embedding;

/* stage: "loading", "sampling" (done: steps), "decoding" (done: images or tiles), "writing" */
typedef void (*vkti_generate_progress_fn)(void *user, const char *stage, int done, int total);

typedef struct vkti_generate_options {
    const char *model;               /* a diffusers folder or a single-file checkpoint */
    const char *tokenizer;           /* NULL: beside the model, then the Hugging Face cache */
    const char *prompt;
    const char *negative;            /* NULL or "": none (the empty prompt, as diffusers) */
    const vkti_generate_embedding *embeddings;
    int embedding_count;
    vkti_sampler sampler;            /* default euler_a */
    int karras;                      /* dpmpp_2m only */
    double eta;                      /* ddim only, 0 .. 1 */
    int steps;                       /* default 20 */
    double cfg;                      /* default 7; <= 1: no guidance (the negative prompt unused) */
    int64_t seed;                    /* < 0 (default): a random seed, reported */
    int width, height;               /* 0 (default): the model's own size (512 for SD 1.x) */
    int batch;                       /* default 1 */
    uint64_t max_vram;               /* bytes; 0: no limit. The decode tiles itself to stay under */
    const char *out;                 /* FILE.png; with batch > 1 FILE-1.png .. FILE-N.png */
    const char *save_latents;        /* NULL, or FILE.safetensors: "initial" and "latents" f32
                                        [batch, height/8, width/8, 4] (for fidelity comparisons) */
    vkti_generate_progress_fn progress;
    void *progress_user;
} vkti_generate_options;

/* The defaults above. */
void vkti_generate_options_init(vkti_generate_options *o);

/* What a generation did. Owned by the report (vkti_generate_report_free). */
typedef struct vkti_generate_report {
    int64_t seed;                    /* the first image's */
    int images;
    const char *const *files;        /* [images] paths written */
    const char *parameters;          /* the first image's AUTOMATIC1111 parameters text */
    const char *device;
    const char *precision;           /* "fp16" or "fp32" */
    int width, height;
    int truncated;                   /* the prompt or negative prompt lost tokens past 75 */
    int decode_tile;                 /* 0: whole images; else the decode's tile side in pixels */
    int decode_pieces;
    double seconds_load, seconds_text, seconds_sampling, seconds_decode, seconds_total;
    double steps_per_second;         /* sampler steps (UNet runs over the whole batch) per second */
    uint64_t peak_bytes;             /* device memory allocated at most */
} vkti_generate_report;

/* Checks everything it can before loading the networks (options, the output, the embeddings
 * against the model and the prompt) — a bad input is one message and nothing written — then
 * generates and writes the PNG(s). Exit code of a failure: vkti_exit_code(status). */
int vkti_generate(vkti_ctx *ctx, const vkti_generate_options *o, vkti_generate_report **report);
void vkti_generate_report_free(vkti_generate_report *r);

#ifdef __cplusplus
}
#endif
#endif
