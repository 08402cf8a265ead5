/* test_ckpt.c — reading torch.save checkpoints (and safetensors files) against what they are known
 * to hold. Two fixture folders, each with an expected.json ({file: {"path": [keys to the dict of
 * tensors], "paramdict": old ParameterDict embedding, "tensors": {name: {dtype, shape, values}},
 * "scalars": {"key.sub": value}, "metadata": {...}}}):
 *   tests/data/io/     written by tools/gen_io_fixtures.py in torch.save's format (protocols 2, 4
 *                      and 5; stored, deflated and zip64 archives; an SD .ckpt; embeddings);
 *   tests/data/torch/  written by torch.save itself and by Python's safetensors on the GPU machine
 *                      (tools/ref/check_safetensors.py --make); skipped, visibly, when absent.
 * Plus the structure the io fixtures must show: shared storages, strides, ordered dicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/half.h"
#include "base/platform.h"
#include "io/ckpt.h"
#include "io/safetensors.h"
#include "check.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static void check_tensor(const char *file, const char *name, const vkti_io_tensor *t, const cJSON *want)
{
    const char *dtype = cJSON_GetStringValue(cJSON_GetObjectItem(want, "dtype"));
    const cJSON *shape = cJSON_GetObjectItem(want, "shape"), *values = cJSON_GetObjectItem(want, "values");
    CHECK(dtype && !strcmp(dtype, vkti_io_dtype_name(t->dtype)), "%s: %s is %s, expected %s", file, name,
          vkti_io_dtype_name(t->dtype), dtype ? dtype : "?");
    int same = cJSON_GetArraySize(shape) == t->ndim;
    for (int i = 0; same && i < t->ndim; i++)
        same = (int64_t)cJSON_GetArrayItem(shape, i)->valuedouble == t->shape[i];
    CHECK(same, "%s: %s has the wrong shape", file, name);
    uint64_t n = (uint64_t)cJSON_GetArraySize(values);
    CHECK(n == t->numel, "%s: %s has %llu elements, expected %llu", file, name, (unsigned long long)t->numel,
          (unsigned long long)n);
    if (n != t->numel)
        return;
    float *f = malloc((n ? n : 1) * sizeof *f);
    uint16_t *h = malloc((n ? n : 1) * sizeof *h);
    vkti_diag d = {0};
    CHECK(vkti_io_tensor_to_f32(&d, t, f, n) == 0 && vkti_io_tensor_to_f16(&d, t, h, n) == 0, "%s", d.msg);
    int bad = -1;
    for (uint64_t i = 0; i < n && bad < 0; i++) {
        float w = (float)cJSON_GetArrayItem(values, (int)i)->valuedouble;
        if (f[i] != w || (vkti_io_dtype_is_float(t->dtype) && h[i] != vkti_f32_to_f16(w)))
            bad = (int)i;
    }
    CHECK(bad < 0, "%s: %s[%d] = %g, expected %g", file, name, bad, bad >= 0 ? (double)f[bad] : 0.0,
          bad >= 0 ? cJSON_GetArrayItem(values, bad)->valuedouble : 0.0);
    free(f);
    free(h);
}

static void check_scalars(const char *file, const vkti_pk_value *root, const cJSON *scalars)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, scalars)
    {
        char path[256];
        snprintf(path, sizeof path, "%s", s->string);
        const vkti_pk_value *v = root;
        for (char *key = strtok(path, "."); key && v; key = strtok(NULL, "."))
            v = vkti_pk_get(v, key);
        if (cJSON_IsNumber(s))
            CHECK(v && v->kind == VKTI_PK_INT && v->i == (int64_t)s->valuedouble, "%s: %s is not %g", file, s->string,
                  s->valuedouble);
        else if (cJSON_IsString(s))
            CHECK(vkti_pk_is_str(v, s->valuestring), "%s: %s is not '%s'", file, s->string, s->valuestring);
        else if (cJSON_IsNull(s))
            CHECK(v && v->kind == VKTI_PK_NONE, "%s: %s is not None", file, s->string);
    }
}

static void check_safetensors_file(const char *path, const char *file, const cJSON *spec)
{
    vkti_diag d = {0};
    vkti_safetensors st;
    int rc = vkti_safetensors_open(&d, &st, path);
    CHECK(rc == 0, "%s", d.msg);
    if (rc)
        return;
    const cJSON *tensors = cJSON_GetObjectItem(spec, "tensors"), *t, *m;
    CHECK((size_t)cJSON_GetArraySize(tensors) == st.count, "%s: %zu tensors, expected %d", file, st.count,
          cJSON_GetArraySize(tensors));
    cJSON_ArrayForEach(t, tensors)
    {
        const vkti_io_tensor *got = vkti_safetensors_find(&st, t->string);
        CHECK(got != NULL, "%s: no tensor %s", file, t->string);
        if (got)
            check_tensor(file, t->string, got, t);
    }
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(spec, "metadata"))
    {
        const char *v = vkti_safetensors_meta(&st, m->string);
        CHECK(v && m->valuestring && !strcmp(v, m->valuestring), "%s: metadata %s", file, m->string);
    }
    vkti_safetensors_close(&st);
}

static void check_ckpt_file(const char *path, const char *file, const cJSON *spec)
{
    vkti_diag d = {0};
    vkti_ckpt c;
    int rc = vkti_ckpt_open(&d, &c, path);
    CHECK(rc == 0, "%s", d.msg);
    if (rc)
        return;
    const vkti_pk_value *v = c.root;
    const cJSON *key;
    cJSON_ArrayForEach(key, cJSON_GetObjectItem(spec, "path")) v = vkti_pk_get(v, key->valuestring);
    if (cJSON_IsTrue(cJSON_GetObjectItem(spec, "paramdict"))) {
        CHECK(v && v->kind == VKTI_PK_OBJECT && !strcmp(v->s, "torch.nn.modules.container.ParameterDict"),
              "%s: not a ParameterDict", file);
        v = v ? vkti_pk_get(v->state, "_parameters") : NULL;
    }
    vkti_io_tensor *list = NULL;
    size_t count = 0, skipped = 0;
    rc = vkti_ckpt_dict_tensors(&d, &c, v, &list, &count, &skipped);
    CHECK(rc == 0, "%s: %s", file, d.msg);
    const cJSON *tensors = cJSON_GetObjectItem(spec, "tensors"), *t;
    CHECK((size_t)cJSON_GetArraySize(tensors) == count && skipped == 0, "%s: %zu tensors (%zu skipped), expected %d",
          file, count, skipped, cJSON_GetArraySize(tensors));
    cJSON_ArrayForEach(t, tensors)
    {
        const vkti_io_tensor *got = NULL;
        for (size_t i = 0; i < count; i++)
            if (!strcmp(list[i].name, t->string))
                got = &list[i];
        CHECK(got != NULL, "%s: no tensor %s", file, t->string);
        if (got)
            check_tensor(file, t->string, got, t);
    }
    check_scalars(file, c.root, cJSON_GetObjectItem(spec, "scalars"));
    free(list);
    vkti_ckpt_close(&c);
}

/* Every file expected.json describes; returns how many, or -1 if the folder has no expected.json. */
static int check_folder(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    if (!vkti_file_exists(path))
        return -1;
    vkti_diag d = {0};
    uint8_t *text;
    size_t size;
    if (vkti_file_read(&d, path, 64 << 20, &text, &size)) {
        CHECK(0, "%s", d.msg);
        return 0;
    }
    cJSON *root = cJSON_Parse((const char *)text);
    free(text);
    CHECK(root != NULL, "%s is not JSON", path);
    int files = 0;
    const cJSON *spec;
    cJSON_ArrayForEach(spec, root)
    {
        snprintf(path, sizeof path, "%s/%s", dir, spec->string);
        const char *error = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "error"));
        if (error) { /* a file that must be refused */
            vkti_ckpt c;
            int rc = vkti_ckpt_open(&d, &c, path);
            CHECK(rc < 0 && strstr(d.msg, error), "%s: expected an error with \"%s\", got: %s", spec->string, error,
                  rc ? d.msg : "success");
            if (!rc)
                vkti_ckpt_close(&c);
        } else if (ends_with(spec->string, ".safetensors"))
            check_safetensors_file(path, spec->string, spec);
        else
            check_ckpt_file(path, spec->string, spec);
        files++;
    }
    cJSON_Delete(root);
    return files;
}

/* The structure behind the values: storages shared by views, strides, ordered dicts, prefixes. */
static void check_structure(const char *dir)
{
    char path[1200];
    vkti_diag d = {0};
    vkti_ckpt c;
    snprintf(path, sizeof path, "%s/tensors.pt", dir);
    if (vkti_ckpt_open(&d, &c, path) == 0) {
        const vkti_io_tensor *whole = vkti_ckpt_tensor(&c, vkti_pk_get(c.root, "whole")),
                             *tr = vkti_ckpt_tensor(&c, vkti_pk_get(c.root, "transposed")),
                             *sl = vkti_ckpt_tensor(&c, vkti_pk_get(c.root, "row_slice"));
        CHECK(whole && tr && sl && whole->contiguous && !tr->contiguous && !sl->contiguous, "view strides");
        CHECK(whole && tr && sl && tr->data == whole->data && sl->data == whole->data + 5 * 4, "views share a storage");
        CHECK(c.storage_count == 14 && c.tensor_count == 16, "%zu storages, %zu tensors", c.storage_count, c.tensor_count);
        CHECK(!strcmp(c.prefix, "archive") && c.version == 3, "prefix %s, version %d", c.prefix, c.version);
        CHECK(vkti_ckpt_tensor(&c, vkti_pk_get(c.root, "f32")) && !vkti_ckpt_tensor(&c, c.root), "tensor lookup");
        vkti_ckpt_close(&c);
    } else {
        CHECK(0, "%s", d.msg);
    }
    snprintf(path, sizeof path, "%s/sd_tiny.ckpt", dir);
    if (vkti_ckpt_open(&d, &c, path) == 0) {
        const vkti_pk_value *sd = vkti_ckpt_state_dict(&c);
        CHECK(sd && sd == vkti_pk_get(c.root, "state_dict") && (sd->flags & VKTI_PK_ORDERED), "state dict");
        CHECK(sd && sd->state && vkti_pk_get(sd->state, "_metadata"), "the state dict's _metadata attribute");
        CHECK(!strcmp(c.prefix, "sd_tiny"), "prefix %s", c.prefix);
        vkti_ckpt_close(&c);
    } else {
        CHECK(0, "%s", d.msg);
    }
    snprintf(path, sizeof path, "%s/a1111_embedding.pt", dir);
    if (vkti_ckpt_open(&d, &c, path) == 0) {
        CHECK(vkti_ckpt_state_dict(&c) == c.root, "a dict without state_dict is its own state dict");
        vkti_io_tensor *list;
        size_t n, skipped;
        CHECK(vkti_ckpt_dict_tensors(&d, &c, c.root, &list, &n, &skipped) == 0 && n == 0 && skipped == 6,
              "non-tensor values are skipped and counted");
        free(list);
        vkti_ckpt_close(&c);
    } else {
        CHECK(0, "%s", d.msg);
    }
    snprintf(path, sizeof path, "%s/tensors_deflated.pt", dir);
    if (vkti_ckpt_open(&d, &c, path) == 0) {
        size_t deflated = 0;
        for (size_t i = 0; i < c.zip_.count; i++)
            deflated += c.zip_.entries[i].method == 8;
        CHECK(deflated == 15, "%zu deflated entries", deflated);
        vkti_ckpt_close(&c);
    } else {
        CHECK(0, "%s", d.msg);
    }
    /* the same bytes from memory, and closing twice */
    uint8_t *data;
    size_t size;
    snprintf(path, sizeof path, "%s/tensors_zip64.pt", dir);
    if (vkti_file_read(&d, path, 1 << 20, &data, &size) == 0) {
        CHECK(vkti_ckpt_parse(&d, &c, "zip64 in memory", data, size) == 0 && c.tensor_count == 16, "%s", d.msg);
        vkti_ckpt_close(&c);
        vkti_ckpt_close(&c);
        free(data);
    }
}

int main(void)
{
    const char *src = getenv("VKTI_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/data/io", src ? src : ".");
    int n = check_folder(dir);
    CHECK(n >= 8, "tests/data/io: %d files described", n);
    check_structure(dir);
    snprintf(dir, sizeof dir, "%s/tests/data/torch", src ? src : ".");
    n = check_folder(dir);
    if (n < 0)
        printf("SKIP tests/data/torch: no files from torch.save yet (made on the GPU machine by "
               "tools/ref/check_safetensors.py --make)\n");
    else
        printf("tests/data/torch: %d files from torch.save and safetensors checked\n", n);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
