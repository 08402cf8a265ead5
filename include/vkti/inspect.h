/* inspect.h — the public API behind `vkti inspect PATH`.
 * A folder of training images, looked at the way training will see it: a report (count, original
 * sizes and aspect ratios, formats, captions, exact and near duplicates, skipped files and why) and
 * a contact sheet: PNG pages of every image after resize and crop, labelled with its file name.
 * A model (a diffusers folder or a single .safetensors / .ckpt file): family, layout, file dtypes,
 * parameters per network, scheduler, tokenizer found or not and where.
 * Ownership: a report and every string in it belong to the report (its _free function). */
#ifndef VKTI_INSPECT_H
#define VKTI_INSPECT_H

#include "vkti/embedding.h"
#include "vkti/vkti.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vkti_inspect_options {
    int resolution;          /* training resolution, a multiple of 8 (0: 512) */
    int buckets;             /* 1: each image at its aspect-ratio bucket instead of a square */
    int thumb;               /* largest side of a thumbnail in the sheet, pixels (0: the smaller of
                                the resolution and 256; made smaller for very large folders);
                                a thumbnail at least the training size shows its exact pixels */
    const char *sheet_path;  /* the contact sheet PNG (".png"); more pages get "-2.png", "-3.png"...;
                                NULL: no sheet. Refused inside the image folder itself. */
} vkti_inspect_options;

typedef struct vkti_inspect_image {
    const char *name;        /* file name */
    const char *format;      /* "JPEG", "PNG" or "BMP" */
    int width, height;       /* original size as shown (after EXIF orientation) */
    int channels;            /* in the file: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA */
    int bits;                /* 8 or 16 */
    int orientation;         /* EXIF orientation 1..8 (1: none) */
    int target_w, target_h;  /* the size training sees */
    int upscaled;            /* 1: smaller than the target, so enlarged */
    const char *caption;     /* from NAME.txt, or NULL */
    int duplicate_of;        /* the first earlier image with exactly the same decoded pixels, or -1 */
    int similar_to;          /* the nearest earlier image (not an exact duplicate) whose dHash is
                                within the threshold, or -1 */
    int similar_distance;    /* that dHash Hamming distance (0..64) */
    int similar_mirrored;    /* 1: near as each other's mirror image */
} vkti_inspect_image;

typedef struct vkti_inspect_skipped {
    const char *name;
    const char *reason;
} vkti_inspect_skipped;

#define VKTI_INSPECT_ASPECT_BINS 9

typedef struct vkti_inspect_report {
    const char *dir;
    int resolution, buckets;
    int image_count;
    vkti_inspect_image *images;      /* [image_count], in training order (file names sorted) */
    int skipped_count;
    vkti_inspect_skipped *skipped;   /* [skipped_count] */
    int caption_count, duplicate_count, similar_count, upscaled_count;
    int alpha_count, deep_count, oriented_count; /* with alpha, 16-bit, turned by EXIF */
    int format_count[3];             /* JPEG, PNG, BMP */
    int similar_threshold;           /* dHash Hamming distance counted as "near" (of 64 bits) */
    int min_w, max_w, min_h, max_h;  /* original sizes */
    int min_short, max_short;        /* shorter sides */
    double min_aspect, max_aspect;   /* width / height */
    int aspect_bins[VKTI_INSPECT_ASPECT_BINS]; /* images per nearest ratio, vkti_inspect_aspect_name */
    int sheet_pages;                 /* contact sheet files written */
    const char *const *sheet_files;  /* [sheet_pages] */
    int sheet_w, sheet_h;            /* size of the first page */
    int thumb;                       /* thumbnail size used */
} vkti_inspect_report;

/* What a path names, so the CLI can choose what to inspect. */
typedef enum vkti_path_kind {
    VKTI_PATH_NONE = 0,   /* nothing there (or unreadable) */
    VKTI_PATH_FILE = 1,   /* a regular file (a model or an embedding) */
    VKTI_PATH_FOLDER = 2  /* a directory (of images) */
} vkti_path_kind;
vkti_path_kind vkti_inspect_path_kind(const char *path);

/* Inspects the image folder dir (decoding every image once) and writes the contact sheet.
 * A folder without usable images still gives a report (image_count 0). */
int vkti_inspect_images(vkti_ctx *ctx, const char *dir, const vkti_inspect_options *options,
                        vkti_inspect_report **report);
void vkti_inspect_report_free(vkti_inspect_report *report);
/* "1:2-", "9:16", "2:3", "3:4", "1:1", "4:3", "3:2", "16:9", "2:1+" for bins 0..8. */
const char *vkti_inspect_aspect_name(int bin);

/* ---- embedding files (`vkti inspect EMBEDDING`): format, token(s), vectors, width and
 * model family, per-vector norms, metadata ------------------------------------------------- */

/* What an embedding file holds. Owned by the report (vkti_embedding_report_free). */
typedef struct vkti_embedding_report {
    const char *path;
    vkti_embedding_format format;    /* diffusers, kohya or a1111 */
    const char *container;           /* "safetensors" or "PyTorch" */
    const char *dtype;               /* how the file stores the vectors: "F32", "F16"... */
    const char *token;               /* the placeholder a prompt uses */
    int num_vectors;
    const char *const *tokens;       /* [num_vectors]: token, token_1, token_2... (diffusers' names) */
    int sets;                        /* 1; 2 for SDXL */
    const char *set_names[2];        /* "clip_l", "clip_g" for SDXL; NULL with one set */
    int width[2];                    /* of each set; width[1] is 0 with one set */
    const char *family;              /* "SD 1.x" (768), "SD 2.x" (1024), "SDXL" (768 + 1280), or NULL */
    const double *norms[2];          /* [num_vectors]: the L2 norm of each vector, per set */
    int has_step;
    int64_t step;                    /* training steps, when the file says */
    const char *sd_checkpoint;       /* the base model's short hash (A1111), or NULL */
    const char *sd_checkpoint_name;  /* the base model's name (A1111), or NULL */
    int meta_count;                  /* other metadata (safetensors) */
    const char *const *meta_keys;    /* [meta_count] */
    const char *const *meta_values;  /* [meta_count] */
} vkti_embedding_report;

/* Reads an embedding file (any format; see vkti/embedding.h) and describes it. */
int vkti_inspect_embedding(vkti_ctx *ctx, const char *path, vkti_embedding_report **report);
void vkti_embedding_report_free(vkti_embedding_report *report);

/* ---- models ------------------------------------------------------------------------------- */

typedef struct vkti_model_net_report {
    const char *name;        /* "unet", "text_encoder", "vae" */
    uint64_t params;         /* parameters (elements of every weight the network uses) */
    uint64_t bytes;          /* their size in the file */
    int tensors;
    const char *dtypes;      /* the file dtypes: "F16", or "F32 x180, F16 x28" when mixed */
    const char *files;       /* the weight file(s) */
    const char *config;      /* where the config came from */
    const char *summary;     /* the architecture in one line */
} vkti_model_net_report;

typedef struct vkti_model_report {
    const char *path;
    const char *family;          /* "SD 1.x" or "SD 2.x" */
    const char *family_reason;   /* how that was decided */
    const char *layout;          /* "diffusers folder", "single file (LDM layout, safetensors)", ... */
    vkti_model_net_report nets[3];
    uint64_t total_params;
    int unused_tensors;          /* tensors in the files no network uses (EMA copies, ...) */
    const char *prediction;      /* "epsilon" or "v_prediction" */
    const char *scheduler_class; /* "PNDMScheduler"..., "" when the config names none */
    const char *beta_schedule;   /* "scaled_linear"... */
    double beta_start, beta_end;
    int timesteps;
    const char *scheduler_source;/* its file, or which defaults and why */
    int tokenizer_found;
    const char *tokenizer;       /* its folder, or the message listing where it was looked for */
    const char *fingerprint;     /* 16 hex digits: identical weights give identical fingerprints */
    int note_count;
    const char *const *notes;    /* choices made while opening (fp16 variant skipped, ...) */
} vkti_model_report;

/* 1 when path looks like a model rather than images or an embedding file: a folder with
 * model_index.json or unet/config.json, a .ckpt, or a .safetensors / .pt / .pth / .bin whose
 * tensors are an original-layout (LDM) checkpoint's. */
int vkti_inspect_is_model(const char *path);
/* Opens the model (checking every tensor of every network) and describes it. tokenizer_dir:
 * --tokenizer, or NULL. A missing tokenizer is reported, not an error. */
int vkti_inspect_model(vkti_ctx *ctx, const char *path, const char *tokenizer_dir, vkti_model_report **report);
void vkti_model_report_free(vkti_model_report *report);

#ifdef __cplusplus
}
#endif
#endif
