/* test_embedding.c — embedding files (io/embedding.h) and `vkti convert` (vkti/embedding.h):
 *   - the pickle writer's opcodes and memo against bytes CPython's pickler writes; the zip writer
 *     read back by zip.h with every entry's data 64-byte aligned;
 *   - every fixture of tests/data/embedding (tools/gen_embedding_fixtures.py: files as diffusers,
 *     kohya, ComfyUI and AUTOMATIC1111 write them) read to the fields its EXPECTED line lists and
 *     to its known values; the st work's A1111 and ParameterDict fixtures of tests/data/io;
 *   - the A1111 writer byte for byte against torch.save's output for the same dict
 *     (a1111_expected*.pt);
 *   - round trips between all formats with random bit patterns (denormals, -0, huge values):
 *     every vector bit-identical, token and A1111 fields kept, other metadata kept in safetensors;
 *   - the hostile embedding corpus (tests/data/embedding/hostile, one message each), the whole
 *     reader corpus tests/data/hostile through the embedding reader, seeded damage to the valid
 *     fixtures (CI runs this under ASan and UBSan);
 *   - the layout probe, the writers' refusals, vkti_embedding_convert's checks.
 * With --write-dir DIR it only writes the files tools/ref/check_embeddings.py loads with PyTorch on
 * the GPU machine (and DIR/manifest.json describing them). */
#include <math.h>

#include "unit_util.h"

#include "io/embedding.h"
#include "io/pickle_write.h"
#include "io/safetensors.h"
#include "io/zip.h"
#include "io/zip_write.h"
#include "vkti/embedding.h"
#include "vkti/inspect.h"

static const char *src_dir(void)
{
    const char *s = getenv("VKTI_SOURCE_DIR");
    return s ? s : ".";
}

/* ---- values ----------------------------------------------------------------------------------- */

/* the fixtures' values: ((i * 7) % 11 - 5) * 0.25 */
static float fixture_value(size_t i) { return (float)((int)((i * 7) % 11) - 5) * 0.25f; }

/* any finite f32 bit pattern (xorshift32; an all-ones exponent loses its top bit) — the same
 * sequence tools/ref/check_embeddings.py computes */
static uint32_t next_bits(uint32_t *s)
{
    uint32_t b = urand(s);
    if ((b & 0x7f800000u) == 0x7f800000u)
        b &= ~0x40000000u;
    return b;
}

static void fill_random(vkti_embedding *e, uint32_t seed)
{
    uint32_t s = seed ? seed : 1;
    for (int k = 0; k < e->sets; k++)
        for (size_t i = 0; i < (size_t)e->num_vectors * (size_t)e->width[k]; i++) {
            uint32_t b = next_bits(&s);
            memcpy(&e->vec[k][i], &b, 4);
        }
}

static int same_vectors(const vkti_embedding *a, const vkti_embedding *b)
{
    if (a->sets != b->sets || a->num_vectors != b->num_vectors)
        return 0;
    for (int k = 0; k < a->sets; k++)
        if (a->width[k] != b->width[k] ||
            memcmp(a->vec[k], b->vec[k], (size_t)a->num_vectors * (size_t)a->width[k] * sizeof(float)))
            return 0;
    return 1;
}

static int str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static uint8_t *slurp(const char *path, size_t *size)
{
    uint8_t *data;
    vkti_diag d = {0};
    if (vkti_file_read(&d, path, 1 << 24, &data, size)) {
        printf("cannot read %s: %s\n", path, d.msg);
        return NULL;
    }
    return data;
}

/* ---- pickle and zip writers ------------------------------------------------------------------- */

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = 0;
}

static void test_pickle_writer(void)
{
    /* pickle.dumps(x, 2)[2:-1].hex() */
    static const struct {
        int64_t v;
        const char *hex;
    } ints[] = {
        {0, "4b00"},
        {255, "4bff"},
        {256, "4d0001"},
        {65535, "4dffff"},
        {65536, "4a00000100"},
        {-1, "4affffffff"},
        {2147483647, "4affffff7f"},
        {-2147483647 - 1, "4a00000080"},
        {2147483648, "8a050000008000"},
        {-2147483649, "8a05ffffff7fff"},
        {1099511627776, "8a06000000000001"},
        {INT64_MIN, "8a080000000000000080"},
        {INT64_MAX, "8a08ffffffffffffff7f"},
        {-129, "4a7fffffff"},
        {-1099511627776, "8a060000000000ff"},
    };
    vkti_diag d = {0};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        vkti_pkw w;
        vkti_pkw_init(&w);
        vkti_pkw_int(&w, ints[i].v);
        uint8_t *b;
        size_t n;
        CHECK(vkti_pkw_finish(&d, &w, &b, &n) == 0 && n >= 3, "pickle int: %s", d.msg);
        char h[64];
        hex(h, b + 2, n - 3);
        CHECK(b[0] == 0x80 && b[1] == 2 && b[n - 1] == '.' && !strcmp(h, ints[i].hex), "int %lld pickles as %s, not %s",
              (long long)ints[i].v, h, ints[i].hex);
        free(b);
    }
    /* ("*", "*", "ab", "ab", OrderedDict, OrderedDict, True, None): a one-character str and a
     * global come from the memo the second time; other strs do not */
    vkti_pkw w;
    vkti_pkw_init(&w);
    vkti_pkw_tuple_begin(&w, 7);
    vkti_pkw_str(&w, "*", 1);
    vkti_pkw_str(&w, "*", 1);
    vkti_pkw_str(&w, "ab", 2);
    vkti_pkw_str(&w, "ab", 2);
    vkti_pkw_global(&w, "collections", "OrderedDict");
    vkti_pkw_global(&w, "collections", "OrderedDict");
    vkti_pkw_bool(&w, 1);
    vkti_pkw_tuple_end(&w, 7);
    uint8_t *b;
    size_t n;
    CHECK(vkti_pkw_finish(&d, &w, &b, &n) == 0, "%s", d.msg);
    /* pickle.dumps(("*", "*", a, b, OrderedDict, OrderedDict, True), 2) with a, b two "ab" objects */
    static const char want[] = "\x80\x02(X\x01\x00\x00\x00*q\x00h\x00X\x02\x00\x00\x00" "abq\x01X\x02\x00\x00\x00"
                               "abq\x02" "ccollections\nOrderedDict\nq\x03h\x03\x88tq\x04.";
    CHECK(n == sizeof want - 1 && !memcmp(b, want, n), "memo: %zu bytes, differ from CPython's", n);
    free(b);
    /* past 256 memo entries: LONG_BINPUT and LONG_BINGET */
    vkti_pkw_init(&w);
    for (int i = 0; i < 256; i++)
        vkti_pkw_empty_dict(&w);
    vkti_pkw_global(&w, "torch", "FloatStorage");
    vkti_pkw_global(&w, "torch", "FloatStorage");
    CHECK(vkti_pkw_finish(&d, &w, &b, &n) == 0, "%s", d.msg);
    static const char tail[] = "ctorch\nFloatStorage\nr\x00\x01\x00\x00j\x00\x01\x00\x00.";
    CHECK(n > sizeof tail && !memcmp(b + n - (sizeof tail - 1), tail, sizeof tail - 1), "long memo opcodes");
    free(b);
}

static void test_zip_writer(void)
{
    vkti_diag d = {0};
    vkti_zipw z;
    vkti_zipw_init(&z);
    static const size_t sizes[5] = {0, 1, 63, 100, 1000};
    static const char *const names[5] = {"archive/a", "archive/data/0", "archive/.data/x", "archive/bb", "archive/c"};
    uint8_t data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    for (int i = 0; i < 5; i++)
        CHECK(vkti_zipw_add(&d, &z, names[i], data, sizes[i]) == 0, "zip add: %s", d.msg);
    CHECK(vkti_zipw_add(&d, &z, "archive/../evil", data, 1) != 0, "zip writer takes '..'");
    CHECK(vkti_zipw_add(&d, &z, "/abs", data, 1) != 0, "zip writer takes an absolute name");
    uint8_t *out;
    size_t size;
    CHECK(vkti_zipw_finish(&d, &z, &out, &size) == 0, "zip finish: %s", d.msg);
    vkti_zip r;
    CHECK(vkti_zip_open(&d, &r, "written.zip", out, size) == 0 && r.count == 5, "zip read back: %s", d.msg);
    for (size_t i = 0; i < r.count && i < 5; i++) {
        const vkti_zip_entry *e = vkti_zip_find(&r, names[i], NULL);
        CHECK(e && e->usize == sizes[i] && e->method == 0, "zip entry %s", names[i]);
        if (!e)
            continue;
        CHECK(e->data_offset % VKTI_ZIPW_ALIGN == 0, "zip entry %s starts at %llu, not 64-aligned", names[i],
              (unsigned long long)e->data_offset);
        const uint8_t *p;
        uint8_t *owned;
        CHECK(vkti_zip_read(&d, &r, e, 1000, 1, &p, &owned) == 0 && !memcmp(p, data, sizes[i]),
              "zip entry %s: %s", names[i], d.msg);
    }
    vkti_zip_close(&r);
    free(out);
}

/* ---- fixtures --------------------------------------------------------------------------------- */

static void check_values(const char *file, const vkti_embedding *e)
{
    for (int k = 0; k < e->sets; k++) {
        size_t n = (size_t)e->num_vectors * (size_t)e->width[k], bad = n;
        for (size_t i = 0; i < n && bad == n; i++)
            if (e->vec[k][i] != fixture_value(i))
                bad = i;
        CHECK(bad == n, "%s: set %d element %zu is %g, expected %g", file, k, bad, bad < n ? e->vec[k][bad] : 0.0,
              (double)fixture_value(bad));
    }
}

static void test_fixtures(void)
{
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/tests/data/embedding", src_dir());
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    size_t size;
    char *list = (char *)slurp(path, &size);
    CHECK(list != NULL, "no %s", path);
    if (!list)
        return;
    int files = 0;
    for (char *line = list, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (line[0] == '#')
            continue;
        char *f[12];
        int nf = 0;
        for (char *p = line; nf < 12; nf++) {
            f[nf] = p;
            p = strchr(p, '\t');
            if (!p) {
                nf++;
                break;
            }
            *p++ = 0;
        }
        CHECK(nf == 12, "EXPECTED line with %d fields", nf);
        if (nf != 12)
            continue;
        files++;
        snprintf(path, sizeof path, "%s/%s", dir, f[0]);
        vkti_diag d = {0};
        vkti_embedding e;
        int rc = vkti_embedding_read(&d, &e, path);
        CHECK(rc == 0, "%s: %s", f[0], d.msg);
        if (rc)
            continue;
        char num[8][32];
        snprintf(num[0], 32, "%d", e.num_vectors);
        snprintf(num[1], 32, "%d", e.width[0]);
        snprintf(num[2], 32, "%d", e.sets == 2 ? e.width[1] : 0);
        snprintf(num[3], 32, "%lld", (long long)e.step);
        snprintf(num[4], 32, "%zu", e.meta_count);
        CHECK(!strcmp(f[1], vkti_embedding_format_name(e.format)), "%s: format %s", f[0],
              vkti_embedding_format_name(e.format));
        CHECK(!strcmp(f[2], vkti_embedding_container_name(e.container)), "%s: container", f[0]);
        CHECK(!strcmp(f[3], vkti_io_dtype_name(e.dtype)), "%s: dtype %s", f[0], vkti_io_dtype_name(e.dtype));
        CHECK(!strcmp(f[4], e.token), "%s: token '%s', expected '%s'", f[0], e.token, f[4]);
        CHECK(!strcmp(f[5], num[0]) && !strcmp(f[6], num[1]) && !strcmp(f[7], num[2]), "%s: shape %s x %s/%s", f[0],
              num[0], num[1], num[2]);
        CHECK(e.has_step ? !strcmp(f[8], num[3]) : !strcmp(f[8], "-"), "%s: step", f[0]);
        CHECK(str_eq(strcmp(f[9], "-") ? f[9] : NULL, e.sd_checkpoint), "%s: sd_checkpoint", f[0]);
        CHECK(str_eq(strcmp(f[10], "-") ? f[10] : NULL, e.sd_checkpoint_name), "%s: sd_checkpoint_name", f[0]);
        CHECK(!strcmp(f[11], num[4]), "%s: %zu other metadata", f[0], e.meta_count);
        check_values(f[0], &e);
        vkti_embedding_free(&e);
    }
    CHECK(files >= 10, "only %d embedding fixtures", files);
    free(list);

    /* the st work's fixtures: A1111 (2 x 8, requires_grad) and the oldest ParameterDict form */
    vkti_diag d = {0};
    vkti_embedding e;
    snprintf(path, sizeof path, "%s/tests/data/io/a1111_embedding.pt", src_dir());
    CHECK(vkti_embedding_read(&d, &e, path) == 0, "%s", d.msg);
    CHECK(e.format == VKTI_EMBEDDING_A1111 && !strcmp(e.token, "my-cat") && e.num_vectors == 2 && e.width[0] == 8 &&
              e.has_step && e.step == 1500 && str_eq(e.sd_checkpoint, "a9263745") &&
              str_eq(e.sd_checkpoint_name, "v1-5-pruned-emaonly"),
          "a1111_embedding.pt fields");
    check_values("a1111_embedding.pt", &e);
    char tok[64];
    vkti_embedding_vector_token(&e, 1, tok, sizeof tok);
    CHECK(!strcmp(tok, "my-cat_1"), "second vector's token is %s", tok);
    vkti_embedding_free(&e);
    snprintf(path, sizeof path, "%s/tests/data/io/paramdict_embedding.pt", src_dir());
    CHECK(vkti_embedding_read(&d, &e, path) == 0, "%s", d.msg);
    CHECK(e.format == VKTI_EMBEDDING_A1111 && !strcmp(e.token, "paramdict_embedding") && e.num_vectors == 1 &&
              e.width[0] == 8 && !e.has_step && !e.sd_checkpoint,
          "paramdict_embedding.pt fields (token from the file's name)");
    check_values("paramdict_embedding.pt", &e);
    vkti_embedding_free(&e);
}

/* ---- the A1111 writer, byte for byte ------------------------------------------------------------ */

static void test_a1111_bytes(void)
{
    static const struct {
        const char *file, *token;
        int n, w, has_step;
        int64_t step;
        const char *ck, *ckn;
    } cases[] = {
        {"a1111_expected.pt", "<my-cat>", 2, 768, 1, 123456, "a9263745", "v1-5-pruned-emaonly"},
        {"a1111_expected_star.pt", "*", 1, 4, 0, 0, NULL, NULL},
        {"a1111_expected_unicode.pt", "<caf\xc3\xa9-\xe7\x8c\xab>", 3, 5, 1, 0, "ff",
         "caf\xc3\xa9 \xf0\x9f\x90\xb1 model"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vkti_diag d = {0};
        vkti_embedding e;
        CHECK(vkti_embedding_alloc(&d, &e, cases[c].token, cases[c].n, cases[c].w, 0) == 0, "%s", d.msg);
        for (size_t i = 0; i < (size_t)cases[c].n * (size_t)cases[c].w; i++)
            e.vec[0][i] = fixture_value(i);
        e.has_step = cases[c].has_step;
        e.step = cases[c].step;
        vkti_embedding_set_string(&d, &e.sd_checkpoint, cases[c].ck);
        vkti_embedding_set_string(&d, &e.sd_checkpoint_name, cases[c].ckn);
        uint8_t *mine;
        size_t mine_size, want_size;
        CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_A1111, &mine, &mine_size) == 0, "%s", d.msg);
        char path[2048];
        snprintf(path, sizeof path, "%s/tests/data/embedding/%s", src_dir(), cases[c].file);
        uint8_t *want = slurp(path, &want_size);
        size_t at = 0;
        while (want && mine && at < mine_size && at < want_size && mine[at] == want[at])
            at++;
        CHECK(want && mine && mine_size == want_size && at == want_size,
              "%s: vkti writes %zu bytes, torch.save %zu; first difference at byte %zu", cases[c].file, mine_size,
              want_size, at);
        /* and it reads back */
        vkti_embedding back;
        int rc = mine ? vkti_embedding_parse(&d, &back, "back.pt", mine, mine_size) : -1;
        CHECK(rc == 0, "%s", d.msg);
        if (rc == 0) {
            CHECK(same_vectors(&e, &back) && !strcmp(back.token, e.token), "%s read back", cases[c].file);
            vkti_embedding_free(&back);
        }
        free(mine);
        free(want);
        vkti_embedding_free(&e);
    }
}

/* data.pkl of a torch.save archive in memory, copied (NULL if absent) */
static uint8_t *archive_pickle(const uint8_t *data, size_t size, size_t *len)
{
    vkti_zip z;
    vkti_diag d = {0};
    uint8_t *out = NULL;
    if (vkti_zip_open(&d, &z, "archive", data, size))
        return NULL;
    for (size_t i = 0; i < z.count && !out; i++) {
        const char *slash = strchr(z.entries[i].name, '/');
        const uint8_t *p;
        uint8_t *owned;
        if (slash && !strcmp(slash, "/data.pkl") && !vkti_zip_read(&d, &z, &z.entries[i], 1 << 20, 1, &p, &owned)) {
            *len = (size_t)z.entries[i].usize;
            out = malloc(*len);
            memcpy(out, p, *len);
            free(owned);
        }
    }
    vkti_zip_close(&z);
    return out;
}

/* tests/data/embedding/torch/a1111_torch.pt, made by torch.save itself on the GPU machine
 * (tools/ref/check_embeddings.py --make): its pickle must be vkti's byte for byte (the zip around
 * it is miniz's, with its own date fields and serialization id), and it must read. */
static void test_torch_made(void)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/tests/data/embedding/torch/a1111_torch.pt", src_dir());
    if (!vkti_file_exists(path)) {
        printf("skip: %s is absent (make it on the GPU machine: tools/ref/check_embeddings.py --make DIR)\n", path);
        return;
    }
    size_t size, mine_size, a = 0, b = 0;
    uint8_t *real = slurp(path, &size), *mine = NULL;
    vkti_diag d = {0};
    vkti_embedding e;
    int rc = vkti_embedding_read(&d, &e, path);
    CHECK(rc == 0 && !strcmp(e.token, "<my-cat>") && e.num_vectors == 2 && e.width[0] == 768 && e.step == 123456,
          "%s: %s", path, d.msg);
    if (rc == 0) {
        check_values("a1111_torch.pt", &e);
        CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_A1111, &mine, &mine_size) == 0, "%s", d.msg);
        vkti_embedding_free(&e);
    }
    uint8_t *pa = real ? archive_pickle(real, size, &a) : NULL, *pb = mine ? archive_pickle(mine, mine_size, &b) : NULL;
    CHECK(pa && pb && a == b && !memcmp(pa, pb, a), "data.pkl: torch.save's %zu bytes and vkti's %zu differ", a, b);
    free(pa);
    free(pb);
    free(real);
    free(mine);
}

/* ---- round trips ------------------------------------------------------------------------------ */

static const char *ext(vkti_embedding_format f) { return f == VKTI_EMBEDDING_A1111 ? "pt" : "safetensors"; }

static void test_round_trips(const char *dir)
{
    static const struct {
        const char *token;
        int n, w0, w1;
    } shapes[] = {
        {"<sd15>", 1, 768, 0}, {"<multi-vector>", 4, 768, 0}, {"<sd2>", 3, 1024, 0},
        {"tiny", 3, 5, 0},     {"<max>", VKTI_EMB_MAX_VECTORS, 7, 0}, {"<xl>", 2, 768, 1280},
    };
    static const vkti_embedding_format fmts[3] = {VKTI_EMBEDDING_DIFFUSERS, VKTI_EMBEDDING_KOHYA, VKTI_EMBEDDING_A1111};
    int trips = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int sdxl = shapes[s].w1 > 0;
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                if (sdxl && (fmts[a] != VKTI_EMBEDDING_KOHYA || fmts[b] != VKTI_EMBEDDING_KOHYA))
                    continue;
                vkti_diag d = {0};
                vkti_embedding e, r1, r2;
                CHECK(vkti_embedding_alloc(&d, &e, shapes[s].token, shapes[s].n, shapes[s].w0, shapes[s].w1) == 0,
                      "%s", d.msg);
                fill_random(&e, (uint32_t)(s * 9 + (size_t)a * 3 + (size_t)b + 1));
                /* special values: -0, the smallest denormal, the largest finite */
                static const uint32_t special[3] = {0x80000000u, 0x00000001u, 0x7f7fffffu};
                memcpy(e.vec[0], special, sizeof special[0] * (size_t)(shapes[s].w0 < 3 ? shapes[s].w0 : 3));
                e.has_step = 1;
                e.step = 1000 + (int64_t)s;
                vkti_embedding_set_string(&d, &e.sd_checkpoint, "a9263745");
                vkti_embedding_set_string(&d, &e.sd_checkpoint_name, "v1-5 \"pruned\"");
                vkti_embedding_add_meta(&d, &e, "modelspec.title", "a title");
                char p1[2048], p2[2048];
                snprintf(p1, sizeof p1, "%s/rt%zu_%s.%s", dir, s, vkti_embedding_format_name(fmts[a]), ext(fmts[a]));
                snprintf(p2, sizeof p2, "%s/rt%zu_%s_%s.%s", dir, s, vkti_embedding_format_name(fmts[a]),
                         vkti_embedding_format_name(fmts[b]), ext(fmts[b]));
                int rc = vkti_embedding_write(&d, &e, fmts[a], p1);
                CHECK(rc == 0, "write %s: %s", p1, d.msg);
                rc = rc ? rc : vkti_embedding_read(&d, &r1, p1);
                CHECK(rc == 0, "read %s: %s", p1, d.msg);
                if (rc) {
                    vkti_embedding_free(&e);
                    continue;
                }
                /* the kohya file takes its token from its "name" metadata; A1111 from "name" */
                rc = vkti_embedding_write(&d, &r1, fmts[b], p2);
                CHECK(rc == 0, "write %s: %s", p2, d.msg);
                rc = rc ? rc : vkti_embedding_read(&d, &r2, p2);
                CHECK(rc == 0, "read %s: %s", p2, d.msg);
                if (!rc) {
                    trips++;
                    const char *what = p2 + strlen(dir) + 1;
                    CHECK(same_vectors(&e, &r1) && same_vectors(&e, &r2), "%s: vectors differ", what);
                    CHECK(!strcmp(r2.token, e.token), "%s: token '%s'", what, r2.token);
                    CHECK(r2.format == fmts[b] && r1.format == fmts[a], "%s: formats", what);
                    CHECK(r2.has_step && r2.step == e.step && str_eq(r2.sd_checkpoint, e.sd_checkpoint) &&
                              str_eq(r2.sd_checkpoint_name, e.sd_checkpoint_name),
                          "%s: A1111 fields", what);
                    int kept = fmts[a] != VKTI_EMBEDDING_A1111 && fmts[b] != VKTI_EMBEDDING_A1111;
                    CHECK(kept ? r2.meta_count == 1 && !strcmp(r2.meta[0].key, "modelspec.title")
                               : r2.meta_count == 0,
                          "%s: %zu other metadata", what, r2.meta_count);
                    vkti_embedding_free(&r2);
                }
                vkti_embedding_free(&r1);
                vkti_embedding_free(&e);
            }
        }
    }
    CHECK(trips == 5 * 9 + 1, "%d round trips", trips);
    /* a token of one vector: diffusers writes [1, width]; a file's [width] reads as one vector */
    vkti_diag d = {0};
    vkti_embedding e;
    vkti_embedding_alloc(&d, &e, "<one>", 1, 768, 0);
    uint8_t *buf;
    size_t size;
    CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_DIFFUSERS, &buf, &size) == 0, "%s", d.msg);
    vkti_safetensors st;
    CHECK(vkti_safetensors_parse(&d, &st, "one", buf, size) == 0 && st.count == 1 && st.tensors[0].ndim == 2 &&
              st.tensors[0].shape[0] == 1 && !strcmp(st.tensors[0].name, "<one>") &&
              str_eq(vkti_safetensors_meta(&st, "format"), "pt"),
          "diffusers layout: {token: F32 [1, 768]}, format pt");
    vkti_safetensors_close(&st);
    free(buf);
    CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_KOHYA, &buf, &size) == 0, "%s", d.msg);
    CHECK(vkti_safetensors_parse(&d, &st, "one", buf, size) == 0 && st.count == 1 &&
              !strcmp(st.tensors[0].name, "emb_params") && str_eq(vkti_safetensors_meta(&st, "name"), "<one>"),
          "kohya layout: {emb_params}, name in the metadata");
    vkti_safetensors_close(&st);
    free(buf);
    vkti_embedding_free(&e);
}

/* ---- hostile files ---------------------------------------------------------------------------- */

static void test_hostile(void)
{
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/tests/data/embedding/hostile", src_dir());
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    size_t size;
    char *list = (char *)slurp(path, &size);
    CHECK(list != NULL, "no %s", path);
    int cases = 0;
    for (char *line = list, *next; list && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = 0;
        cases++;
        snprintf(path, sizeof path, "%s/%s", dir, line);
        vkti_diag d = {0};
        vkti_embedding e;
        int rc = vkti_embedding_read(&d, &e, path);
        CHECK(rc < 0, "%s: read without an error", line);
        if (!rc)
            vkti_embedding_free(&e);
        CHECK(strstr(d.msg, tab + 1) != NULL, "%s: message lacks \"%s\": %s", line, tab + 1, d.msg);
        CHECK(strstr(d.msg, path) != NULL && !strchr(d.msg, '\n'), "%s: message does not name the file on one line: %s",
              line, d.msg);
        if (getenv("VKTI_VERBOSE"))
            printf("%-34s %s\n", line, d.msg);
    }
    CHECK(cases >= 25, "only %d hostile embedding files", cases);
    free(list);

    /* the readers' own hostile corpus, through the embedding reader: refused, named, one line */
    snprintf(dir, sizeof dir, "%s/tests/data/hostile", src_dir());
    char **names;
    int n;
    vkti_diag d = {0};
    CHECK(vkti_dir_list(&d, dir, &names, &n) == 0, "%s", d.msg);
    int refused = 0;
    for (int i = 0; i < n && !d.msg[0]; i++) {
        if (!strcmp(names[i], "EXPECTED"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        vkti_diag d2 = {0};
        vkti_embedding e;
        int rc = vkti_embedding_read(&d2, &e, path);
        CHECK(rc < 0 && strstr(d2.msg, path) && !strchr(d2.msg, '\n'), "%s: %s", names[i], d2.msg);
        if (!rc)
            vkti_embedding_free(&e);
        refused += rc < 0;
    }
    CHECK(refused >= 100, "only %d reader-corpus files refused", refused);
    if (!d.msg[0])
        free(names);

    /* a file far larger than an embedding is refused before it is parsed */
    uint8_t *big = calloc(1, (size_t)VKTI_EMB_MAX_FILE + 1);
    vkti_embedding e;
    CHECK(big && vkti_embedding_parse(&d, &e, "big.safetensors", big, (size_t)VKTI_EMB_MAX_FILE + 1) != 0 &&
              strstr(d.msg, "far more than an embedding holds"),
          "a 64 MiB file: %s", d.msg);
    free(big);
}

/* seeded damage to the valid fixtures: nothing may crash or read outside the buffer, and what is
 * accepted must pass the embedding checks */
static void test_fuzz(void)
{
    const char *env = getenv("VKTI_FUZZ_ROUNDS");
    int rounds = env ? atoi(env) : 150;
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/tests/data/embedding", src_dir());
    char **names;
    int n;
    vkti_diag d = {0};
    if (vkti_dir_list(&d, dir, &names, &n)) {
        CHECK(0, "%s", d.msg);
        return;
    }
    uint32_t seed = 0x2545f491u;
    int files = 0, accepted = 0;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!vkti_file_exists(path) || !strcmp(names[i], "EXPECTED"))
            continue;
        size_t size;
        uint8_t *orig = slurp(path, &size);
        if (!orig)
            continue;
        files++;
        for (int r = 0; r < rounds; r++) {
            size_t len = size;
            uint8_t *buf = malloc(size);
            memcpy(buf, orig, size);
            if (urand(&seed) % 4 == 0) {
                len = urand(&seed) % size;
            } else {
                int flips = 1 + (int)(urand(&seed) % 4);
                for (int k = 0; k < flips; k++) {
                    size_t at = urand(&seed) % size;
                    uint32_t how = urand(&seed);
                    buf[at] = (uint8_t)(how % 3 ? buf[at] ^ (1u << (how >> 8) % 8) : (how >> 16) % 2 ? 0xff : 0x00);
                }
            }
            uint8_t *exact = malloc(len ? len : 1);
            memcpy(exact, buf, len);
            free(buf);
            vkti_diag q = {0};
            vkti_embedding e;
            if (vkti_embedding_parse(&q, &e, names[i], exact, len) == 0) {
                accepted++;
                CHECK(vkti_embedding_check(&q, &e, names[i]) == 0, "%s: accepted damage fails the checks: %s",
                      names[i], q.msg);
                vkti_embedding_free(&e);
            } else {
                CHECK(!strchr(q.msg, '\n') && q.msg[0], "%s: damage refused without a one-line message: %s", names[i],
                      q.msg);
            }
            (void)vkti_embedding_detect(exact, len);
            free(exact);
        }
        free(orig);
    }
    free(names);
    CHECK(files >= 12, "damaged only %d files", files);
    if (getenv("VKTI_VERBOSE"))
        printf("damaged %d files %d times each; %d damaged copies still read\n", files, rounds, accepted);
}

/* ---- probe, refusals, convert ------------------------------------------------------------------- */

static void test_probe(void)
{
    static const struct {
        const char *path;
        int want;
    } cases[] = {
        {"tests/data/embedding/a1111_sd15.pt", 1},
        {"tests/data/embedding/learned_embeds.safetensors", 1},
        {"tests/data/embedding/learned_embeds.bin", 1},
        {"tests/data/embedding/kohya_pt.pt", 1},
        {"tests/data/embedding/sdxl_emb.safetensors", 1},
        {"tests/data/io/paramdict_embedding.pt", 1},
        {"tests/data/embedding/hostile/nan.safetensors", 1},   /* an embedding, a broken one */
        {"tests/data/embedding/hostile/rank3.safetensors", 1},
        {"tests/data/embedding/hostile/model.safetensors", 0}, /* several tensors: a model */
        {"tests/data/embedding/hostile/random.bin", 0},
        {"tests/data/embedding/hostile/empty.pt", 0},
        {"tests/data/io/sd_tiny.ckpt", 0},
        {"tests/data/io/tensors.pt", 0},
        {"tests/data/hostile/pk_os_system.pt", 0},
        {"assets/demo/demo_00.png", 0},
        {"tests/data/no-such-file", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", src_dir(), cases[i].path);
        CHECK(vkti_embedding_probe(path) == cases[i].want, "probe %s: expected %d", cases[i].path, cases[i].want);
    }
}

static void test_refusals(void)
{
    vkti_diag d = {0};
    vkti_embedding e;
    uint8_t *buf;
    size_t size;
    CHECK(vkti_embedding_alloc(&d, &e, "<xl>", 2, 768, 1280) == 0, "%s", d.msg);
    CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_DIFFUSERS, &buf, &size) == VKTI_E_INVALID &&
              strstr(d.msg, "write it as kohya"),
          "SDXL as diffusers: %s", d.msg);
    CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_A1111, &buf, &size) == VKTI_E_INVALID &&
              strstr(d.msg, "write it as kohya"),
          "SDXL as a1111: %s", d.msg);
    CHECK(!strcmp(vkti_embedding_family(&e), "SDXL"), "SDXL family");
    vkti_embedding_free(&e);

    CHECK(vkti_embedding_alloc(&d, &e, "<t>", 2, 8, 0) == 0, "%s", d.msg);
    e.vec[0][13] = NAN;
    CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_KOHYA, &buf, &size) != 0 &&
              strstr(d.msg, "vector 1, element 5 is NaN"),
          "NaN written: %s", d.msg);
    e.vec[0][13] = 0;
    vkti_embedding_set_string(&d, &e.token, "");
    CHECK(vkti_embedding_serialize(&d, &e, VKTI_EMBEDDING_A1111, &buf, &size) != 0 && strstr(d.msg, "token is empty"),
          "empty token written: %s", d.msg);
    CHECK(vkti_embedding_family(&e) == NULL, "width 8 fits no family");
    vkti_embedding_free(&e);

    CHECK(vkti_embedding_alloc(&d, &e, "x", 0, 768, 0) == VKTI_E_INVALID, "0 vectors allocated");
    CHECK(vkti_embedding_alloc(&d, &e, "x", 76, 768, 0) == VKTI_E_INVALID, "76 vectors allocated");
    CHECK(vkti_embedding_alloc(&d, &e, "x", 1, 0, 0) == VKTI_E_INVALID, "width 0 allocated");
    CHECK(vkti_embedding_check_token(&d, "ok-token") == 0, "a good token refused: %s", d.msg);
    CHECK(vkti_embedding_check_token(&d, " padded") == VKTI_E_INVALID, "a token with a leading space");
    CHECK(vkti_embedding_check_token(&d, "tab\there") == VKTI_E_INVALID && strstr(d.msg, "control character"),
          "a token with a tab: %s", d.msg);
    CHECK(vkti_embedding_check_token(&d, "") == VKTI_E_INVALID, "an empty token");
    CHECK(vkti_embedding_check_token(&d, "\xff\xfe") == VKTI_E_INVALID && strstr(d.msg, "UTF-8"), "bad UTF-8: %s",
          d.msg);
}

static void test_convert(const char *dir)
{
    vkti_ctx *ctx;
    vkti_options o = {0};
    CHECK(vkti_ctx_init(&ctx, &o) == 0, "context");
    char in[2048], out[2048], path[2048];
    snprintf(in, sizeof in, "%s/tests/data/embedding/kohya-tok.safetensors", src_dir());
    vkti_convert_report *r;

    /* kohya (F16, ModelSpec metadata) to A1111: vectors widened exactly, metadata reported dropped */
    snprintf(out, sizeof out, "%s/conv.pt", dir);
    vkti_convert_options opt = {VKTI_EMBEDDING_AUTO, NULL};
    int rc = vkti_embedding_convert(ctx, in, out, &opt, &r);
    CHECK(rc == 0, "convert: %s", vkti_ctx_message(ctx));
    if (!rc) {
        CHECK(r->from == VKTI_EMBEDDING_KOHYA && r->to == VKTI_EMBEDDING_A1111 && !strcmp(r->token, "kohya-tok") &&
                  r->num_vectors == 4 && r->width[0] == 768 && r->width[1] == 0 && r->dropped_count == 4 &&
                  !strcmp(r->dropped[0], "modelspec.sai_model_spec"),
              "convert report");
        vkti_convert_report_free(r);
        vkti_diag d = {0};
        vkti_embedding e;
        int rrc = vkti_embedding_read(&d, &e, out);
        CHECK(rrc == 0 && e.format == VKTI_EMBEDDING_A1111 && !strcmp(e.token, "kohya-tok"), "converted file: %s",
              d.msg);
        if (rrc == 0) {
            check_values("conv.pt", &e);
            vkti_embedding_free(&e);
        }
    }
    /* to kohya with a new token; the report drops nothing */
    snprintf(out, sizeof out, "%s/conv_k.safetensors", dir);
    opt.format = VKTI_EMBEDDING_KOHYA;
    opt.token = "<renamed>";
    rc = vkti_embedding_convert(ctx, in, out, &opt, &r);
    CHECK(rc == 0 && r->dropped_count == 0 && !strcmp(r->token, "<renamed>"), "convert --token: %s",
          vkti_ctx_message(ctx));
    if (!rc)
        vkti_convert_report_free(r);
    opt.token = NULL;

    /* refusals, each leaving nothing behind */
    struct {
        const char *in, *out;
        vkti_embedding_format f;
        const char *token, *want;
    } bad[] = {
        {in, in, VKTI_EMBEDDING_AUTO, NULL, "is the input file"},
        {in, "conv.txt", VKTI_EMBEDDING_AUTO, NULL, "cannot tell the format"},
        {in, "conv2.safetensors", VKTI_EMBEDDING_A1111, NULL, "end the output's name in .pt"},
        {in, "conv2.pt", VKTI_EMBEDDING_DIFFUSERS, NULL, "end the output's name in .safetensors"},
        {"no-such-input.pt", "conv3.pt", VKTI_EMBEDDING_AUTO, NULL, "cannot open"},
        {in, "no-such-dir/conv4.pt", VKTI_EMBEDDING_AUTO, NULL, "does not exist"},
        {in, "conv5.pt", VKTI_EMBEDDING_AUTO, " spaced", "starts or ends with a space"},
        {"sdxl", "conv6.pt", VKTI_EMBEDDING_AUTO, NULL, "no AUTOMATIC1111 .pt form"},
        {"nan", "conv7.safetensors", VKTI_EMBEDDING_AUTO, NULL, "is NaN"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char bin[2048], bout[2048];
        if (!strcmp(bad[i].in, "sdxl"))
            snprintf(bin, sizeof bin, "%s/tests/data/embedding/sdxl_emb.safetensors", src_dir());
        else if (!strcmp(bad[i].in, "nan"))
            snprintf(bin, sizeof bin, "%s/tests/data/embedding/hostile/nan.safetensors", src_dir());
        else if (bad[i].in == in)
            snprintf(bin, sizeof bin, "%s", in);
        else
            snprintf(bin, sizeof bin, "%s/%s", dir, bad[i].in);
        if (bad[i].out == in)
            snprintf(bout, sizeof bout, "%s", in);
        else
            snprintf(bout, sizeof bout, "%s/%s", dir, bad[i].out);
        vkti_convert_options bo = {bad[i].f, bad[i].token};
        rc = vkti_embedding_convert(ctx, bin, bout, &bo, &r);
        const char *msg = vkti_ctx_message(ctx);
        CHECK(rc != 0 && vkti_exit_code(rc) == 1 && strstr(msg, bad[i].want) && !strchr(msg, '\n'),
              "convert %s -> %s: rc %d, %s", bad[i].in, bad[i].out, rc, msg);
        CHECK(bout[0] && (bad[i].out == in || !vkti_file_exists(bout)), "convert refusal wrote %s", bout);
        if (!rc)
            vkti_convert_report_free(r);
    }
    /* the same file by another spelling */
    snprintf(path, sizeof path, "%s/conv.pt", dir);
    snprintf(out, sizeof out, "%s/./conv.pt", dir);
    rc = vkti_embedding_convert(ctx, path, out, NULL, &r);
    CHECK(rc != 0 && strstr(vkti_ctx_message(ctx), "is the input file"), "same file, other spelling: %s",
          vkti_ctx_message(ctx));

    /* inspect's report */
    vkti_embedding_report *ir;
    snprintf(path, sizeof path, "%s/tests/data/embedding/sdxl_emb.safetensors", src_dir());
    rc = vkti_inspect_embedding(ctx, path, &ir);
    CHECK(rc == 0, "inspect: %s", vkti_ctx_message(ctx));
    if (!rc) {
        double n0 = 0;
        for (int k = 0; k < 768; k++)
            n0 += (double)fixture_value((size_t)k) * fixture_value((size_t)k);
        CHECK(ir->sets == 2 && !strcmp(ir->family, "SDXL") && ir->num_vectors == 2 && !strcmp(ir->tokens[1], "sdxl_emb_1") &&
                  fabs(ir->norms[0][0] - sqrt(n0)) < 1e-9 && ir->width[1] == 1280 && !strcmp(ir->dtype, "F32") &&
                  !strcmp(ir->set_names[1], "clip_g"),
              "inspect report");
        vkti_embedding_report_free(ir);
    }
    vkti_ctx_free(ctx);
}

/* ---- files for the GPU machine ------------------------------------------------------------------ */

/* (the strings here need no escapes) */
static void json_str_or_null(FILE *f, const char *s)
{
    if (s)
        fprintf(f, "\"%s\"", s);
    else
        fprintf(f, "null");
}

/* Writes embeddings in every format into dir with manifest.json for tools/ref/check_embeddings.py. */
static int write_check_files(const char *dir)
{
    static const struct {
        const char *file, *token;
        vkti_embedding_format format;
        int n, w0, w1, has_step;
        const char *ck, *ckn;
        uint32_t seed;
    } files[] = {
        {"sd15_one.safetensors", "<one>", VKTI_EMBEDDING_DIFFUSERS, 1, 768, 0, 0, NULL, NULL, 11},
        {"sd15_multi.safetensors", "<cat-toy>", VKTI_EMBEDDING_DIFFUSERS, 4, 768, 0, 1, "a9263745", "v1-5", 12},
        {"sd2_kohya.safetensors", "kohya-style", VKTI_EMBEDDING_KOHYA, 3, 1024, 0, 1, NULL, NULL, 13},
        {"sdxl_kohya.safetensors", "<xl>", VKTI_EMBEDDING_KOHYA, 2, 768, 1280, 0, NULL, NULL, 14},
        {"sd15_a1111.pt", "my-cat", VKTI_EMBEDDING_A1111, 2, 768, 0, 1, "a9263745", "v1-5-pruned-emaonly", 15},
        {"sd15_a1111_none.pt", "<fresh>", VKTI_EMBEDDING_A1111, 1, 768, 0, 0, NULL, NULL, 16},
        {"sd2_a1111_unicode.pt", "<caf\xc3\xa9-\xe7\x8c\xab>", VKTI_EMBEDDING_A1111, 75, 1024, 0, 1, "00ff",
         "\xe6\xa8\xa1\xe5\x9e\x8b \xf0\x9f\x90\xb1", 17},
    };
    vkti_diag d = {0};
    if (vkti_mkdir_p(&d, dir)) {
        printf("%s\n", d.msg);
        return 1;
    }
    char path[2048];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *m = fopen(path, "w");
    if (!m) {
        printf("cannot write %s\n", path);
        return 1;
    }
    fprintf(m, "{\"values\": \"xorshift32 bit patterns, see tests/unit/test_embedding.c next_bits\",\n \"files\": [\n");
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        vkti_embedding e;
        if (vkti_embedding_alloc(&d, &e, files[i].token, files[i].n, files[i].w0, files[i].w1)) {
            printf("%s\n", d.msg);
            return 1;
        }
        fill_random(&e, files[i].seed);
        e.has_step = files[i].has_step;
        e.step = 3000 + (int64_t)i;
        vkti_embedding_set_string(&d, &e.sd_checkpoint, files[i].ck);
        vkti_embedding_set_string(&d, &e.sd_checkpoint_name, files[i].ckn);
        snprintf(path, sizeof path, "%s/%s", dir, files[i].file);
        if (vkti_embedding_write(&d, &e, files[i].format, path)) {
            printf("%s\n", d.msg);
            return 1;
        }
        fprintf(m,
                "  {\"file\": \"%s\", \"format\": \"%s\", \"token\": \"%s\", \"vectors\": %d, \"widths\": [%d%s%.0d], "
                "\"seed\": %u, \"step\": ",
                files[i].file, vkti_embedding_format_name(files[i].format), files[i].token, files[i].n, files[i].w0,
                files[i].w1 ? ", " : "", files[i].w1, files[i].seed);
        if (files[i].has_step)
            fprintf(m, "%lld", (long long)e.step);
        else
            fprintf(m, "null");
        fprintf(m, ", \"sd_checkpoint\": ");
        json_str_or_null(m, files[i].ck);
        fprintf(m, ", \"sd_checkpoint_name\": ");
        json_str_or_null(m, files[i].ckn);
        fprintf(m, "}%s\n", i + 1 < sizeof files / sizeof files[0] ? "," : "");
        vkti_embedding_free(&e);
    }
    fprintf(m, " ]}\n");
    fclose(m);
    printf("wrote %zu embedding files and manifest.json to %s\n", sizeof files / sizeof files[0], dir);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--write-dir"))
        return write_check_files(argv[2]);
    char dir[1024];
    scratch_dir(dir, sizeof dir, "embedding");
    test_pickle_writer();
    test_zip_writer();
    test_fixtures();
    test_a1111_bytes();
    test_torch_made();
    test_round_trips(dir);
    test_hostile();
    test_fuzz();
    test_probe();
    test_refusals();
    test_convert(dir);
    vkti_diag d = {0};
    char **names;
    int n;
    if (!vkti_dir_list(&d, dir, &names, &n)) {
        char path[2048];
        for (int i = 0; i < n; i++) {
            CHECK(!strstr(names[i], ".tmp"), "a temporary file is left: %s", names[i]);
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            vkti_file_remove(path);
        }
        free(names);
        vkti_dir_remove(dir);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
