/* preview.c — a training preview as one PNG grid (see preview.h). */
#include "sample/preview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/image.h"
#include "sample/grid.h"
#include "sample/infotext.h"

void vkti_preview_free(vkti_preview *pv)
{
    free(pv->png);
    memset(pv, 0, sizeof *pv);
}

int vkti_preview_render(vkti_diag *d, const vkti_sd_nets *n, const vkti_txt2img_params *p, int64_t step,
                        const char *model, vkti_preview *out)
{
    memset(out, 0, sizeof *out);
    double t0 = vkti_now();
    vkti_txt2img_result r;
    int rc = vkti_txt2img(d, n, p, &r);
    if (rc)
        return rc;
    char caption[1024];
    snprintf(caption, sizeof caption, "step %lld, seed %llu, %s, %d steps, CFG %.10g: %s", (long long)step,
             (unsigned long long)p->seed, vkti_sampler_a1111_name(p->sampler, p->karras), p->steps, p->cfg, p->prompt);
    vkti_canvas cv = {0};
    char version[64];
    snprintf(version, sizeof version, "vkti %s", vkti_version());
    vkti_infotext it = {
        .prompt = p->prompt, .negative = p->negative, .steps = p->steps,
        .sampler = vkti_sampler_a1111_name(p->sampler, p->karras), .cfg = p->cfg, .seed = p->seed,
        .width = p->width, .height = p->height, .model = model, .eta = p->eta, .batch_size = p->batch,
        .batch_pos = 0, .version = version,
    };
    char *params = vkti_infotext_format(&it);
    if (!params)
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
    if (rc == VKTI_OK)
        rc = vkti_grid_make(d, &cv, r.rgb, p->batch, p->width, p->height, 0, caption);
    if (rc == VKTI_OK) {
        vkti_png_text txt = {"parameters", params};
        rc = vkti_png_encode(d, &out->png, &out->png_size, cv.rgb, cv.w, cv.h, 3, &txt, 1);
    }
    if (rc == VKTI_OK) {
        out->width = cv.w;
        out->height = cv.h;
        out->images = p->batch;
        out->seconds = vkti_now() - t0;
    }
    vkti_canvas_free(&cv);
    free(params);
    vkti_txt2img_result_free(&r);
    return rc;
}
