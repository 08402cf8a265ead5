/* test_inspect.c — the public inspect API (vkti/inspect.h): exact duplicates across formats,
 * near duplicates (re-encoded, resized, mirrored), distinct images left alone, captions,
 * statistics, skipped files; the contact sheet's dimensions and that its cells hold exactly
 * the training pixels; paging past 100 images; refusals (sheet inside the data folder, not
 * .png); an empty folder; path kinds. */
#include <math.h>

#include "unit_util.h"

#include <stb_image.h>

#include "train/dataset.h"
#include "vkti/inspect.h"

/* a picture with structure: a bright disc on a gradient, shifted by `seed` */
static uint8_t *scene(int w, int h, int seed)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    uint32_t s = (uint32_t)seed * 7919u + 1;
    double cx = w * (0.3 + 0.4 * (urand(&s) % 100) / 100.0), cy = h * (0.3 + 0.4 * (urand(&s) % 100) / 100.0);
    double r = (w < h ? w : h) * 0.25;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            int in = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;
            q[0] = (uint8_t)(in ? 240 : x * 200 / w);
            q[1] = (uint8_t)(in ? 220 : y * 200 / h);
            q[2] = (uint8_t)(in ? 40 : (seed * 37) % 200);
        }
    return p;
}

static void put_image(const char *dir, const char *name, const char *fmt, const uint8_t *px, int w, int h)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ubuf b = encode_stb(fmt, px, w, h, 3);
    write_file(path, b.p, b.n);
    free(b.p);
}

static void put_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, text, strlen(text));
}

int main(void)
{
    vkti_ctx *ctx = NULL;
    vkti_ctx_init(&ctx, NULL);
    vkti_diag d = {0};
    char root[512], dir[600], sheet[700];
    scratch_dir(root, sizeof root, "inspect");
    snprintf(dir, sizeof dir, "%s/data", root);
    vkti_mkdir_p(&d, dir);

    int w = 72, h = 48;
    uint8_t *a = scene(w, h, 1), *e = scene(w, h, 5), *mir = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(mir + ((size_t)y * w + x) * 3, a + ((size_t)y * w + (w - 1 - x)) * 3, 3);
    uint8_t *half = malloc((size_t)(w / 2) * (h / 2) * 3); /* a at half size, box-averaged */
    for (int y = 0; y < h / 2; y++)
        for (int x = 0; x < w / 2; x++)
            for (int k = 0; k < 3; k++) {
                int s = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        s += a[((size_t)(2 * y + dy) * w + 2 * x + dx) * 3 + k];
                half[((size_t)y * (w / 2) + x) * 3 + k] = (uint8_t)((s + 2) / 4);
            }
    put_image(dir, "a.png", "png", a, w, h);
    put_image(dir, "b.bmp", "bmp", a, w, h);      /* same pixels as a */
    put_image(dir, "c.jpg", "jpg", a, w, h);      /* a, re-encoded */
    put_image(dir, "d.png", "png", mir, w, h);    /* a, mirrored */
    put_image(dir, "e.png", "png", e, h, w);      /* something else (and portrait) */
    put_image(dir, "f.png", "png", half, w / 2, h / 2);
    put_text(dir, "e.txt", "a photo of <thing>\n");
    put_text(dir, "readme.md", "hello\n");

    snprintf(sheet, sizeof sheet, "%s/sheet.png", root);
    vkti_inspect_options o = {.resolution = 32, .thumb = 32, .sheet_path = sheet};
    vkti_inspect_report *r = NULL;
    int rc = vkti_inspect_images(ctx, dir, &o, &r);
    CHECK(rc == VKTI_OK && r, "inspect: %s", vkti_ctx_message(ctx));
    if (!r)
        return 1;
    CHECK(r->image_count == 6 && !strcmp(r->images[0].name, "a.png") && !strcmp(r->images[4].name, "e.png"),
          "6 images (%d)", r->image_count);
    const vkti_inspect_image *im = r->images;
    CHECK(im[0].duplicate_of == -1 && im[0].similar_to == -1, "a is first");
    CHECK(im[1].duplicate_of == 0, "b.bmp has a's pixels (duplicate_of %d)", im[1].duplicate_of);
    CHECK(im[2].duplicate_of == -1 && im[2].similar_to == 0 && im[2].similar_distance <= 4 && !im[2].similar_mirrored,
          "c.jpg looks like a (to %d, distance %d)", im[2].similar_to, im[2].similar_distance);
    CHECK(im[3].duplicate_of == -1 && im[3].similar_to >= 0 && im[3].similar_mirrored &&
              im[3].similar_distance <= 2,
          "d.png is a mirrored (to %d, distance %d, mirrored %d)", im[3].similar_to, im[3].similar_distance,
          im[3].similar_mirrored);
    CHECK(im[4].duplicate_of == -1 && im[4].similar_to == -1, "e.png is different (similar_to %d, distance %d)",
          im[4].similar_to, im[4].similar_distance);
    CHECK(im[5].similar_to >= 0 && im[5].similar_to != 4 && im[5].duplicate_of == -1, "half-size a looks like a (%d)",
          im[5].similar_to);
    CHECK(r->duplicate_count == 1 && r->similar_count == 3, "counts: %d exact, %d near", r->duplicate_count,
          r->similar_count);
    CHECK(r->caption_count == 1 && im[4].caption && !strcmp(im[4].caption, "a photo of <thing>"), "caption");
    CHECK(r->skipped_count == 1 && !strcmp(r->skipped[0].name, "readme.md"), "skipped");
    CHECK(r->min_w == 36 && r->max_w == 72 && r->min_h == 24 && r->max_h == 72 && r->min_short == 24 &&
              r->max_short == 48,
          "sizes %d..%d x %d..%d", r->min_w, r->max_w, r->min_h, r->max_h);
    CHECK(fabs(r->min_aspect - 48.0 / 72) < 1e-9 && fabs(r->max_aspect - 1.5) < 1e-9 && r->aspect_bins[6] == 5 &&
              r->aspect_bins[2] == 1,
          "aspects %g..%g", r->min_aspect, r->max_aspect);
    CHECK(r->format_count[0] == 1 && r->format_count[1] == 4 && r->format_count[2] == 1 && r->upscaled_count == 1 &&
              im[5].upscaled,
          "formats %d %d %d, upscaled %d", r->format_count[0], r->format_count[1], r->format_count[2],
          r->upscaled_count);
    CHECK(im[0].target_w == 32 && im[0].target_h == 32, "target size");

    /* the sheet: 6 cells in 3 columns, 2 rows; it decodes to the reported size */
    CHECK(r->sheet_pages == 1 && !strcmp(r->sheet_files[0], sheet) && r->thumb == 32, "one page");
    int sw = 0, sh = 0, sc = 0;
    uint8_t *px = stbi_load(sheet, &sw, &sh, &sc, 3);
    CHECK(px && sw == r->sheet_w && sh == r->sheet_h, "sheet %dx%d, reported %dx%d", sw, sh, r->sheet_w, r->sheet_h);
    int cell_w = 32 + 10, cell_h = 32 + 24 + 10;
    CHECK(r->sheet_w == (10 + 3 * cell_w < 320 ? 320 : 10 + 3 * cell_w), "sheet width %d", r->sheet_w);
    int header = r->sheet_h - 2 * cell_h - 10;
    CHECK(header >= 30 && header < 100, "header %d", header);
    /* each cell holds exactly the training view (thumb == resolution: no shrinking) */
    vkti_dataset *ds = NULL;
    vkti_dataset_options dopt = {.resolution = 32};
    vkti_dataset_open(&d, &ds, dir, &dopt);
    int exact = px && ds && ds->count == 6;
    for (int k = 0; exact && k < 6; k++) {
        vkti_image fit;
        vkti_dataset_fit(&d, ds, k, VKTI_CROP_MIDDLE, &fit);
        int x0 = 10 + (k % 3) * cell_w, y0 = header + (k / 3) * cell_h;
        for (int y = 0; y < 32 && exact; y++)
            exact = !memcmp(px + ((size_t)(y0 + y) * sw + x0) * 3, fit.data + (size_t)y * 32 * 3, 32 * 3);
        vkti_image_free(&fit);
    }
    CHECK(exact, "sheet cells hold the training pixels");
    vkti_dataset_free(ds);
    stbi_image_free(px);
    /* the sheet carries a Software text chunk */
    uint8_t *file = NULL;
    size_t fn = 0;
    char *sw_text = NULL;
    vkti_file_read(&d, sheet, 64 << 20, &file, &fn);
    CHECK(file && vkti_png_read_text(&d, file, fn, "Software", &sw_text) == VKTI_OK && strstr(sw_text, "inspect"),
          "Software chunk");
    free(sw_text);
    free(file);
    vkti_inspect_report_free(r);

    /* default thumbnail: the resolution up to 256; buckets keep the aspect */
    o = (vkti_inspect_options){.resolution = 64, .buckets = 1, .sheet_path = sheet};
    rc = vkti_inspect_images(ctx, dir, &o, &r);
    /* 3:2 at 64 (step 8): 80x48 (5:3) is closer than 72x56 (9:7) */
    CHECK(rc == VKTI_OK && r->thumb == 64 && r->images[0].target_w == 80 && r->images[0].target_h == 48 &&
              r->images[4].target_w == 48 && r->images[4].target_h == 80,
          "buckets: %dx%d", r->images[0].target_w, r->images[0].target_h);
    vkti_inspect_report_free(r);

    /* no sheet */
    o = (vkti_inspect_options){.resolution = 32};
    rc = vkti_inspect_images(ctx, dir, &o, &r);
    CHECK(rc == VKTI_OK && r->sheet_pages == 0, "no sheet");
    vkti_inspect_report_free(r);

    /* refusals */
    char inside[800];
    snprintf(inside, sizeof inside, "%s/./sheet.png", dir);
    o = (vkti_inspect_options){.sheet_path = inside};
    CHECK(vkti_inspect_images(ctx, dir, &o, &r) == VKTI_E_INVALID && strstr(vkti_ctx_message(ctx), "image folder"),
          "sheet inside the data folder: %s", vkti_ctx_message(ctx));
    snprintf(inside, sizeof inside, "%s/sheet.jpg", root);
    o = (vkti_inspect_options){.sheet_path = inside};
    CHECK(vkti_inspect_images(ctx, dir, &o, &r) == VKTI_E_INVALID && strstr(vkti_ctx_message(ctx), ".png"),
          "sheet not .png");
    o = (vkti_inspect_options){.resolution = 30};
    CHECK(vkti_inspect_images(ctx, dir, &o, &r) == VKTI_E_INVALID, "resolution 30");

    /* paging: 101 images make two pages */
    char many[700];
    snprintf(many, sizeof many, "%s/many", root);
    vkti_mkdir_p(&d, many);
    for (int i = 0; i < 101; i++) {
        uint8_t *s = scene(16, 16, i + 10);
        char name[32];
        snprintf(name, sizeof name, "img%03d.png", i);
        put_image(many, name, "png", s, 16, 16);
        free(s);
    }
    snprintf(sheet, sizeof sheet, "%s/many.png", root);
    o = (vkti_inspect_options){.resolution = 16, .sheet_path = sheet};
    rc = vkti_inspect_images(ctx, many, &o, &r);
    char second[800];
    snprintf(second, sizeof second, "%s/many-2.png", root);
    CHECK(rc == VKTI_OK && r->image_count == 101 && r->sheet_pages == 2 && !strcmp(r->sheet_files[1], second) &&
              vkti_file_exists(second),
          "two pages: %s", vkti_ctx_message(ctx));
    if (rc == VKTI_OK)
        CHECK(r->sheet_w == 320 && r->sheet_h > 10 * (16 + 24 + 10), "100 images in 10 x 10: %dx%d", r->sheet_w,
              r->sheet_h);
    vkti_inspect_report_free(r);

    /* an empty folder: a report, no sheet */
    char empty[700];
    snprintf(empty, sizeof empty, "%s/empty", root);
    vkti_mkdir_p(&d, empty);
    snprintf(sheet, sizeof sheet, "%s/empty.png", root);
    o = (vkti_inspect_options){.sheet_path = sheet};
    rc = vkti_inspect_images(ctx, empty, &o, &r);
    CHECK(rc == VKTI_OK && r->image_count == 0 && r->sheet_pages == 0 && !vkti_file_exists(sheet), "empty folder");
    vkti_inspect_report_free(r);

    /* path kinds */
    char apng[800];
    snprintf(apng, sizeof apng, "%s/a.png", dir);
    CHECK(vkti_inspect_path_kind(dir) == VKTI_PATH_FOLDER && vkti_inspect_path_kind(apng) == VKTI_PATH_FILE &&
              vkti_inspect_path_kind("/nonexistent/x") == VKTI_PATH_NONE,
          "path kinds");
    CHECK(!strcmp(vkti_inspect_aspect_name(4), "1:1") && !strcmp(vkti_inspect_aspect_name(99), "?"), "aspect names");

    free(a);
    free(e);
    free(mir);
    free(half);
    vkti_ctx_free(ctx);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
