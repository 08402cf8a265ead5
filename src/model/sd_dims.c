/* sd_dims.c — network dimensions from the diffusers configs (see sd_dims.h). */
#include "model/sd_dims.h"

#include <string.h>

int vkti_unet_dims_from_config(vkti_diag *d, const vkti_unet_config *c, vkti_unet_dims *o)
{
    memset(o, 0, sizeof *o);
    const int n = c->num_blocks;
    if (n > VKTI_UNET_MAX_BLOCKS)
        return vkti_fail(d, VKTI_E_FORMAT, "the unet has %d blocks (block_out_channels); vkti builds up to %d", n,
                         VKTI_UNET_MAX_BLOCKS);
    if (c->conv_in_kernel != 3 || c->conv_out_kernel != 3)
        return vkti_fail(d, VKTI_E_FORMAT, "the unet's conv_in_kernel / conv_out_kernel are %d / %d; vkti builds 3",
                         c->conv_in_kernel, c->conv_out_kernel);
    if (c->mid_block_scale_factor != 1.0)
        return vkti_fail(d, VKTI_E_FORMAT, "the unet's mid_block_scale_factor is %g; vkti builds 1",
                         c->mid_block_scale_factor);
    o->in_channels = c->in_channels;
    o->out_channels = c->out_channels;
    o->nblocks = n;
    for (int i = 0; i < n; i++) {
        o->channels[i] = c->block_out_channels[i];
        o->down_attn[i] = c->down_block_types[i] == VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D;
        o->up_attn[i] = c->up_block_types[i] == VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D;
        o->heads[i] = c->heads[i];
        o->depth[i] = c->transformer_layers_per_block[i];
        o->layers[i] = c->layers_per_block[i];
    }
    o->mid_attn = c->mid_block_type == VKTI_UNET_MID_CROSS_ATTN;
    o->cross_dim = c->cross_attention_dim;
    o->groups = c->norm_num_groups;
    o->eps = (float)c->norm_eps;
    o->linear_proj = c->use_linear_projection;
    o->flip_sin_to_cos = c->flip_sin_to_cos;
    o->freq_shift = (float)c->freq_shift;
    o->time_dim = c->time_embedding_dim;
    return VKTI_OK;
}

void vkti_clip_text_dims_from_config(const vkti_clip_text_config *c, vkti_clip_text_dims *o)
{
    memset(o, 0, sizeof *o);
    o->vocab = c->vocab_size;
    o->width = c->hidden_size;
    o->layers = c->num_hidden_layers;
    o->heads = c->num_attention_heads;
    o->mlp = c->intermediate_size;
    o->positions = c->max_position_embeddings;
    o->act = c->hidden_act == VKTI_CLIP_GELU ? VKTI_ACT_GELU : VKTI_ACT_QUICK_GELU;
    o->eps = (float)c->layer_norm_eps;
}

int vkti_vae_dims_from_config(vkti_diag *d, const vkti_vae_config *c, vkti_vae_dims *o)
{
    memset(o, 0, sizeof *o);
    if (c->num_blocks > VKTI_VAE_MAX_BLOCKS)
        return vkti_fail(d, VKTI_E_FORMAT, "the vae has %d blocks (block_out_channels); vkti builds up to %d",
                         c->num_blocks, VKTI_VAE_MAX_BLOCKS);
    o->in_channels = c->in_channels;
    o->out_channels = c->out_channels;
    o->latent = c->latent_channels;
    o->nblocks = c->num_blocks;
    for (int i = 0; i < c->num_blocks; i++)
        o->channels[i] = c->block_out_channels[i];
    o->layers_per_block = c->layers_per_block;
    o->groups = c->norm_num_groups;
    o->eps = 1e-6f; /* diffusers' Encoder / Decoder resnets and attention (not in the config) */
    o->use_quant_conv = c->use_quant_conv;
    o->use_post_quant_conv = c->use_post_quant_conv;
    o->mid_attn = c->mid_block_add_attention;
    o->scaling_factor = (float)c->scaling_factor;
    return VKTI_OK;
}
