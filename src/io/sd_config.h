/* sd_config.h — the configurations of Stable Diffusion's three networks as diffusers writes them
 * (unet/config.json: UNet2DConditionModel; text_encoder/config.json: transformers' CLIPTextModel;
 * vae/config.json: AutoencoderKL), parsed into plain structs and written back, and the per-block
 * quantities a network builder needs (channels, skip concatenations, heads) derived exactly as
 * diffusers derives them.
 *
 * Parsing: unknown keys are ignored (configs carry many: _diffusers_version, dropout rates,
 * initializer ranges...), but a key whose value would change the network in a way vkti does not
 * implement is refused with its name, its value and what vkti supports (SDXL's
 * addition_embed_type "text_time", class embeddings, resnet_time_scale_shift "scale_shift", other
 * block or attention types...). Integers must be exact whole numbers inside the VKTI_SD_MAX_*
 * limits; a wrong JSON type is refused with the key named. Every refusal is VKTI_E_FORMAT (the
 * user's file is not one vkti reads: exit code 1).
 *
 * diffusers' legacy attention naming (unet_2d_condition.py): "attention_head_dim" holds the number
 * of attention HEADS of each block (SD 1.x's 8 is 8 heads of 40/80/160 channels; SD 2.x's
 * [5, 10, 20, 20] is heads of 64 channels), and "num_attention_heads" must be absent or null —
 * diffusers itself raises an error when it is set. Each down block i has heads[i] heads of
 * block_out_channels[i] / heads[i] channels; up block i uses the reversed lists (heads[n-1-i] at
 * block_out_channels[n-1-i]); the mid block the last entry. A width not divisible by its head count
 * is refused (diffusers would silently shrink the attention width). */
#ifndef VKTI_IO_SD_CONFIG_H
#define VKTI_IO_SD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

#define VKTI_SD_MAX_BLOCKS 8              /* down (and up) blocks; SD has 4 */
#define VKTI_SD_MAX_CHANNELS 16384        /* any channel count or width */
#define VKTI_SD_MAX_LAYERS 16             /* resnets per block, transformer blocks per attention */
#define VKTI_SD_MAX_HEADS 1024
#define VKTI_SD_MAX_TEXT_LAYERS 128
#define VKTI_SD_MAX_VOCAB (1 << 20)
#define VKTI_SD_MAX_POSITIONS 4096
#define VKTI_SD_MAX_SAMPLE 16384          /* sample_size, pixels or latents */
#define VKTI_SD_MAX_CONFIG_BYTES (4u << 20) /* largest config.json read */

/* Which Stable Diffusion generation a model is: decides the text encoder's original layout
 * (OpenAI CLIP vs OpenCLIP), the tokenizer to look for, and single-file defaults. */
typedef enum vkti_sd_family {
    VKTI_SD_FAMILY_SD1 = 0, /* SD 1.x: CLIP ViT-L/14 text encoder (quick_gelu), conv projections */
    VKTI_SD_FAMILY_SD2 = 1  /* SD 2.x: OpenCLIP ViT-H/14 text encoder (gelu), linear projections */
} vkti_sd_family;
const char *vkti_sd_family_name(vkti_sd_family f); /* "SD 1.x", "SD 2.x" */

/* ---- UNet2DConditionModel ---------------------------------------------------------------- */

typedef enum vkti_unet_block_type {
    VKTI_UNET_DOWN_BLOCK_2D = 0,            /* "DownBlock2D": resnets (+ downsampler) */
    VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D = 1, /* "CrossAttnDownBlock2D": resnet + transformer per layer */
    VKTI_UNET_UP_BLOCK_2D = 2,              /* "UpBlock2D" */
    VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D = 3    /* "CrossAttnUpBlock2D" */
} vkti_unet_block_type;
const char *vkti_unet_block_type_name(vkti_unet_block_type t);

typedef enum vkti_unet_mid_type {
    VKTI_UNET_MID_CROSS_ATTN = 0            /* "UNetMidBlock2DCrossAttn": resnet, transformer, resnet */
} vkti_unet_mid_type;

typedef struct vkti_unet_config {
    int sample_size;                        /* latent side (64 for 512-pixel SD 1.x); 0: null */
    int in_channels, out_channels;          /* 4, 4 */
    int flip_sin_to_cos;                    /* timestep embedding [cos, sin] instead of [sin, cos] */
    int freq_shift;                         /* timestep embedding frequency shift (0) */
    int num_blocks;                         /* n: down blocks = up blocks = len(block_out_channels) */
    vkti_unet_block_type down_block_types[VKTI_SD_MAX_BLOCKS];
    vkti_unet_block_type up_block_types[VKTI_SD_MAX_BLOCKS];
    vkti_unet_mid_type mid_block_type;
    int block_out_channels[VKTI_SD_MAX_BLOCKS];
    int layers_per_block[VKTI_SD_MAX_BLOCKS];           /* per down block; up block i has
                                                           layers_per_block[n-1-i] + 1 resnets */
    int transformer_layers_per_block[VKTI_SD_MAX_BLOCKS];/* per down block; up: reversed; mid: last */
    int heads[VKTI_SD_MAX_BLOCKS];          /* per down block: the config's "attention_head_dim" */
    int head_dim[VKTI_SD_MAX_BLOCKS];       /* block_out_channels[i] / heads[i] */
    int cross_attention_dim;                /* the text encoder's width (768 SD 1.x, 1024 SD 2.x) */
    int norm_num_groups;                    /* 32 */
    double norm_eps;                        /* resnets and final norm (1e-5); transformer group norms
                                               use 1e-6 and layer norms 1e-5, fixed by diffusers */
    int use_linear_projection;              /* proj_in/proj_out are linear [C, C], else 1x1 convs */
    int upcast_attention;                   /* attention scores in fp32 (SD 2.1) */
    int time_embedding_dim;                 /* resolved: the config's value or 4 * block_out_channels[0] */
    int conv_in_kernel, conv_out_kernel;    /* 3 (or 1) */
    int downsample_padding;                 /* 1 */
    double mid_block_scale_factor;          /* mid-block resnet output scale (1) */
    /* how the config wrote what it wrote, so it is written back the same way */
    int heads_is_list, layers_is_list, transformer_layers_is_list, time_embedding_dim_set;
} vkti_unet_config;

/* What one block of the UNet holds (diffusers' get_down_block / get_up_block arguments). */
typedef struct vkti_unet_block_info {
    int has_attention;                      /* a transformer after each resnet */
    int layers;                             /* resnets (up blocks: layers_per_block + 1) */
    int out_channels;                       /* every resnet's output width */
    int resnet_in[VKTI_SD_MAX_LAYERS + 1];  /* input width of resnet j (up blocks: incl. the skip) */
    int skip_channels[VKTI_SD_MAX_LAYERS + 1]; /* up blocks: width of the skip concatenated into
                                               resnet j (0 for down blocks) */
    int transformer_layers;                 /* transformer blocks per attention */
    int heads, head_dim;
    int has_sampler;                        /* down: a stride-2 conv after the block; up: nearest x2 + conv */
} vkti_unet_block_info;

/* Block i of the down path (0 .. n-1), of the up path (0 .. n-1, the deepest first), the mid block. */
void vkti_unet_down_block(const vkti_unet_config *c, int i, vkti_unet_block_info *out);
void vkti_unet_up_block(const vkti_unet_config *c, int i, vkti_unet_block_info *out);
void vkti_unet_mid_block(const vkti_unet_config *c, vkti_unet_block_info *out);

/* ---- CLIPTextModel ------------------------------------------------------------------------- */

typedef enum vkti_clip_act {
    VKTI_CLIP_QUICK_GELU = 0,               /* x * sigmoid(1.702 x): OpenAI CLIP (SD 1.x) */
    VKTI_CLIP_GELU = 1                      /* exact erf GELU: OpenCLIP (SD 2.x) */
} vkti_clip_act;

typedef struct vkti_clip_text_config {
    int vocab_size;                         /* 49408 */
    int hidden_size;                        /* 768 / 1024 */
    int intermediate_size;                  /* 3072 / 4096 */
    int num_hidden_layers;                  /* 12 / 23 */
    int num_attention_heads;                /* 12 / 16 */
    int max_position_embeddings;            /* 77 */
    vkti_clip_act hidden_act;
    double layer_norm_eps;                  /* 1e-5 */
    int bos_token_id, eos_token_id, pad_token_id; /* as the config says (SD's say 0, 2, 1: CLIP's
                                               real ids come from the tokenizer) */
} vkti_clip_text_config;

/* ---- AutoencoderKL ------------------------------------------------------------------------- */

typedef struct vkti_vae_config {
    int in_channels, out_channels;          /* 3, 3 */
    int latent_channels;                    /* 4 */
    int num_blocks;                         /* "DownEncoderBlock2D" / "UpDecoderBlock2D" each */
    int block_out_channels[VKTI_SD_MAX_BLOCKS]; /* 128, 256, 512, 512: a factor 2^(n-1) autoencoder */
    int layers_per_block;                   /* encoder resnets per block (decoder: + 1) */
    int norm_num_groups;                    /* 32 */
    int sample_size;                        /* pixels (512 / 768) */
    double scaling_factor;                  /* latents are multiplied by it (0.18215) */
    int use_quant_conv, use_post_quant_conv;/* 1x1 convs around the latent (1, 1) */
    int mid_block_add_attention;            /* the mid blocks' single-head attention (1) */
    int force_upcast;                       /* diffusers runs the VAE in fp32 (informational) */
} vkti_vae_config;

/* ---- parsing and writing ------------------------------------------------------------------- */

/* source names the file in messages ("unet/config.json"). On failure *out is unspecified. */
int vkti_unet_config_parse(vkti_diag *d, vkti_unet_config *out, const char *json, size_t len, const char *source);
int vkti_clip_text_config_parse(vkti_diag *d, vkti_clip_text_config *out, const char *json, size_t len,
                                const char *source);
int vkti_vae_config_parse(vkti_diag *d, vkti_vae_config *out, const char *json, size_t len, const char *source);

/* Checks a config built in code (the same rules the parsers apply); source names it in messages. */
int vkti_unet_config_check(vkti_diag *d, vkti_unet_config *c, const char *source);
int vkti_clip_text_config_check(vkti_diag *d, const vkti_clip_text_config *c, const char *source);
int vkti_vae_config_check(vkti_diag *d, const vkti_vae_config *c, const char *source);

/* The config.json diffusers/transformers would write (and load): a new NUL-terminated string
 * (free()), NULL when out of memory. */
char *vkti_unet_config_to_json(const vkti_unet_config *c);
char *vkti_clip_text_config_to_json(const vkti_clip_text_config *c);
char *vkti_vae_config_to_json(const vkti_vae_config *c);

/* The configs of the released models: SD 1.5 (stable-diffusion-v1-5) and SD 2.1
 * (stabilityai/stable-diffusion-2-1, 768-v: sample_size 96; its unet also sets upcast_attention). */
void vkti_unet_config_sd15(vkti_unet_config *c);
void vkti_unet_config_sd21(vkti_unet_config *c);
void vkti_clip_text_config_sd15(vkti_clip_text_config *c);
void vkti_clip_text_config_sd21(vkti_clip_text_config *c);
void vkti_vae_config_sd15(vkti_vae_config *c);

/* ---- scheduler_config.json ------------------------------------------------------------------ */

/* What vkti reads from a scheduler config to describe it (the training schedule itself comes from
 * io/noise_schedule.h, which parses the same text). */
typedef struct vkti_scheduler_info {
    char class_name[64];                    /* "_class_name", "" if absent */
    int num_train_timesteps;
    char beta_schedule[32];                 /* "scaled_linear"... */
    double beta_start, beta_end;
    int v_prediction;                       /* prediction_type "v_prediction" */
} vkti_scheduler_info;
/* Checks the text with noise_schedule's parser (so what it accepts trains) and fills info. */
int vkti_scheduler_info_parse(vkti_diag *d, vkti_scheduler_info *info, const char *json, size_t len,
                              const char *source);
/* The scheduler config of Stable Diffusion (scaled_linear 0.00085 -> 0.012, 1000 steps):
 * SD 1.5's PNDMScheduler file, or SD 2.1's DDIMScheduler file when v_prediction. New string. */
char *vkti_scheduler_config_sd(int v_prediction);

#endif
