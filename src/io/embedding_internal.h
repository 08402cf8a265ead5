/* embedding_internal.h — what embedding.c (the model, checks, layouts, safetensors) and
 * embedding_pt.c (torch.save archives) share. */
#ifndef VKTI_IO_EMBEDDING_INTERNAL_H
#define VKTI_IO_EMBEDDING_INTERNAL_H

#include "io/embedding.h"

/* embedding_pt.c: the torch.save side. */
int vkti__embedding_parse_torch(vkti_diag *d, vkti_embedding *e, const char *name, const uint8_t *data, size_t size);
int vkti__embedding_serialize_a1111(vkti_diag *d, const vkti_embedding *e, uint8_t **out, size_t *size);
int vkti__embedding_detect_torch(const uint8_t *data, size_t size);
/* From the tensors of a dict (names set): picks the layout (diffusers: one tensor named for the
 * token; kohya: emb_params, or clip_l + clip_g) and loads the vectors into *e; for kohya the
 * caller sets the token afterwards. */
int vkti__embedding_from_tensors(vkti_diag *d, vkti_embedding *e, const char *name, const vkti_io_tensor *t,
                                 size_t count);
/* Which layout the tensors have (VKTI_EMBEDDING_DIFFUSERS or _KOHYA), or 0 if none. */
int vkti__embedding_layout(const vkti_io_tensor *t, size_t count);
/* Loads one tensor as vector set s (checks dtype, rank, counts, values). */
int vkti__embedding_load_set(vkti_diag *d, vkti_embedding *e, const char *name, const vkti_io_tensor *t, int set);
/* The file name without folders and extension (the token A1111 and ComfyUI would use). */
void vkti__embedding_stem(const char *path, char *buf, size_t cap);

#endif
