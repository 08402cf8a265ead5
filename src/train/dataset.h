/* dataset.h — the training images: a folder scanned in a fixed order (file names sorted
 * bytewise), every picture decoded once to check it, non-images skipped with a message each,
 * an optional caption per image (NAME.txt beside NAME.jpg), --repeats, optional aspect-ratio
 * buckets, and the preprocessing that gives exactly the pixels training sees for an image with
 * a given crop and flip (decode, EXIF orientation, scale + crop, flip, float [-1, 1] HWC).
 *
 * Ownership: vkti_dataset_open allocates the dataset and everything in it; vkti_dataset_free
 * releases it. */
#ifndef VKTI_TRAIN_DATASET_H
#define VKTI_TRAIN_DATASET_H

#include "base/diag.h"
#include "io/image.h"

#define VKTI_CAPTION_MAX_BYTES ((size_t)16 << 10) /* a caption file larger than this is ignored */
#define VKTI_DATASET_MAX_IMAGES 100000
#define VKTI_DATASET_DEFAULT_RESOLUTION 512
#define VKTI_DATASET_MAX_REPEATS 100000

/* Called for each image that decodes, with the decoded original (EXIF orientation applied),
 * while the folder is opened; a non-zero return stops the scan and is returned by open. */
typedef int (*vkti_dataset_visit_fn)(void *user, int item, const vkti_image *img);

typedef struct vkti_dataset_options {
    int resolution;   /* training side, a multiple of 8 (0: 512) */
    int repeats;      /* times each image is seen per epoch (0: 1) */
    int buckets;      /* 1: each image trains at its aspect-ratio bucket (vkti_image_bucket)
                         instead of resolution x resolution */
    int allow_empty;  /* 1: a folder without usable images is not an error (for inspection) */
    int quiet;        /* 1: skipped files are only listed (logged at debug level), for callers
                         that report them themselves */
    vkti_dataset_visit_fn visit;
    void *visit_user;
} vkti_dataset_options;

typedef struct vkti_dataset_item {
    char *name;             /* file name in the folder */
    char *path;             /* folder/name */
    char *caption;          /* UTF-8, whitespace runs made one space, trimmed; NULL if none */
    vkti_image_info info;   /* format, size as shown (after EXIF orientation), channels, bits */
    int target_w, target_h; /* the size training sees it at */
} vkti_dataset_item;

/* A file that is not used, and why ("not an image (...)", "truncated PNG ...", ...). */
typedef struct vkti_dataset_skip {
    char *name;
    char *reason;
} vkti_dataset_skip;

typedef struct vkti_dataset {
    char *dir;
    vkti_dataset_options opt;   /* with the defaults filled in */
    vkti_dataset_item *items;   /* [count], sorted by file name */
    int count;
    vkti_dataset_skip *skipped; /* [skipped_count], in file-name order */
    int skipped_count;
    int caption_count;          /* items with a caption */
} vkti_dataset;

/* Scans dir. Skipped files are logged (warning; hidden files at info; unless quiet) and listed
 * in skipped.
 * Refuses a resolution that is not a positive multiple of 8, repeats < 1, a folder that cannot
 * be listed, and (unless allow_empty) a folder with no usable image. */
int vkti_dataset_open(vkti_diag *d, vkti_dataset **out, const char *dir, const vkti_dataset_options *opt);
void vkti_dataset_free(vkti_dataset *ds);

/* Samples per epoch: count x repeats. */
int vkti_dataset_length(const vkti_dataset *ds);
/* The item at epoch position i (0 <= i < length): i % count, so each image's repeats are
 * spread evenly; shuffling is the trainer's business. */
int vkti_dataset_item_at(const vkti_dataset *ds, int i);

/* The decoded original of an item (EXIF orientation applied). */
int vkti_dataset_load(vkti_diag *d, const vkti_dataset *ds, int item, vkti_image *out);
/* What training sees of an item, as an image: scaled to cover target_w x target_h, cropped at
 * crop, flipped if crop.flip (see vkti_image_fit). */
int vkti_dataset_fit(vkti_diag *d, const vkti_dataset *ds, int item, vkti_crop crop, vkti_image *out);
/* The same as floats: rgb [target_h, target_w, 3] in [-1, 1] (the VAE encoder's NHWC input);
 * alpha (may be NULL) [target_h, target_w] in [0, 1], all ones when the file has no alpha. */
int vkti_dataset_preprocess(vkti_diag *d, const vkti_dataset *ds, int item, vkti_crop crop, float *rgb, float *alpha);

#endif
