/* embedding.h — the public API for textual-inversion embedding files: the formats other tools
 * load, and conversion between them (`vkti convert`). Inspection is in vkti/inspect.h.
 *
 * Formats (each read from either container, found by content, not by the file's name):
 *   diffusers  learned_embeds.safetensors: one tensor named after the token, F32 [n, width]
 *              (several vectors are the tokens <tok>, <tok>_1, ... <tok>_{n-1}); a PyTorch
 *              learned_embeds.bin of the same dict is read too.
 *   kohya      kohya sd-scripts / ComfyUI: {"emb_params": [n, width]}, or for SDXL
 *              {"clip_l": [n, 768], "clip_g": [n, 1280]}; the token is the "name" metadata
 *              when there is one, else the file's name (as AUTOMATIC1111 and ComfyUI use it).
 *   a1111      AUTOMATIC1111 .pt (a torch.save archive): string_to_param {"*": [n, width]},
 *              string_to_token {"*": 265}, name (the token), step, sd_checkpoint (the base
 *              model's short hash), sd_checkpoint_name.
 * vkti writes diffusers and kohya as .safetensors and a1111 as .pt. Safetensors metadata keeps
 * A1111's fields under their own names ("name", "step", "sd_checkpoint", "sd_checkpoint_name"),
 * so a conversion round trip loses nothing; other metadata of a safetensors input is kept in a
 * safetensors output and reported as dropped for a .pt one. */
#ifndef VKTI_EMBEDDING_H
#define VKTI_EMBEDDING_H

#include "vkti/vkti.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vkti_embedding_format {
    VKTI_EMBEDDING_AUTO = 0,  /* for conversion: from the output file's extension */
    VKTI_EMBEDDING_DIFFUSERS = 1,
    VKTI_EMBEDDING_KOHYA = 2,
    VKTI_EMBEDDING_A1111 = 3
} vkti_embedding_format;

/* "diffusers", "kohya", "a1111" ("auto" for VKTI_EMBEDDING_AUTO) */
const char *vkti_embedding_format_name(vkti_embedding_format format);
/* From those names; VKTI_E_INVALID for any other. */
int vkti_embedding_format_parse(const char *name, vkti_embedding_format *out);

/* 1 if path is a file laid out like an embedding (one small tensor, emb_params, clip_l + clip_g,
 * or an AUTOMATIC1111 dict), else 0. Checks the layout only: reading it may still fail with a
 * precise message (a NaN, a wrong dtype...). */
int vkti_embedding_probe(const char *path);

typedef struct vkti_convert_options {
    vkti_embedding_format format; /* VKTI_EMBEDDING_AUTO: .pt -> a1111, .safetensors -> diffusers */
    const char *token;            /* NULL: keep the input's token */
} vkti_convert_options;

/* What a conversion did. Owned by the report (vkti_convert_report_free). */
typedef struct vkti_convert_report {
    vkti_embedding_format from, to;
    const char *from_container;  /* "safetensors" or "PyTorch" */
    const char *token;
    int num_vectors;
    int width[2];                /* width[1] is 0 unless SDXL (clip_l, clip_g) */
    int dropped_count;           /* metadata the output format has no place for */
    const char *const *dropped;  /* [dropped_count] keys */
} vkti_convert_report;

/* Reads the embedding at in and writes it to out in another format (atomically: out is complete
 * or untouched). Refuses to write over in. */
int vkti_embedding_convert(vkti_ctx *ctx, const char *in, const char *out, const vkti_convert_options *options,
                           vkti_convert_report **report);
void vkti_convert_report_free(vkti_convert_report *report);

#ifdef __cplusplus
}
#endif
#endif
