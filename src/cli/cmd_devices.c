/* cmd_devices.c — `vkti devices [--json]`: every Vulkan device and its capabilities. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char HELP[] =
    "usage: vkti devices [--json]\n"
    "\n"
    "Lists every Vulkan device with its vendor, driver, type, memory heaps and the capabilities\n"
    "vkti uses (16-bit storage, fp16 arithmetic, subgroups, cooperative matrices, limits).\n"
    "The device marked * is the one used when --device is not given.\n";

static void version_str(char *out, size_t cap, uint32_t v)
{
    snprintf(out, cap, "%u.%u.%u", v >> 22, (v >> 12) & 0x3ffu, v & 0xfffu);
}

static cJSON *device_json(const vkti_device_info *d, int is_default)
{
    char api[32];
    version_str(api, sizeof api, d->api_version);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", d->index);
    cJSON_AddBoolToObject(o, "default", is_default);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "vendor", vkti_vendor_name(d->vendor_id));
    cJSON_AddNumberToObject(o, "vendor_id", d->vendor_id);
    cJSON_AddNumberToObject(o, "device_id", d->device_id);
    cJSON_AddStringToObject(o, "type", vkti_device_type_name(d->type));
    cJSON_AddStringToObject(o, "driver", d->driver_name);
    cJSON_AddStringToObject(o, "driver_info", d->driver_info);
    cJSON_AddStringToObject(o, "vulkan", api);
    cJSON *heaps = cJSON_AddArrayToObject(o, "heaps");
    for (int i = 0; i < d->heap_count; i++) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddNumberToObject(h, "bytes", (double)d->heap_size[i]);
        cJSON_AddBoolToObject(h, "device_local", d->heap_device_local[i]);
        cJSON_AddItemToArray(heaps, h);
    }
    cJSON *c = cJSON_AddObjectToObject(o, "capabilities");
    cJSON_AddBoolToObject(c, "storage16", d->storage16);
    cJSON_AddBoolToObject(c, "float16", d->float16);
    cJSON_AddNumberToObject(c, "subgroup_size", d->subgroup_size);
    cJSON_AddNumberToObject(c, "subgroup_min_size", d->subgroup_min_size);
    cJSON_AddNumberToObject(c, "subgroup_max_size", d->subgroup_max_size);
    cJSON_AddBoolToObject(c, "subgroup_arithmetic", d->subgroup_arithmetic);
    cJSON_AddBoolToObject(c, "subgroup_shuffle", d->subgroup_shuffle);
    cJSON_AddBoolToObject(c, "subgroup_size_control", d->subgroup_size_control);
    cJSON_AddBoolToObject(c, "cooperative_matrix_nv", d->coopmat_nv);
    cJSON_AddBoolToObject(c, "cooperative_matrix_khr", d->coopmat_khr);
    cJSON_AddBoolToObject(c, "cooperative_matrix2_nv", d->coopmat2_nv);
    cJSON_AddBoolToObject(c, "cooperative_matrix_nv_f16_16x8x16", d->coopmat_nv_f16_16x8x16);
    cJSON_AddBoolToObject(c, "timestamps", d->timestamps);
    cJSON_AddNumberToObject(c, "timestamp_period_ns", d->timestamp_period_ns);
    cJSON *l = cJSON_AddObjectToObject(o, "limits");
    cJSON_AddNumberToObject(l, "max_storage_buffer_range", (double)d->max_storage_buffer_range);
    cJSON_AddNumberToObject(l, "max_memory_allocation_size", (double)d->max_memory_allocation_size);
    cJSON_AddNumberToObject(l, "max_compute_shared_memory", d->max_shared_memory);
    cJSON_AddNumberToObject(l, "max_workgroup_invocations", d->max_workgroup_invocations);
    cJSON_AddNumberToObject(l, "min_storage_offset_alignment", (double)d->min_storage_offset_alignment);
    return o;
}

static void print_device(const vkti_device_info *d, int is_default)
{
    char api[32];
    version_str(api, sizeof api, d->api_version);
    printf("%c%d: %s\n", is_default ? '*' : ' ', d->index, d->name);
    printf("    vendor %s (0x%04x), %s, Vulkan %s, driver %s %s\n", vkti_vendor_name(d->vendor_id), d->vendor_id,
           vkti_device_type_name(d->type), api, d->driver_name, d->driver_info);
    for (int i = 0; i < d->heap_count; i++)
        printf("    heap %d: %.1f GiB%s\n", i, (double)d->heap_size[i] / (1024.0 * 1024.0 * 1024.0),
               d->heap_device_local[i] ? " device-local" : "");
    printf("    16-bit storage %s, fp16 arithmetic %s, subgroup %u (%u..%u)%s%s\n", d->storage16 ? "yes" : "NO",
           d->float16 ? "yes" : "no", d->subgroup_size, d->subgroup_min_size, d->subgroup_max_size,
           d->subgroup_arithmetic ? ", arithmetic" : "", d->subgroup_shuffle ? ", shuffle" : "");
    printf("    cooperative matrix: NV %s%s, KHR %s, NV2 %s; timestamps %s\n", d->coopmat_nv ? "yes" : "no",
           d->coopmat_nv_f16_16x8x16 ? " (f16 16x8x16)" : "", d->coopmat_khr ? "yes" : "no",
           d->coopmat2_nv ? "yes" : "no", d->timestamps ? "yes" : "no");
    printf("    max storage buffer range %.0f MiB, max allocation %.0f MiB, shared memory %u KiB\n",
           (double)d->max_storage_buffer_range / 1048576.0, (double)d->max_memory_allocation_size / 1048576.0,
           d->max_shared_memory / 1024);
}

/* the default device's index, by the runtime's own rule (discrete, integrated, virtual, CPU) */
static int default_index(const vkti_device_info *d, int n)
{
    static const int rank[] = {4, 1, 0, 2, 3}; /* by vkti_device_type */
    int best = 0;
    for (int i = 1; i < n; i++)
        if (rank[d[i].type] < rank[d[best].type])
            best = i;
    return best;
}

int cmd_devices(int argc, char **argv, const cli_globals *g)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(HELP, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            return cli_usage_error("devices", "unknown option '%s'", argv[i]);
    }
    vkti_ctx *ctx = cli_context(g);
    if (!ctx)
        return 2;
    vkti_device_info *devs = NULL;
    int n = 0;
    int rc = vkti_devices_list(ctx, &devs, &n);
    if (rc) {
        int code = cli_fail(ctx, rc);
        return cli_done(ctx, code);
    }
    int def = default_index(devs, n);
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, device_json(&devs[i], i == def));
        char *s = cJSON_Print(arr);
        if (s)
            puts(s);
        cJSON_free(s);
        cJSON_Delete(arr);
    } else {
        for (int i = 0; i < n; i++)
            print_device(&devs[i], i == def);
    }
    vkti_free(devs);
    return cli_done(ctx, 0);
}
