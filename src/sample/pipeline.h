/* pipeline.h — a Stable Diffusion model opened for sampling: its files (io/model_files.h), the
 * CLIP tokenizer it goes with, the noise schedule and the sampling keys of its
 * scheduler_config.json, and the three networks on the device (dimensions from model/sd_dims.h,
 * weights read in place from the mapped files). `vkti generate` and the tests open models this way;
 * txt2img.h runs them. */
#ifndef VKTI_SAMPLE_PIPELINE_H
#define VKTI_SAMPLE_PIPELINE_H

#include "io/model_files.h"
#include "model/sd_dims.h"
#include "sample/txt2img.h"

typedef struct vkti_sd_pipeline {
    vkti_model model;
    vkti_tokenizer *tok;
    vkti_noise_schedule schedule;
    vkti_sampling_config sampling;
    vkti_clip_text_dims te_dims;
    vkti_unet_dims unet_dims;
    vkti_vae_dims vae_dims;
    vkti_clip_text *te;
    vkti_unet *unet;
    vkti_vae *vae;
    vkti_model_net net[VKTI_SD_COMPONENTS];
    vkti_weight_source src[VKTI_SD_COMPONENTS];
    vkti_sd_nets nets;                   /* for txt2img.h, after vkti_sd_pipeline_load */
    int opened;
} vkti_sd_pipeline;

/* Opens the files, the tokenizer (tokenizer_dir: --tokenizer, or NULL to look beside the model and
 * in the Hugging Face cache), the schedule and the sampling config; nothing goes to the device. */
int vkti_sd_pipeline_open(vkti_diag *d, vkti_sd_pipeline *p, const char *path, const char *tokenizer_dir);
/* Creates the text encoder, the UNet and the VAE decoder on the device with storage dtype. */
int vkti_sd_pipeline_load(vkti_diag *d, vkti_sd_pipeline *p, vkti_gpu *g, vkti_dtype dtype);
/* Frees the text encoder and the UNet (their weights and activations): before the decode, when
 * memory is short. */
void vkti_sd_pipeline_drop_sampling(vkti_sd_pipeline *p);
void vkti_sd_pipeline_close(vkti_sd_pipeline *p);

#endif
