/* sd_tensors.h — every tensor a Stable Diffusion network's config implies: its diffusers name and
 * shape (PyTorch's: linear weights [out, in], conv weights [out, in, kh, kw]), and where the same
 * tensor is in an original single-file (LDM / CompVis) checkpoint. The model loader checks each
 * file against these tables (a missing tensor or a wrong shape is an error naming both), the
 * network builders look weights up by the diffusers names, and the tiny-model generator writes
 * from them, so all three agree by construction.
 *
 * The LDM names follow diffusers' single_file_utils.py (convert_ldm_unet_checkpoint,
 * convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint, convert_open_clip_checkpoint):
 *   UNet   model.diffusion_model.: input_blocks.0.0 = conv_in; down block b's layer l is
 *          input_blocks.k.0 (resnet: in_layers.0/2 = norm1/conv1, emb_layers.1 = time_emb_proj,
 *          out_layers.0/3 = norm2/conv2, skip_connection = conv_shortcut) and input_blocks.k.1
 *          (transformer, same names inside), k counting from 1 over every layer and downsampler
 *          (input_blocks.k.0.op); middle_block.0/1/2; up block i's layer l is output_blocks.k.0 / .1,
 *          its upsampler output_blocks.k.1.conv (.2.conv after a transformer); time_embed.0/2,
 *          out.0 / out.2 = conv_norm_out / conv_out.
 *   VAE    first_stage_model.: encoder.down.i.block.j, .downsample.conv; mid.block_1/attn_1/block_2
 *          (attention: norm, q, k, v, proj_out as 1x1 convs [C, C, 1, 1], viewed as [C, C]);
 *          decoder.up.(n-1-i) for diffusers' up block i; norm_out; nin_shortcut = conv_shortcut.
 *   CLIP   SD 1.x cond_stage_model.transformer. + the transformers name.
 *          SD 2.x cond_stage_model.model. (OpenCLIP): token_embedding.weight, positional_embedding,
 *          transformer.resblocks.i.{ln_1, attn.in_proj_weight/bias (q, k, v stacked: [3D, D]),
 *          attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_final. The checkpoint has one resblock
 *          more than the diffusers encoder (SD 2.x takes the penultimate layer), and a
 *          text_projection and logit_scale the text encoder does not use. */
#ifndef VKTI_IO_SD_TENSORS_H
#define VKTI_IO_SD_TENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "io/sd_config.h"

#define VKTI_SD_NAME_MAX 128

/* How the diffusers tensor is found in the LDM file's tensor named ldm. */
typedef enum vkti_ldm_op {
    VKTI_LDM_SAME = 0,    /* the same shape */
    VKTI_LDM_SQUEEZE = 1, /* the file has [a, b, 1, 1] (a 1x1 conv) for the [a, b] linear weight;
                             files that already hold [a, b] are accepted too */
    VKTI_LDM_QKV = 2      /* rows [part * n, (part + 1) * n) of a fused [3n, ...] tensor */
} vkti_ldm_op;

typedef struct vkti_sd_tensor {
    char name[VKTI_SD_NAME_MAX];   /* diffusers name: "down_blocks.0.resnets.0.conv1.weight" */
    int ndim;
    int64_t shape[4];
    char ldm[VKTI_SD_NAME_MAX];    /* name in an LDM single file, with its prefix */
    uint8_t ldm_op;                /* vkti_ldm_op */
    uint8_t ldm_part;              /* VKTI_LDM_QKV: 0 q, 1 k, 2 v */
} vkti_sd_tensor;

/* A table in the order diffusers' modules register their parameters. */
typedef struct vkti_sd_table {
    vkti_sd_tensor *t;
    size_t count, cap;
} vkti_sd_table;

/* The configs must have passed their check (sd_config.h). Only VKTI_E_OOM can fail. */
int vkti_sd_unet_tensors(vkti_diag *d, const vkti_unet_config *c, vkti_sd_table *out);
/* family decides the LDM names: SD 1.x CLIP or SD 2.x OpenCLIP. */
int vkti_sd_text_tensors(vkti_diag *d, const vkti_clip_text_config *c, vkti_sd_family family, vkti_sd_table *out);
int vkti_sd_vae_tensors(vkti_diag *d, const vkti_vae_config *c, vkti_sd_table *out);
void vkti_sd_table_free(vkti_sd_table *t);

/* Sum of the elements of every tensor (the network's parameter count). */
uint64_t vkti_sd_table_params(const vkti_sd_table *t);
/* The entry named name (diffusers), or NULL. Linear search. */
const vkti_sd_tensor *vkti_sd_table_find(const vkti_sd_table *t, const char *name);
/* The shape the LDM file holds for an entry (ldm_shape[4], returns ndim): SQUEEZE [a, b, 1, 1],
 * QKV [3n, ...], else the entry's shape. */
int vkti_sd_ldm_shape(const vkti_sd_tensor *e, int64_t *ldm_shape);
/* "[320, 4, 3, 3]" */
char *vkti_sd_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

#endif
