/* inspect_internal.h — what inspect.c (scan, hashes, statistics) hands to inspect_sheet.c
 * (the contact sheet pages): the report with its thumbnails. */
#ifndef VKTI_API_INSPECT_INTERNAL_H
#define VKTI_API_INSPECT_INTERNAL_H

#include <stdint.h>

#include "base/diag.h"
#include "train/dataset.h"
#include "vkti/inspect.h"

typedef struct vkti_inspect_thumb {
    uint8_t *rgb; /* [h, w, 3]: the training view, shrunk to fit thumb x thumb if larger */
    int w, h;
} vkti_inspect_thumb;

typedef struct vkti_inspect_impl {
    vkti_inspect_report pub;     /* first, so the public pointer is this one */
    vkti_dataset *ds;
    vkti_inspect_skipped *skipped;
    char **pages;
    /* per image, grown while scanning */
    vkti_inspect_image *images;
    vkti_inspect_thumb *thumbs;
    uint64_t *pixel_hash, *dhash, *dhash_mirror;
    int cap, seen;
    vkti_diag *d;
} vkti_inspect_impl;

/* Writes the contact sheet pages (first at path, then path-2.png, ...) into r->pages. */
int vkti__inspect_sheet(vkti_diag *d, vkti_inspect_impl *r, const char *path);

#endif
