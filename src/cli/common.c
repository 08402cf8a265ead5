/* common.c — global options, context creation, log printing and error reporting for the CLI. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vkti %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see vkti %s --help)\n", cmd);
    va_end(ap);
    return 1;
}

/* Value of "--opt VALUE" or "--opt=VALUE" at argv[*i]; advances *i past a separate value. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *matched)
{
    size_t n = strlen(name);
    *matched = 0;
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=') {
        *matched = 1;
        return argv[*i] + n + 1;
    }
    if (argv[*i][n] != 0)
        return NULL;
    *matched = 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

int cli_take_globals(int *argc, char **argv, cli_globals *g)
{
    memset(g, 0, sizeof *g);
    const char *env = getenv("VKTI_VALIDATION");
    g->validation = env && env[0] == '1';
    g->disable = getenv("VKTI_DISABLE");
    env = getenv("VKTI_DEVICE");
    if (env && env[0])
        g->device = env;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        int m;
        const char *v;
        if ((v = opt_value(*argc, argv, &i, "--device", &m)) || m) {
            if (!v || !v[0]) {
                fprintf(stderr, "vkti: --device needs a value: an index or part of a name (see vkti devices)\n");
                return 1;
            }
            g->device = v;
        } else if ((v = opt_value(*argc, argv, &i, "--precision", &m)) || m) {
            g->precision_set = 1;
            if (v && strcmp(v, "fp16") == 0)
                g->precision = VKTI_PRECISION_FP16;
            else if (v && strcmp(v, "fp32") == 0)
                g->precision = VKTI_PRECISION_FP32;
            else {
                fprintf(stderr, "vkti: --precision must be fp16 or fp32, not '%s'\n", v ? v : "");
                return 1;
            }
        } else if ((v = opt_value(*argc, argv, &i, "--max-vram", &m)) || m) {
            if (!v || !v[0]) {
                fprintf(stderr, "vkti: --max-vram needs a size such as 6G or 6000M\n");
                return 1;
            }
            g->max_vram = v;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            g->verbose++;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

static void print_log(void *user, vkti_log_level level, const char *msg)
{
    (void)user;
    static const char *const prefix[] = {"error: ", "warning: ", "", ""};
    fprintf(stderr, "%s%s\n", prefix[level], msg);
}

/* On a terminal: one status line redrawn in place (to stderr, beside the log) */
static void print_progress(void *user, const char *line, int final)
{
    (void)user;
    fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    fflush(stderr);
}

vkti_ctx *cli_context(const cli_globals *g)
{
    char cache[1024];
    const char *home = getenv("XDG_CACHE_HOME");
    const char *h = getenv("HOME");
#if defined(_WIN32)
    const char *la = getenv("LOCALAPPDATA");
    if (la)
        snprintf(cache, sizeof cache, "%s\\vkti\\pipelines.bin", la);
#else
    if (home && home[0])
        snprintf(cache, sizeof cache, "%s/vkti/pipelines.bin", home);
    else if (h && h[0])
        snprintf(cache, sizeof cache, "%s/.cache/vkti/pipelines.bin", h);
#endif
    else
        cache[0] = 0;
    vkti_options o = {
        .device = g->device,
        .precision = g->precision,
        .validation = g->validation,
        .disable = g->disable,
        .pipeline_cache = cache[0] ? cache : NULL,
        .log = print_log,
        .log_level = g->verbose >= 2 ? VKTI_LOG_DEBUG : g->verbose ? VKTI_LOG_INFO : VKTI_LOG_WARN,
        .progress = vkti_stderr_is_terminal() ? print_progress : NULL,
    };
    vkti_ctx *ctx = NULL;
    if (vkti_ctx_init(&ctx, &o) != VKTI_OK) {
        fprintf(stderr, "vkti: error: out of memory\n");
        return NULL;
    }
    return ctx;
}

int cli_fail(vkti_ctx *ctx, int status)
{
    fprintf(stderr, "vkti: error: %s\n", vkti_ctx_message(ctx));
    return vkti_exit_code(status);
}
