/* cmd_train.c — `vkti train`: options from --config FILE.json and flags (flags win; both go
 * through the same checks), then the training, then where everything was written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "vkti/train.h"

static void print_help(void)
{
    printf("usage: vkti train --model PATH --data DIR --token \"<name>\" [options]\n"
           "\n"
           "Learns a textual-inversion embedding for a new word from a folder of pictures.\n"
           "Options come from --config FILE.json and from flags (a flag overrides the file);\n"
           "global options (--device, --precision, -v) work here too.\n"
           "\n"
           "  --config FILE.json      read options from a JSON object (keys as below)\n");
    char *h = vkti_train_options_help();
    if (h)
        fputs(h, stdout);
    vkti_free(h);
    printf("\nOutputs in --out: learned_embeds.safetensors (diffusers), <token>.safetensors (kohya /\n"
           "ComfyUI), <token>-a1111.pt with --format a1111, checkpoint.safetensors, metrics.jsonl,\n"
           "tensorboard/, loss.png. Ctrl-C saves and stops; --resume OUT continues bit-identically.\n");
}

int cmd_train(int argc, char **argv, const cli_globals *g)
{
    vkti_train_config cfg;
    char err[1024];
    vkti_train_config_init(&cfg);
    /* --config first, whatever its position: flags override it */
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            print_help();
            return 0;
        }
        const char *path = NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
        else if (!strcmp(argv[i], "--config"))
            return cli_usage_error("train", "--config needs a FILE.json");
        if (path && vkti_train_config_load_json_file(&cfg, path, err, sizeof err)) {
            fprintf(stderr, "vkti train: %s\n", err);
            return 1;
        }
    }
    for (int i = 1; i < argc;) {
        if (!strcmp(argv[i], "--config")) {
            i += 2;
            continue;
        }
        if (!strncmp(argv[i], "--config=", 9)) {
            i++;
            continue;
        }
        int used = vkti_train_config_apply_arg(&cfg, argv[i], i + 1 < argc ? argv[i + 1] : NULL, err, sizeof err);
        if (used < 0) {
            fprintf(stderr, "vkti train: %s\n", err);
            return 1;
        }
        if (used == 0)
            return cli_usage_error("train", "unknown option '%s'", argv[i]);
        i += used;
    }
    if (g->device && vkti_train_config_set(&cfg, "device", g->device, err, sizeof err)) {
        fprintf(stderr, "vkti train: %s\n", err);
        return 1;
    }
    if (g->precision_set &&
        vkti_train_config_set(&cfg, "precision", g->precision == VKTI_PRECISION_FP32 ? "fp32" : "fp16", err, sizeof err)) {
        fprintf(stderr, "vkti train: %s\n", err);
        return 1;
    }
    if (g->max_vram && vkti_train_config_set(&cfg, "max_vram", g->max_vram, err, sizeof err)) {
        fprintf(stderr, "vkti train: %s\n", err);
        return 1;
    }
    if (vkti_train_config_finish(&cfg, err, sizeof err)) {
        fprintf(stderr, "vkti train: %s\n", err);
        return 1;
    }
    cli_globals gg = *g;
    if (!gg.verbose)
        gg.verbose = 1; /* progress and the summary are INFO lines */
    vkti_ctx *ctx = cli_context(&gg);
    if (!ctx)
        return 2;
    vkti_train_report rep;
    int rc = vkti_train(ctx, &cfg, &rep);
    int code = rc ? cli_fail(ctx, rc) : 0;
    if (rep.steps_done > rep.start_step || rep.embedding[0]) {
        printf("\n%s %lld steps (%lld..%lld) in %.1f s: %.2f steps/s, %.2f samples/s; peak device memory %.2f GiB\n",
               rep.interrupted ? "interrupted after" : "trained", (long long)(rep.steps_done - rep.start_step),
               (long long)rep.start_step, (long long)rep.steps_done, rep.seconds, rep.steps_per_second,
               rep.samples_per_second, (double)rep.peak_device_bytes / (1024.0 * 1024.0 * 1024.0));
        if (!isnan(rep.first_val_loss))
            printf("validation loss %.6f -> %.6f\n", rep.first_val_loss, rep.last_val_loss);
        if (rep.nonfinite_steps || rep.overflow_steps)
            printf("skipped steps: %lld non-finite, %lld fp16 overflows (loss scale lowered)\n",
                   (long long)rep.nonfinite_steps, (long long)rep.overflow_steps);
        if (rep.embedding[0])
            printf("embedding:   %s\n", rep.embedding);
        if (rep.embedding_kohya[0])
            printf("             %s (kohya / ComfyUI)\n", rep.embedding_kohya);
        if (rep.embedding_a1111[0])
            printf("             %s (AUTOMATIC1111)\n", rep.embedding_a1111);
        if (rep.loss_curve[0])
            printf("loss curve:  %s\n", rep.loss_curve);
        if (rep.metrics[0])
            printf("metrics:     %s%s%s\n", rep.metrics, rep.tensorboard[0] ? ", TensorBoard: " : "", rep.tensorboard);
        if (rep.checkpoint[0])
            printf("checkpoint:  %s (continue with --resume %s)\n", rep.checkpoint, cfg.out);
    }
    vkti_ctx_free(ctx);
    return code;
}
