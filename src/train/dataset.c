/* dataset.c — scanning an image folder (sorted names, decode check, skip reasons, caption
 * pairing, buckets) and the per-item preprocessing training uses. See dataset.h. */
#include "train/dataset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "base/str.h"
#include "io/unicode.h"

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int sep = a > 0 && dir[a - 1] != '/' && dir[a - 1] != '\\';
    char *p = malloc(a + (size_t)sep + b + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    if (sep)
        p[a] = '/';
    memcpy(p + a + (size_t)sep, name, b + 1);
    return p;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* length of name without its extension (the last '.' not at the start) */
static size_t stem_len(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && dot != name ? (size_t)(dot - name) : strlen(name);
}

static int is_txt(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && name[n - 4] == '.' && lower(name[n - 3]) == 't' && lower(name[n - 2]) == 'x' &&
           lower(name[n - 1]) == 't';
}

typedef struct scan {
    vkti_diag *d;
    vkti_dataset *ds;
    int item_cap, skip_cap;
} scan;

/* records a skipped file and logs it */
static int skip(scan *s, const char *name, vkti_log_level level, const char *fmt, ...) VKTI_PRINTF(4, 5);
static int skip(scan *s, const char *name, vkti_log_level level, const char *fmt, ...)
{
    char reason[VKTI_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    vkti_log(s->d, s->ds->opt.quiet ? VKTI_LOG_DEBUG : level, "skipping %s: %s", name, reason);
    vkti_dataset *ds = s->ds;
    if (ds->skipped_count == s->skip_cap) {
        int cap = s->skip_cap ? s->skip_cap * 2 : 16;
        vkti_dataset_skip *p = realloc(ds->skipped, (size_t)cap * sizeof *p);
        if (!p)
            return vkti_fail(s->d, VKTI_E_OOM, "out of memory listing skipped files");
        ds->skipped = p;
        s->skip_cap = cap;
    }
    vkti_dataset_skip *k = &ds->skipped[ds->skipped_count];
    k->name = vkti_str_dup(name);
    k->reason = vkti_str_dup(reason);
    if (!k->name || !k->reason) {
        free(k->name);
        free(k->reason);
        return vkti_fail(s->d, VKTI_E_OOM, "out of memory listing skipped files");
    }
    ds->skipped_count++;
    return VKTI_OK;
}

/* the message left by a decode of `name` without its "name: " prefix */
static const char *reason_of(const vkti_diag *d, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(d->msg, name, n) == 0 && d->msg[n] == ':' && d->msg[n + 1] == ' ')
        return d->msg + n + 2;
    return d->msg;
}

/* reads a caption file: UTF-8, size-capped, BOM dropped, whitespace runs made one space,
 * trimmed. *caption NULL (and a skip entry) when unusable; NULL without one when empty. */
static int read_caption(scan *s, const char *name, const char *path, char **caption)
{
    *caption = NULL;
    vkti_diag tmp = {0};
    uint8_t *data = NULL;
    size_t n = 0;
    int rc = vkti_file_read(&tmp, path, VKTI_CAPTION_MAX_BYTES, &data, &n);
    if (rc == VKTI_E_FORMAT)
        return skip(s, name, VKTI_LOG_WARN, "caption file larger than %zu KiB (not used)", VKTI_CAPTION_MAX_BYTES >> 10);
    if (rc)
        return skip(s, name, VKTI_LOG_WARN, "caption file unreadable (%s)", tmp.msg);
    size_t start = n >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf ? 3 : 0;
    if (!vkti_utf8_valid(data + start, n - start) || memchr(data + start, 0, n - start)) {
        free(data);
        return skip(s, name, VKTI_LOG_WARN, "caption file is not UTF-8 text (not used; save it as UTF-8)");
    }
    char *out = malloc(n - start + 1);
    if (!out) {
        free(data);
        return vkti_fail(s->d, VKTI_E_OOM, "out of memory reading %s", path);
    }
    size_t o = 0;
    int space = 0;
    for (size_t i = start; i < n; i++) {
        uint8_t c = data[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            space = 1;
            continue;
        }
        if (space && o > 0)
            out[o++] = ' ';
        space = 0;
        out[o++] = (char)c;
    }
    out[o] = 0;
    free(data);
    if (o == 0) {
        free(out);
        vkti_log(s->d, VKTI_LOG_INFO, "%s is empty: no caption", name);
        return VKTI_OK;
    }
    *caption = out;
    return VKTI_OK;
}

static int add_item(scan *s, const char *name, const char *path, const vkti_image_info *info)
{
    vkti_dataset *ds = s->ds;
    if (ds->count == VKTI_DATASET_MAX_IMAGES)
        return vkti_fail(s->d, VKTI_E_INVALID, "%s: more than %d images; vkti trains on at most that many",
                         ds->dir, VKTI_DATASET_MAX_IMAGES);
    if (ds->count == s->item_cap) {
        int cap = s->item_cap ? s->item_cap * 2 : 16;
        vkti_dataset_item *p = realloc(ds->items, (size_t)cap * sizeof *p);
        if (!p)
            return vkti_fail(s->d, VKTI_E_OOM, "out of memory listing images");
        ds->items = p;
        s->item_cap = cap;
    }
    vkti_dataset_item *it = &ds->items[ds->count];
    memset(it, 0, sizeof *it);
    it->name = vkti_str_dup(name);
    it->path = vkti_str_dup(path);
    if (!it->name || !it->path) {
        free(it->name);
        free(it->path);
        return vkti_fail(s->d, VKTI_E_OOM, "out of memory listing images");
    }
    it->info = *info;
    if (ds->opt.buckets) {
        vkti_image_bucket(info->width, info->height, ds->opt.resolution, &it->target_w, &it->target_h);
    } else {
        it->target_w = ds->opt.resolution;
        it->target_h = ds->opt.resolution;
    }
    ds->count++;
    return VKTI_OK;
}

/* decodes one candidate image: added, or skipped with the reason */
static int consider_image(scan *s, const char *name, const char *path)
{
    vkti_diag tmp = {0};
    vkti_mapped_file m;
    if (vkti_file_map(&tmp, path, &m) != VKTI_OK)
        return skip(s, name, VKTI_LOG_WARN, "unreadable (%s)", tmp.msg);
    vkti_image img;
    int rc = vkti_image_decode(&tmp, &img, m.data, m.size, name);
    vkti_file_unmap(&m);
    if (rc == VKTI_E_OOM)
        return vkti_fail(s->d, rc, "%s", tmp.msg);
    if (rc)
        return skip(s, name, VKTI_LOG_WARN, "%s", reason_of(&tmp, name));
    rc = add_item(s, name, path, &img.info);
    if (rc == VKTI_OK && s->ds->opt.visit)
        rc = s->ds->opt.visit(s->ds->opt.visit_user, s->ds->count - 1, &img);
    vkti_image_free(&img);
    return rc;
}

/* what a file with an extension vkti does not read is, for its skip message */
static int consider_other(scan *s, const char *name, const char *path)
{
    vkti_diag tmp = {0};
    vkti_mapped_file m;
    if (vkti_file_map(&tmp, path, &m) != VKTI_OK)
        return skip(s, name, VKTI_LOG_WARN, "unreadable (%s)", tmp.msg);
    vkti_image_format f = vkti_image_sniff(m.data, m.size);
    const char *other = f ? NULL : vkti_image_sniff_other(m.data, m.size);
    vkti_file_unmap(&m);
    if (f)
        return skip(s, name, VKTI_LOG_WARN, "a %s file without a .png, .jpg, .jpeg or .bmp extension "
                    "(rename it to use it)", vkti_image_format_name(f));
    if (other)
        return skip(s, name, VKTI_LOG_WARN, "%s, which vkti does not read (convert it to PNG or JPEG)", other);
    return skip(s, name, VKTI_LOG_WARN, "not an image (vkti reads .jpg, .jpeg, .png and .bmp files)");
}

static int scan_dir(scan *s, char **names, int n)
{
    vkti_dataset *ds = s->ds;
    int rc = VKTI_OK;
    /* images first (captions pair with them afterwards), in name order */
    for (int i = 0; i < n && rc == VKTI_OK; i++) {
        const char *name = names[i];
        char *path = join_path(ds->dir, name);
        if (!path)
            return vkti_fail(s->d, VKTI_E_OOM, "out of memory");
        if (name[0] == '.')
            rc = skip(s, name, VKTI_LOG_INFO, "hidden file");
        else if (vkti_dir_exists(path))
            rc = skip(s, name, VKTI_LOG_WARN, "a folder (subfolders are not read)");
        else if (is_txt(name))
            ; /* captions: below */
        else if (vkti_image_name_supported(name))
            rc = consider_image(s, name, path);
        else
            rc = consider_other(s, name, path);
        free(path);
    }
    /* captions: NAME.txt for every image NAME.ext; a .txt matching no image is skipped */
    for (int i = 0; i < n && rc == VKTI_OK; i++) {
        const char *name = names[i];
        if (name[0] == '.' || !is_txt(name))
            continue;
        char *path = join_path(ds->dir, name);
        if (!path)
            return vkti_fail(s->d, VKTI_E_OOM, "out of memory");
        if (vkti_dir_exists(path)) {
            rc = skip(s, name, VKTI_LOG_WARN, "a folder (subfolders are not read)");
            free(path);
            continue;
        }
        size_t stem = stem_len(name);
        int matched = 0, read = 0;
        char *caption = NULL;
        for (int k = 0; k < ds->count && rc == VKTI_OK; k++) {
            vkti_dataset_item *it = &ds->items[k];
            if (stem_len(it->name) != stem || strncmp(it->name, name, stem) != 0 || it->caption)
                continue;
            matched = 1;
            if (!read) {
                rc = read_caption(s, name, path, &caption);
                read = 1;
            }
            if (rc || !caption) /* unusable (already reported) or empty */
                break;
            if (!(it->caption = vkti_str_dup(caption)))
                rc = vkti_fail(s->d, VKTI_E_OOM, "out of memory");
            else
                ds->caption_count++;
        }
        free(caption);
        if (rc == VKTI_OK && !matched) {
            const char *image = NULL; /* an image of that name that was itself skipped? */
            for (int k = 0; k < ds->skipped_count && !image; k++) {
                const char *other = ds->skipped[k].name;
                if (!is_txt(other) && stem_len(other) == stem && strncmp(other, name, stem) == 0)
                    image = other;
            }
            if (image)
                rc = skip(s, name, VKTI_LOG_WARN, "the caption of %s, which is skipped", image);
            else
                rc = skip(s, name, VKTI_LOG_WARN, "a caption file with no image of the same name");
        }
        free(path);
    }
    return rc;
}

static int cmp_skip(const void *a, const void *b)
{
    return strcmp(((const vkti_dataset_skip *)a)->name, ((const vkti_dataset_skip *)b)->name);
}

int vkti_dataset_open(vkti_diag *d, vkti_dataset **out, const char *dir, const vkti_dataset_options *opt)
{
    *out = NULL;
    vkti_dataset_options o = {0};
    if (opt)
        o = *opt;
    if (o.resolution == 0)
        o.resolution = VKTI_DATASET_DEFAULT_RESOLUTION;
    if (o.repeats == 0)
        o.repeats = 1;
    if (o.resolution < 8 || o.resolution % 8 != 0 || o.resolution > 8192)
        return vkti_fail(d, VKTI_E_INVALID, "resolution %d: must be a multiple of 8 from 8 to 8192 (e.g. 512)",
                         o.resolution);
    if (o.repeats < 1 || o.repeats > VKTI_DATASET_MAX_REPEATS)
        return vkti_fail(d, VKTI_E_INVALID, "repeats %d: must be from 1 to %d", o.repeats, VKTI_DATASET_MAX_REPEATS);
    if (!vkti_dir_exists(dir))
        return vkti_fail(d, VKTI_E_IO, "%s: not a folder of images", dir);
    char **names = NULL;
    int n = 0;
    int rc = vkti_dir_list(d, dir, &names, &n);
    if (rc)
        return rc;
    vkti_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->dir = vkti_str_dup(dir))) {
        free(ds);
        free(names);
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    }
    ds->opt = o;
    scan s = {d, ds, 0, 0};
    rc = scan_dir(&s, names, n);
    free(names);
    if (ds->skipped_count > 1) /* images were scanned before captions: back to name order */
        qsort(ds->skipped, (size_t)ds->skipped_count, sizeof *ds->skipped, cmp_skip);
    if (rc == VKTI_OK && ds->count == 0 && !o.allow_empty) {
        if (ds->skipped_count)
            rc = vkti_fail(d, VKTI_E_INVALID, "%s: no usable images (%d file%s skipped; the first, %s: %s)", dir,
                           ds->skipped_count, ds->skipped_count == 1 ? "" : "s", ds->skipped[0].name,
                           ds->skipped[0].reason);
        else
            rc = vkti_fail(d, VKTI_E_INVALID, "%s: the folder is empty; put the training pictures (.jpg, .png, "
                           ".bmp) in it", dir);
    }
    if (rc) {
        vkti_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return VKTI_OK;
}

void vkti_dataset_free(vkti_dataset *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < ds->count; i++) {
        free(ds->items[i].name);
        free(ds->items[i].path);
        free(ds->items[i].caption);
    }
    for (int i = 0; i < ds->skipped_count; i++) {
        free(ds->skipped[i].name);
        free(ds->skipped[i].reason);
    }
    free(ds->items);
    free(ds->skipped);
    free(ds->dir);
    free(ds);
}

int vkti_dataset_length(const vkti_dataset *ds) { return ds->count * ds->opt.repeats; }

int vkti_dataset_item_at(const vkti_dataset *ds, int i) { return ds->count ? i % ds->count : 0; }

int vkti_dataset_load(vkti_diag *d, const vkti_dataset *ds, int item, vkti_image *out)
{
    memset(out, 0, sizeof *out);
    if (item < 0 || item >= ds->count)
        return vkti_fail(d, VKTI_E_INVALID, "image %d of a dataset of %d", item, ds->count);
    vkti_mapped_file m;
    int rc = vkti_file_map(d, ds->items[item].path, &m);
    if (rc)
        return rc;
    rc = vkti_image_decode(d, out, m.data, m.size, ds->items[item].path);
    vkti_file_unmap(&m);
    return rc;
}

int vkti_dataset_fit(vkti_diag *d, const vkti_dataset *ds, int item, vkti_crop crop, vkti_image *out)
{
    vkti_image img;
    int rc = vkti_dataset_load(d, ds, item, &img);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    rc = vkti_image_fit(d, out, &img, ds->items[item].target_w, ds->items[item].target_h, crop);
    vkti_image_free(&img);
    return rc;
}

int vkti_dataset_preprocess(vkti_diag *d, const vkti_dataset *ds, int item, vkti_crop crop, float *rgb, float *alpha)
{
    vkti_image fit;
    int rc = vkti_dataset_fit(d, ds, item, crop, &fit);
    if (rc)
        return rc;
    vkti_image_to_float(rgb, alpha, &fit);
    vkti_image_free(&fit);
    return VKTI_OK;
}
