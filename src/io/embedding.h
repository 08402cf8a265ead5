/* embedding.h — a textual-inversion embedding in memory and its files (the formats are described
 * in include/vkti/embedding.h): read from safetensors or torch.save archives, found by content;
 * written as diffusers or kohya safetensors or as an AUTOMATIC1111 .pt.
 *
 * Reading treats the file as hostile: one clear message for each way it can be wrong — not an
 * embedding layout (several tensors where one belongs, no tensors), a dtype that is not floating
 * point, a rank other than 1 or 2, no vectors or more than VKTI_EMB_MAX_VECTORS, a width of 0 or
 * past VKTI_EMB_MAX_WIDTH, SDXL halves with different vector counts, a NaN or infinity, a token
 * that is empty, too long or holds control characters. F16, BF16 and F64 files are read (F16 and
 * BF16 exactly; F64 rounded to F32, as every tool that loads them does). Vectors are F32 in
 * memory and F32 in every file vkti writes; a round trip keeps them bit for bit. */
#ifndef VKTI_IO_EMBEDDING_H
#define VKTI_IO_EMBEDDING_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"
#include "io/io_tensor.h"
#include "vkti/embedding.h"

#define VKTI_EMB_MAX_VECTORS 75       /* CLIP's 77 positions less BOS and EOS: no prompt uses more */
#define VKTI_EMB_MAX_WIDTH 16384      /* SD: 768 (1.x), 1024 (2.x), 768 + 1280 (SDXL) */
#define VKTI_EMB_MAX_TOKEN 256        /* bytes */
#define VKTI_EMB_MAX_FILE (64u << 20) /* an embedding is under 1 MiB; past this it is something else */
#define VKTI_EMB_MAX_META 256         /* metadata pairs kept */

typedef enum vkti_emb_container {
    VKTI_EMB_SAFETENSORS = 0,
    VKTI_EMB_TORCH = 1 /* a torch.save zip archive */
} vkti_emb_container;

typedef struct vkti_emb_meta {
    char *key, *value;
} vkti_emb_meta;

typedef struct vkti_embedding {
    char *token;              /* the placeholder, "<my-cat>"; vector i > 0 is "<my-cat>_i" */
    int num_vectors;          /* n */
    int sets;                 /* 1; 2 for SDXL (set 0: clip_l, set 1: clip_g) */
    int width[2];             /* of each set; width[1] is 0 with one set */
    float *vec[2];            /* vec[s] is [n, width[s]] */
    int has_step;
    int64_t step;             /* training steps (A1111's "step") */
    char *sd_checkpoint;      /* A1111: the base model's short hash; NULL if unknown */
    char *sd_checkpoint_name; /* A1111: the base model's name; NULL if unknown */
    vkti_emb_meta *meta;      /* other safetensors metadata, in file order */
    size_t meta_count;
    /* as read (the readers set these; a new embedding has diffusers, safetensors, F32) */
    vkti_embedding_format format;
    vkti_emb_container container;
    vkti_io_dtype dtype;      /* of the file's vectors */
} vkti_embedding;

/* A new embedding of n zero vectors of width0 (and width1 for SDXL: width1 > 0) for token. */
int vkti_embedding_alloc(vkti_diag *d, vkti_embedding *e, const char *token, int n, int width0, int width1);
void vkti_embedding_free(vkti_embedding *e);
/* Replaces *field (token, sd_checkpoint...) with a copy of s (NULL clears it). */
int vkti_embedding_set_string(vkti_diag *d, char **field, const char *s);
/* Appends a metadata pair (copied). */
int vkti_embedding_add_meta(vkti_diag *d, vkti_embedding *e, const char *key, const char *value);

/* Checks what every file needs (token, counts, widths, finite values); what names the embedding
 * in messages (a file name). */
int vkti_embedding_check(vkti_diag *d, const vkti_embedding *e, const char *what);
/* Checks a token given by the user (--token): as a file's token, and no spaces at either end. */
int vkti_embedding_check_token(vkti_diag *d, const char *token);
/* The token of vector i: the token for 0, "<token>_i" after it (diffusers' names). */
void vkti_embedding_vector_token(const vkti_embedding *e, int i, char *buf, size_t cap);
/* "SD 1.x", "SD 2.x", "SDXL" from the widths, or NULL when no Stable Diffusion model has them. */
const char *vkti_embedding_family(const vkti_embedding *e);
/* "safetensors" or "PyTorch" */
const char *vkti_embedding_container_name(vkti_emb_container c);

/* Reads an embedding file, whatever its format and container. On failure *e is empty. */
int vkti_embedding_read(vkti_diag *d, vkti_embedding *e, const char *path);
/* The same over bytes in memory (name: the file name, for messages and a fallback token). */
int vkti_embedding_parse(vkti_diag *d, vkti_embedding *e, const char *name, const uint8_t *data, size_t size);
/* 1 if the bytes hold an embedding's layout (see vkti_embedding_probe), else 0. */
int vkti_embedding_detect(const uint8_t *data, size_t size);

/* The bytes of the file for format (diffusers and kohya: safetensors; a1111: a torch.save archive).
 * SDXL embeddings are written only as kohya ({"clip_l", "clip_g"}); the others have no place
 * for two sets. *out: free() it. */
int vkti_embedding_serialize(vkti_diag *d, const vkti_embedding *e, vkti_embedding_format format, uint8_t **out,
                             size_t *size);
/* Serializes and writes path atomically. */
int vkti_embedding_write(vkti_diag *d, const vkti_embedding *e, vkti_embedding_format format, const char *path);

#endif
