/* cmd_inspect.c — `vkti inspect PATH`: for a folder of training images, a summary (count,
 * sizes, aspect ratios, formats, captions, duplicates, skipped files) and a contact sheet PNG
 * of what training will see. A model (diffusers folder, .safetensors / .ckpt checkpoint) goes to
 * cmd_inspect_model.c, an embedding file to cmd_inspect_embedding.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "vkti/embedding.h"
#include "vkti/inspect.h"

static const char HELP[] =
    "usage: vkti inspect DATADIR [--resolution PX] [--buckets] [--thumb PX] [--out FILE.png | --no-sheet]\n"
    "       vkti inspect MODEL [--tokenizer DIR]\n"
    "\n"
    "MODEL, a diffusers folder or a single .safetensors / .ckpt checkpoint: reads every weight as\n"
    "training would and prints the family (SD 1.x / 2.x), layout, file dtypes, parameters and\n"
    "architecture of each network, the noise schedule, where the tokenizer is (--tokenizer DIR\n"
    "names it for single files) and the model's fingerprint.\n"
    "\n"
    "Looks at a folder of training images the way `vkti train` will see them: every JPEG, PNG\n"
    "and BMP is decoded; anything else is listed as skipped with the reason. Prints the image\n"
    "count, original sizes and aspect ratios, formats, captions (NAME.txt beside NAME.jpg), exact\n"
    "duplicates (same decoded pixels) and near duplicates (dHash), and writes a contact sheet:\n"
    "every image after resize and center crop, labelled with its number and file name.\n"
    "\n"
    "  --resolution PX  training resolution, a multiple of 8 (default 512)\n"
    "  --buckets        show each image at its aspect-ratio bucket instead of a square\n"
    "  --thumb PX       thumbnail size in the sheet (default: the resolution, at most 256);\n"
    "                   at the resolution or more the sheet shows the exact training pixels\n"
    "  --out FILE.png   the contact sheet (default: NAME-contact-sheet.png in the current\n"
    "                   folder, NAME the data folder's name; more than 100 images make more\n"
    "                   pages, FILE-2.png ...). Not inside the data folder.\n"
    "  --no-sheet       only the summary\n"
    "\n"
    "Exit code 0 when the folder has usable images, 1 when it has none or the input is bad.\n";

static int parse_int(const char *s, int *out)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < 0 || v > 1 << 20)
        return 0;
    *out = (int)v;
    return 1;
}

/* "data/cats/" -> "cats-contact-sheet.png" */
static void default_sheet(char *out, size_t cap, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && (dir[n - 1] == '/' || dir[n - 1] == '\\'))
        n--;
    size_t s = n;
    while (s > 0 && dir[s - 1] != '/' && dir[s - 1] != '\\')
        s--;
    if (n - s == 0 || (n - s == 1 && dir[s] == '.') || (n - s == 2 && dir[s] == '.' && dir[s + 1] == '.'))
        snprintf(out, cap, "contact-sheet.png");
    else
        snprintf(out, cap, "%.*s-contact-sheet.png", (int)(n - s), dir + s);
}

static void print_report(const vkti_inspect_report *r)
{
    printf("%s: %d image%s, trained at ", r->dir, r->image_count, r->image_count == 1 ? "" : "s");
    if (r->buckets)
        printf("aspect-ratio buckets of about %dx%d pixels (center crop)\n", r->resolution, r->resolution);
    else
        printf("%dx%d (center crop)\n", r->resolution, r->resolution);
    if (r->image_count > 0) {
        printf("  sizes: %d..%d wide, %d..%d high; shorter side %d..%d", r->min_w, r->max_w, r->min_h, r->max_h,
               r->min_short, r->max_short);
        if (r->upscaled_count)
            printf(" (%d image%s smaller than the training size, so enlarged)", r->upscaled_count,
                   r->upscaled_count == 1 ? "" : "s");
        printf("\n  aspect ratios (width/height): %.2f..%.2f; nearest:", r->min_aspect, r->max_aspect);
        for (int b = 0; b < VKTI_INSPECT_ASPECT_BINS; b++)
            if (r->aspect_bins[b])
                printf(" %s x%d", vkti_inspect_aspect_name(b), r->aspect_bins[b]);
        printf("\n  formats:");
        static const char *const fmt[3] = {"JPEG", "PNG", "BMP"};
        for (int f = 0; f < 3; f++)
            if (r->format_count[f])
                printf(" %s %d", fmt[f], r->format_count[f]);
        if (r->alpha_count)
            printf("; %d with alpha (usable as a loss mask)", r->alpha_count);
        if (r->deep_count)
            printf("; %d 16-bit", r->deep_count);
        if (r->oriented_count)
            printf("; %d turned by their EXIF orientation", r->oriented_count);
        printf("\n  captions: %d of %d (NAME.txt beside NAME.jpg)\n", r->caption_count, r->image_count);
        for (int k = 0; k < r->image_count; k++)
            if (r->images[k].caption)
                printf("    %d %s: %s\n", k + 1, r->images[k].name, r->images[k].caption);
        printf("  exact duplicates (same decoded pixels): %d\n", r->duplicate_count);
        for (int k = 0; k < r->image_count; k++)
            if (r->images[k].duplicate_of >= 0)
                printf("    %d %s = %d %s\n", k + 1, r->images[k].name, r->images[k].duplicate_of + 1,
                       r->images[r->images[k].duplicate_of].name);
        printf("  near duplicates (dHash of a 9x8 greyscale, Hamming distance <= %d of 64, mirror images too): %d\n",
               r->similar_threshold, r->similar_count);
        for (int k = 0; k < r->image_count; k++)
            if (r->images[k].similar_to >= 0)
                printf("    %d %s ~ %d %s%s (distance %d)\n", k + 1, r->images[k].name, r->images[k].similar_to + 1,
                       r->images[r->images[k].similar_to].name, r->images[k].similar_mirrored ? " mirrored" : "",
                       r->images[k].similar_distance);
    }
    printf("  skipped: %d file%s\n", r->skipped_count, r->skipped_count == 1 ? "" : "s");
    for (int i = 0; i < r->skipped_count; i++)
        printf("    %s: %s\n", r->skipped[i].name, r->skipped[i].reason);
    for (int i = 0; i < r->sheet_pages; i++) {
        if (i == 0)
            printf("  contact sheet: %s (%dx%d, thumbnails %d px)", r->sheet_files[0], r->sheet_w, r->sheet_h,
                   r->thumb);
        else
            printf(", %s", r->sheet_files[i]);
    }
    if (r->sheet_pages)
        printf("\n");
}

int cmd_inspect(int argc, char **argv, const cli_globals *g)
{
    const char *path = NULL, *out = NULL, *tokenizer = NULL;
    vkti_inspect_options o = {0};
    int no_sheet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(HELP, stdout);
            return 0;
        }
        if (!strcmp(a, "--resolution") || !strcmp(a, "--thumb")) {
            int *dst = !strcmp(a, "--thumb") ? &o.thumb : &o.resolution;
            if (i + 1 >= argc || !parse_int(argv[i + 1], dst) || *dst == 0)
                return cli_usage_error("inspect", "%s needs a positive number of pixels", a);
            i++;
        } else if (!strcmp(a, "--out")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return cli_usage_error("inspect", "--out needs a file name ending in .png");
            out = argv[++i];
        } else if (!strcmp(a, "--tokenizer")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return cli_usage_error("inspect", "--tokenizer needs a folder");
            tokenizer = argv[++i];
        } else if (!strcmp(a, "--buckets")) {
            o.buckets = 1;
        } else if (!strcmp(a, "--no-sheet")) {
            no_sheet = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("inspect", "unknown option '%s'", a);
        } else if (path) {
            return cli_usage_error("inspect", "one PATH only ('%s' and '%s')", path, a);
        } else {
            path = a;
        }
    }
    if (!path)
        return cli_usage_error("inspect", "give a folder of images, a model or an embedding file");
    if (out && no_sheet)
        return cli_usage_error("inspect", "--out and --no-sheet contradict each other");
    vkti_path_kind kind = vkti_inspect_path_kind(path);
    if (kind == VKTI_PATH_NONE) {
        fprintf(stderr, "vkti inspect: %s: no such file or folder\n", path);
        return 1;
    }
    if (vkti_inspect_is_model(path))
        return cmd_inspect_model(path, tokenizer, g);
    if (tokenizer)
        return cli_usage_error("inspect", "--tokenizer is for models; %s is not one", path);
    if (kind == VKTI_PATH_FILE && vkti_embedding_probe(path))
        return cmd_inspect_embedding(path, g);
    if (kind == VKTI_PATH_FILE) {
        fprintf(stderr, "vkti inspect: %s is neither a model nor an embedding file vkti reads (give a folder of "
                        "images, a model or an embedding file)\n", path);
        return 1;
    }
    vkti_ctx *ctx = cli_context(g);
    if (!ctx)
        return 2;
    char sheet[1024];
    if (!no_sheet) {
        if (out)
            snprintf(sheet, sizeof sheet, "%s", out);
        else
            default_sheet(sheet, sizeof sheet, path);
        o.sheet_path = sheet;
    }
    vkti_inspect_report *r = NULL;
    int rc = vkti_inspect_images(ctx, path, &o, &r);
    if (rc) {
        int code = cli_fail(ctx, rc);
        vkti_ctx_free(ctx);
        return code;
    }
    print_report(r);
    int code = 0;
    if (r->image_count == 0) {
        fprintf(stderr, "vkti inspect: %s has no usable images (JPEG, PNG or BMP)\n", path);
        code = 1;
    }
    vkti_inspect_report_free(r);
    vkti_ctx_free(ctx);
    return code;
}
