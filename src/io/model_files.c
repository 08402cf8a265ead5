/* model_files.c — opening a Stable Diffusion model: a diffusers folder or an LDM single file, each
 * network's tensors found by sd_tensors.h's tables and checked, configs, scheduler, tokenizer,
 * fingerprint (see model_files.h). */
#include "io/model_files.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/platform.h"
#include "base/str.h"
#include "io/bytes.h"
#include "io/ckpt.h"
#include "io/ldm_infer.h"
#include "io/safetensors.h"

#define MAX_SHARDS 1024
#define MAX_INDEX_BYTES (64u << 20)

struct vkti_model_file {
    char *path;
    vkti_model_format format;
    vkti_safetensors st;
    vkti_ckpt ck;
};

static const char *const comp_names[VKTI_SD_COMPONENTS] = {"unet", "text_encoder", "vae"};

const char *vkti_sd_component_name(vkti_sd_component c)
{
    return (unsigned)c < VKTI_SD_COMPONENTS ? comp_names[c] : "?";
}

const char *vkti_model_layout_name(const vkti_model *m)
{
    if (m->layout == VKTI_MODEL_DIFFUSERS)
        return "diffusers folder";
    return m->format == VKTI_MODEL_TORCH ? "single file (LDM layout, torch zip)" : "single file (LDM layout, safetensors)";
}

/* ---- small helpers ------------------------------------------------------------------------------ */

static void note(vkti_diag *d, vkti_model *m, const char *f, ...) VKTI_PRINTF(3, 4);
static void note(vkti_diag *d, vkti_model *m, const char *f, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    vkti_log(d, VKTI_LOG_INFO, "%s", buf);
    char **p = realloc(m->notes, (size_t)(m->note_count + 1) * sizeof *p);
    if (!p)
        return;
    m->notes = p;
    if ((p[m->note_count] = vkti_str_dup(buf)))
        m->note_count++;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        char a = s[n - k + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

static int read_text(vkti_diag *d, const char *path, size_t max, char **text, size_t *len)
{
    uint8_t *data;
    int rc = vkti_file_read(d, path, max, &data, len);
    if (rc)
        return rc;
    *text = (char *)data;
    return VKTI_OK;
}

/* ---- files ------------------------------------------------------------------------------------------ */

/* Each file its own allocation: the readers' structs never move once opened. */
static vkti_model_file *add_file(vkti_diag *d, vkti_model *m, const char *path)
{
    vkti_model_file **p = realloc(m->files_, (size_t)(m->file_count_ + 1) * sizeof *p);
    if (!p) {
        vkti_fail(d, VKTI_E_OOM, "out of memory opening %s", path);
        return NULL;
    }
    m->files_ = p;
    vkti_model_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = vkti_str_dup(path))) {
        free(f);
        vkti_fail(d, VKTI_E_OOM, "out of memory opening %s", path);
        return NULL;
    }
    p[m->file_count_++] = f;
    return f;
}

/* A torch file is a zip ("PK"); anything else is read as safetensors. */
static vkti_model_format sniff_format(const char *path)
{
    if (ends_with(path, ".safetensors"))
        return VKTI_MODEL_SAFETENSORS;
    if (ends_with(path, ".ckpt") || ends_with(path, ".pt") || ends_with(path, ".pth") || ends_with(path, ".bin"))
        return VKTI_MODEL_TORCH;
    vkti_mapped_file mf;
    vkti_diag quiet = {0};
    vkti_model_format f = VKTI_MODEL_SAFETENSORS;
    if (vkti_file_map(&quiet, path, &mf) == VKTI_OK) {
        if (mf.size >= 2 && mf.data[0] == 'P' && mf.data[1] == 'K')
            f = VKTI_MODEL_TORCH;
        vkti_file_unmap(&mf);
    }
    return f;
}

/* Opens a weight file and appends its named tensors to *list (grown; names point into the file). */
static int open_weights(vkti_diag *d, vkti_model *m, const char *path, vkti_io_tensor **list, size_t *count,
                        int64_t *global_step)
{
    vkti_model_file *f = add_file(d, m, path);
    if (!f)
        return VKTI_E_OOM;
    f->format = sniff_format(path);
    const vkti_io_tensor *src;
    vkti_io_tensor *owned = NULL;
    size_t n;
    int rc;
    if (f->format == VKTI_MODEL_SAFETENSORS) {
        if ((rc = vkti_safetensors_open(d, &f->st, path)))
            return rc;
        src = f->st.tensors;
        n = f->st.count;
    } else {
        if ((rc = vkti_ckpt_open(d, &f->ck, path)))
            return rc;
        const vkti_pk_value *sd = vkti_ckpt_state_dict(&f->ck);
        if (!sd)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the checkpoint holds no dict of tensors (no state_dict)", path);
        size_t skipped = 0;
        if ((rc = vkti_ckpt_dict_tensors(d, &f->ck, sd, &owned, &n, &skipped)))
            return rc;
        src = owned;
        if (global_step) {
            const vkti_pk_value *gs = vkti_pk_get(f->ck.root, "global_step");
            if (gs && gs->kind == VKTI_PK_INT)
                *global_step = gs->i;
        }
    }
    vkti_io_tensor *p = realloc(*list, (*count + n + 1) * sizeof *p);
    if (!p) {
        free(owned);
        return vkti_fail(d, VKTI_E_OOM, "out of memory reading %s", path);
    }
    if (n)
        memcpy(p + *count, src, n * sizeof *p);
    *list = p;
    *count += n;
    free(owned);
    return VKTI_OK;
}

/* Sorts and refuses a name given twice (across shards). */
static int sort_unique(vkti_diag *d, vkti_io_tensor *list, size_t n, const char *what)
{
    vkti_ldm_sort(list, n);
    for (size_t i = 1; i < n; i++) {
        if (!strcmp(list[i - 1].name, list[i].name)) {
            char q[VKTI_QUOTE_MAX];
            vkti_quote(q, sizeof q, list[i].name, strlen(list[i].name));
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the tensor %s is given twice", what, q);
        }
    }
    return VKTI_OK;
}

/* ---- resolving a network's tensors ------------------------------------------------------------------- */

typedef struct name_idx {
    const char *name;
    uint32_t idx;
} name_idx;

static int cmp_name_idx(const void *a, const void *b)
{
    return strcmp(((const name_idx *)a)->name, ((const name_idx *)b)->name);
}

static int sort_part_index(vkti_diag *d, vkti_model_part *p)
{
    const size_t n = p->table.count;
    name_idx *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = (name_idx){p->table.t[i].name, (uint32_t)i};
    qsort(v, n, sizeof *v, cmp_name_idx);
    for (size_t i = 0; i < n; i++)
        p->by_name_[i] = v[i].idx;
    free(v);
    return VKTI_OK;
}

static int same_shape(int ndim, const int64_t *a, int ndim_b, const int64_t *b)
{
    if (ndim != ndim_b)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Finds every tensor of part comp in the sorted list (ldm: by the LDM names). files names the
 * file(s) in messages. */
static int resolve(vkti_diag *d, vkti_model *m, vkti_sd_component comp, const vkti_io_tensor *list, size_t n, int ldm,
                   const char *files, uint8_t *used)
{
    vkti_model_part *p = &m->parts[comp];
    const char *cn = comp_names[comp];
    p->tensors = calloc(p->table.count ? p->table.count : 1, sizeof *p->tensors);
    p->by_name_ = malloc((p->table.count ? p->table.count : 1) * sizeof *p->by_name_);
    if (!p->tensors || !p->by_name_)
        return vkti_fail(d, VKTI_E_OOM, "out of memory reading the %s's tensors", cn);
    int rc = VKTI_OK;
    char want[96], got[96];
    for (size_t i = 0; i < p->table.count; i++) {
        const vkti_sd_tensor *e = &p->table.t[i];
        const char *name = ldm ? e->ldm : e->name;
        const vkti_io_tensor *t = vkti_ldm_lookup(list, n, name);
        if (!t && !ldm && comp == VKTI_SD_TEXT_ENCODER && !strncmp(name, "text_model.", 11))
            t = vkti_ldm_lookup(list, n, name + 11); /* transformers >= 5.6 saves CLIPTextModel unwrapped */
        static const char sd1_text[] = "cond_stage_model.transformer.text_model.";
        if (!t && ldm && !strncmp(name, sd1_text, sizeof sd1_text - 1)) {
            /* checkpoints saved with old transformers lack text_model. (AUTOMATIC1111 renames them too) */
            char old[VKTI_SD_NAME_MAX + 32];
            snprintf(old, sizeof old, "cond_stage_model.transformer.%s", name + sizeof sd1_text - 1);
            t = vkti_ldm_lookup(list, n, old);
        }
        int64_t file_shape[4];
        const int file_ndim = ldm ? vkti_sd_ldm_shape(e, file_shape) : e->ndim;
        if (!ldm)
            memcpy(file_shape, e->shape, sizeof file_shape);
        vkti_sd_shape_str(file_ndim, file_shape, want, sizeof want);
        if (!t) {
            if (ldm)
                rc = vkti_fail(d, VKTI_E_FORMAT, "%s: no tensor %s (the %s's %s); it must be there with shape %s", files,
                               name, cn, e->name, want);
            else
                rc = vkti_fail(d, VKTI_E_FORMAT, "%s: no tensor %s; the %s needs it with shape %s", files, name, cn, want);
            break;
        }
        used[t - list] = 1;
        vkti_io_tensor v = *t;
        int shape_ok = same_shape(t->ndim, t->shape, file_ndim, file_shape);
        if (ldm && e->ldm_op == VKTI_LDM_SQUEEZE && !shape_ok && same_shape(t->ndim, t->shape, e->ndim, e->shape))
            shape_ok = 1; /* already stored as a linear weight */
        if (!shape_ok) {
            vkti_io_tensor_describe(t, got, sizeof got);
            if (ldm)
                rc = vkti_fail(d, VKTI_E_FORMAT, "%s: tensor %s (the %s's %s) is %s; expected shape %s", files, name, cn,
                               e->name, got, want);
            else
                rc = vkti_fail(d, VKTI_E_FORMAT, "%s: tensor %s is %s; the %s needs shape %s", files, name, got, cn, want);
            break;
        }
        if (!vkti_io_dtype_is_float(t->dtype)) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: tensor %s is %s; weights must be floating point (F32, F16, BF16, F64)",
                           files, name, vkti_io_tensor_describe(t, got, sizeof got));
            break;
        }
        if (ldm && e->ldm_op == VKTI_LDM_QKV) { /* rows [part * n, (part + 1) * n) */
            const int64_t rows = e->shape[0];
            v.data = t->data + (size_t)(e->ldm_part * rows * t->stride[0]) * vkti_io_dtype_size(t->dtype);
            v.shape[0] = rows;
        }
        /* the table's shape (squeezed views drop trailing 1s; their strides stay valid) */
        v.ndim = e->ndim;
        for (int k = 0; k < e->ndim; k++)
            v.shape[k] = e->shape[k];
        v.numel = 1;
        for (int k = 0; k < e->ndim; k++)
            v.numel *= (uint64_t)e->shape[k];
        v.bytes = v.numel * vkti_io_dtype_size(t->dtype);
        v.name = e->name;
        p->tensors[i] = v;
        p->params += v.numel;
        p->bytes += v.bytes;
        p->dtype_count[v.dtype]++;
    }
    if (!rc)
        rc = sort_part_index(d, p);
    return rc;
}

/* Counts the tensors no network used. */
static void count_unused(vkti_model *m, const uint8_t *used, size_t n)
{
    for (size_t i = 0; i < n; i++)
        m->unused_tensors += !used[i];
}

/* ---- diffusers folders ------------------------------------------------------------------------------- */

/* Weight file names of a component, in order of preference. */
static const char *const unet_vae_files[] = {"diffusion_pytorch_model.safetensors",
                                             "diffusion_pytorch_model.safetensors.index.json",
                                             "diffusion_pytorch_model.fp16.safetensors",
                                             "diffusion_pytorch_model.fp16.safetensors.index.json",
                                             "diffusion_pytorch_model.bin",
                                             "diffusion_pytorch_model.fp16.bin",
                                             NULL};
static const char *const text_files[] = {"model.safetensors",       "model.safetensors.index.json",
                                         "model.fp16.safetensors",  "model.fp16.safetensors.index.json",
                                         "pytorch_model.bin",       "pytorch_model.fp16.bin",
                                         NULL};

/* A shard file name from an index: a plain file name in the same folder. */
static int plain_name(const char *s)
{
    if (!s[0] || !strcmp(s, ".") || !strcmp(s, ".."))
        return 0;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || *p == ':' || (unsigned char)*p < 0x20)
            return 0;
    return 1;
}

/* Reads a *.safetensors.index.json: opens each shard named in weight_map, appends their tensors,
 * and checks every mapped tensor is in its shard. */
static int open_sharded(vkti_diag *d, vkti_model *m, const char *dir, const char *index_path, vkti_io_tensor **list,
                        size_t *count, char **files_desc)
{
    char *text;
    size_t len;
    int rc = read_text(d, index_path, MAX_INDEX_BYTES, &text, &len);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(root);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not a sharded-weights index (a JSON object with a \"weight_map\" object)",
                         index_path);
    }
    /* the distinct shard names, in first-seen order */
    const char *shards[MAX_SHARDS];
    int ns = 0;
    for (const cJSON *e = map->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !plain_name(e->valuestring) || !ends_with(e->valuestring, ".safetensors")) {
            char q[VKTI_QUOTE_MAX];
            vkti_quote(q, sizeof q, e->string ? e->string : "", e->string ? strlen(e->string) : 0);
            cJSON_Delete(root);
            return vkti_fail(d, VKTI_E_FORMAT, "%s: weight_map entry %s must name a .safetensors file in the same folder",
                             index_path, q);
        }
        int seen = 0;
        for (int k = 0; k < ns && !seen; k++)
            seen = !strcmp(shards[k], e->valuestring);
        if (!seen) {
            if (ns == MAX_SHARDS) {
                cJSON_Delete(root);
                return vkti_fail(d, VKTI_E_FORMAT, "%s: more than %d shards", index_path, MAX_SHARDS);
            }
            shards[ns++] = e->valuestring;
        }
    }
    if (ns == 0) {
        cJSON_Delete(root);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the weight_map is empty", index_path);
    }
    for (int k = 0; k < ns && !rc; k++) {
        char path[4200];
        const size_t before = *count;
        int n = snprintf(path, sizeof path, "%s/%s", dir, shards[k]);
        rc = n < 0 || (size_t)n >= sizeof path ? vkti_fail(d, VKTI_E_IO, "%s: a shard's path is too long", index_path)
                                               : open_weights(d, m, path, list, count, NULL);
        /* every tensor the map puts in this shard must be there */
        for (const cJSON *e = map->child; e && !rc; e = e->next) {
            if (strcmp(e->valuestring, shards[k]))
                continue;
            int found = 0;
            for (size_t i = before; i < *count && !found; i++)
                found = !strcmp((*list)[i].name, e->string);
            if (!found) {
                char q[VKTI_QUOTE_MAX];
                vkti_quote(q, sizeof q, e->string, strlen(e->string));
                rc = vkti_fail(d, VKTI_E_FORMAT, "%s: the index puts tensor %s in %s, which does not hold it", index_path,
                               q, shards[k]);
            }
        }
    }
    if (!rc)
        *files_desc = vkti_str_fmt("%s (%d shard%s)", index_path, ns, ns == 1 ? "" : "s");
    cJSON_Delete(root);
    return rc;
}

/* Reads a component's config.json text and opens its weights: *list (sorted) and *count. */
static int load_component(vkti_diag *d, vkti_model *m, const char *root, vkti_sd_component comp, char **config_json,
                          size_t *config_len, vkti_io_tensor **list_out, size_t *count_out)
{
    const char *cn = comp_names[comp];
    char dir[4200], path[4400];
    snprintf(dir, sizeof dir, "%s/%s", root, cn);
    if (!vkti_dir_exists(dir))
        return vkti_fail(d, VKTI_E_IO, "%s: the diffusers folder has no %s/ folder", root, cn);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!vkti_file_exists(path))
        return vkti_fail(d, VKTI_E_IO, "%s: no %s/config.json", root, cn);
    int rc = read_text(d, path, VKTI_SD_MAX_CONFIG_BYTES, config_json, config_len);
    if (rc)
        return rc;
    m->parts[comp].config_source = vkti_str_dup(path);
    const char *const *names = comp == VKTI_SD_TEXT_ENCODER ? text_files : unet_vae_files;
    int chosen = -1;
    for (int i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!vkti_file_exists(path))
            continue;
        if (chosen < 0) {
            chosen = i;
        } else if (strstr(names[i], ".fp16.") && !strstr(names[chosen], ".fp16.")) {
            note(d, m, "%s: using %s (full precision); %s is there too and not used", cn, names[chosen], names[i]);
            break;
        }
    }
    if (chosen < 0)
        return vkti_fail(d, VKTI_E_IO, "%s: no weights in %s/ (looked for %s, %s, their .fp16 variants and sharded "
                                       "*.safetensors.index.json)", root, cn, names[0], names[4]);
    if (strstr(names[chosen], ".fp16."))
        note(d, m, "%s: only the fp16 variant %s is there", cn, names[chosen]);
    snprintf(path, sizeof path, "%s/%s", dir, names[chosen]);
    vkti_io_tensor *list = NULL;
    size_t count = 0;
    char *files = NULL;
    if (ends_with(names[chosen], ".index.json")) {
        rc = open_sharded(d, m, dir, path, &list, &count, &files);
    } else {
        rc = open_weights(d, m, path, &list, &count, NULL);
        files = vkti_str_dup(path);
    }
    if (!rc && !files)
        rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
    if (!rc)
        rc = sort_unique(d, list, count, files);
    if (!rc) {
        m->parts[comp].files = files;
        files = NULL;
        if (comp == VKTI_SD_UNET)
            m->format = ends_with(names[chosen], ".bin") ? VKTI_MODEL_TORCH : VKTI_MODEL_SAFETENSORS;
    }
    free(files);
    if (rc) {
        free(list);
        return rc;
    }
    *list_out = list;
    *count_out = count;
    return VKTI_OK;
}

static int check_model_index(vkti_diag *d, vkti_model *m, const char *root)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model_index.json", root);
    if (!vkti_file_exists(path)) {
        note(d, m, "%s has no model_index.json; reading it as a Stable Diffusion pipeline folder", root);
        return VKTI_OK;
    }
    char *text;
    size_t len;
    int rc = read_text(d, path, VKTI_SD_MAX_CONFIG_BYTES, &text, &len);
    if (rc)
        return rc;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not a JSON object", path);
    }
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(j, "_class_name");
    if (cls && !cJSON_IsString(cls)) {
        cJSON_Delete(j);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: \"_class_name\" must be a string", path);
    }
    if (cls && strcmp(cls->valuestring, "StableDiffusionPipeline")) {
        char q[VKTI_QUOTE_MAX];
        vkti_quote(q, sizeof q, cls->valuestring, strlen(cls->valuestring));
        if (strstr(cls->valuestring, "XL") || strstr(cls->valuestring, "3") || strstr(cls->valuestring, "Flux")) {
            cJSON_Delete(j);
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the pipeline is %s; vkti supports Stable Diffusion 1.x and 2.x "
                                                    "(StableDiffusionPipeline)", path, q);
        }
        note(d, m, "model_index.json names %s; reading its unet, text_encoder and vae as StableDiffusionPipeline's", q);
    }
    cJSON_Delete(j);
    return VKTI_OK;
}

static int diffusers_rest(vkti_diag *d, vkti_model *m, const char *root, vkti_io_tensor *const *list,
                          const size_t *count);

static int open_diffusers(vkti_diag *d, vkti_model *m, const char *root)
{
    m->layout = VKTI_MODEL_DIFFUSERS;
    int rc = check_model_index(d, m, root);
    if (rc)
        return rc;
    char *cfg[VKTI_SD_COMPONENTS] = {0};
    size_t len[VKTI_SD_COMPONENTS] = {0};
    vkti_io_tensor *list[VKTI_SD_COMPONENTS] = {0};
    size_t count[VKTI_SD_COMPONENTS] = {0};
    for (int c = 0; c < VKTI_SD_COMPONENTS && !rc; c++)
        rc = load_component(d, m, root, (vkti_sd_component)c, &cfg[c], &len[c], &list[c], &count[c]);
    if (!rc)
        rc = vkti_unet_config_parse(d, &m->unet, cfg[0], len[0], m->parts[0].config_source);
    if (!rc)
        rc = vkti_clip_text_config_parse(d, &m->text_encoder, cfg[1], len[1], m->parts[1].config_source);
    if (!rc)
        rc = vkti_vae_config_parse(d, &m->vae, cfg[2], len[2], m->parts[2].config_source);
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++)
        free(cfg[c]);
    if (!rc)
        rc = diffusers_rest(d, m, root, list, count);
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++)
        free(list[c]);
    return rc;
}

/* After the configs: family, scheduler, and every network's tensors. */
static int diffusers_rest(vkti_diag *d, vkti_model *m, const char *root, vkti_io_tensor *const *list,
                          const size_t *count)
{
    int rc;
    /* the family from the configs: OpenCLIP's gelu text encoder and linear projections are SD 2.x */
    const int gelu = m->text_encoder.hidden_act == VKTI_CLIP_GELU, linear = m->unet.use_linear_projection;
    m->family = gelu || linear ? VKTI_SD_FAMILY_SD2 : VKTI_SD_FAMILY_SD1;
    m->family_reason = vkti_str_fmt("text encoder activation %s, UNet projections %s",
                              gelu ? "gelu (OpenCLIP)" : "quick_gelu (OpenAI CLIP)",
                              linear ? "linear" : "1x1 convolutions");
    /* scheduler */
    char path[4200];
    snprintf(path, sizeof path, "%s/scheduler/scheduler_config.json", root);
    if (vkti_file_exists(path)) {
        if ((rc = read_text(d, path, VKTI_SD_MAX_CONFIG_BYTES, &m->scheduler_json, &m->scheduler_json_len)))
            return rc;
        m->scheduler_source = vkti_str_dup(path);
    } else {
        /* as for single files: SD 2.x's released schedulers are v_prediction (2.x-base aside) */
        const int v = m->family == VKTI_SD_FAMILY_SD2;
        m->scheduler_json = vkti_scheduler_config_sd(v);
        m->scheduler_json_len = m->scheduler_json ? strlen(m->scheduler_json) : 0;
        m->scheduler_source = vkti_str_fmt("%s defaults (no scheduler/scheduler_config.json): scaled_linear 0.00085 to 0.012, "
                                     "%s", vkti_sd_family_name(m->family), v ? "v_prediction" : "epsilon");
        note(d, m, "no scheduler/scheduler_config.json: using %s's schedule (scaled_linear, %s)",
             vkti_sd_family_name(m->family), v ? "v_prediction" : "epsilon");
    }
    /* the tensors */
    vkti_sd_table *tab[3] = {&m->parts[0].table, &m->parts[1].table, &m->parts[2].table};
    if ((rc = vkti_sd_unet_tensors(d, &m->unet, tab[0])) ||
        (rc = vkti_sd_text_tensors(d, &m->text_encoder, m->family, tab[1])) ||
        (rc = vkti_sd_vae_tensors(d, &m->vae, tab[2])))
        return rc;
    for (int c = 0; c < VKTI_SD_COMPONENTS && !rc; c++) {
        uint8_t *used = calloc(count[c] ? count[c] : 1, 1);
        rc = used ? resolve(d, m, (vkti_sd_component)c, list[c], count[c], 0, m->parts[c].files, used)
                  : vkti_fail(d, VKTI_E_OOM, "out of memory");
        if (!rc)
            count_unused(m, used, count[c]);
        free(used);
    }
    return rc;
}

/* ---- single files ------------------------------------------------------------------------------------- */

/* The configs a vkti-written safetensors file carries in __metadata__ replace the inferred ones. */
static int metadata_configs(vkti_diag *d, vkti_model *m, const char *path)
{
    static const char *const keys[4] = {"vkti.unet_config", "vkti.text_encoder_config", "vkti.vae_config",
                                        "vkti.scheduler_config"};
    const vkti_safetensors *st = &m->files_[0]->st;
    int found = 0;
    for (int k = 0; k < 4; k++) {
        const char *text = vkti_safetensors_meta(st, keys[k]);
        if (!text)
            continue;
        char *src = vkti_str_fmt("%s (__metadata__ %s)", path, keys[k]);
        if (!src)
            return vkti_fail(d, VKTI_E_OOM, "out of memory");
        const size_t len = strlen(text);
        int rc = VKTI_OK;
        if (k == 0)
            rc = vkti_unet_config_parse(d, &m->unet, text, len, src);
        else if (k == 1)
            rc = vkti_clip_text_config_parse(d, &m->text_encoder, text, len, src);
        else if (k == 2)
            rc = vkti_vae_config_parse(d, &m->vae, text, len, src);
        else if (!(m->scheduler_json = vkti_str_dup(text)))
            rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
        if (rc) {
            free(src);
            return rc;
        }
        if (k < 3) {
            free(m->parts[k].config_source);
            m->parts[k].config_source = src;
        } else {
            m->scheduler_json_len = len;
            m->scheduler_source = src;
        }
        found++;
    }
    if (found)
        note(d, m, "%d config%s from the file's __metadata__ (written by vkti)", found, found == 1 ? "" : "s");
    return VKTI_OK;
}

static int open_single(vkti_diag *d, vkti_model *m, const char *path)
{
    m->layout = VKTI_MODEL_LDM;
    vkti_io_tensor *list = NULL;
    size_t count = 0;
    int64_t global_step = -1;
    int rc = open_weights(d, m, path, &list, &count, &global_step);
    if (!rc)
        rc = sort_unique(d, list, count, path);
    m->format = m->file_count_ ? m->files_[0]->format : VKTI_MODEL_SAFETENSORS;
    vkti_ldm_guess g;
    if (!rc)
        rc = vkti_ldm_infer(d, list, count, global_step, path, &g);
    if (rc) {
        free(list);
        return rc;
    }
    m->family = g.family;
    m->family_reason = vkti_str_dup(g.reason);
    m->unet = g.unet;
    m->text_encoder = g.text;
    m->vae = g.vae;
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++)
        m->parts[c].config_source = vkti_str_fmt("inferred from %s's tensor names and shapes (%s defaults for what they "
                                           "do not show)", path, vkti_sd_family_name(g.family));
    /* configs vkti wrote into the file itself */
    if (m->format == VKTI_MODEL_SAFETENSORS && (rc = metadata_configs(d, m, path))) {
        free(list);
        return rc;
    }
    if (!m->scheduler_json) {
        m->scheduler_json = vkti_scheduler_config_sd(g.v_prediction);
        m->scheduler_json_len = m->scheduler_json ? strlen(m->scheduler_json) : 0;
        m->scheduler_source = vkti_str_fmt("%s defaults (the file has no scheduler config): scaled_linear 0.00085 to 0.012, "
                                     "1000 steps, %s", vkti_sd_family_name(g.family),
                                     g.v_prediction ? "v_prediction" : "epsilon");
    }
    vkti_sd_table *tab[3] = {&m->parts[0].table, &m->parts[1].table, &m->parts[2].table};
    if ((rc = vkti_sd_unet_tensors(d, &m->unet, tab[0])) ||
        (rc = vkti_sd_text_tensors(d, &m->text_encoder, m->family, tab[1])) ||
        (rc = vkti_sd_vae_tensors(d, &m->vae, tab[2]))) {
        free(list);
        return rc;
    }
    uint8_t *used = calloc(count ? count : 1, 1);
    if (!used)
        rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
    for (int c = 0; c < VKTI_SD_COMPONENTS && !rc; c++) {
        m->parts[c].files = vkti_str_dup(path);
        rc = resolve(d, m, (vkti_sd_component)c, list, count, 1, path, used);
    }
    if (!rc)
        count_unused(m, used, count); /* EMA copies, position_ids, OpenCLIP's last layer... */
    free(used);
    free(list);
    return rc;
}

/* ---- fingerprint ------------------------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The address of element i (row-major logical order) of t. */
static const uint8_t *element(const vkti_io_tensor *t, uint64_t i)
{
    uint64_t off = 0;
    for (int k = t->ndim - 1; k >= 0; k--) {
        const uint64_t dim = (uint64_t)t->shape[k];
        off += (i % dim) * (uint64_t)t->stride[k];
        i /= dim;
    }
    return t->data + off * vkti_io_dtype_size(t->dtype);
}

static void fingerprint(vkti_model *m)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++) {
        const vkti_model_part *p = &m->parts[c];
        h = fnv(h, comp_names[c], strlen(comp_names[c]) + 1);
        for (size_t i = 0; i < p->table.count; i++) {
            const vkti_io_tensor *t = &p->tensors[i];
            h = fnv(h, t->name, strlen(t->name) + 1);
            const char *dt = vkti_io_dtype_name(t->dtype);
            h = fnv(h, dt, strlen(dt) + 1);
            for (int k = 0; k < t->ndim; k++) {
                int64_t s = t->shape[k];
                h = fnv(h, &s, sizeof s);
            }
            const size_t es = vkti_io_dtype_size(t->dtype);
            const uint64_t n = t->numel, starts[3] = {0, n / 2, n >= 8 ? n - 8 : 0};
            for (int s = 0; s < 3; s++)
                for (uint64_t e = starts[s]; e < starts[s] + 8 && e < n; e++)
                    h = fnv(h, element(t, e), es);
        }
    }
    snprintf(m->fingerprint, sizeof m->fingerprint, "%016llx", (unsigned long long)h);
}

/* ---- open / close -------------------------------------------------------------------------------------- */

static int cross_check(vkti_diag *d, const vkti_model *m)
{
    const vkti_unet_config *u = &m->unet;
    if (u->cross_attention_dim != m->text_encoder.hidden_size)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the UNet's cross_attention_dim (%d) differs from the text encoder's "
                                           "hidden_size (%d): they do not belong together", m->path,
                         u->cross_attention_dim, m->text_encoder.hidden_size);
    if (u->in_channels != m->vae.latent_channels) {
        if (u->in_channels == 9)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the UNet takes 9 input channels: an inpainting model; vkti trains "
                                                    "on text-to-image models (%d latent channels)",
                             m->path, m->vae.latent_channels);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the UNet takes %d input channels but the VAE's latents have %d", m->path,
                         u->in_channels, m->vae.latent_channels);
    }
    if (u->out_channels != m->vae.latent_channels)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the UNet predicts %d channels but the VAE's latents have %d", m->path,
                         u->out_channels, m->vae.latent_channels);
    return VKTI_OK;
}

int vkti_model_open(vkti_diag *d, vkti_model *m, const char *path, const char *tokenizer_dir)
{
    memset(m, 0, sizeof *m);
    if (!(m->path = vkti_str_dup(path)))
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    int rc;
    if (vkti_dir_exists(path)) {
        char probe[4200];
        snprintf(probe, sizeof probe, "%s/unet", path);
        char probe2[4200];
        snprintf(probe2, sizeof probe2, "%s/model_index.json", path);
        if (!vkti_dir_exists(probe) && !vkti_file_exists(probe2)) {
            vkti_model_close(m);
            return vkti_fail(d, VKTI_E_IO, "%s: not a diffusers model folder (no model_index.json, no unet/); give a "
                                           "diffusers folder or a single .safetensors / .ckpt file", path);
        }
        rc = open_diffusers(d, m, path);
    } else if (vkti_file_exists(path)) {
        rc = open_single(d, m, path);
    } else {
        vkti_model_close(m);
        return vkti_fail(d, VKTI_E_IO, "%s: no such file or folder", path);
    }
    if (!rc && (!m->scheduler_json || !m->family_reason || !m->scheduler_source))
        rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
    if (!rc)
        rc = vkti_scheduler_info_parse(d, &m->scheduler, m->scheduler_json, m->scheduler_json_len, m->scheduler_source);
    if (!rc)
        rc = cross_check(d, m);
    if (rc) {
        vkti_model_close(m);
        return rc;
    }
    vkti_tokenizer_search s;
    memset(&s, 0, sizeof s);
    s.tokenizer_dir = tokenizer_dir;
    s.model_path = path;
    s.sd2 = m->family == VKTI_SD_FAMILY_SD2;
    vkti_diag td;
    memset(&td, 0, sizeof td);
    if (vkti_tokenizer_find(&td, &s, &m->tokenizer) == VKTI_OK) {
        m->has_tokenizer = 1;
        if (m->tokenizer.needs_sd2_pad)
            note(d, m, "tokenizer: an SD 1.x CLIP tokenizer for an SD 2.x model: padding with \"!\" as SD 2.x does");
    } else {
        m->tokenizer_error = vkti_str_dup(td.msg);
    }
    fingerprint(m);
    return VKTI_OK;
}

void vkti_model_close(vkti_model *m)
{
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++) {
        vkti_model_part *p = &m->parts[c];
        vkti_sd_table_free(&p->table);
        free(p->tensors);
        free(p->by_name_);
        free(p->files);
        free(p->config_source);
    }
    for (int i = 0; i < m->file_count_; i++) {
        vkti_model_file *f = m->files_[i];
        if (f->format == VKTI_MODEL_SAFETENSORS)
            vkti_safetensors_close(&f->st);
        else
            vkti_ckpt_close(&f->ck);
        free(f->path);
        free(f);
    }
    free(m->files_);
    for (int i = 0; i < m->note_count; i++)
        free(m->notes[i]);
    free(m->notes);
    free(m->path);
    free(m->family_reason);
    free(m->scheduler_json);
    free(m->scheduler_source);
    free(m->tokenizer_error);
    memset(m, 0, sizeof *m);
}

/* ---- lookups -------------------------------------------------------------------------------------------- */

const vkti_io_tensor *vkti_model_find(const vkti_model *m, vkti_sd_component c, const char *name)
{
    if ((unsigned)c >= VKTI_SD_COMPONENTS)
        return NULL;
    const vkti_model_part *p = &m->parts[c];
    size_t lo = 0, hi = p->table.count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(p->table.t[p->by_name_[mid]].name, name);
        if (r == 0)
            return &p->tensors[p->by_name_[mid]];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int vkti_model_tensor(vkti_diag *d, const vkti_model *m, vkti_sd_component c, const char *name, vkti_io_tensor *out)
{
    const vkti_io_tensor *t = vkti_model_find(m, c, name);
    if (!t)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: the %s has no tensor %s", m->path, vkti_sd_component_name(c), name);
    *out = *t;
    return VKTI_OK;
}

int vkti_model_tensor_shape(vkti_diag *d, const vkti_model *m, vkti_sd_component c, const char *name, int ndim,
                            const int64_t *shape, vkti_io_tensor *out)
{
    int rc = vkti_model_tensor(d, m, c, name, out);
    if (rc)
        return rc;
    if (!same_shape(out->ndim, out->shape, ndim, shape)) {
        char got[96], want[96];
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the %s's tensor %s is %s; expected shape %s", m->path,
                         vkti_sd_component_name(c), name, vkti_io_tensor_describe(out, got, sizeof got),
                         vkti_sd_shape_str(ndim, shape, want, sizeof want));
    }
    return VKTI_OK;
}

int vkti_model_weight_get(void *net, vkti_diag *d, const char *name, const vkti_io_tensor **out)
{
    const vkti_model_net *n = net;
    *out = vkti_model_find(n->model, n->comp, name);
    if (!*out)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the %s has no tensor %s", n->model->path,
                         vkti_sd_component_name(n->comp), name);
    return VKTI_OK;
}

int vkti_model_tokenizer_dir(vkti_diag *d, const vkti_model *m, const char **dir)
{
    if (!m->has_tokenizer) {
        *dir = NULL;
        return vkti_fail(d, VKTI_E_IO, "%s", m->tokenizer_error ? m->tokenizer_error : "no tokenizer found");
    }
    *dir = m->tokenizer.dir;
    return VKTI_OK;
}

/* ---- what a path is ---------------------------------------------------------------------------------------- */

static int ldm_names(const vkti_io_tensor *t, size_t n)
{
    static const char *const prefixes[] = {"model.diffusion_model.", "cond_stage_model.", "first_stage_model.",
                                           "conditioner.", NULL};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; prefixes[k]; k++)
            if (t[i].name && !strncmp(t[i].name, prefixes[k], strlen(prefixes[k])))
                return 1;
    return 0;
}

int vkti_model_path_is_model(const char *path)
{
    char p[4200];
    if (vkti_dir_exists(path)) {
        snprintf(p, sizeof p, "%s/model_index.json", path);
        if (vkti_file_exists(p))
            return 1;
        snprintf(p, sizeof p, "%s/unet/config.json", path);
        return vkti_file_exists(p);
    }
    if (!vkti_file_exists(path))
        return 0;
    if (ends_with(path, ".ckpt"))
        return 1;
    vkti_diag quiet;
    memset(&quiet, 0, sizeof quiet);
    int is = 0;
    if (sniff_format(path) == VKTI_MODEL_SAFETENSORS) {
        vkti_safetensors st;
        if (vkti_safetensors_open(&quiet, &st, path) == VKTI_OK) {
            is = ldm_names(st.tensors, st.count);
            vkti_safetensors_close(&st);
        }
    } else {
        vkti_ckpt ck;
        if (vkti_ckpt_open(&quiet, &ck, path) == VKTI_OK) {
            const vkti_pk_value *sd = vkti_ckpt_state_dict(&ck);
            vkti_io_tensor *t = NULL;
            size_t n = 0;
            if (sd && vkti_ckpt_dict_tensors(&quiet, &ck, sd, &t, &n, NULL) == VKTI_OK)
                is = ldm_names(t, n);
            free(t);
            vkti_ckpt_close(&ck);
        }
    }
    return is;
}
