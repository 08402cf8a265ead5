/* cmd_inspect_model.c — `vkti inspect MODEL`: prints what vkti_inspect_model found in a diffusers
 * folder or a single-file checkpoint (family, layout, dtypes, parameters per network, scheduler,
 * tokenizer, fingerprint). cmd_inspect.c sends model paths here. */
#include <stdio.h>

#include "cli/cli.h"
#include "vkti/inspect.h"

/* 859520964 -> "859,520,964" */
static const char *grouped(char *buf, size_t cap, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

static void print_model(const vkti_model_report *r)
{
    char a[40];
    printf("%s: Stable Diffusion model, %s\n", r->path, r->layout);
    printf("  family: %s (%s)\n", r->family, r->family_reason);
    for (int i = 0; i < 3; i++) {
        const vkti_model_net_report *n = &r->nets[i];
        printf("  %-13s %s parameters, %s, %d tensors, %.1f MB\n", n->name, grouped(a, sizeof a, n->params), n->dtypes,
               n->tensors, (double)n->bytes / 1e6);
        printf("                %s\n", n->summary);
        printf("                weights: %s\n", n->files);
        printf("                config: %s\n", n->config);
    }
    printf("  total: %s parameters", grouped(a, sizeof a, r->total_params));
    if (r->unused_tensors)
        printf(" (%d tensor%s in the files not used by any network)", r->unused_tensors,
               r->unused_tensors == 1 ? "" : "s");
    printf("\n  scheduler: prediction %s, %s betas %g to %g, %d training steps%s%s%s\n", r->prediction, r->beta_schedule,
           r->beta_start, r->beta_end, r->timesteps, r->scheduler_class[0] ? " (" : "", r->scheduler_class,
           r->scheduler_class[0] ? ")" : "");
    printf("             from %s\n", r->scheduler_source);
    if (r->tokenizer_found)
        printf("  tokenizer: %s\n", r->tokenizer);
    else
        printf("  tokenizer: not found: %s\n", r->tokenizer);
    printf("  fingerprint: %s\n", r->fingerprint);
    for (int i = 0; i < r->note_count; i++)
        printf("  note: %s\n", r->notes[i]);
}

int cmd_inspect_model(const char *path, const char *tokenizer_dir, const cli_globals *g)
{
    vkti_ctx *ctx = cli_context(g);
    if (!ctx)
        return 2;
    vkti_model_report *r = NULL;
    int rc = vkti_inspect_model(ctx, path, tokenizer_dir, &r);
    if (rc) {
        int code = cli_fail(ctx, rc);
        vkti_ctx_free(ctx);
        return code;
    }
    print_model(r);
    vkti_model_report_free(r);
    vkti_ctx_free(ctx);
    return 0;
}
