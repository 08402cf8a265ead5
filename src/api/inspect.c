/* inspect.c — `vkti inspect DATADIR` in the library: open the folder as training would (each
 * image decoded once), fingerprint every image (exact pixel hash, dHash and its mirror), make
 * its thumbnail of the training view, find duplicates, gather size / aspect / format / caption
 * statistics, and have inspect_sheet.c draw the contact sheet. See vkti/inspect.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctx_internal.h"
#include "api/inspect_internal.h"
#include "base/platform.h"

#define THUMB_DEFAULT 256
#define THUMB_MIN 16
#define THUMB_MEMORY ((double)(256 << 20)) /* all thumbnails together, bytes */

const char *vkti_inspect_aspect_name(int bin)
{
    static const char *const names[VKTI_INSPECT_ASPECT_BINS] = {"1:2-", "9:16", "2:3", "3:4", "1:1",
                                                                "4:3",  "3:2",  "16:9", "2:1+"};
    return bin >= 0 && bin < VKTI_INSPECT_ASPECT_BINS ? names[bin] : "?";
}

static int aspect_bin(double r)
{
    static const double ratio[VKTI_INSPECT_ASPECT_BINS] = {1.0 / 2, 9.0 / 16, 2.0 / 3, 3.0 / 4, 1.0,
                                                           4.0 / 3, 3.0 / 2,  16.0 / 9, 2.0};
    int best = 0;
    for (int i = 1; i < VKTI_INSPECT_ASPECT_BINS; i++)
        if (fabs(log(r / ratio[i])) < fabs(log(r / ratio[best])))
            best = i;
    return best;
}

static int grow(vkti_inspect_impl *r)
{
    int cap = r->cap ? r->cap * 2 : 32;
    vkti_inspect_image *im = realloc(r->images, (size_t)cap * sizeof *im);
    if (im)
        r->images = im;
    vkti_inspect_thumb *th = realloc(r->thumbs, (size_t)cap * sizeof *th);
    if (th)
        r->thumbs = th;
    uint64_t *h[3] = {r->pixel_hash, r->dhash, r->dhash_mirror};
    for (int k = 0; k < 3; k++) {
        uint64_t *p = realloc(h[k], (size_t)cap * sizeof *p);
        if (p)
            h[k] = p;
        else
            im = NULL;
    }
    r->pixel_hash = h[0], r->dhash = h[1], r->dhash_mirror = h[2];
    if (!im || !th)
        return vkti_fail(r->d, VKTI_E_OOM, "out of memory inspecting images");
    r->cap = cap;
    return VKTI_OK;
}

/* the training view of img, shrunk to fit thumb x thumb when larger, as 8-bit RGB */
static int make_thumb(vkti_diag *d, vkti_inspect_thumb *t, const vkti_image *img, int tw, int th, int thumb)
{
    vkti_image fit, small;
    int rc = vkti_image_fit(d, &fit, img, tw, th, VKTI_CROP_MIDDLE);
    if (rc)
        return rc;
    const vkti_image *show = &fit;
    int big = tw > th ? tw : th;
    if (big > thumb) {
        int sw = (int)lround((double)tw * thumb / big), sh = (int)lround((double)th * thumb / big);
        rc = vkti_image_resize(d, &small, &fit, sw < 1 ? 1 : sw, sh < 1 ? 1 : sh);
        vkti_image_free(&fit);
        if (rc)
            return rc;
        show = &small;
    }
    rc = vkti_image_to_rgb8(d, &t->rgb, show);
    t->w = show->width;
    t->h = show->height;
    vkti_image_free((vkti_image *)show);
    return rc;
}

/* called by the dataset scan for every image that decodes */
static int visit(void *user, int item, const vkti_image *img)
{
    vkti_inspect_impl *r = user;
    if (item != r->seen)
        return vkti_fail(r->d, VKTI_E_INTERNAL, "inspect: image %d visited out of order", item);
    if (r->seen == r->cap && grow(r))
        return VKTI_E_OOM;
    int k = r->seen;
    vkti_inspect_image *im = &r->images[k];
    memset(im, 0, sizeof *im);
    im->duplicate_of = im->similar_to = -1;
    int res = r->pub.resolution;
    if (r->pub.buckets) {
        vkti_image_bucket(img->width, img->height, res, &im->target_w, &im->target_h);
    } else {
        im->target_w = res;
        im->target_h = res;
    }
    r->thumbs[k].rgb = NULL;
    int rc = make_thumb(r->d, &r->thumbs[k], img, im->target_w, im->target_h, r->pub.thumb);
    if (rc)
        return rc;
    r->pixel_hash[k] = vkti_image_pixel_hash(img);
    rc = vkti_image_dhash(r->d, img, &r->dhash[k], &r->dhash_mirror[k]);
    if (rc) {
        free(r->thumbs[k].rgb);
        return rc;
    }
    /* exact duplicates: the first earlier image with the same pixels; else the nearest earlier one */
    for (int j = 0; j < k && im->duplicate_of < 0; j++)
        if (r->pixel_hash[j] == r->pixel_hash[k])
            im->duplicate_of = j;
    if (im->duplicate_of < 0) {
        int best = 65;
        for (int j = 0; j < k; j++) {
            int straight = vkti_hamming64(r->dhash[k], r->dhash[j]);
            int mirror = vkti_hamming64(r->dhash[k], r->dhash_mirror[j]);
            int dist = straight <= mirror ? straight : mirror;
            if (dist <= VKTI_DHASH_NEAR && dist < best) {
                best = dist;
                im->similar_to = j;
                im->similar_distance = dist;
                im->similar_mirrored = mirror < straight;
            }
        }
    }
    r->seen++;
    return VKTI_OK;
}

/* directory part of a path, normalised ("a//b/./c/" -> "a/b/c"; "" -> ".") */
static void norm_path(char *out, size_t cap, const char *p, int dirname)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", p);
    for (char *c = tmp; *c; c++)
        if (*c == '\\')
            *c = '/';
    if (dirname) {
        char *slash = strrchr(tmp, '/');
        if (slash)
            slash[slash == tmp ? 1 : 0] = 0;
        else
            snprintf(tmp, sizeof tmp, ".");
    }
    size_t o = 0;
    const char *s = tmp;
    int absolute = *s == '/';
    if (absolute && o + 1 < cap)
        out[o++] = '/';
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0)
            break;
        if (!(n == 1 && s[0] == '.')) {
            if (o > (size_t)absolute && o + 1 < cap)
                out[o++] = '/';
            for (size_t i = 0; i < n && o + 1 < cap; i++)
                out[o++] = s[i];
        }
        s += n;
    }
    if (o == 0 && cap > 1)
        out[o++] = '.';
    out[o] = 0;
}

static int count_candidates(vkti_diag *d, const char *dir)
{
    char **names = NULL;
    int n = 0, c = 0;
    if (vkti_dir_list(d, dir, &names, &n) != VKTI_OK)
        return 0;
    for (int i = 0; i < n; i++)
        c += names[i][0] != '.' && vkti_image_name_supported(names[i]);
    free(names);
    return c;
}

static void stats(vkti_inspect_impl *r)
{
    vkti_inspect_report *p = &r->pub;
    for (int k = 0; k < p->image_count; k++) {
        const vkti_inspect_image *im = &p->images[k];
        int w = im->width, h = im->height, s = w < h ? w : h;
        double a = (double)w / h;
        if (k == 0) {
            p->min_w = p->max_w = w;
            p->min_h = p->max_h = h;
            p->min_short = p->max_short = s;
            p->min_aspect = p->max_aspect = a;
        }
        p->min_w = w < p->min_w ? w : p->min_w;
        p->max_w = w > p->max_w ? w : p->max_w;
        p->min_h = h < p->min_h ? h : p->min_h;
        p->max_h = h > p->max_h ? h : p->max_h;
        p->min_short = s < p->min_short ? s : p->min_short;
        p->max_short = s > p->max_short ? s : p->max_short;
        p->min_aspect = a < p->min_aspect ? a : p->min_aspect;
        p->max_aspect = a > p->max_aspect ? a : p->max_aspect;
        p->aspect_bins[aspect_bin(a)]++;
        p->caption_count += im->caption != NULL;
        p->duplicate_count += im->duplicate_of >= 0;
        p->similar_count += im->similar_to >= 0;
        p->upscaled_count += im->upscaled;
        p->alpha_count += im->channels == 2 || im->channels == 4;
        p->deep_count += im->bits == 16;
        p->oriented_count += im->orientation != 1;
        p->format_count[!strcmp(im->format, "JPEG") ? 0 : !strcmp(im->format, "PNG") ? 1 : 2]++;
    }
}

vkti_path_kind vkti_inspect_path_kind(const char *path)
{
    return vkti_dir_exists(path) ? VKTI_PATH_FOLDER : vkti_file_exists(path) ? VKTI_PATH_FILE : VKTI_PATH_NONE;
}

void vkti_inspect_report_free(vkti_inspect_report *report)
{
    vkti_inspect_impl *r = (vkti_inspect_impl *)report;
    if (!r)
        return;
    for (int k = 0; k < r->seen; k++)
        free(r->thumbs[k].rgb);
    for (int i = 0; i < r->pub.sheet_pages; i++)
        free(r->pages[i]);
    free(r->pages);
    free(r->thumbs);
    free(r->images);
    free(r->skipped);
    free(r->pixel_hash);
    free(r->dhash);
    free(r->dhash_mirror);
    vkti_dataset_free(r->ds);
    free(r);
}

int vkti_inspect_images(vkti_ctx *ctx, const char *dir, const vkti_inspect_options *options,
                        vkti_inspect_report **report)
{
    vkti_diag *d = &ctx->diag;
    *report = NULL;
    vkti_inspect_options o = {0};
    if (options)
        o = *options;
    if (o.resolution == 0)
        o.resolution = VKTI_DATASET_DEFAULT_RESOLUTION;
    if (o.thumb < 0 || (o.thumb > 0 && o.thumb < THUMB_MIN) || o.thumb > 4096)
        return vkti_fail(d, VKTI_E_INVALID, "thumbnail size %d: must be from %d to 4096 pixels", o.thumb, THUMB_MIN);
    if (o.sheet_path) {
        size_t n = strlen(o.sheet_path);
        if (n < 5 || strcmp(o.sheet_path + n - 4, ".png") != 0)
            return vkti_fail(d, VKTI_E_INVALID, "contact sheet '%s': the file name must end in .png", o.sheet_path);
        char a[4096], b[4096];
        norm_path(a, sizeof a, o.sheet_path, 1);
        norm_path(b, sizeof b, dir, 0);
        if (!strcmp(a, b))
            return vkti_fail(d, VKTI_E_INVALID, "contact sheet '%s' would land in the image folder and be trained on "
                             "next time; write it elsewhere", o.sheet_path);
    }
    vkti_inspect_impl *r = calloc(1, sizeof *r);
    if (!r)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    r->d = d;
    r->pub.resolution = o.resolution;
    r->pub.buckets = o.buckets;
    r->pub.similar_threshold = VKTI_DHASH_NEAR;
    /* thumbnails: the requested size, or the smaller of the resolution and 256, made smaller
     * so that all of them fit in THUMB_MEMORY */
    int thumb = o.thumb ? o.thumb : (o.resolution < THUMB_DEFAULT ? o.resolution : THUMB_DEFAULT);
    int n = count_candidates(d, dir);
    if (n > 0) {
        int fit = (int)sqrt(THUMB_MEMORY / (3.0 * n));
        if (thumb > fit)
            thumb = fit < THUMB_MIN ? THUMB_MIN : fit;
    }
    r->pub.thumb = thumb;
    vkti_dataset_options dopt = {
        .resolution = o.resolution, .buckets = o.buckets, .allow_empty = 1, .quiet = 1, .visit = visit, .visit_user = r};
    int rc = vkti_dataset_open(d, &r->ds, dir, &dopt);
    if (rc) {
        vkti_inspect_report_free(&r->pub);
        return rc;
    }
    vkti_dataset *ds = r->ds;
    r->pub.dir = ds->dir;
    r->pub.image_count = ds->count;
    r->pub.images = r->images;
    if (ds->count != r->seen) {
        vkti_inspect_report_free(&r->pub);
        return vkti_fail(d, VKTI_E_INTERNAL, "inspect: %d images visited, %d in the dataset", r->seen, ds->count);
    }
    for (int k = 0; k < ds->count; k++) {
        const vkti_dataset_item *it = &ds->items[k];
        vkti_inspect_image *im = &r->images[k];
        im->name = it->name;
        im->format = vkti_image_format_name(it->info.format);
        im->width = it->info.width;
        im->height = it->info.height;
        im->channels = it->info.file_channels;
        im->bits = it->info.bits;
        im->orientation = it->info.orientation;
        im->caption = it->caption;
        /* enlarged when the scale that covers the target (the larger of the two) exceeds 1 */
        double sx = (double)im->target_w / it->info.width, sy = (double)im->target_h / it->info.height;
        im->upscaled = (sx > sy ? sx : sy) > 1.0;
    }
    r->pub.skipped_count = ds->skipped_count;
    if (ds->skipped_count) {
        r->skipped = calloc((size_t)ds->skipped_count, sizeof *r->skipped);
        if (!r->skipped) {
            vkti_inspect_report_free(&r->pub);
            return vkti_fail(d, VKTI_E_OOM, "out of memory");
        }
        for (int i = 0; i < ds->skipped_count; i++) {
            r->skipped[i].name = ds->skipped[i].name;
            r->skipped[i].reason = ds->skipped[i].reason;
        }
    }
    r->pub.skipped = r->skipped;
    stats(r);
    if (o.sheet_path && ds->count > 0) {
        rc = vkti__inspect_sheet(d, r, o.sheet_path);
        if (rc) {
            vkti_inspect_report_free(&r->pub);
            return rc;
        }
    }
    r->pub.sheet_files = (const char *const *)r->pages;
    *report = &r->pub;
    return VKTI_OK;
}
