/* cmd_convert.c — `vkti convert IN OUT [--format diffusers|kohya|a1111] [--token NAME]`:
 * an embedding file from any format to another, atomically, never over its input. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "vkti/embedding.h"

static const char HELP[] =
    "usage: vkti convert IN OUT [--format diffusers|kohya|a1111] [--token NAME]\n"
    "\n"
    "Converts a textual-inversion embedding between the formats other tools load. IN may be any of\n"
    "them (found by content, not by name):\n"
    "  diffusers  learned_embeds.safetensors: one tensor named after the token, [vectors, width]\n"
    "  kohya      kohya sd-scripts / ComfyUI: {\"emb_params\": [vectors, width]} (SDXL: clip_l, clip_g)\n"
    "  a1111      AUTOMATIC1111 .pt (string_to_param, name, step, sd_checkpoint...)\n"
    "\n"
    "  --format F   the output format (default: a1111 for OUT.pt, diffusers for OUT.safetensors)\n"
    "  --token NAME the token to store (default: the input's). AUTOMATIC1111 and ComfyUI name an\n"
    "               embedding after its file; diffusers after the token stored in it.\n"
    "\n"
    "Vectors are copied bit for bit. Step, base model hash and name travel in every format;\n"
    "other safetensors metadata is kept in a safetensors output. OUT is written whole or not at\n"
    "all, and never over IN. SDXL embeddings can only be written as kohya.\n"
    "Exit code 0 on success, 1 on bad input.\n";

static void print_width(const vkti_convert_report *r)
{
    if (r->width[1])
        printf("clip_l %d + clip_g %d", r->width[0], r->width[1]);
    else
        printf("%d", r->width[0]);
}

int cmd_convert(int argc, char **argv, const cli_globals *g)
{
    const char *in = NULL, *out = NULL;
    vkti_convert_options o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(HELP, stdout);
            return 0;
        }
        if (!strcmp(a, "--format")) {
            if (i + 1 >= argc || vkti_embedding_format_parse(argv[i + 1], &o.format) != VKTI_OK)
                return cli_usage_error("convert", "--format must be diffusers, kohya or a1111%s%s%s",
                                       i + 1 < argc ? ", not '" : "", i + 1 < argc ? argv[i + 1] : "",
                                       i + 1 < argc ? "'" : "");
            i++;
        } else if (!strcmp(a, "--token")) {
            if (i + 1 >= argc)
                return cli_usage_error("convert", "--token needs a name");
            o.token = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("convert", "unknown option '%s'", a);
        } else if (!in) {
            in = a;
        } else if (!out) {
            out = a;
        } else {
            return cli_usage_error("convert", "give one input and one output ('%s' is a third file)", a);
        }
    }
    if (!in || !out)
        return cli_usage_error("convert", "give an input and an output file");
    vkti_ctx *ctx = cli_context(g);
    if (!ctx)
        return 2;
    vkti_convert_report *r;
    int rc = vkti_embedding_convert(ctx, in, out, &o, &r);
    if (rc) {
        int code = cli_fail(ctx, rc);
        return cli_done(ctx, code);
    }
    printf("wrote %s: %s, token '%s', %d vector%s of width ", out, vkti_embedding_format_name(r->to), r->token,
           r->num_vectors, r->num_vectors == 1 ? "" : "s");
    print_width(r);
    printf(" (from %s, %s %s)\n", in, vkti_embedding_format_name(r->from), r->from_container);
    if (r->dropped_count) {
        printf("  not carried over (a .pt has no place for it): ");
        for (int i = 0; i < r->dropped_count; i++)
            printf("%s%s", i ? ", " : "", r->dropped[i]);
        printf("\n");
    }
    vkti_convert_report_free(r);
    return cli_done(ctx, 0);
}
