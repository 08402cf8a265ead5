/* test_dataset.c — src/train/dataset: a folder of images in every format plus junk (a text file
 * named .png, GIF, WebP, notes, a hidden file, a subfolder, a truncated JPEG); sorted order,
 * skip reasons (one logged message each), caption pairing (normalised, non-UTF-8, oversized,
 * empty, orphaned), repeats, buckets, EXIF orientation, the visit callback, and preprocess giving
 * exactly the expected pixels for center / edge crops and flips. Bad options refused. */
#include <math.h>

#include "unit_util.h"

#include "train/dataset.h"

static int warnings, infos;

static void count_log(void *user, vkti_log_level level, const char *msg)
{
    (void)user;
    if (strstr(msg, "skipping") && level == VKTI_LOG_WARN)
        warnings++;
    if (strstr(msg, "skipping") && level == VKTI_LOG_INFO)
        infos++;
}

static void put(const char *dir, const char *name, const void *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, data, n);
}

static void put_image(const char *dir, const char *name, const char *fmt, const uint8_t *px, int w, int h, int c)
{
    ubuf b = encode_stb(fmt, px, w, h, c);
    put(dir, name, b.p, b.n);
    free(b.p);
}

/* w x h, left half (x < w/2) red, right half blue */
static uint8_t *halves(int w, int h, int c)
{
    uint8_t *p = calloc((size_t)w * h * c, 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * c;
            q[x < w / 2 ? 0 : 2] = 255;
            if (c == 4)
                q[3] = (uint8_t)(x < w / 2 ? 255 : 0);
        }
    return p;
}

static int visits, visit_sizes_ok;
static int visit(void *user, int item, const vkti_image *img)
{
    const vkti_dataset *expect = user;
    (void)expect;
    visits++;
    if (item == 0 && img->width == 40 && img->height == 30)
        visit_sizes_ok++;
    return VKTI_OK;
}

static int stop_visit(void *user, int item, const vkti_image *img)
{
    (void)user, (void)item, (void)img;
    return VKTI_E_INTERRUPTED;
}

static int find_skip(const vkti_dataset *ds, const char *name, const char *needle)
{
    for (int i = 0; i < ds->skipped_count; i++)
        if (!strcmp(ds->skipped[i].name, name))
            return strstr(ds->skipped[i].reason, needle) != NULL;
    return 0;
}

int main(void)
{
    vkti_diag d = {0};
    d.log = count_log;
    d.level = VKTI_LOG_DEBUG;
    char dir[512], path[1024];
    scratch_dir(dir, sizeof dir, "dataset");

    uint8_t *a = halves(40, 30, 3), *b = halves(30, 40, 3), *c = halves(20, 20, 4), *e = halves(24, 16, 3);
    put_image(dir, "a.png", "png", a, 40, 30, 3);
    put_image(dir, "b.jpg", "jpg", b, 30, 40, 3);
    put_image(dir, "c.bmp", "bmp", c, 20, 20, 4);
    put_image(dir, "d.PNG", "png", e, 24, 16, 3);
    put(dir, "e.png", "hello, I am text\n", 17);
    put(dir, "f.gif", "GIF89a\x01\0\x01\0\0\0\0", 13);
    put(dir, "g.webp", "RIFF\x20\0\0\0WEBPVP8 \0\0\0\0", 20);
    put(dir, "notes.md", "# notes\n", 8);
    put(dir, ".DS_Store", "\0\0\0\1Bud1", 8);
    put(dir, "h.jpeg.bak", "\xff\xd8\xff\xe0", 4);
    snprintf(path, sizeof path, "%s/sub", dir);
    vkti_mkdir_p(&d, path);
    {
        ubuf j = encode_stb("jpg", a, 40, 30, 3);
        put(dir, "truncated.jpg", j.p, j.n / 2);
        free(j.p);
    }
    put(dir, "a.txt", "\xef\xbb\xbf  a photo\r\nof\t <tok>  \n", 26);
    put(dir, "b.txt", "caf\xe9 latin-1\n", 13);
    put(dir, "c.txt", " \n\t\n", 4);
    {
        size_t n = VKTI_CAPTION_MAX_BYTES + 1;
        char *big = malloc(n);
        memset(big, 'x', n);
        put(dir, "d.txt", big, n);
        free(big);
    }
    put(dir, "orphan.txt", "no picture\n", 11);
    put(dir, "truncated.txt", "the caption of a broken picture\n", 32);

    vkti_dataset *ds = NULL;
    vkti_dataset_options o = {.resolution = 16, .repeats = 3, .visit = visit};
    int rc = vkti_dataset_open(&d, &ds, dir, &o);
    CHECK(rc == VKTI_OK && ds, "open: %s", d.msg);
    if (!ds)
        return 1;
    CHECK(ds->count == 4 && !strcmp(ds->items[0].name, "a.png") && !strcmp(ds->items[1].name, "b.jpg") &&
              !strcmp(ds->items[2].name, "c.bmp") && !strcmp(ds->items[3].name, "d.PNG"),
          "4 images in name order (got %d)", ds->count);
    CHECK(visits == 4 && visit_sizes_ok == 1, "visit called %d times", visits);
    CHECK(ds->items[0].info.width == 40 && ds->items[0].info.height == 30 && ds->items[1].info.format == VKTI_IMAGE_JPEG &&
              ds->items[2].info.file_channels == 4 && ds->items[0].target_w == 16 && ds->items[0].target_h == 16,
          "item info");
    /* captions */
    CHECK(ds->items[0].caption && !strcmp(ds->items[0].caption, "a photo of <tok>"), "caption normalised: '%s'",
          ds->items[0].caption ? ds->items[0].caption : "(null)");
    CHECK(!ds->items[1].caption && !ds->items[2].caption && !ds->items[3].caption && ds->caption_count == 1,
          "non-UTF-8, empty and oversized captions not used (%d captions)", ds->caption_count);
    /* skipped, each with its reason, in name order */
    CHECK(find_skip(ds, ".DS_Store", "hidden") && find_skip(ds, "e.png", "not a JPEG, PNG or BMP") &&
              find_skip(ds, "f.gif", "GIF") && find_skip(ds, "g.webp", "WebP") &&
              find_skip(ds, "notes.md", "not an image") && find_skip(ds, "sub", "folder") &&
              find_skip(ds, "truncated.jpg", "truncated JPEG") && find_skip(ds, "b.txt", "not UTF-8") &&
              find_skip(ds, "d.txt", "larger than 16 KiB") && find_skip(ds, "orphan.txt", "no image") &&
              find_skip(ds, "h.jpeg.bak", "JPEG file without") &&
              find_skip(ds, "truncated.txt", "the caption of truncated.jpg, which is skipped"),
          "skip reasons");
    CHECK(ds->skipped_count == 12, "%d skipped", ds->skipped_count);
    int sorted = 1;
    for (int i = 1; i < ds->skipped_count; i++)
        sorted = sorted && strcmp(ds->skipped[i - 1].name, ds->skipped[i].name) < 0;
    CHECK(sorted, "skipped files in name order");
    CHECK(warnings == 11 && infos == 1, "one message per skipped file: %d warnings, %d info", warnings, infos);
    for (int i = 0; i < ds->skipped_count; i++)
        printf("  skipped %s: %s\n", ds->skipped[i].name, ds->skipped[i].reason);
    /* repeats */
    CHECK(vkti_dataset_length(ds) == 12 && vkti_dataset_item_at(ds, 5) == 1 && vkti_dataset_item_at(ds, 11) == 3,
          "repeats: length %d", vkti_dataset_length(ds));

    /* preprocess a.png (40x30, red | blue) at 16: the window is x 5..35, so output columns
     * 0..6 are red, 9..15 blue; flipped, the other way round */
    float rgb[16 * 16 * 3], flip[16 * 16 * 3], al[16 * 16];
    rc = vkti_dataset_preprocess(&d, ds, 0, VKTI_CROP_MIDDLE, rgb, al);
    CHECK(rc == VKTI_OK, "preprocess: %s", d.msg);
    int ok = 1;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            const float *p = rgb + (y * 16 + x) * 3;
            if (x <= 6)
                ok = ok && p[0] == 1.0f && p[1] == -1.0f && p[2] == -1.0f;
            if (x >= 9)
                ok = ok && p[0] == -1.0f && p[2] == 1.0f;
            ok = ok && al[y * 16 + x] == 1.0f;
        }
    CHECK(ok, "center crop pixels");
    rc = vkti_dataset_preprocess(&d, ds, 0, (vkti_crop){0.5f, 0.5f, 1}, flip, NULL);
    int mirror = rc == VKTI_OK;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            for (int k = 0; k < 3; k++)
                mirror = mirror && flip[(y * 16 + x) * 3 + k] == rgb[(y * 16 + 15 - x) * 3 + k];
    CHECK(mirror, "flip is the exact mirror");
    /* left-edge crop: window x 0..30 — the red half is 20 of the 30 columns */
    rc = vkti_dataset_preprocess(&d, ds, 0, (vkti_crop){0, 0.5f, 0}, rgb, NULL);
    int reds = 0;
    for (int x = 0; x < 16; x++)
        reds += rgb[(8 * 16 + x) * 3] > 0;
    CHECK(rc == VKTI_OK && reds >= 10 && reds <= 11, "left crop: %d red columns (want ~10.7)", reds);
    /* c.bmp keeps its alpha for the loss mask */
    rc = vkti_dataset_preprocess(&d, ds, 2, VKTI_CROP_MIDDLE, rgb, al);
    CHECK(rc == VKTI_OK && al[8 * 16 + 1] == 1.0f && al[8 * 16 + 14] == 0.0f, "alpha mask %g %g",
          (double)al[8 * 16 + 1], (double)al[8 * 16 + 14]);
    vkti_image fit;
    rc = vkti_dataset_fit(&d, ds, 3, VKTI_CROP_MIDDLE, &fit);
    CHECK(rc == VKTI_OK && fit.width == 16 && fit.height == 16 && fit.channels == 3, "fit image");
    vkti_image_free(&fit);
    CHECK(vkti_dataset_load(&d, ds, 7, &fit) == VKTI_E_INVALID, "item out of range");
    vkti_dataset_free(ds);

    /* buckets at 64 (step 8, area <= 64^2): 40x30 (4:3) -> 72x56 (9:7, the closest with the
     * largest area), 30x40 -> 56x72, 20x20 -> 64x64 */
    o = (vkti_dataset_options){.resolution = 64, .buckets = 1};
    rc = vkti_dataset_open(&d, &ds, dir, &o);
    CHECK(rc == VKTI_OK && ds->items[0].target_w == 72 && ds->items[0].target_h == 56 && ds->items[1].target_w == 56 &&
              ds->items[1].target_h == 72 && ds->items[2].target_w == 64 && ds->items[2].target_h == 64,
          "buckets %dx%d %dx%d", ds->items[0].target_w, ds->items[0].target_h, ds->items[1].target_w,
          ds->items[1].target_h);
    if (rc == VKTI_OK) {
        int tw = ds->items[0].target_w, th = ds->items[0].target_h;
        float *big = malloc((size_t)tw * th * 3 * sizeof *big);
        CHECK(vkti_dataset_preprocess(&d, ds, 0, VKTI_CROP_MIDDLE, big, NULL) == VKTI_OK && big[0] == 1.0f &&
                  big[((th - 1) * tw + tw - 1) * 3 + 2] == 1.0f,
              "bucketed preprocess");
        free(big);
    }
    vkti_dataset_free(ds);

    /* a visit callback can stop the scan */
    o = (vkti_dataset_options){.visit = stop_visit};
    CHECK(vkti_dataset_open(&d, &ds, dir, &o) == VKTI_E_INTERRUPTED && !ds, "visit stops the scan");

    /* EXIF orientation: a 32x16 JPEG shown turned (orientation 6) is a 16x32 image */
    {
        char odir[600];
        snprintf(odir, sizeof odir, "%s/sub", dir);
        uint8_t *px = halves(32, 16, 3);
        ubuf j = encode_stb("jpg", px, 32, 16, 3);
        static const uint8_t app1[] = {0xff, 0xe1, 0, 34, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                                       0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
        ubuf o6 = {0};
        ub_put(&o6, j.p, 2);
        ub_put(&o6, app1, sizeof app1);
        ub_put(&o6, j.p + 2, j.n - 2);
        put(odir, "turned.jpg", o6.p, o6.n);
        o = (vkti_dataset_options){.resolution = 8};
        rc = vkti_dataset_open(&d, &ds, odir, &o);
        CHECK(rc == VKTI_OK && ds->count == 1 && ds->items[0].info.width == 16 && ds->items[0].info.height == 32 &&
                  ds->items[0].info.orientation == 6,
              "EXIF orientation in the dataset: %s", d.msg);
        if (rc == VKTI_OK) {
            /* turned clockwise: the red left half is now on top */
            float t[8 * 8 * 3];
            vkti_dataset_preprocess(&d, ds, 0, (vkti_crop){0.5f, 0, 0}, t, NULL);
            CHECK(t[0] > 0.8f && t[2] < -0.8f, "turned image: top is red (%g %g)", (double)t[0], (double)t[2]);
        }
        vkti_dataset_free(ds);
        free(j.p);
        free(o6.p);
        free(px);
    }

    /* refusals */
    o = (vkti_dataset_options){.resolution = 100};
    CHECK(vkti_dataset_open(&d, &ds, dir, &o) == VKTI_E_INVALID && strstr(d.msg, "multiple of 8"), "resolution 100");
    o = (vkti_dataset_options){.repeats = -2};
    CHECK(vkti_dataset_open(&d, &ds, dir, &o) == VKTI_E_INVALID && strstr(d.msg, "repeats"), "repeats -2");
    snprintf(path, sizeof path, "%s/nothing-here", dir);
    CHECK(vkti_dataset_open(&d, &ds, path, NULL) == VKTI_E_IO && strstr(d.msg, "nothing-here"), "missing folder");
    snprintf(path, sizeof path, "%s/a.png", dir);
    CHECK(vkti_dataset_open(&d, &ds, path, NULL) == VKTI_E_IO, "a file is not a folder");
    char empty[600], junk[600];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    vkti_mkdir_p(&d, empty);
    CHECK(vkti_dataset_open(&d, &ds, empty, NULL) == VKTI_E_INVALID && strstr(d.msg, "empty"), "empty: %s", d.msg);
    o = (vkti_dataset_options){.allow_empty = 1};
    CHECK(vkti_dataset_open(&d, &ds, empty, &o) == VKTI_OK && ds->count == 0, "allow_empty");
    vkti_dataset_free(ds);
    snprintf(junk, sizeof junk, "%s/junk", dir);
    vkti_mkdir_p(&d, junk);
    put(junk, "x.png", "text", 4);
    CHECK(vkti_dataset_open(&d, &ds, junk, NULL) == VKTI_E_INVALID && strstr(d.msg, "x.png"), "junk only: %s", d.msg);

    free(a);
    free(b);
    free(c);
    free(e);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
