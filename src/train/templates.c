/* templates.c — prompt templates and captions (see templates.h).
 *
 * The two built-in lists are diffusers' (examples/textual_inversion/textual_inversion.py at
 * 58eb52c: imagenet_templates_small and imagenet_style_templates_small), string for string and in
 * order, duplicates included (the style list has two of them, which doubles their weight).
 * Template-file and caption semantics follow AUTOMATIC1111's modules/textual_inversion/dataset.py
 * (PersonalizedBase.__init__ and create_text). */
#include "train/templates.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"

static const char *const object_templates[] = {
    "a photo of a {}",
    "a rendering of a {}",
    "a cropped photo of the {}",
    "the photo of a {}",
    "a photo of a clean {}",
    "a photo of a dirty {}",
    "a dark photo of the {}",
    "a photo of my {}",
    "a photo of the cool {}",
    "a close-up photo of a {}",
    "a bright photo of the {}",
    "a cropped photo of a {}",
    "a photo of the {}",
    "a good photo of the {}",
    "a photo of one {}",
    "a close-up photo of the {}",
    "a rendition of the {}",
    "a photo of the clean {}",
    "a rendition of a {}",
    "a photo of a nice {}",
    "a good photo of a {}",
    "a photo of the nice {}",
    "a photo of the small {}",
    "a photo of the weird {}",
    "a photo of the large {}",
    "a photo of a cool {}",
    "a photo of a small {}",
};

static const char *const style_templates[] = {
    "a painting in the style of {}",
    "a rendering in the style of {}",
    "a cropped painting in the style of {}",
    "the painting in the style of {}",
    "a clean painting in the style of {}",
    "a dirty painting in the style of {}",
    "a dark painting in the style of {}",
    "a picture in the style of {}",
    "a cool painting in the style of {}",
    "a close-up painting in the style of {}",
    "a bright painting in the style of {}",
    "a cropped painting in the style of {}",
    "a good painting in the style of {}",
    "a close-up painting in the style of {}",
    "a rendition in the style of {}",
    "a nice painting in the style of {}",
    "a small painting in the style of {}",
    "a weird painting in the style of {}",
    "a large painting in the style of {}",
};

int vkti_templates_builtin(vkti_diag *d, vkti_templates *t, vkti_template_kind kind)
{
    memset(t, 0, sizeof *t);
    if (kind == VKTI_TEMPLATE_OBJECT) {
        t->lines = object_templates;
        t->count = (int)(sizeof object_templates / sizeof object_templates[0]);
    } else if (kind == VKTI_TEMPLATE_STYLE) {
        t->lines = style_templates;
        t->count = (int)(sizeof style_templates / sizeof style_templates[0]);
    } else {
        return vkti_fail(d, VKTI_E_INVALID, "templates: no built-in set of kind %d", (int)kind);
    }
    return VKTI_OK;
}

void vkti_templates_free(vkti_templates *t)
{
    free(t->storage_);
    free(t->owned_lines_);
    memset(t, 0, sizeof *t);
}

/* Length of the valid UTF-8 sequence at p (no overlongs, no surrogates), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min, v;
    if ((c & 0xe0) == 0xc0)
        n = 2, min = 0x80, v = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        n = 3, min = 0x800, v = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        n = 4, min = 0x10000, v = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[k] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return n;
}

/* Checks UTF-8 and control characters of [text, text+len); allow_ws: tab, CR, LF allowed. */
static int check_text(vkti_diag *d, const char *text, size_t len, const char *source, int allow_ws)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    int line = 1;
    while (p < end) {
        if (*p == 0)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: line %d has a NUL byte; this is not a text file", source, line);
        if (*p == '\n')
            line++;
        if ((*p < 0x20 || *p == 0x7f) && !(allow_ws && (*p == '\t' || *p == '\r' || *p == '\n')))
            return vkti_fail(d, VKTI_E_FORMAT, "%s: line %d has the control character 0x%02x", source, line, *p);
        size_t n = utf8_len(p, end);
        if (!n)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: line %d is not valid UTF-8 (save the file as UTF-8)", source, line);
        p += n;
    }
    return VKTI_OK;
}

static size_t skip_bom(const char *text, size_t len)
{
    return len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
}

int vkti_templates_parse(vkti_diag *d, vkti_templates *t, const char *text, size_t len, const char *source)
{
    memset(t, 0, sizeof *t);
    if (len > VKTI_TEMPLATE_FILE_MAX)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %zu bytes is more than a template file may have (%u)", source, len,
                         VKTI_TEMPLATE_FILE_MAX);
    size_t bom = skip_bom(text, len);
    text += bom;
    len -= bom;
    int rc = check_text(d, text, len, source, 1);
    if (rc)
        return rc;
    char *store = malloc(len + 1);
    const char **lines = malloc(sizeof(char *) * VKTI_TEMPLATE_MAX_LINES);
    if (!store || !lines) {
        free(store);
        free(lines);
        return vkti_fail(d, VKTI_E_OOM, "%s: out of host memory", source);
    }
    size_t used = 0;
    int count = 0, lineno = 0, filewords = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        lineno++;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        size_t n = (size_t)(e - b);
        if (n == 0)
            continue;
        if (n > VKTI_TEMPLATE_LINE_MAX) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: line %d is %zu bytes, more than the %d a template may have", source,
                           lineno, n, VKTI_TEMPLATE_LINE_MAX);
            break;
        }
        if (count == VKTI_TEMPLATE_MAX_LINES) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: more than %d templates", source, VKTI_TEMPLATE_MAX_LINES);
            break;
        }
        char *line = store + used;
        memcpy(line, b, n);
        line[n] = 0;
        used += n + 1;
        if (!strstr(line, "[name]")) {
            rc = vkti_fail(d, VKTI_E_FORMAT,
                           "%s: line %d (\"%.60s\") has no [name], so it would not teach the token anything; add "
                           "[name] where the new word goes",
                           source, lineno, line);
            break;
        }
        filewords |= strstr(line, "[filewords]") != NULL;
        lines[count++] = line;
    }
    if (rc == VKTI_OK && count == 0)
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: no templates (one per line, e.g. \"a photo of [name], [filewords]\")",
                       source);
    if (rc) {
        free(store);
        free(lines);
        return rc;
    }
    t->count = count;
    t->lines = lines;
    t->a1111 = 1;
    t->uses_filewords = filewords;
    t->storage_ = store;
    t->owned_lines_ = lines;
    return VKTI_OK;
}

int vkti_templates_load(vkti_diag *d, vkti_templates *t, const char *path)
{
    memset(t, 0, sizeof *t);
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = vkti_file_read(d, path, VKTI_TEMPLATE_FILE_MAX, &data, &size);
    if (rc)
        return vkti_fail_wrap(d, rc, "template file");
    rc = vkti_templates_parse(d, t, (const char *)data, size, path);
    free(data);
    return rc;
}

int vkti_templates_from_config(vkti_diag *d, vkti_templates *t, const vkti_train_config *cfg)
{
    if (cfg->template_kind == VKTI_TEMPLATE_FILE)
        return vkti_templates_load(d, t, cfg->template_file);
    return vkti_templates_builtin(d, t, cfg->template_kind);
}

int vkti_template_pick(const vkti_templates *t, uint64_t random)
{
    if (t->count <= 0)
        return 0;
    return (int)(((random >> 32) * (uint64_t)t->count) >> 32);
}

/* Appends src[0, n) to out at *len; 0 when it does not fit. */
static int append(char *out, size_t cap, size_t *len, const char *src, size_t n)
{
    if (*len + n + 1 > cap)
        return 0;
    memcpy(out + *len, src, n);
    *len += n;
    out[*len] = 0;
    return 1;
}

/* out = in with every `what` replaced by `with` (Python's str.replace). */
static int replace_all(const char *in, const char *what, const char *with, char *out, size_t cap)
{
    size_t len = 0, wl = strlen(what), rl = strlen(with);
    out[0] = 0;
    const char *p = in, *hit;
    while ((hit = strstr(p, what))) {
        if (!append(out, cap, &len, p, (size_t)(hit - p)) || !append(out, cap, &len, with, rl))
            return 0;
        p = hit + wl;
    }
    return append(out, cap, &len, p, strlen(p));
}

int vkti_template_render(vkti_diag *d, const vkti_templates *t, int index, const char *placeholder,
                         const char *caption, char *out, size_t cap)
{
    if (index < 0 || index >= t->count)
        return vkti_fail(d, VKTI_E_INVALID, "template %d does not exist (there are %d)", index, t->count);
    const char *tpl = t->lines[index];
    if (!t->a1111) {
        if (!replace_all(tpl, "{}", placeholder, out, cap))
            return vkti_fail(d, VKTI_E_INVALID, "prompt from template %d is longer than %zu bytes", index, cap - 1);
        return VKTI_OK;
    }
    if (strstr(tpl, "[filewords]") && !caption)
        return vkti_fail(d, VKTI_E_INVALID, "template %d (\"%.60s\") needs the image's caption", index, tpl);
    char *tmp = malloc(VKTI_PROMPT_MAX);
    if (!tmp)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory rendering a prompt");
    int ok = replace_all(tpl, "[filewords]", caption ? caption : "", tmp, VKTI_PROMPT_MAX) &&
             replace_all(tmp, "[name]", placeholder, out, cap);
    free(tmp);
    if (!ok)
        return vkti_fail(d, VKTI_E_INVALID, "prompt from template %d is longer than %zu bytes", index, cap - 1);
    return VKTI_OK;
}

/* Where the base name of path starts. */
static const char *base_name(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            b = p + 1;
    return b;
}

/* Where Python's os.path.splitext would cut path (its length if there is no extension): the last
 * '.' of the base name that is not part of its leading dots. */
static size_t ext_start(const char *path)
{
    const char *b = base_name(path);
    const char *q = b;
    while (*q == '.')
        q++;
    const char *dot = strrchr(q, '.');
    return dot ? (size_t)(dot - path) : strlen(path);
}

void vkti_caption_from_filename(const char *path, char *out, size_t cap)
{
    if (!cap)
        return;
    const char *b = base_name(path);
    const char *e = path + ext_start(path);
    if (e < b)
        e = b + strlen(b);
    /* re.sub(r"^[-\d]+\s*", "", stem) */
    const char *p = b;
    while (p < e && (*p == '-' || isdigit((unsigned char)*p)))
        p++;
    if (p > b)
        while (p < e && isspace((unsigned char)*p))
            p++;
    size_t n = (size_t)(e - p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
}

int vkti_caption_clean(vkti_diag *d, const char *text, size_t len, const char *source, char *out, size_t cap)
{
    if (cap)
        out[0] = 0;
    size_t bom = skip_bom(text, len);
    text += bom;
    len -= bom;
    int rc = check_text(d, text, len, source, 1);
    if (rc)
        return rc;
    size_t n = 0;
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = n > 0;
            continue;
        }
        if (n + (space ? 2u : 1u) >= cap || n + (space ? 1u : 0u) >= VKTI_CAPTION_MAX)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the caption is longer than %d bytes (CLIP reads 77 tokens)", source,
                             cap - 1 < VKTI_CAPTION_MAX ? (int)(cap - 1) : VKTI_CAPTION_MAX);
        if (space)
            out[n++] = ' ';
        space = 0;
        out[n++] = (char)c;
    }
    out[n] = 0;
    return VKTI_OK;
}

int vkti_caption_for_image(vkti_diag *d, const char *image_path, char *out, size_t cap, int *from_txt)
{
    if (from_txt)
        *from_txt = 0;
    size_t stem = ext_start(image_path);
    char *txt = malloc(stem + 5);
    if (!txt)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    memcpy(txt, image_path, stem);
    memcpy(txt + stem, ".txt", 5);
    int rc = VKTI_OK;
    if (strcmp(txt, image_path) && vkti_file_exists(txt)) {
        uint8_t *data = NULL;
        size_t size = 0;
        rc = vkti_file_read(d, txt, VKTI_CAPTION_FILE_MAX, &data, &size);
        if (rc == VKTI_OK) {
            rc = vkti_caption_clean(d, (const char *)data, size, txt, out, cap);
            if (rc == VKTI_OK && from_txt)
                *from_txt = 1;
        }
        free(data);
    } else {
        vkti_caption_from_filename(image_path, out, cap);
    }
    free(txt);
    return rc;
}
