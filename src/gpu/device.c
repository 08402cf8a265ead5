/* device.c — Vulkan instance and device: loader through volk, the validation layer and its
 * message counter, device enumeration and capability detection, device choice, queue. */
#include "gpu/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

const char *vkti__vk_result_name(VkResult r)
{
    switch (r) {
#define R(x) case x: return #x;
    R(VK_SUCCESS) R(VK_NOT_READY) R(VK_TIMEOUT) R(VK_INCOMPLETE)
    R(VK_ERROR_OUT_OF_HOST_MEMORY) R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    R(VK_ERROR_INITIALIZATION_FAILED) R(VK_ERROR_DEVICE_LOST) R(VK_ERROR_MEMORY_MAP_FAILED)
    R(VK_ERROR_LAYER_NOT_PRESENT) R(VK_ERROR_EXTENSION_NOT_PRESENT)
    R(VK_ERROR_FEATURE_NOT_PRESENT) R(VK_ERROR_INCOMPATIBLE_DRIVER) R(VK_ERROR_TOO_MANY_OBJECTS)
    R(VK_ERROR_FORMAT_NOT_SUPPORTED) R(VK_ERROR_FRAGMENTED_POOL) R(VK_ERROR_UNKNOWN)
    R(VK_ERROR_OUT_OF_POOL_MEMORY) R(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    R(VK_ERROR_FRAGMENTATION) R(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    R(VK_PIPELINE_COMPILE_REQUIRED)
#undef R
    default: return "VK_ERROR_(unnamed)";
    }
}

int vkti__vk_fail(vkti_gpu *g, VkResult r, const char *call, const char *file, int line)
{
    int status = VKTI_E_VULKAN;
    const char *hint = "";
    switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
    case VK_ERROR_FRAGMENTED_POOL:
        status = VKTI_E_OOM;
        hint = " (out of memory: try a smaller --batch or --resolution, or --max-vram)";
        break;
    case VK_ERROR_DEVICE_LOST:
        status = VKTI_E_DEVICE_LOST;
        hint = " (the GPU driver reset the device: a watchdog timeout or a driver fault)";
        break;
    default:
        break;
    }
    /* keep only the function name of the call expression */
    char fn[96];
    size_t n = strcspn(call, "(");
    if (n >= sizeof fn)
        n = sizeof fn - 1;
    memcpy(fn, call, n);
    fn[n] = 0;
    const char *base = strrchr(file, '/');
    return vkti_fail(g ? g->diag : NULL, status, "%s failed: %s at %s:%d%s", fn,
                     vkti__vk_result_name(r), base ? base + 1 : file, line, hint);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                    VkDebugUtilsMessageTypeFlagsEXT type,
                                                    const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                    void *user)
{
    (void)type;
    vkti_gpu *g = user;
    if (sev >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        g->validation_messages++;
        vkti_log(g->diag, VKTI_LOG_ERROR, "validation: %s", data->pMessage ? data->pMessage : "?");
    }
    return VK_FALSE;
}

static int layer_present(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkLayerProperties *props = calloc(n, sizeof *props);
    if (!props)
        return 0;
    int found = 0;
    if (vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(props[i].layerName, name) == 0)
                found = 1;
    free(props);
    return found;
}

static int instance_ext_present(const char *layer, const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkExtensionProperties *props = calloc(n, sizeof *props);
    if (!props)
        return 0;
    int found = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(props[i].extensionName, name) == 0)
                found = 1;
    free(props);
    return found;
}

/* Creates the instance (and the validation messenger when asked). g->diag must be set. */
static int instance_create(vkti_gpu *g, int validation, int sync_validation)
{
    if (volkInitialize() != VK_SUCCESS)
        return vkti_fail(g->diag, VKTI_E_NO_VULKAN,
                         "no Vulkan loader found (libvulkan.so.1 / vulkan-1.dll): install your GPU "
                         "driver's Vulkan support, or Mesa's lavapipe (Debian/Ubuntu: apt-get install "
                         "libvulkan1 mesa-vulkan-drivers)");
    if (volkGetInstanceVersion() < VK_API_VERSION_1_1)
        return vkti_fail(g->diag, VKTI_E_NO_VULKAN,
                         "the Vulkan loader is older than Vulkan 1.1: update the Vulkan runtime");

    const char *layers[1];
    uint32_t nlayers = 0;
    const char *exts[4];
    uint32_t nexts = 0;
    if (validation) {
        if (!layer_present(VALIDATION_LAYER))
            return vkti_fail(g->diag, VKTI_E_NO_VULKAN,
                             "validation was asked for but the Khronos validation layer is not "
                             "installed (Debian/Ubuntu: apt-get install vulkan-validationlayers)");
        layers[nlayers++] = VALIDATION_LAYER;
        exts[nexts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    }
    int have_vf = validation && sync_validation &&
                  instance_ext_present(VALIDATION_LAYER, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
    if (have_vf)
        exts[nexts++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
    int have_portability = instance_ext_present(NULL, "VK_KHR_portability_enumeration");
    if (have_portability)
        exts[nexts++] = "VK_KHR_portability_enumeration";

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkti",
        .applicationVersion = 1,
        .pEngineName = "vkti",
        .engineVersion = 1,
        .apiVersion = VK_API_VERSION_1_3,
    };
    VkValidationFeatureEnableEXT vf_enable[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT vf = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = vf_enable,
    };
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = have_vf ? &vf : NULL,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation,
        .pUserData = g,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validation ? &dbg : NULL,
        .flags = have_portability ? 0x00000001 /* ENUMERATE_PORTABILITY_BIT_KHR */ : 0,
        .pApplicationInfo = &app,
        .enabledLayerCount = nlayers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = nexts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&ci, NULL, &g->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return vkti_fail(g->diag, VKTI_E_NO_VULKAN,
                         "no Vulkan driver found: install your GPU's Vulkan driver, or Mesa's "
                         "lavapipe for the CPU (Debian/Ubuntu: apt-get install mesa-vulkan-drivers)");
    VK_CHECK(g, r);
    volkLoadInstanceOnly(g->instance);
    if (validation)
        VK_CHECK(g, vkCreateDebugUtilsMessengerEXT(g->instance, &dbg, NULL, &g->messenger));
    return VKTI_OK;
}

static int device_ext_present(const VkExtensionProperties *props, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(props[i].extensionName, name) == 0)
            return 1;
    return 0;
}

static uint32_t compute_queue_family(VkPhysicalDevice pd, int *timestamps)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32)
        n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    uint32_t best = UINT32_MAX;
    /* prefer a compute-only family (async compute); else any with compute */
    for (uint32_t i = 0; i < n; i++)
        if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
            q[i].timestampValidBits)
            best = i;
    if (best == UINT32_MAX)
        for (uint32_t i = 0; i < n && best == UINT32_MAX; i++)
            if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
                best = i;
    if (timestamps)
        *timestamps = best != UINT32_MAX && q[best].timestampValidBits > 0;
    return best;
}

/* Fills info from a physical device. */
static void describe(VkPhysicalDevice pd, int index, vkti_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->index = index;

    uint32_t next = 0;
    vkEnumerateDeviceExtensionProperties(pd, NULL, &next, NULL);
    VkExtensionProperties *exts = calloc(next ? next : 1, sizeof *exts);
    if (exts)
        vkEnumerateDeviceExtensionProperties(pd, NULL, &next, exts);
    else
        next = 0;

    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                             .pNext = &drv};
    VkPhysicalDeviceSubgroupSizeControlPropertiesEXT sgc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT, .pNext = &sg};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sgc};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;

    snprintf(info->name, sizeof info->name, "%s", p->deviceName);
    snprintf(info->driver_name, sizeof info->driver_name, "%s", drv.driverName);
    snprintf(info->driver_info, sizeof info->driver_info, "%s", drv.driverInfo);
    info->vendor_id = p->vendorID;
    info->device_id = p->deviceID;
    info->api_version = p->apiVersion;
    info->driver_version = p->driverVersion;
    switch (p->deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: info->type = VKTI_DEVICE_INTEGRATED; break;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: info->type = VKTI_DEVICE_DISCRETE; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: info->type = VKTI_DEVICE_VIRTUAL; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: info->type = VKTI_DEVICE_CPU; break;
    default: info->type = VKTI_DEVICE_OTHER; break;
    }

    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    info->heap_count = (int)(mp.memoryHeapCount < VKTI_MAX_HEAPS ? mp.memoryHeapCount : VKTI_MAX_HEAPS);
    for (int i = 0; i < info->heap_count; i++) {
        info->heap_size[i] = mp.memoryHeaps[i].size;
        info->heap_device_local[i] = (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }

    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, .pNext = &s16};
    VkPhysicalDeviceVulkanMemoryModelFeatures vmm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES, .pNext = &f16};
    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT sgcf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT, .pNext = &vmm};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &sgcf};
    int has_sgc = device_ext_present(exts, next, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME) ||
                  p->apiVersion >= VK_API_VERSION_1_3;
    int has_vmm = p->apiVersion >= VK_API_VERSION_1_2;
    if (!has_vmm)
        sgcf.pNext = &f16;
    if (!has_sgc)
        f2.pNext = has_vmm ? (void *)&vmm : (void *)&f16;
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    info->memory_model = has_vmm && vmm.vulkanMemoryModel;
    info->storage16 = s16.storageBuffer16BitAccess != 0;
    info->float16 = f16.shaderFloat16 != 0;

    info->subgroup_size = sg.subgroupSize;
    info->subgroup_arithmetic = (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                                (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT);
    info->subgroup_shuffle = (sg.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) &&
                             (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT);
    info->subgroup_size_control = has_sgc && sgcf.subgroupSizeControl && sgcf.computeFullSubgroups;
    info->subgroup_min_size = has_sgc && sgc.minSubgroupSize ? sgc.minSubgroupSize : sg.subgroupSize;
    info->subgroup_max_size = has_sgc && sgc.maxSubgroupSize ? sgc.maxSubgroupSize : sg.subgroupSize;

    info->coopmat_nv = device_ext_present(exts, next, "VK_NV_cooperative_matrix");
    info->coopmat_khr = device_ext_present(exts, next, "VK_KHR_cooperative_matrix");
    info->coopmat2_nv = device_ext_present(exts, next, "VK_NV_cooperative_matrix2");
    info->push_descriptor = device_ext_present(exts, next, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    if (info->coopmat_nv && vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) {
        uint32_t ncm = 0;
        vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &ncm, NULL);
        VkCooperativeMatrixPropertiesNV *cm = calloc(ncm ? ncm : 1, sizeof *cm);
        for (uint32_t i = 0; cm && i < ncm; i++)
            cm[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
        if (cm && vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &ncm, cm) == VK_SUCCESS)
            for (uint32_t i = 0; i < ncm; i++)
                if (cm[i].MSize == 16 && cm[i].NSize == 8 && cm[i].KSize == 16 &&
                    cm[i].AType == VK_COMPONENT_TYPE_FLOAT16_NV && cm[i].BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
                    cm[i].CType == VK_COMPONENT_TYPE_FLOAT32_NV && cm[i].DType == VK_COMPONENT_TYPE_FLOAT32_NV &&
                    cm[i].scope == VK_SCOPE_SUBGROUP_NV)
                    info->coopmat_nv_f16_16x8x16 = 1;
        free(cm);
    }

    info->max_storage_buffer_range = p->limits.maxStorageBufferRange;
    info->max_memory_allocation_size = 1u << 30;
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2b = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(pd, &p2b);
    if (m3.maxMemoryAllocationSize)
        info->max_memory_allocation_size = m3.maxMemoryAllocationSize;
    info->max_shared_memory = p->limits.maxComputeSharedMemorySize;
    info->max_workgroup_invocations = p->limits.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++)
        info->max_workgroup_count[i] = p->limits.maxComputeWorkGroupCount[i];
    info->min_storage_offset_alignment = p->limits.minStorageBufferOffsetAlignment;
    compute_queue_family(pd, &info->timestamps);
    info->timestamps = info->timestamps && p->limits.timestampComputeAndGraphics;
    info->timestamp_period_ns = p->limits.timestampPeriod;
    free(exts);
}

static int physical_devices(vkti_gpu *g, VkPhysicalDevice **out, uint32_t *count)
{
    uint32_t n = 0;
    VK_CHECK(g, vkEnumeratePhysicalDevices(g->instance, &n, NULL));
    if (n == 0)
        return vkti_fail(g->diag, VKTI_E_NO_DEVICE,
                         "Vulkan found no device: install a GPU driver with Vulkan support, or "
                         "Mesa's lavapipe to run on the CPU (apt-get install mesa-vulkan-drivers)");
    *out = calloc(n, sizeof **out);
    if (!*out)
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    VkResult r = vkEnumeratePhysicalDevices(g->instance, &n, *out);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*out);
        *out = NULL;
        VK_CHECK(g, r);
    }
    *count = n;
    return VKTI_OK;
}

int vkti_gpu_enumerate(vkti_diag *d, int validation, vkti_device_info **out, int *count)
{
    *out = NULL;
    *count = 0;
    vkti_gpu tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.diag = d;
    int rc = instance_create(&tmp, validation, 0);
    VkPhysicalDevice *pds = NULL;
    uint32_t n = 0;
    if (rc == VKTI_OK)
        rc = physical_devices(&tmp, &pds, &n);
    if (rc == VKTI_OK) {
        *out = calloc(n, sizeof **out);
        if (!*out)
            rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
    }
    if (rc == VKTI_OK) {
        for (uint32_t i = 0; i < n; i++)
            describe(pds[i], (int)i, &(*out)[i]);
        *count = (int)n;
    }
    free(pds);
    if (tmp.messenger)
        vkDestroyDebugUtilsMessengerEXT(tmp.instance, tmp.messenger, NULL);
    if (tmp.instance)
        vkDestroyInstance(tmp.instance, NULL);
    return rc;
}

static int type_rank(vkti_device_type t)
{
    switch (t) {
    case VKTI_DEVICE_DISCRETE: return 0;
    case VKTI_DEVICE_INTEGRATED: return 1;
    case VKTI_DEVICE_VIRTUAL: return 2;
    case VKTI_DEVICE_CPU: return 3;
    default: return 4;
    }
}

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && lower((unsigned char)h[i]) == lower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* Picks the device index: by number, by name substring, or the default order. */
static int choose(vkti_gpu *g, const vkti_device_info *infos, int n, const char *want, int *pick)
{
    if (want && want[0]) {
        char *end = NULL;
        long idx = strtol(want, &end, 10);
        if (end && *end == 0) {
            if (idx < 0 || idx >= n)
                goto nomatch;
            *pick = (int)idx;
            return VKTI_OK;
        }
        for (int i = 0; i < n; i++)
            if (contains_nocase(infos[i].name, want)) {
                *pick = i;
                return VKTI_OK;
            }
        goto nomatch;
    }
    int best = 0;
    for (int i = 1; i < n; i++)
        if (type_rank(infos[i].type) < type_rank(infos[best].type))
            best = i;
    *pick = best;
    return VKTI_OK;

nomatch:;
    char list[1024];
    size_t len = 0;
    list[0] = 0;
    for (int i = 0; i < n && len < sizeof list - 1; i++) {
        int w = snprintf(list + len, sizeof list - len, "%s%d: %s", i ? "; " : "", i, infos[i].name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return vkti_fail(g->diag, VKTI_E_NO_DEVICE,
                     "--device '%s' matches no Vulkan device; the devices are: %s "
                     "(pass an index or part of a name; `vkti devices` lists them)", want, list);
}

static int device_create(vkti_gpu *g, const vkti_gpu_options *opt)
{
    VkPhysicalDevice *pds = NULL;
    uint32_t n = 0;
    int rc = physical_devices(g, &pds, &n);
    if (rc)
        return rc;
    vkti_device_info *infos = calloc(n, sizeof *infos);
    if (!infos) {
        free(pds);
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    }
    for (uint32_t i = 0; i < n; i++)
        describe(pds[i], (int)i, &infos[i]);
    int pick = 0;
    rc = choose(g, infos, (int)n, opt ? opt->device : NULL, &pick);
    if (rc == VKTI_OK) {
        g->phys = pds[pick];
        g->info = infos[pick];
    }
    free(infos);
    free(pds);
    if (rc)
        return rc;

    vkti_device_info *info = &g->info;
    const char *off = opt ? opt->disable : NULL;
    if (off && off[0]) {
        if (strstr(off, "storage16"))
            info->storage16 = 0;
        if (strstr(off, "float16"))
            info->float16 = 0;
        if (strstr(off, "subgroup"))
            info->subgroup_arithmetic = info->subgroup_shuffle = info->subgroup_size_control = 0;
        if (strstr(off, "coopmat"))
            info->coopmat_nv = info->coopmat_khr = info->coopmat2_nv = info->coopmat_nv_f16_16x8x16 = 0;
        if (strstr(off, "mapped"))
            g->no_mapped = 1;
        vkti_log(g->diag, VKTI_LOG_INFO, "capabilities disabled by request: %s", off);
    }
    if (info->api_version < VK_API_VERSION_1_1)
        return vkti_fail(g->diag, VKTI_E_UNSUPPORTED,
                         "device '%s' supports only Vulkan %u.%u; vkti needs Vulkan 1.1 or newer: "
                         "update its driver or choose another with --device", info->name,
                         VK_API_VERSION_MAJOR(info->api_version), VK_API_VERSION_MINOR(info->api_version));
    if (opt && opt->need_storage16 && !info->storage16)
        return vkti_fail(g->diag, VKTI_E_UNSUPPORTED,
                         "device '%s' has no 16-bit storage buffers (storageBuffer16BitAccess), which "
                         "fp16 precision needs: run with --precision fp32, or choose another --device",
                         info->name);

    int ts = 0;
    g->queue_family = compute_queue_family(g->phys, &ts);
    if (g->queue_family == UINT32_MAX)
        return vkti_fail(g->diag, VKTI_E_UNSUPPORTED, "device '%s' has no compute queue", info->name);
    vkGetPhysicalDeviceMemoryProperties(g->phys, &g->mem_props);

    /* features: enable what exists among what we use */
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .storageBuffer16BitAccess = info->storage16 ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .pNext = &s16,
        .shaderFloat16 = info->float16 ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT sgc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
        .pNext = &f16,
        .subgroupSizeControl = VK_TRUE,
        .computeFullSubgroups = VK_TRUE,
    };
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
        .cooperativeMatrix = VK_TRUE,
    };
    VkPhysicalDeviceVulkanMemoryModelFeatures vmm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES,
        .pNext = &f16,
        .vulkanMemoryModel = VK_TRUE,
    };
    void *chain = info->memory_model ? (void *)&vmm : (void *)&f16;
    if (info->subgroup_size_control) {
        sgc.pNext = chain;
        chain = &sgc;
    }
    if (info->coopmat_nv) {
        cm.pNext = chain;
        chain = &cm;
    }
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = chain};

    const char *exts[8];
    uint32_t nexts = 0;
    if (info->subgroup_size_control && info->api_version < VK_API_VERSION_1_3)
        exts[nexts++] = VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
    if (info->coopmat_nv)
        exts[nexts++] = "VK_NV_cooperative_matrix";

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = g->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &f2,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = nexts,
        .ppEnabledExtensionNames = exts,
    };
    VK_CHECK(g, vkCreateDevice(g->phys, &dci, NULL, &g->device));
    volkLoadDevice(g->device);
    vkGetDeviceQueue(g->device, g->queue_family, 0, &g->queue);
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = g->queue_family,
    };
    VK_CHECK(g, vkCreateCommandPool(g->device, &pci, NULL, &g->pool));
    return VKTI_OK;
}

int vkti_gpu_create(vkti_gpu **out, vkti_diag *d, const vkti_gpu_options *opt)
{
    *out = NULL;
    vkti_gpu *g = calloc(1, sizeof *g);
    if (!g)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    g->diag = d;
    int rc = instance_create(g, opt && opt->validation, opt && opt->sync_validation);
    if (rc == VKTI_OK)
        rc = device_create(g, opt);
    if (rc == VKTI_OK && opt && opt->pipeline_cache)
        rc = vkti__pipeline_cache_open(g, opt->pipeline_cache);
    else if (rc == VKTI_OK)
        rc = vkti__pipeline_cache_open(g, NULL);
    if (rc == VKTI_OK)
        rc = vkti_cmd_create(g, &g->xfer);
    if (rc) {
        vkti_gpu_free(g);
        return rc;
    }
    vkti_log(d, VKTI_LOG_INFO, "device %d: %s (%s %s)", g->info.index, g->info.name,
             g->info.driver_name, g->info.driver_info);
    *out = g;
    return VKTI_OK;
}

void vkti_gpu_free(vkti_gpu *g)
{
    if (!g)
        return;
    if (g->device) {
        vkDeviceWaitIdle(g->device);
        vkti_cmd_free(g->xfer);
        if (g->staging)
            vkti__block_free(g, g->staging);
        vkti__pipelines_free(g);
        vkti__pipeline_cache_save(g);
        if (g->pipeline_cache)
            vkDestroyPipelineCache(g->device, g->pipeline_cache, NULL);
        if (g->pool)
            vkDestroyCommandPool(g->device, g->pool, NULL);
        vkDestroyDevice(g->device, NULL);
    }
    if (g->messenger)
        vkDestroyDebugUtilsMessengerEXT(g->instance, g->messenger, NULL);
    if (g->instance)
        vkDestroyInstance(g->instance, NULL);
    free(g);
}

const vkti_device_info *vkti_gpu_info(const vkti_gpu *g) { return &g->info; }
vkti_diag *vkti_gpu_diag(vkti_gpu *g) { return g->diag; }
int vkti_gpu_validation_messages(const vkti_gpu *g) { return g->validation_messages; }
uint64_t vkti_gpu_bytes_in_use(const vkti_gpu *g) { return g->bytes_in_use; }
uint64_t vkti_gpu_bytes_peak(const vkti_gpu *g) { return g->bytes_peak; }
void vkti_gpu_reset_peak(vkti_gpu *g) { g->bytes_peak = g->bytes_in_use; }

int vkti_gpu_wait_idle(vkti_gpu *g)
{
    VK_CHECK(g, vkDeviceWaitIdle(g->device));
    return VKTI_OK;
}
