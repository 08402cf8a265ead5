/* cmd_selftest.c — `vkti selftest`: every op once on the chosen device against the CPU. */
#include <stdio.h>

#include "cli/cli.h"

static const char HELP[] =
    "usage: vkti selftest [--device N|NAME] [--precision fp16|fp32]\n"
    "\n"
    "Runs every op once on small random data on the device and compares the result with a\n"
    "double-precision CPU computation. Exit code 0 when every check passes.\n";

int cmd_selftest(int argc, char **argv, const cli_globals *g)
{
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(HELP, stdout);
            return 0;
        }
        return cli_usage_error("selftest", "unknown option '%s'", argv[i]);
    }
    cli_globals gg = *g;
    if (!gg.verbose)
        gg.verbose = 1; /* the per-op lines are the point */
    vkti_ctx *ctx = cli_context(&gg);
    if (!ctx)
        return 2;
    vkti_device_info info;
    int rc = vkti_device_current(ctx, &info);
    int passed = 0, failed = 0;
    if (rc == VKTI_OK) {
        printf("self-test on %s\n", info.name);
        fflush(stdout);
        rc = vkti_selftest(ctx, &passed, &failed);
    }
    if (rc == VKTI_OK)
        printf("self-test: %d passed, %d failed\n", passed, failed);
    int code = rc ? cli_fail(ctx, rc) : 0;
    return cli_done(ctx, code);
}
