/* infotext.h — AUTOMATIC1111's "parameters" text for a generated image, as its create_infotext
 * writes it, so that A1111's "PNG Info", civitai and other readers show (and reuse) the settings:
 *     PROMPT
 *     Negative prompt: NEGATIVE                       (only when there is one)
 *     Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: 6ce01616,
 *     Model: v1-5-pruned-emaonly, Eta DDIM: 0.3, Batch size: 2, Batch pos: 0,
 *     TI hashes: "<tok>: 1a2b3c4d5e6f", Version: vkti 0.1.0
 * (one line; keys in A1111's order; a value holding ',', ':' or a newline is written as a JSON
 * string, as A1111's quote() does; absent values are left out; the whole text stripped of white
 * space at both ends, as A1111 strips it). */
#ifndef VKTI_SAMPLE_INFOTEXT_H
#define VKTI_SAMPLE_INFOTEXT_H

#include <stdint.h>

typedef struct vkti_infotext {
    const char *prompt;
    const char *negative;    /* NULL or "": no line */
    int steps;
    const char *sampler;     /* A1111's name ("Euler a") */
    double cfg;
    uint64_t seed;
    int width, height;
    const char *model_hash;  /* NULL: left out */
    const char *model;       /* NULL: left out */
    double eta;              /* DDIM's eta; 0: left out */
    int batch_size, batch_pos; /* written when batch_size > 1 */
    const char *ti_hashes;   /* "name: hash, name: hash" or NULL */
    const char *version;     /* NULL: left out */
} vkti_infotext;

/* The text (malloc'd), or NULL when out of memory. */
char *vkti_infotext_format(const vkti_infotext *t);

#endif
