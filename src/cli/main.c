/* main.c — the vkti program: global options, then one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char USAGE[] =
    "vkti %s — Stable Diffusion textual-inversion training on any Vulkan GPU\n"
    "\n"
    "usage: vkti [global options] <command> [options]\n"
    "\n"
    "commands:\n"
    "  train --model PATH --data DIR --token \"<name>\" [options]\n"
    "                         learn an embedding for a new word from a folder of pictures\n"
    "  devices [--json]       list Vulkan devices and their capabilities\n"
    "  selftest               run every op once on the device and check it against the CPU\n"
    "  bench ops [--json]     time matrix products and copies on the device\n"
    "  inspect DATADIR        summarize a folder of training images, write a contact sheet\n"
    "  inspect MODEL          describe a diffusers folder or .safetensors / .ckpt checkpoint\n"
    "  convert IN OUT         convert an embedding between diffusers, kohya and a1111 formats\n"
    "\n"
    "global options:\n"
    "  --device N|NAME        device index or part of its name (default: first discrete GPU,\n"
    "                         then integrated, then CPU); also VKTI_DEVICE\n"
    "  --precision fp16|fp32  storage precision (default fp16; fp32 for GPUs without 16-bit storage)\n"
    "  --max-vram SIZE        device memory budget, e.g. 6G\n"
    "  -v, --verbose          more output (twice: debug)\n"
    "  -h, --help             this help; `vkti <command> --help` for a command's\n"
    "\n"
    "exit codes: 0 success, 1 bad input (the message says what to change), 2 environment\n"
    "(no Vulkan, no device, out of memory, device lost)\n";

int main(int argc, char **argv)
{
    cli_globals g;
    if (cli_take_globals(&argc, argv, &g))
        return 1;
    if (argc < 2 || cli_is_help(argv[1])) {
        printf(USAGE, vkti_version());
        return argc < 2 ? 1 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vkti %s\n", vkti_version());
        return 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "devices") == 0)
        return cmd_devices(argc - 1, argv + 1, &g);
    if (strcmp(cmd, "train") == 0)
        return cmd_train(argc - 1, argv + 1, &g);
    if (strcmp(cmd, "selftest") == 0)
        return cmd_selftest(argc - 1, argv + 1, &g);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc - 1, argv + 1, &g);
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1, &g);
    if (strcmp(cmd, "convert") == 0)
        return cmd_convert(argc - 1, argv + 1, &g);
    fprintf(stderr, "vkti: unknown command '%s' (see vkti --help)\n", cmd);
    return 1;
}
