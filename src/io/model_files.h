/* model_files.h — a Stable Diffusion model as users have it on disk, opened into one description:
 * the three networks' configs (sd_config.h), every weight each network needs found, shape-checked
 * and described in place (memory-mapped; any float dtype — the network converts), the scheduler
 * config text, the family, the CLIP tokenizer's folder, and a fingerprint.
 *
 * Layouts read:
 *  - a diffusers folder: model_index.json (or at least unet/config.json); unet/, text_encoder/,
 *    vae/ each with config.json and weights — diffusion_pytorch_model.safetensors /
 *    model.safetensors, else the .fp16.safetensors variant, else a sharded
 *    *.safetensors.index.json, else PyTorch's .bin (read by the restricted ckpt reader). Full
 *    precision is preferred when both exist (a note says so). scheduler/scheduler_config.json
 *    (family defaults when absent); tokenizer/.
 *  - a single file in the original LDM layout, .safetensors or torch .ckpt (any other name is
 *    sniffed: a zip is a torch file), mapped to the diffusers names by sd_tensors.h's tables;
 *    family and configs inferred by ldm_infer.h. A safetensors file written by vkti carries its
 *    exact configs in __metadata__ ("vkti.unet_config", "vkti.text_encoder_config",
 *    "vkti.vae_config", "vkti.scheduler_config": the JSON of the diffusers files): they replace the
 *    inferred ones (the heads and groups that shapes cannot tell) and are checked like config.json.
 *
 * Every tensor of every network's table must be present with its shape and a float dtype: the
 * first that is not is an error naming the file, the tensor (both names for a single file) and the
 * expected shape. Tensors a network does not use (EMA copies, position_ids, OpenCLIP's last layer
 * and projection) are counted in unused_tensors and otherwise ignored. The UNet must fit the text encoder
 * (cross_attention_dim = hidden_size) and the VAE (in/out channels = latent channels).
 *
 * Ownership: everything in a vkti_model belongs to it and lives until vkti_model_close; tensors
 * point into the mapped files. */
#ifndef VKTI_IO_MODEL_FILES_H
#define VKTI_IO_MODEL_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "io/io_tensor.h"
#include "io/sd_config.h"
#include "io/sd_tensors.h"
#include "io/tokenizer_find.h"

typedef enum vkti_sd_component {
    VKTI_SD_UNET = 0,
    VKTI_SD_TEXT_ENCODER = 1,
    VKTI_SD_VAE = 2
} vkti_sd_component;
#define VKTI_SD_COMPONENTS 3
/* "unet", "text_encoder", "vae" (the diffusers folder names) */
const char *vkti_sd_component_name(vkti_sd_component c);

typedef enum vkti_model_layout {
    VKTI_MODEL_DIFFUSERS = 0, /* a diffusers folder */
    VKTI_MODEL_LDM = 1        /* one file in the original (CompVis / LDM) key layout */
} vkti_model_layout;

typedef enum vkti_model_format {
    VKTI_MODEL_SAFETENSORS = 0,
    VKTI_MODEL_TORCH = 1      /* torch.save zip: .ckpt, .pt, .bin */
} vkti_model_format;

/* One network's weights. */
typedef struct vkti_model_part {
    vkti_sd_table table;       /* every tensor the network has (names, shapes, LDM names) */
    vkti_io_tensor *tensors;   /* [table.count]: tensors[i] is table.t[i] as the file holds it, with the
                                  table's shape and name (views: a squeezed 1x1 conv, a q/k/v slice) */
    uint64_t params;           /* elements of all tensors */
    uint64_t bytes;            /* their size in the file's dtypes */
    size_t dtype_count[VKTI_IO_DTYPE_COUNT]; /* tensors per file dtype */
    char *files;               /* the weight file(s) read, for messages and `vkti inspect` */
    char *config_source;       /* where the config came from */
    uint32_t *by_name_;        /* private: indices of tensors sorted by name */
} vkti_model_part;

typedef struct vkti_model_file vkti_model_file; /* private */

typedef struct vkti_model {
    char *path;
    vkti_model_layout layout;
    vkti_model_format format;          /* of the weights (a diffusers folder: of the UNet's) */
    vkti_sd_family family;
    char *family_reason;               /* how the family was decided */
    vkti_unet_config unet;
    vkti_clip_text_config text_encoder;
    vkti_vae_config vae;
    char *scheduler_json;              /* scheduler_config.json text, NUL-terminated */
    size_t scheduler_json_len;
    char *scheduler_source;            /* its file, or what defaults were used and why */
    vkti_scheduler_info scheduler;
    vkti_model_part parts[VKTI_SD_COMPONENTS];
    size_t unused_tensors;             /* tensors in the weight files no network uses */
    int has_tokenizer;
    vkti_tokenizer_found tokenizer;    /* when has_tokenizer */
    char *tokenizer_error;             /* otherwise: the message listing where it was looked for */
    char fingerprint[17];              /* 16 hex digits, see vkti_model_open */
    char **notes;                      /* choices made while opening (also logged at INFO) */
    int note_count;
    /* private */
    vkti_model_file **files_;
    int file_count_;
} vkti_model;

/* Opens the model at path (a diffusers folder or a single file). tokenizer_dir: --tokenizer, or
 * NULL. A missing tokenizer is not an error here (has_tokenizer 0, tokenizer_error says where it
 * looked); vkti_model_tokenizer_dir makes it one.
 * The fingerprint is a 64-bit FNV-1a hash over each network's tensors in table order: diffusers
 * name, file dtype, shape, and the bytes of 24 elements (the first, middle and last 8 in logical
 * order); so the same weights give the same fingerprint in either layout, another seed or dtype a
 * different one, and nothing but those few pages is read. On failure *m is empty. */
int vkti_model_open(vkti_diag *d, vkti_model *m, const char *path, const char *tokenizer_dir);
void vkti_model_close(vkti_model *m);

/* The tensor a network calls name (diffusers naming), or NULL when the network has no such tensor. */
const vkti_io_tensor *vkti_model_find(const vkti_model *m, vkti_sd_component c, const char *name);
/* The same as an error when absent ("the unet has no tensor NAME"). */
int vkti_model_tensor(vkti_diag *d, const vkti_model *m, vkti_sd_component c, const char *name, vkti_io_tensor *out);
/* The same, also checking the shape a network builder expects: a difference is an error naming the
 * tensor, its shape and the expected one. */
int vkti_model_tensor_shape(vkti_diag *d, const vkti_model *m, vkti_sd_component c, const char *name, int ndim,
                            const int64_t *shape, vkti_io_tensor *out);
/* One network of a model as the networks' weight source (model/nn.h's vkti_weight_source):
 *     vkti_model_net net = {&m, VKTI_SD_UNET};
 *     vkti_weight_source src = {vkti_model_weight_get, &net};
 * vkti_model_weight_get has the signature of vkti_weight_get_fn (io does not include model/). */
typedef struct vkti_model_net {
    const vkti_model *model;
    vkti_sd_component comp;
} vkti_model_net;
int vkti_model_weight_get(void *net, vkti_diag *d, const char *name, const vkti_io_tensor **out);

/* The tokenizer folder, or the error listing where it was looked for. */
int vkti_model_tokenizer_dir(vkti_diag *d, const vkti_model *m, const char **dir);

/* "diffusers folder", "single file (LDM layout, safetensors)", "single file (LDM layout, torch zip)" */
const char *vkti_model_layout_name(const vkti_model *m);

/* Whether path looks like a Stable Diffusion model rather than images or an embedding: a folder with
 * model_index.json or unet/config.json; a .ckpt; a .safetensors, .pt, .pth or .bin file whose tensor
 * names are those of an LDM checkpoint (model.diffusion_model., cond_stage_model.,
 * first_stage_model., conditioner.). Reads only what it needs; never fails. */
int vkti_model_path_is_model(const char *path);

#endif
