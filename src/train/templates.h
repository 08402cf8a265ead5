/* templates.h — the prompts training sees: diffusers' object (27) and style (19) template sets
 * ("a photo of a {}"), AUTOMATIC1111 template files with [name] and [filewords], the per-image
 * caption that [filewords] stands for (NAME.txt beside the image, else the file name), and the
 * deterministic choice of a template from the trainer's random numbers. */
#ifndef VKTI_TRAIN_TEMPLATES_H
#define VKTI_TRAIN_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "vkti/train_config.h"

#define VKTI_TEMPLATE_FILE_MAX (1u << 20) /* bytes of a template file */
#define VKTI_TEMPLATE_MAX_LINES 4096
#define VKTI_TEMPLATE_LINE_MAX 1024      /* bytes of one template line */
#define VKTI_CAPTION_FILE_MAX (64u << 10) /* bytes of a NAME.txt caption file */
#define VKTI_CAPTION_MAX 4096            /* bytes of a caption after cleaning */
#define VKTI_PROMPT_MAX 8192             /* a rendered prompt, with the caption and token inside */

typedef struct vkti_templates {
    int count;
    const char *const *lines;     /* [count] */
    int a1111;                    /* 1: [name]/[filewords] placeholders; 0: diffusers' "{}" */
    int uses_filewords;           /* some line has [filewords]: captions are needed */
    char *storage_;               /* owned (template files) */
    const char **owned_lines_;
} vkti_templates;

/* diffusers' imagenet_templates_small (object) or imagenet_style_templates_small (style); no
 * allocation (free is a no-op). */
int vkti_templates_builtin(vkti_diag *d, vkti_templates *t, vkti_template_kind kind);

/* An AUTOMATIC1111 template file: one template per line; like A1111 each line is stripped of
 * surrounding white space (so CRLF files work); unlike A1111, empty lines are skipped (A1111 would
 * train on an empty prompt) and a line without [name] is refused (it would teach the token
 * nothing). Refused too: NUL bytes, invalid UTF-8, control characters other than tab, lines over
 * VKTI_TEMPLATE_LINE_MAX, more than VKTI_TEMPLATE_MAX_LINES lines, a file with no template.
 * A UTF-8 byte-order mark is skipped. source names the file in messages. */
int vkti_templates_parse(vkti_diag *d, vkti_templates *t, const char *text, size_t len, const char *source);
int vkti_templates_load(vkti_diag *d, vkti_templates *t, const char *path);
/* The set the configuration names (object, style or its file). */
int vkti_templates_from_config(vkti_diag *d, vkti_templates *t, const vkti_train_config *cfg);
void vkti_templates_free(vkti_templates *t);

/* The template for one sample, from a 64-bit random number of the trainer's RNG (its high 32 bits
 * scaled to the count: deterministic, bias below 2^-20 for any real template count). */
int vkti_template_pick(const vkti_templates *t, uint64_t random);

/* Renders template `index` for an image: diffusers' sets put `placeholder` where "{}" is; template
 * files replace every [filewords] with `caption`, then every [name] with `placeholder` (A1111's
 * order: a caption's own "[name]" becomes the token too). placeholder is the token string the
 * trainer uses (with several vectors, diffusers' "<tok> <tok>_1 ..."); caption may be NULL when
 * the set does not use [filewords]. */
int vkti_template_render(vkti_diag *d, const vkti_templates *t, int index, const char *placeholder,
                         const char *caption, char *out, size_t cap);

/* The caption A1111 derives from an image's file name: the name without folder and extension,
 * without leading digits and dashes and the spaces after them ("00012-a cat.png" -> "a cat"). */
void vkti_caption_from_filename(const char *path, char *out, size_t cap);
/* A caption file's text made safe for a prompt: byte-order mark dropped, every run of white space
 * (newlines included) made one space, ends trimmed — the same tokens CLIP's whitespace cleaning
 * gives. Refuses NUL bytes, invalid UTF-8, other control characters, captions over VKTI_CAPTION_MAX. */
int vkti_caption_clean(vkti_diag *d, const char *text, size_t len, const char *source, char *out, size_t cap);
/* The caption of one image: its NAME.txt (same path, extension replaced) if that exists, else the
 * file name's caption. *from_txt (optional) says which. */
int vkti_caption_for_image(vkti_diag *d, const char *image_path, char *out, size_t cap, int *from_txt);

#endif
