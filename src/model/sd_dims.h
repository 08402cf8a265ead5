/* sd_dims.h — the networks' dimensions (clip_text.h, unet.h, vae.h) from the model's configs
 * (io/sd_config.h, as io/model_files.h opens them). What a config can say and a network builder
 * cannot build is refused here with the key named: more blocks than the builders hold, other
 * conv_in / conv_out kernels, a mid-block output scale. */
#ifndef VKTI_MODEL_SD_DIMS_H
#define VKTI_MODEL_SD_DIMS_H

#include "io/sd_config.h"
#include "model/clip_text.h"
#include "model/unet.h"
#include "model/vae.h"

int vkti_unet_dims_from_config(vkti_diag *d, const vkti_unet_config *c, vkti_unet_dims *out);
void vkti_clip_text_dims_from_config(const vkti_clip_text_config *c, vkti_clip_text_dims *out);
int vkti_vae_dims_from_config(vkti_diag *d, const vkti_vae_config *c, vkti_vae_dims *out);

#endif
