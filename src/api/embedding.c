/* embedding.c (api) — the public embedding API of vkti/embedding.h: format names, the layout
 * probe `vkti inspect` uses, and `vkti convert` (read any format, write the one asked for). */
#include "vkti/embedding.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctx_internal.h"
#include "base/platform.h"
#include "base/str.h"
#include "io/embedding.h"

typedef struct convert_impl {
    vkti_convert_report pub; /* first: the public pointer is this one */
    char *token;
    char **dropped;
} convert_impl;

const char *vkti_embedding_format_name(vkti_embedding_format format)
{
    switch (format) {
    case VKTI_EMBEDDING_DIFFUSERS: return "diffusers";
    case VKTI_EMBEDDING_KOHYA: return "kohya";
    case VKTI_EMBEDDING_A1111: return "a1111";
    default: return "auto";
    }
}

int vkti_embedding_format_parse(const char *name, vkti_embedding_format *out)
{
    static const vkti_embedding_format all[3] = {VKTI_EMBEDDING_DIFFUSERS, VKTI_EMBEDDING_KOHYA, VKTI_EMBEDDING_A1111};
    for (int i = 0; i < 3 && name; i++) {
        if (!strcmp(name, vkti_embedding_format_name(all[i]))) {
            *out = all[i];
            return VKTI_OK;
        }
    }
    return VKTI_E_INVALID;
}

int vkti_embedding_probe(const char *path)
{
    vkti_diag quiet = {0};
    vkti_mapped_file f;
    if (!vkti_file_exists(path) || vkti_file_map(&quiet, path, &f))
        return 0;
    int yes = vkti_embedding_detect(f.data, f.size);
    vkti_file_unmap(&f);
    return yes;
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m)
        return 0;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)s[n - m + i]) != suffix[i])
            return 0;
    return 1;
}

void vkti_convert_report_free(vkti_convert_report *report)
{
    convert_impl *r = (convert_impl *)report;
    if (!r)
        return;
    for (int i = 0; i < r->pub.dropped_count; i++)
        free(r->dropped[i]);
    free(r->dropped);
    free(r->token);
    free(r);
}

/* The output format: asked for, or from the output's extension; and the two must agree. */
static int target_format(vkti_diag *d, const char *out, vkti_embedding_format asked, vkti_embedding_format *format)
{
    int pt = ends_with_ci(out, ".pt"), st = ends_with_ci(out, ".safetensors");
    if (asked == VKTI_EMBEDDING_AUTO) {
        if (!pt && !st)
            return vkti_fail(d, VKTI_E_INVALID,
                             "%s: cannot tell the format from the name: end it in .safetensors (diffusers; kohya with "
                             "--format kohya) or .pt (a1111)",
                             out);
        *format = pt ? VKTI_EMBEDDING_A1111 : VKTI_EMBEDDING_DIFFUSERS;
        return VKTI_OK;
    }
    if (asked == VKTI_EMBEDDING_A1111 && !pt)
        return vkti_fail(d, VKTI_E_INVALID, "%s: the a1111 format is a PyTorch .pt file: end the output's name in .pt",
                         out);
    if (asked != VKTI_EMBEDDING_A1111 && !st)
        return vkti_fail(d, VKTI_E_INVALID, "%s: the %s format is a safetensors file: end the output's name in .safetensors",
                         out, vkti_embedding_format_name(asked));
    *format = asked;
    return VKTI_OK;
}

/* The output's folder must exist (a clearer message than the failed temporary file's). */
static int check_folder(vkti_diag *d, const char *out)
{
    char dir[4096];
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] != '/' && out[n - 1] != '\\')
        n--;
    if (n == 0)
        return VKTI_OK; /* the current folder */
    if (n >= sizeof dir)
        return vkti_fail(d, VKTI_E_INVALID, "%s: the path is too long", out);
    memcpy(dir, out, n);
    dir[n] = 0;
    if (!vkti_dir_exists(dir))
        return vkti_fail(d, VKTI_E_IO, "cannot write %s: the folder %s does not exist", out, dir);
    return VKTI_OK;
}

int vkti_embedding_convert(vkti_ctx *ctx, const char *in, const char *out, const vkti_convert_options *options,
                           vkti_convert_report **report)
{
    vkti_diag *d = &ctx->diag;
    *report = NULL;
    vkti_embedding_format format = VKTI_EMBEDDING_AUTO;
    int rc = target_format(d, out, options ? options->format : VKTI_EMBEDDING_AUTO, &format);
    if (rc)
        return rc;
    if (!strcmp(in, out) || vkti_file_same(in, out))
        return vkti_fail(d, VKTI_E_INVALID,
                         "%s is the input file: vkti convert never writes over its input; choose another output name",
                         out);
    const char *token = options ? options->token : NULL;
    if (token && (rc = vkti_embedding_check_token(d, token)))
        return rc;
    if ((rc = check_folder(d, out)))
        return rc;

    vkti_embedding e;
    if ((rc = vkti_embedding_read(d, &e, in)))
        return rc;
    if (token && (rc = vkti_embedding_set_string(d, &e.token, token))) {
        vkti_embedding_free(&e);
        return rc;
    }
    convert_impl *r = calloc(1, sizeof *r);
    if (!r || !(r->token = vkti_str_dup(e.token)) || !(r->dropped = calloc(e.meta_count + 1, sizeof *r->dropped))) {
        vkti_convert_report_free((vkti_convert_report *)r);
        vkti_embedding_free(&e);
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    }
    /* a .pt has room for A1111's own fields only */
    if (format == VKTI_EMBEDDING_A1111) {
        for (size_t i = 0; i < e.meta_count; i++)
            if ((r->dropped[r->pub.dropped_count] = vkti_str_dup(e.meta[i].key)))
                r->pub.dropped_count++;
    }
    r->pub.from = e.format;
    r->pub.to = format;
    r->pub.from_container = vkti_embedding_container_name(e.container);
    r->pub.token = r->token;
    r->pub.num_vectors = e.num_vectors;
    r->pub.width[0] = e.width[0];
    r->pub.width[1] = e.sets == 2 ? e.width[1] : 0;
    r->pub.dropped = (const char *const *)r->dropped;

    rc = vkti_embedding_write(d, &e, format, out);
    vkti_embedding_free(&e);
    if (rc) {
        vkti_convert_report_free(&r->pub);
        return rc;
    }
    *report = &r->pub;
    return VKTI_OK;
}
