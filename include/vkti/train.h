/* train.h — the public API of `vkti train`: run a textual-inversion training from a
 * configuration (train_config.h) and get a report of what it did and wrote. */
#ifndef VKTI_TRAIN_H
#define VKTI_TRAIN_H

#include <stdint.h>

#include "vkti/train_config.h"
#include "vkti/vkti.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VKTI_REPORT_PATH_MAX 4096

typedef struct vkti_train_report {
    int64_t start_step;          /* 0, or the step a --resume continued from */
    int64_t steps_done;          /* the step count reached */
    int interrupted;             /* stopped by Ctrl-C after saving */
    double seconds;              /* of the training loop */
    double steps_per_second;     /* optimizer steps per second over the loop */
    double samples_per_second;
    uint64_t peak_device_bytes;  /* device memory held at most (all arenas) */
    int64_t nonfinite_steps;     /* steps skipped because the loss or gradient was not finite */
    int64_t overflow_steps;      /* fp16 steps skipped by the loss scaler (not counted above) */
    double first_val_loss, last_val_loss; /* the deterministic validation loss (NaN if never run) */
    double last_loss;            /* smoothed training loss at the end */
    int images, latents;         /* training images, cached latent distributions */
    char embedding[VKTI_REPORT_PATH_MAX];   /* the final embedding (diffusers format) */
    char embedding_kohya[VKTI_REPORT_PATH_MAX];
    char embedding_a1111[VKTI_REPORT_PATH_MAX];
    char loss_curve[VKTI_REPORT_PATH_MAX];
    char metrics[VKTI_REPORT_PATH_MAX];
    char checkpoint[VKTI_REPORT_PATH_MAX];
    char tensorboard[VKTI_REPORT_PATH_MAX];
} vkti_train_report;

/* Trains. The device comes from cfg->device and cfg->precision (the context's options are
 * overridden by the configuration). Progress is logged at INFO through the context's log. */
int vkti_train(vkti_ctx *ctx, const vkti_train_config *cfg, vkti_train_report *report);

#ifdef __cplusplus
}
#endif
#endif
