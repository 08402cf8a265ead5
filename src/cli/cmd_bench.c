/* cmd_bench.c — `vkti bench ops [--json] [--quick]`: device timings of matmul, conv2d and copies. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char HELP[] =
    "usage: vkti bench ops [--json] [--quick]\n"
    "       vkti bench step --model PATH [--resolution PX] [--batch N] [--steps N] [--recompute] [--json]\n"
    "\n"
    "Times matrix products at Stable Diffusion shapes (fp16 and fp32 storage) and buffer copies\n"
    "on the device with timestamp queries (median of repeated runs) and reports milliseconds,\n"
    "TFLOP/s and GB/s. --quick uses small sizes (for CPU devices).\n"
    "step: the UNet forward (batch 1, 2) and forward + input-gradient backward on the device,\n"
    "and the whole training step by the host clock, on a model's weights (default 512 px,\n"
    "batch 1, 20 steps). --recompute: the backwards recompute the UNet's attention blocks\n"
    "(what `vkti train --max-vram` does over budget: less memory, more time).\n";

int cmd_bench(int argc, char **argv, const cli_globals *g)
{
    int json = 0, quick = 0, recompute = 0, resolution = 512, batch = 1, steps = 20;
    const char *what = NULL, *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(HELP, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--recompute") == 0)
            recompute = 1;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if ((!strcmp(argv[i], "--resolution") || !strcmp(argv[i], "--batch") || !strcmp(argv[i], "--steps")) &&
                 i + 1 < argc) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 1 || v > 100000)
                return cli_usage_error("bench", "%s needs a positive number, not '%s'", argv[i], argv[i + 1]);
            if (!strcmp(argv[i], "--resolution"))
                resolution = (int)v;
            else if (!strcmp(argv[i], "--batch"))
                batch = (int)v;
            else
                steps = (int)v;
            i++;
        } else if (argv[i][0] != '-' && !what)
            what = argv[i];
        else
            return cli_usage_error("bench", "unknown option '%s'", argv[i]);
    }
    if (what && strcmp(what, "ops") != 0 && strcmp(what, "step") != 0)
        return cli_usage_error("bench", "unknown benchmark '%s' (this version has: ops, step)", what);
    int step = what && !strcmp(what, "step");
    if (step && !model)
        return cli_usage_error("bench", "bench step needs --model PATH (make_tiny_sd --preset sd15 writes SD 1.5-shaped "
                                        "random weights)");
    if (step && resolution % 8)
        return cli_usage_error("bench", "--resolution %d is not a multiple of 8", resolution);
    vkti_ctx *ctx = cli_context(g);
    if (!ctx)
        return 2;
    vkti_device_info info;
    vkti_bench_row *rows = NULL;
    int n = 0;
    uint64_t peak = 0, act = 0;
    int rc = vkti_device_current(ctx, &info);
    if (rc == VKTI_OK)
        rc = step ? vkti_bench_step(ctx, model, resolution, batch, steps, recompute, &rows, &n, &peak, &act)
                  : vkti_bench_ops(ctx, quick, &rows, &n);
    if (rc) {
        int code = cli_fail(ctx, rc);
        return cli_done(ctx, code);
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "device", info.name);
        cJSON_AddStringToObject(o, "driver", info.driver_name);
        cJSON_AddStringToObject(o, "driver_info", info.driver_info);
        cJSON_AddStringToObject(o, "vkti", vkti_version());
        if (step) {
            cJSON_AddNumberToObject(o, "peak_device_bytes", (double)peak);
            cJSON_AddNumberToObject(o, "activation_bytes", (double)act);
            cJSON_AddBoolToObject(o, "recompute", recompute);
        }
        cJSON *arr = cJSON_AddArrayToObject(o, "ops");
        for (int i = 0; i < n; i++) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "name", rows[i].name);
            cJSON_AddNumberToObject(r, "ms", rows[i].ms);
            cJSON_AddNumberToObject(r, "tflops", rows[i].flops / (rows[i].ms * 1e9));
            cJSON_AddNumberToObject(r, "gbps", rows[i].bytes / (rows[i].ms * 1e6));
            cJSON_AddItemToArray(arr, r);
        }
        char *s = cJSON_Print(o);
        if (s)
            puts(s);
        cJSON_free(s);
        cJSON_Delete(o);
    } else if (step) {
        printf("device: %s (%s %s)\n", info.name, info.driver_name, info.driver_info);
        for (int i = 0; i < n; i++)
            printf("%-92s %10.2f ms\n", rows[i].name, rows[i].ms);
        printf("peak device memory: %.2f GiB; the UNet's activations in the training step: %.1f MiB%s\n",
               (double)peak / (1024.0 * 1024.0 * 1024.0), (double)act / 1048576.0,
               recompute ? " (recomputing attention)" : "");
    } else {
        printf("device: %s (%s %s)\n", info.name, info.driver_name, info.driver_info);
        printf("%-52s %10s %10s %10s\n", "op", "ms", "TFLOP/s", "GB/s");
        for (int i = 0; i < n; i++) {
            printf("%-52s %10.3f ", rows[i].name, rows[i].ms);
            if (rows[i].flops > 0)
                printf("%10.3f ", rows[i].flops / (rows[i].ms * 1e9));
            else
                printf("%10s ", "-");
            printf("%10.1f\n", rows[i].bytes / (rows[i].ms * 1e6));
        }
    }
    vkti_free(rows);
    return cli_done(ctx, 0);
}
