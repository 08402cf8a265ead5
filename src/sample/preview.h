/* preview.h — a training preview: images of a fixed prompt and seed from the networks as they are
 * at a step (txt2img.h), laid out in a grid with a caption (grid.h), as PNG bytes carrying
 * AUTOMATIC1111's parameters text (infotext.h). The trainer writes the PNG (e.g.
 * previews/step-000500.png) and hands the same bytes to TensorBoard (train/metrics.h:
 * vkti_metrics_image(d, m, "preview", step, png, size, width, height, 3)). */
#ifndef VKTI_SAMPLE_PREVIEW_H
#define VKTI_SAMPLE_PREVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "sample/txt2img.h"

typedef struct vkti_preview {
    uint8_t *png;         /* malloc'd */
    size_t png_size;
    int width, height;    /* of the grid */
    int images;
    double seconds;
} vkti_preview;

/* Renders p (p->batch images, seeds p->seed ..) at training step `step`; model names the base
 * model in the parameters text (may be NULL). As txt2img: recordings the caller made with the
 * networks must be recorded again afterwards. */
int vkti_preview_render(vkti_diag *d, const vkti_sd_nets *n, const vkti_txt2img_params *p, int64_t step,
                        const char *model, vkti_preview *out);
void vkti_preview_free(vkti_preview *pv);

#endif
