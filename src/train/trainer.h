/* trainer.h — `vkti train`: textual inversion end to end, from a configuration to embedding
 * files. The public entry point is vkti_train (include/vkti/train.h), which opens the device and
 * calls vkti_trainer_run. */
#ifndef VKTI_TRAIN_TRAINER_H
#define VKTI_TRAIN_TRAINER_H

#include "gpu/gpu.h"
#include "vkti/train.h"
#include "vkti/train_config.h"

/* Runs the whole training described by cfg (already checked by vkti_train_config_finish) on g.
 * Fills *report as far as it got, also on failure. progress (may be NULL) receives a status line
 * up to ten times a second; without it the line is logged every 10 s. force_recompute (tests):
 * recompute the UNet's attention blocks in the backward as --max-vram does when over budget,
 * whatever the budget. */
int vkti_trainer_run(vkti_gpu *g, vkti_diag *d, const vkti_train_config *cfg, vkti_train_report *report,
                     vkti_progress_fn progress, void *progress_user, int force_recompute);

#endif
