/* train_config.h — the configuration of `vkti train`: every option in one plain struct (no
 * pointers: copy it, keep it, compare it), one setter shared by command-line flags and JSON config
 * files (the same key table, the same checks), validation of impossible combinations, the
 * effective configuration as JSON (saved in checkpoints), the fingerprint of what --resume must
 * not change, and the flag <-> key table the CLI prints as help.
 *
 * Functions that can refuse take (char *err, size_t err_cap) and write one line there naming the
 * key and its flag ("learning_rate (--lr): ..."); VKTI_TRAIN_ERR_MAX is a large enough buffer.
 * Strings returned by *_to_json and *_help are allocated: free them with vkti_free(). */
#ifndef VKTI_TRAIN_CONFIG_H
#define VKTI_TRAIN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "vkti/vkti.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VKTI_TRAIN_PATH_MAX 1024
#define VKTI_TRAIN_TEXT_MAX 512
#define VKTI_TRAIN_TOKEN_MAX 64
#define VKTI_TRAIN_ERR_MAX 768
#define VKTI_TRAIN_MAX_STEPS 100000000   /* 1e8 */
#define VKTI_TRAIN_MAX_SEED 9007199254740991LL /* 2^53 − 1: exact in JSON numbers */

typedef enum vkti_lr_kind {
    VKTI_LR_CONSTANT = 0,
    VKTI_LR_CONSTANT_WITH_WARMUP = 1,
    VKTI_LR_LINEAR = 2,              /* warmup, then linear decay to 0 at the last step */
    VKTI_LR_COSINE = 3,              /* warmup, then half a cosine down to 0 */
    VKTI_LR_PIECEWISE = 4            /* AUTOMATIC1111's "0.005:100, 1e-3:1000, 1e-5" */
} vkti_lr_kind;

typedef enum vkti_optimizer_kind {
    VKTI_OPTIMIZER_ADAMW = 0,
    VKTI_OPTIMIZER_ADAM = 1,
    VKTI_OPTIMIZER_SGD = 2           /* with momentum */
} vkti_optimizer_kind;

typedef enum vkti_template_kind {
    VKTI_TEMPLATE_OBJECT = 0,        /* diffusers' 27 object prompts ("a photo of a {}") */
    VKTI_TEMPLATE_STYLE = 1,         /* diffusers' 19 style prompts */
    VKTI_TEMPLATE_FILE = 2           /* an AUTOMATIC1111 template file ([name], [filewords]) */
} vkti_template_kind;

typedef enum vkti_crop_kind {
    VKTI_CROP_CENTER = 0,
    VKTI_CROP_RANDOM = 1
} vkti_crop_kind;

typedef enum vkti_prediction_choice {
    VKTI_PREDICTION_AUTO = 0,        /* from the model's scheduler config (single files: epsilon) */
    VKTI_PREDICTION_EPSILON = 1,
    VKTI_PREDICTION_V = 2
} vkti_prediction_choice;

/* the previews' sampler (vkti generate's --sampler, with Karras sigmas as a fourth choice) */
typedef enum vkti_preview_sampler {
    VKTI_PREVIEW_DDIM = 0,
    VKTI_PREVIEW_EULER_A = 1,
    VKTI_PREVIEW_DPMPP_2M = 2,
    VKTI_PREVIEW_DPMPP_2M_KARRAS = 3
} vkti_preview_sampler;

/* output embedding formats (a bit set) */
#define VKTI_FORMAT_DIFFUSERS 1u     /* learned_embeds.safetensors: {token: [n, 768]} */
#define VKTI_FORMAT_KOHYA 2u         /* {"emb_params": [n, 768]} */
#define VKTI_FORMAT_A1111 4u         /* AUTOMATIC1111 .pt */

typedef struct vkti_train_config {
    /* inputs */
    char model[VKTI_TRAIN_PATH_MAX];       /* diffusers folder or single-file checkpoint */
    char data[VKTI_TRAIN_PATH_MAX];        /* folder of images (+ NAME.txt captions) */
    char tokenizer[VKTI_TRAIN_PATH_MAX];   /* "" = look beside the model, then the HF cache */
    char resume[VKTI_TRAIN_PATH_MAX];      /* "" = start fresh */
    /* the concept */
    char token[VKTI_TRAIN_TOKEN_MAX];      /* the placeholder, e.g. "<my-cat>" */
    char init_text[VKTI_TRAIN_TEXT_MAX];   /* words whose embeddings start the vectors */
    int num_vectors;
    vkti_template_kind template_kind;
    char template_file[VKTI_TRAIN_PATH_MAX]; /* when template_kind is VKTI_TEMPLATE_FILE */
    /* data */
    int resolution;                        /* pixels, a multiple of 8 */
    vkti_crop_kind crop;
    double flip_prob;                      /* probability of a horizontal flip per sample */
    int repeats;                           /* each image this many times per epoch */
    int loss_mask;                         /* 1: weight the loss by the image's alpha channel */
    /* optimization */
    int64_t steps;                         /* optimizer updates */
    double learning_rate;                  /* the base rate (VKTI_LR_PIECEWISE: unused) */
    char lr_piecewise[VKTI_TRAIN_TEXT_MAX];/* the A1111 string when lr_schedule is PIECEWISE */
    vkti_lr_kind lr_schedule;
    int64_t lr_warmup_steps;
    int scale_lr;                          /* 1: rate × batch_size × grad_accum */
    int batch_size;
    int grad_accum;
    vkti_optimizer_kind optimizer;
    double adam_beta1, adam_beta2, adam_epsilon;
    double weight_decay;                   /* < 0: the optimizer's default (vkti_train_config_weight_decay) */
    double sgd_momentum;
    double max_grad_norm;                  /* 0 = no clipping */
    double min_snr_gamma;                  /* 0 = plain MSE */
    vkti_prediction_choice prediction_type;
    int64_t seed;                          /* 0 .. VKTI_TRAIN_MAX_SEED */
    int max_nonfinite_steps;               /* stop after this many non-finite steps in a row */
    /* outputs */
    char out[VKTI_TRAIN_PATH_MAX];
    unsigned formats;                      /* VKTI_FORMAT_* bits */
    int64_t save_every, checkpoint_every, eval_every, preview_every, log_every; /* steps; 0 = never */
    char preview_prompt[VKTI_TRAIN_TEXT_MAX]; /* "" = no previews */
    char preview_negative[VKTI_TRAIN_TEXT_MAX];
    int64_t preview_seed;                  /* < 0: the training seed (vkti_train_config_preview_seed) */
    int preview_steps;
    int preview_images;
    vkti_preview_sampler preview_sampler;
    double preview_cfg;                    /* classifier-free guidance scale of the previews */
    int tensorboard;                       /* 1: write TensorBoard event files beside metrics.jsonl */
    /* device */
    char device[256];                      /* "" = default; "N" or part of the name */
    vkti_precision precision;
    uint64_t max_vram;                     /* bytes; 0 = no limit. Over it the UNet recomputes its
                                              attention blocks in the backward (same bits) */
} vkti_train_config;

/* The defaults (diffusers' textual_inversion.py where the issue is silent; see the help table). */
void vkti_train_config_init(vkti_train_config *cfg);

/* Sets one option from text (a flag's argument, or a value read from JSON): key is the JSON key
 * ("learning_rate"), value the text ("5e-4"; "true"/"false" for switches). */
int vkti_train_config_set(vkti_train_config *cfg, const char *key, const char *value, char *err, size_t err_cap);

/* Applies one command-line argument: arg is argv[i] ("--lr", "--lr=5e-4", "--scale-lr",
 * "--no-scale-lr"), next is argv[i + 1] or NULL. Returns how many arguments it used (1 or 2),
 * 0 if arg is not a training option (the caller handles it: --config, -v, ...), or a negative
 * status with err filled. */
int vkti_train_config_apply_arg(vkti_train_config *cfg, const char *arg, const char *next, char *err,
                                size_t err_cap);

/* Applies a JSON object of options (a --config file, or the effective configuration of a
 * checkpoint) through the same setter: unknown keys, wrong JSON types, duplicate keys and values
 * the setter refuses are errors naming the key. source names the file in messages. */
int vkti_train_config_load_json(vkti_train_config *cfg, const char *json, size_t len, const char *source,
                                char *err, size_t err_cap);
int vkti_train_config_load_json_file(vkti_train_config *cfg, const char *path, char *err, size_t err_cap);

/* Checks the options together (required ones present, impossible combinations) and fills the
 * derived defaults (weight decay, preview seed). Call once, after the last option is set. */
int vkti_train_config_finish(vkti_train_config *cfg, char *err, size_t err_cap);

double vkti_train_config_weight_decay(const vkti_train_config *cfg); /* AdamW 1e-2, Adam/SGD 0 */
int64_t vkti_train_config_preview_seed(const vkti_train_config *cfg);

/* The value of one option as text (what _set would accept back). */
int vkti_train_config_get(const vkti_train_config *cfg, const char *key, char *out, size_t cap);

/* Every option as one JSON object, keys in table order, numbers exact (allocated; vkti_free). */
char *vkti_train_config_to_json(const vkti_train_config *cfg);

/* A hash of the options --resume must not change (marked in the table), as 16 hex digits + NUL.
 * Paths are not part of it (the trainer fingerprints the model's and the data's contents). */
void vkti_train_config_fingerprint(const vkti_train_config *cfg, char out[17]);
/* Compares a checkpoint's configuration with the one given now; refuses with the first option
 * that differs ("learning_rate (--lr) was 0.005 in the checkpoint, is 0.001 now"). */
int vkti_train_config_check_resume(const vkti_train_config *saved, const vkti_train_config *now, char *err,
                                   size_t err_cap);

/* The option table: JSON key, flag, metavariable (NULL for a switch), one line of help, and
 * whether --resume must keep it. */
typedef struct vkti_train_option {
    const char *key;
    const char *flag;
    const char *metavar;
    const char *help;
    int resume_fixed;
} vkti_train_option;
int vkti_train_option_count(void);
const vkti_train_option *vkti_train_option_at(int i);
/* Finds an option by JSON key or flag ("--no-FLAG" finds FLAG's switch with *negated = 1). */
const vkti_train_option *vkti_train_option_find(const char *key_or_flag, int *negated);
/* The help text: one block per option with its default (allocated; vkti_free). */
char *vkti_train_options_help(void);

#ifdef __cplusplus
}
#endif
#endif
