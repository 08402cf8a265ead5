/* cli.h — what the subcommands of the vkti program share: global options (--device,
 * --precision, --max-vram, -v), the context they make, the log printer, and error reporting.
 * The CLI uses only the public API (include/vkti/) and cJSON. */
#ifndef VKTI_CLI_CLI_H
#define VKTI_CLI_CLI_H

#include "vkti/vkti.h"

typedef struct cli_globals {
    const char *device;
    vkti_precision precision;
    int precision_set;       /* --precision was given */
    int verbose;
    int validation;          /* VKTI_VALIDATION=1 in the environment */
    const char *max_vram;
    const char *disable;     /* VKTI_DISABLE: capabilities to ignore (testing) */
} cli_globals;

/* Removes global options from argv (keeping argv[0] and everything else in order).
 * Returns 0, or 1 after printing a message for a malformed global option. */
int cli_take_globals(int *argc, char **argv, cli_globals *g);
/* Makes the context for a subcommand from the globals; on failure prints and returns NULL. */
vkti_ctx *cli_context(const cli_globals *g);
/* Prints "vkti: error: <message>" and returns the exit code for status. */
int cli_fail(vkti_ctx *ctx, int status);
/* Prints a usage error and returns exit code 1. */
int cli_usage_error(const char *cmd, const char *fmt, ...);
/* Is argv[i] -h or --help? */
int cli_is_help(const char *arg);

int cmd_devices(int argc, char **argv, const cli_globals *g);
int cmd_train(int argc, char **argv, const cli_globals *g);
int cmd_selftest(int argc, char **argv, const cli_globals *g);
int cmd_bench(int argc, char **argv, const cli_globals *g);
int cmd_inspect(int argc, char **argv, const cli_globals *g);
/* `vkti inspect EMBEDDING` (cmd_inspect_embedding.c), for files vkti_embedding_probe recognises */
int cmd_inspect_embedding(const char *path, const cli_globals *g);
int cmd_convert(int argc, char **argv, const cli_globals *g);
/* `vkti inspect MODEL` (cmd_inspect_model.c): tokenizer_dir is --tokenizer, or NULL */
int cmd_inspect_model(const char *path, const char *tokenizer_dir, const cli_globals *g);

#endif
