/* pipeline.c — compute pipelines from the embedded SPIR-V table: binding count read from the
 * module itself, one descriptor-set layout of storage buffers per pipeline, a push-constant
 * range of VKTI_PUSH_MAX bytes, specialization constants, a per-context cache of created
 * pipelines, and the on-disk VkPipelineCache. */
#include "gpu/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "gpu/spirv.h"

#define MAX_BINDINGS 16
#define MAX_SPEC 16
#define PIPELINE_CACHE_MAX (256u << 20)

const vkti_spirv *vkti_spirv_find(const char *name)
{
    for (int i = 0; i < vkti_spirv_count; i++)
        if (strcmp(vkti_spirv_table[i].name, name) == 0)
            return &vkti_spirv_table[i];
    return NULL;
}

/* Number of storage-buffer bindings in set 0 (max Binding decoration + 1), or -1 if malformed. */
static int spirv_bindings(const uint32_t *code, size_t words)
{
    if (words < 5 || code[0] != 0x07230203u)
        return -1;
    int max_binding = -1;
    for (size_t i = 5; i < words;) {
        uint32_t op = code[i] & 0xffffu, len = code[i] >> 16;
        if (len == 0 || i + len > words)
            return -1;
        if (op == 71 /* OpDecorate */ && len >= 4) {
            if (code[i + 2] == 33 /* Binding */ && (int)code[i + 3] > max_binding)
                max_binding = (int)code[i + 3];
            if (code[i + 2] == 34 /* DescriptorSet */ && code[i + 3] != 0)
                return -1;
        }
        i += len;
    }
    return max_binding + 1;
}

int vkti__pipeline_cache_open(vkti_gpu *g, const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (path) {
        snprintf(g->pipeline_cache_path, sizeof g->pipeline_cache_path, "%s", path);
        vkti_diag quiet = {0};
        if (vkti_file_read(&quiet, path, PIPELINE_CACHE_MAX, &data, &size) != VKTI_OK)
            size = 0;
        /* A cache from another device or driver is ignored: check the header ourselves
         * (the driver also checks, but some drivers have crashed on foreign data). */
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(g->phys, &p);
        if (size < 16 + VK_UUID_SIZE || memcmp(data + 16, p.pipelineCacheUUID, VK_UUID_SIZE) != 0)
            size = 0;
    }
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = size ? data : NULL,
    };
    VkResult r = vkCreatePipelineCache(g->device, &ci, NULL, &g->pipeline_cache);
    if (r != VK_SUCCESS && size) { /* a corrupt cache: start empty */
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        r = vkCreatePipelineCache(g->device, &ci, NULL, &g->pipeline_cache);
    }
    free(data);
    VK_CHECK(g, r);
    return VKTI_OK;
}

void vkti__pipeline_cache_save(vkti_gpu *g)
{
    if (!g->pipeline_cache || !g->pipeline_cache_path[0])
        return;
    size_t size = 0;
    if (vkGetPipelineCacheData(g->device, g->pipeline_cache, &size, NULL) != VK_SUCCESS || !size)
        return;
    void *data = malloc(size);
    if (!data)
        return;
    if (vkGetPipelineCacheData(g->device, g->pipeline_cache, &size, data) == VK_SUCCESS) {
        vkti_diag quiet = {0};
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", g->pipeline_cache_path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = 0;
            vkti_mkdir_p(&quiet, dir);
        }
        if (vkti_file_write_atomic(&quiet, g->pipeline_cache_path, data, size) != VKTI_OK)
            vkti_log(g->diag, VKTI_LOG_WARN, "could not save the pipeline cache: %s", quiet.msg);
    }
    free(data);
}

static void pipeline_destroy(vkti_gpu *g, vkti_pipeline *p)
{
    if (!p)
        return;
    if (p->pipeline)
        vkDestroyPipeline(g->device, p->pipeline, NULL);
    if (p->layout)
        vkDestroyPipelineLayout(g->device, p->layout, NULL);
    if (p->set_layout)
        vkDestroyDescriptorSetLayout(g->device, p->set_layout, NULL);
    free(p);
}

void vkti__pipelines_free(vkti_gpu *g)
{
    for (int i = 0; i < g->npipes; i++)
        pipeline_destroy(g, g->pipes[i].p);
    free(g->pipes);
    g->pipes = NULL;
    g->npipes = g->cap_pipes = 0;
}

static int pipeline_create(vkti_gpu *g, const vkti_spirv *spv, const uint32_t *spec, int nspec,
                           vkti_pipeline **out)
{
    int nb = spirv_bindings(spv->code, spv->words);
    if (nb < 0 || nb > MAX_BINDINGS)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "shader %s: malformed SPIR-V or more than %d bindings",
                         spv->name, MAX_BINDINGS);
    vkti_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    snprintf(p->name, sizeof p->name, "%s", spv->name);
    p->bindings = nb;

    VkDescriptorSetLayoutBinding b[MAX_BINDINGS];
    for (int i = 0; i < nb; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = (uint32_t)i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dsl = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = (uint32_t)nb,
        .pBindings = b,
    };
    VkResult r = vkCreateDescriptorSetLayout(g->device, &dsl, NULL, &p->set_layout);
    VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VKTI_PUSH_MAX};
    VkPipelineLayoutCreateInfo plci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pcr,
    };
    if (r == VK_SUCCESS)
        r = vkCreatePipelineLayout(g->device, &plci, NULL, &p->layout);
    VkShaderModule mod = VK_NULL_HANDLE;
    VkShaderModuleCreateInfo smci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = spv->words * 4,
        .pCode = spv->code,
    };
    if (r == VK_SUCCESS)
        r = vkCreateShaderModule(g->device, &smci, NULL, &mod);
    VkSpecializationMapEntry entries[MAX_SPEC];
    for (int i = 0; i < nspec; i++)
        entries[i] = (VkSpecializationMapEntry){.constantID = (uint32_t)i, .offset = (uint32_t)(4 * i), .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = (uint32_t)nspec,
        .pMapEntries = entries,
        .dataSize = (size_t)nspec * 4,
        .pData = spec,
    };
    VkComputePipelineCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = mod,
            .pName = "main",
            .pSpecializationInfo = nspec ? &si : NULL,
        },
        .layout = p->layout,
    };
    if (r == VK_SUCCESS)
        r = vkCreateComputePipelines(g->device, g->pipeline_cache, 1, &cpci, NULL, &p->pipeline);
    if (mod)
        vkDestroyShaderModule(g->device, mod, NULL);
    if (r != VK_SUCCESS) {
        pipeline_destroy(g, p);
        int rc = vkti__vk_fail(g, r, "vkCreateComputePipelines", __FILE__, __LINE__);
        return vkti_fail_wrap(g->diag, rc, "shader %s", spv->name);
    }
    *out = p;
    return VKTI_OK;
}

int vkti_pipeline_get(vkti_gpu *g, const char *shader, const uint32_t *spec, int nspec, vkti_pipeline **out)
{
    *out = NULL;
    if (nspec < 0 || nspec > MAX_SPEC)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "shader %s: %d specialization constants", shader, nspec);
    char key[160];
    int len = snprintf(key, sizeof key, "%s", shader);
    for (int i = 0; i < nspec && len > 0 && (size_t)len < sizeof key; i++)
        len += snprintf(key + len, sizeof key - (size_t)len, ":%u", spec[i]);
    if (len < 0 || (size_t)len >= sizeof key)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "shader key too long: %s", shader);
    for (int i = 0; i < g->npipes; i++)
        if (strcmp(g->pipes[i].key, key) == 0) {
            *out = g->pipes[i].p;
            return VKTI_OK;
        }
    const vkti_spirv *spv = vkti_spirv_find(shader);
    if (!spv)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "no embedded shader named '%s'", shader);
    if (g->npipes == g->cap_pipes) {
        int cap = g->cap_pipes ? 2 * g->cap_pipes : 64;
        void *np = realloc(g->pipes, (size_t)cap * sizeof *g->pipes);
        if (!np)
            return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
        g->pipes = np;
        g->cap_pipes = cap;
    }
    vkti_pipeline *p = NULL;
    int rc = pipeline_create(g, spv, spec, nspec, &p);
    if (rc)
        return rc;
    memcpy(g->pipes[g->npipes].key, key, sizeof key);
    g->pipes[g->npipes++].p = p;
    *out = p;
    return VKTI_OK;
}

int vkti_pipeline_bindings(const vkti_pipeline *p) { return p->bindings; }
