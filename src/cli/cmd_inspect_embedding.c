/* cmd_inspect_embedding.c — `vkti inspect EMBEDDING`: what cmd_inspect.c runs for a file laid
 * out like an embedding: its format, token(s), vectors, width and the model family that width
 * fits, the L2 norm of every vector, and its metadata. */
#include <stdio.h>

#include "cli/cli.h"
#include "vkti/inspect.h"

#define NORMS_PER_LINE 8
#define TOKENS_SHOWN 8
#define VALUE_SHOWN 200 /* bytes of a metadata value */

/* Prints a string from the file with its control characters (a terminal's escape sequences
 * included) shown as '?', cut at max bytes. */
static void put_clean(const char *s, size_t max)
{
    size_t i = 0;
    for (; s[i] && i < max; i++)
        putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
    if (s[i])
        fputs("...", stdout);
}

static void print_norms(const char *label, const double *norms, int n)
{
    printf("  %s:", label);
    for (int i = 0; i < n; i++) {
        if (i && i % NORMS_PER_LINE == 0)
            printf("\n   ");
        printf(" %.4g", norms[i]);
    }
    printf("\n");
}

static void print_report(const vkti_embedding_report *r)
{
    printf("%s: textual-inversion embedding, %s format (%s, %s)\n", r->path, vkti_embedding_format_name(r->format),
           r->container, r->dtype);
    printf("  token: %s", r->token);
    if (r->num_vectors > 1) {
        printf(" (%d vectors:", r->num_vectors);
        for (int i = 0; i < r->num_vectors && i < TOKENS_SHOWN; i++)
            printf(" %s", r->tokens[i]);
        printf("%s)", r->num_vectors > TOKENS_SHOWN ? " ..." : "");
    } else {
        printf(" (1 vector)");
    }
    printf("\n  width: ");
    if (r->sets == 2)
        printf("%s %d + %s %d", r->set_names[0], r->width[0], r->set_names[1], r->width[1]);
    else
        printf("%d", r->width[0]);
    if (r->family)
        printf(", fits %s\n", r->family);
    else
        printf(", which no Stable Diffusion model has (SD 1.x: 768, SD 2.x: 1024, SDXL: 768 + 1280)\n");
    if (r->sets == 2) {
        print_norms("vector norms (L2), clip_l", r->norms[0], r->num_vectors);
        print_norms("vector norms (L2), clip_g", r->norms[1], r->num_vectors);
    } else {
        print_norms("vector norms (L2)", r->norms[0], r->num_vectors);
    }
    if (r->has_step)
        printf("  trained steps: %lld\n", (long long)r->step);
    if (r->sd_checkpoint || r->sd_checkpoint_name) {
        printf("  base model:");
        if (r->sd_checkpoint_name) {
            putchar(' ');
            put_clean(r->sd_checkpoint_name, VALUE_SHOWN);
        }
        if (r->sd_checkpoint) {
            printf(" hash ");
            put_clean(r->sd_checkpoint, VALUE_SHOWN);
        }
        printf("\n");
    }
    if (r->meta_count) {
        printf("  metadata:\n");
        for (int i = 0; i < r->meta_count; i++) {
            printf("    ");
            put_clean(r->meta_keys[i], VALUE_SHOWN);
            printf(": ");
            put_clean(r->meta_values[i], VALUE_SHOWN);
            printf("\n");
        }
    }
}

int cmd_inspect_embedding(const char *path, const cli_globals *g)
{
    vkti_ctx *ctx = cli_context(g);
    if (!ctx)
        return 2;
    vkti_embedding_report *r;
    int rc = vkti_inspect_embedding(ctx, path, &r);
    if (rc) {
        int code = cli_fail(ctx, rc);
        return cli_done(ctx, code);
    }
    print_report(r);
    vkti_embedding_report_free(r);
    return cli_done(ctx, 0);
}
