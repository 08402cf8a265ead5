/* tokenizer_find.c — the search for a model's CLIP tokenizer (see tokenizer_find.h): the explicit
 * folder, the model's folder, then the Hugging Face hub caches, where a repository
 * "org/name" lives in models--org--name/snapshots/<revision>/ and refs/main names the current
 * revision. */
#include "io/tokenizer_find.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"

typedef struct hub_repo {
    const char *cache_name; /* the folder in the hub cache */
    const char *sub;        /* where the tokenizer is inside a snapshot */
    int clip;               /* CLIP's own tokenizer (pads with eos) */
} hub_repo;

static const hub_repo sd1_repos[] = {
    {"models--openai--clip-vit-large-patch14", "", 1},
    {"models--stable-diffusion-v1-5--stable-diffusion-v1-5", "tokenizer", 0},
    {"models--runwayml--stable-diffusion-v1-5", "tokenizer", 0},
    {"models--CompVis--stable-diffusion-v1-4", "tokenizer", 0},
    {NULL, NULL, 0},
};
static const hub_repo sd2_repos[] = {
    {"models--stabilityai--stable-diffusion-2-1", "tokenizer", 0},
    {"models--stabilityai--stable-diffusion-2-1-base", "tokenizer", 0},
    {"models--stabilityai--stable-diffusion-2", "tokenizer", 0},
    {"models--stabilityai--stable-diffusion-2-base", "tokenizer", 0},
    {"models--openai--clip-vit-large-patch14", "", 1},
    {NULL, NULL, 0},
};

/* The list of places looked at, for the message. */
typedef struct looked {
    char text[1500];
    size_t len;
    int count;
} looked;

static void note(looked *l, const char *place)
{
    l->count++;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "\n  %s", place);
    if (n < 0 || (size_t)n >= sizeof l->text - l->len) {
        l->len = sizeof l->text - 1; /* the list is long: end it with "..." */
        memcpy(l->text + sizeof l->text - 7, "\n  ...", 6);
        l->text[sizeof l->text - 1] = 0;
    } else {
        l->len += (size_t)n;
    }
}

int vkti_tokenizer_dir_ok(const char *dir)
{
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/vocab.json", dir);
    snprintf(b, sizeof b, "%s/merges.txt", dir);
    if (vkti_file_exists(a) && vkti_file_exists(b))
        return 1;
    snprintf(a, sizeof a, "%s/bpe_simple_vocab_16e6.txt.gz", dir);
    return vkti_file_exists(a);
}

/* Checks dir (with sub appended when not empty); on success fills out. */
static int try_dir(looked *l, const char *dir, const char *sub, vkti_tokenizer_found *out)
{
    char p[4096];
    int n = sub && sub[0] ? snprintf(p, sizeof p, "%s/%s", dir, sub) : snprintf(p, sizeof p, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof p)
        return 0;
    if (vkti_tokenizer_dir_ok(p)) {
        memcpy(out->dir, p, (size_t)n + 1);
        return 1;
    }
    note(l, p);
    return 0;
}

/* The folder part of a file path ("." when it has none). */
static void parent_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
#if defined(_WIN32)
    const char *bs = strrchr(path, '\\');
    if (bs && (!slash || bs > slash))
        slash = bs;
#endif
    if (!slash) {
        snprintf(out, cap, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/file" */
    snprintf(out, cap, "%.*s", (int)n, path);
}

/* Searches one hub repository: the snapshot refs/main names first, then every other one. */
static int try_hub_repo(looked *l, const char *hub, const hub_repo *r, vkti_tokenizer_found *out)
{
    char repo[4096], snaps[4200], ref[4200];
    snprintf(repo, sizeof repo, "%s/%s", hub, r->cache_name);
    snprintf(snaps, sizeof snaps, "%s/snapshots", repo);
    char pattern[4400];
    snprintf(pattern, sizeof pattern, "%s/*/%s%s", snaps, r->sub, r->sub[0] ? "/" : "");
    if (!vkti_dir_exists(snaps)) {
        note(l, pattern);
        return 0;
    }
    char main_rev[128] = "";
    snprintf(ref, sizeof ref, "%s/refs/main", repo);
    if (vkti_file_exists(ref)) {
        uint8_t *data;
        size_t size;
        vkti_diag quiet = {0};
        if (vkti_file_read(&quiet, ref, 256, &data, &size) == VKTI_OK) {
            size_t n = 0;
            while (n < size && n + 1 < sizeof main_rev && data[n] > ' ' && data[n] != '/' && data[n] != '\\' &&
                   data[n] != '.')
                n++;
            memcpy(main_rev, data, n);
            main_rev[n] = 0;
            free(data);
        }
    }
    looked scratch = {0}; /* individual snapshots are not listed, the pattern is */
    char snap[4400];
    if (main_rev[0]) {
        snprintf(snap, sizeof snap, "%s/%s", snaps, main_rev);
        if (try_dir(&scratch, snap, r->sub, out))
            return 1;
    }
    char **names = NULL;
    int count = 0;
    vkti_diag quiet = {0};
    if (vkti_dir_list(&quiet, snaps, &names, &count) == VKTI_OK) {
        for (int i = 0; i < count; i++) {
            snprintf(snap, sizeof snap, "%s/%s", snaps, names[i]);
            if (vkti_dir_exists(snap) && try_dir(&scratch, snap, r->sub, out)) {
                vkti_dir_list_free(names, count);
                return 1;
            }
        }
        vkti_dir_list_free(names, count);
    }
    note(l, pattern);
    return 0;
}

int vkti_tokenizer_find(vkti_diag *d, const vkti_tokenizer_search *s, vkti_tokenizer_found *out)
{
    memset(out, 0, sizeof *out);
    looked l = {0};
    if (s->tokenizer_dir) {
        if (try_dir(&l, s->tokenizer_dir, NULL, out) || try_dir(&l, s->tokenizer_dir, "tokenizer", out))
            return VKTI_OK;
        return vkti_fail(d, VKTI_E_IO,
                         "--tokenizer %s: no CLIP tokenizer there; looked in:%s\n"
                         "pass a folder holding vocab.json and merges.txt (a diffusers model's tokenizer/ folder) "
                         "or bpe_simple_vocab_16e6.txt.gz",
                         s->tokenizer_dir, l.text);
    }
    if (s->model_path) {
        char base[4096];
        if (vkti_dir_exists(s->model_path))
            snprintf(base, sizeof base, "%s", s->model_path);
        else
            parent_of(s->model_path, base, sizeof base);
        if (try_dir(&l, base, "tokenizer", out) || try_dir(&l, base, NULL, out))
            return VKTI_OK;
    }
    /* the hub caches: given, or from the environment like huggingface_hub */
    const char *hubs[VKTI_TOKFIND_MAX_HUBS + 3];
    char env_home_hub[4200], home_hub[4200];
    int nh = 0;
    for (int i = 0; i < VKTI_TOKFIND_MAX_HUBS && s->hub_dirs[i]; i++)
        hubs[nh++] = s->hub_dirs[i];
    if (nh == 0) {
        const char *v = vkti_env("HF_HUB_CACHE");
        if (v)
            hubs[nh++] = v;
        if ((v = vkti_env("HF_HOME"))) {
            snprintf(env_home_hub, sizeof env_home_hub, "%s/hub", v);
            hubs[nh++] = env_home_hub;
        }
        char home[4096];
        if (vkti_home_dir(home, sizeof home) == VKTI_OK) {
            snprintf(home_hub, sizeof home_hub, "%s/.cache/huggingface/hub", home);
            hubs[nh++] = home_hub;
        }
    }
    const hub_repo *repos = s->sd2 ? sd2_repos : sd1_repos;
    for (int h = 0; h < nh; h++) {
        int dup = 0;
        for (int k = 0; k < h; k++)
            dup |= strcmp(hubs[k], hubs[h]) == 0;
        if (dup)
            continue;
        for (const hub_repo *r = repos; r->cache_name; r++) {
            if (try_hub_repo(&l, hubs[h], r, out)) {
                out->from_hub = 1;
                out->needs_sd2_pad = s->sd2 && r->clip;
                return VKTI_OK;
            }
        }
    }
    if (nh == 0)
        note(&l, "(no Hugging Face cache: HF_HUB_CACHE, HF_HOME and the home directory are all unset)");
    return vkti_fail(d, VKTI_E_IO,
                     "no CLIP tokenizer found (single-file checkpoints do not contain one); looked in:%s\n"
                     "pass --tokenizer DIR, a folder holding vocab.json and merges.txt (e.g. the tokenizer/ folder "
                     "of a diffusers model), or download it with: huggingface-cli download %s",
                     l.text,
                     s->sd2 ? "stabilityai/stable-diffusion-2-1 tokenizer/vocab.json tokenizer/merges.txt "
                              "tokenizer/special_tokens_map.json tokenizer/tokenizer_config.json"
                            : "openai/clip-vit-large-patch14 vocab.json merges.txt");
}
