/* pipeline.c — opening a model for sampling (see pipeline.h). */
#include "sample/pipeline.h"

#include <string.h>

int vkti_sd_pipeline_open(vkti_diag *d, vkti_sd_pipeline *p, const char *path, const char *tokenizer_dir)
{
    memset(p, 0, sizeof *p);
    int rc = vkti_model_open(d, &p->model, path, tokenizer_dir);
    if (rc)
        return rc;
    p->opened = 1;
    const char *dir = NULL, *src = p->model.scheduler_source ? p->model.scheduler_source : "scheduler_config.json";
    if ((rc = vkti_model_tokenizer_dir(d, &p->model, &dir)) || (rc = vkti_tokenizer_load(d, dir, &p->tok)) ||
        (p->model.tokenizer.needs_sd2_pad && (rc = vkti_tokenizer_set_pad_token(d, p->tok, "!"))) ||
        (rc = vkti_noise_schedule_from_json(d, &p->schedule, p->model.scheduler_json, p->model.scheduler_json_len, src,
                                            VKTI_LINSPACE_FUSED)) ||
        (rc = vkti_sampling_config_parse(d, &p->sampling, p->model.scheduler_json, p->model.scheduler_json_len, src))) {
        vkti_sd_pipeline_close(p);
        return rc;
    }
    vkti_clip_text_dims_from_config(&p->model.text_encoder, &p->te_dims);
    if ((rc = vkti_unet_dims_from_config(d, &p->model.unet, &p->unet_dims)) ||
        (rc = vkti_vae_dims_from_config(d, &p->model.vae, &p->vae_dims))) {
        vkti_sd_pipeline_close(p);
        return rc;
    }
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++) {
        p->net[c] = (vkti_model_net){&p->model, (vkti_sd_component)c};
        p->src[c] = (vkti_weight_source){vkti_model_weight_get, &p->net[c]};
    }
    return VKTI_OK;
}

int vkti_sd_pipeline_load(vkti_diag *d, vkti_sd_pipeline *p, vkti_gpu *g, vkti_dtype dtype)
{
    int rc;
    if ((rc = vkti_clip_text_create(&p->te, g, &p->te_dims, &p->src[VKTI_SD_TEXT_ENCODER], dtype)) ||
        (rc = vkti_unet_create(&p->unet, g, &p->unet_dims, &p->src[VKTI_SD_UNET], dtype)) ||
        (rc = vkti_vae_create(&p->vae, g, &p->vae_dims, &p->src[VKTI_SD_VAE], dtype, VKTI_VAE_DECODER)))
        return vkti_fail_wrap(d, rc, "loading %s: ", p->model.path);
    p->nets = (vkti_sd_nets){
        .g = g,
        .dtype = dtype,
        .te = p->te,
        .unet = p->unet,
        .unet_dims = &p->unet_dims,
        .vae = p->vae,
        .tok = p->tok,
        .schedule = &p->schedule,
        .sampling = &p->sampling,
    };
    return VKTI_OK;
}

void vkti_sd_pipeline_drop_sampling(vkti_sd_pipeline *p)
{
    vkti_clip_text_free(p->te);
    vkti_unet_free(p->unet);
    p->te = NULL;
    p->unet = NULL;
    p->nets.te = NULL;
    p->nets.unet = NULL;
}

void vkti_sd_pipeline_close(vkti_sd_pipeline *p)
{
    vkti_sd_pipeline_drop_sampling(p);
    vkti_vae_free(p->vae);
    vkti_tokenizer_free(p->tok);
    vkti_noise_schedule_free(&p->schedule);
    if (p->opened)
        vkti_model_close(&p->model);
    memset(p, 0, sizeof *p);
}
