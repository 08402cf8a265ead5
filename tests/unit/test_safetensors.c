/* test_safetensors.c — the safetensors writer and reader: the writer's bytes against the
 * reference implementation's own test vectors, a round trip of every dtype (empty tensors,
 * scalars, unicode and escaped names, metadata) through a file, the alignment the write order
 * gives, the writer's refusals, and the element conversions of io_tensor (f16/bf16/f64/int to
 * f32 and f16, rounding included). The round-trip file and an expected.json describing it are
 * left in $VKTI_BUILD_DIR/st_out/ for tools/ref/check_safetensors.py to load with Python's
 * safetensors on the GPU machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/half.h"
#include "base/platform.h"
#include "io/safetensors.h"
#include "check.h"

static vkti_io_tensor make(const char *name, vkti_io_dtype dt, int ndim, const int64_t *shape, const void *data)
{
    vkti_io_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = dt;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    t.data = data;
    vkti_io_tensor_set_packed(&t);
    return t;
}

/* The writer's file for (tensors, meta) must be: 8-byte length, json padded with spaces to 8, data. */
static void check_bytes(const char *what, const vkti_io_tensor *t, size_t n, const vkti_st_meta *meta, size_t nmeta,
                        const char *json, size_t header_len, const void *data, size_t data_len)
{
    vkti_diag d = {0};
    uint8_t *buf;
    size_t size;
    int rc = vkti_safetensors_serialize(&d, t, n, meta, nmeta, &buf, &size);
    CHECK(rc == 0, "%s: %s", what, d.msg);
    if (rc)
        return;
    size_t jl = strlen(json);
    int ok = size == 8 + header_len + data_len && buf[0] == (uint8_t)header_len && !memcmp(buf + 1, "\0\0\0\0\0\0\0", 7) &&
             !memcmp(buf + 8, json, jl);
    for (size_t i = jl; ok && i < header_len; i++)
        ok = buf[8 + i] == ' ';
    ok = ok && (!data_len || !memcmp(buf + 8 + header_len, data, data_len));
    CHECK(ok, "%s: bytes differ from the reference's (got %zu bytes, header %.*s)", what, size,
          size > 8 ? (int)(size - 8) : 0, (const char *)buf + 8);
    vkti_safetensors st;
    rc = vkti_safetensors_parse(&d, &st, what, buf, size);
    CHECK(rc == 0, "%s: reading it back: %s", what, d.msg);
    if (!rc)
        vkti_safetensors_close(&st);
    free(buf);
}

/* The reference's test vectors (safetensors/src/tensor.rs: test_serialization,
 * test_serialization_forced_alignement, test_empty). */
static void check_reference_vectors(void)
{
    const float v[6] = {0, 1, 2, 3, 4, 5};
    int64_t s3[3] = {1, 2, 3}, s4[4] = {1, 1, 2, 3};
    vkti_io_tensor a = make("attn.0", VKTI_IO_F32, 3, s3, v);
    check_bytes("reference attn.0", &a, 1, NULL, 0, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}",
                64, v, 24);
    vkti_io_tensor b = make("attn0", VKTI_IO_F32, 4, s4, v);
    check_bytes("reference attn0 (padded)", &b, 1, NULL, 0,
                "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}", 72, v, 24);
    check_bytes("reference empty", NULL, 0, NULL, 0, "{}", 8, NULL, 0);
    vkti_st_meta m = {"framework", "pt"};
    check_bytes("reference metadata", NULL, 0, &m, 1, "{\"__metadata__\":{\"framework\":\"pt\"}}", 40, NULL, 0);
}

/* ---- round trip ------------------------------------------------------------------------------ */

#define NT 13
typedef struct sample {
    vkti_io_tensor t[NT];
    uint8_t data[NT][256];
    double values[NT][64]; /* what each element means */
} sample;

static void fill(sample *s)
{
    static const struct {
        const char *name;
        vkti_io_dtype dt;
        int ndim;
        int64_t shape[4];
    } spec[NT] = {
        {"f64", VKTI_IO_F64, 2, {2, 3}},       {"f32", VKTI_IO_F32, 3, {2, 1, 3}},
        {"f16", VKTI_IO_F16, 1, {7}},          {"bf16", VKTI_IO_BF16, 2, {3, 2}},
        {"i64", VKTI_IO_I64, 1, {3}},          {"i32", VKTI_IO_I32, 2, {2, 2}},
        {"i16", VKTI_IO_I16, 1, {5}},          {"i8", VKTI_IO_I8, 1, {3}},
        {"u8", VKTI_IO_U8, 1, {6}},            {"bool", VKTI_IO_BOOL, 1, {5}},
        {"scalar", VKTI_IO_F32, 0, {0}},       {"empty", VKTI_IO_F16, 2, {0, 3}},
        {"\xc3\xbcn\xc3\xaf" "code/\"q\"\\\x01", VKTI_IO_F32, 1, {2}},
    };
    memset(s, 0, sizeof *s);
    for (int k = 0; k < NT; k++) {
        vkti_io_tensor *t = &s->t[k];
        *t = make(spec[k].name, spec[k].dt, spec[k].ndim, spec[k].shape, s->data[k]);
        for (uint64_t i = 0; i < t->numel; i++) {
            double x = ((double)((i * 7 + (uint64_t)k) % 11) - 5.0) * 0.25; /* exact in every float type */
            uint8_t *p = s->data[k] + i * vkti_io_dtype_size(t->dtype);
            switch (t->dtype) {
            case VKTI_IO_F64: memcpy(p, &x, 8); break;
            case VKTI_IO_F32: { float f = (float)x; memcpy(p, &f, 4); break; }
            case VKTI_IO_F16: { uint16_t h = vkti_f32_to_f16((float)x); memcpy(p, &h, 2); break; }
            case VKTI_IO_BF16: { uint16_t h = vkti_f32_to_bf16((float)x); memcpy(p, &h, 2); break; }
            case VKTI_IO_I64: { int64_t v = (int64_t)(x * 4) * 1000000007; x = (double)v; memcpy(p, &v, 8); break; }
            case VKTI_IO_I32: { int32_t v = (int32_t)(x * 4) * 1000; x = v; memcpy(p, &v, 4); break; }
            case VKTI_IO_I16: { int16_t v = (int16_t)(x * 4 * 100); x = v; memcpy(p, &v, 2); break; }
            case VKTI_IO_I8: { int8_t v = (int8_t)(x * 4); x = v; memcpy(p, &v, 1); break; }
            case VKTI_IO_U8: { uint8_t v = (uint8_t)(x * 4 + 200); x = v; *p = v; break; }
            case VKTI_IO_BOOL: { uint8_t v = x > 0; x = v; *p = v; break; }
            default: break;
            }
            s->values[k][i] = x;
        }
    }
}

static const vkti_st_meta meta[] = {
    {"format", "pt"},
    {"note", "line1\nline2 \"quoted\" \\ \xc3\xa9 \xf0\x9f\x90\xb1"},
};

/* expected.json for the Python check: {file: {"metadata": {...}, "tensors": {name: {dtype, shape, values}}}} */
static void write_expected(const char *dir, const sample *s)
{
    cJSON *root = cJSON_CreateObject(), *file = cJSON_AddObjectToObject(root, "roundtrip.safetensors");
    cJSON *m = cJSON_AddObjectToObject(file, "metadata"), *ts = cJSON_AddObjectToObject(file, "tensors");
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        cJSON_AddStringToObject(m, meta[i].key, meta[i].value);
    for (int k = 0; k < NT; k++) {
        cJSON *t = cJSON_AddObjectToObject(ts, s->t[k].name);
        cJSON_AddStringToObject(t, "dtype", vkti_io_dtype_name(s->t[k].dtype));
        cJSON *shape = cJSON_AddArrayToObject(t, "shape"), *vals = cJSON_AddArrayToObject(t, "values");
        for (int i = 0; i < s->t[k].ndim; i++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)s->t[k].shape[i]));
        for (uint64_t i = 0; i < s->t[k].numel; i++)
            cJSON_AddItemToArray(vals, cJSON_CreateNumber(s->values[k][i]));
    }
    char *text = cJSON_Print(root), path[1200];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    vkti_diag d = {0};
    CHECK(vkti_file_write_atomic(&d, path, text, strlen(text)) == 0, "%s", d.msg);
    free(text);
    cJSON_Delete(root);
}

static void check_round_trip(void)
{
    static sample s;
    fill(&s);
    const char *bd = getenv("VKTI_BUILD_DIR");
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/st_out", bd ? bd : ".");
    snprintf(path, sizeof path, "%s/roundtrip.safetensors", dir);
    vkti_diag d = {0};
    CHECK(vkti_mkdir_p(&d, dir) == 0, "%s", d.msg);
    /* reversed input order: the file must not depend on it */
    vkti_io_tensor rev[NT];
    for (int k = 0; k < NT; k++)
        rev[k] = s.t[NT - 1 - k];
    int rc = vkti_safetensors_write(&d, path, rev, NT, meta, 2);
    CHECK(rc == 0, "write: %s", d.msg);
    write_expected(dir, &s);
    vkti_safetensors st;
    rc = vkti_safetensors_open(&d, &st, path);
    CHECK(rc == 0, "read back: %s", d.msg);
    if (rc)
        return;
    CHECK(st.count == NT, "%zu tensors", st.count);
    CHECK(st.header_len % 8 == 0, "header of %llu bytes is not padded to 8", (unsigned long long)st.header_len);
    CHECK(!strcmp(vkti_safetensors_meta(&st, "format"), "pt") && !strcmp(vkti_safetensors_meta(&st, "note"), meta[1].value) &&
              st.meta_count == 2 && !strcmp(st.meta[0].key, "format"),
          "metadata");
    size_t prev_size = 8;
    for (size_t i = 0; i < st.count; i++) { /* data order: element size descending, then names */
        const vkti_io_tensor *t = &st.tensors[i];
        size_t es = vkti_io_dtype_size(t->dtype);
        CHECK((size_t)(t->data - st.data) % es == 0, "%s is not aligned to %zu bytes in the file", t->name, es);
        CHECK(es <= prev_size, "%s is out of the reference's order", t->name);
        prev_size = es;
    }
    for (int k = 0; k < NT; k++) {
        const vkti_io_tensor *want = &s.t[k], *got = vkti_safetensors_find(&st, want->name);
        CHECK(got != NULL, "tensor %s missing", want->name);
        if (!got)
            continue;
        int same = got->dtype == want->dtype && got->ndim == want->ndim && got->numel == want->numel &&
                   got->contiguous && (!got->bytes || !memcmp(got->data, want->data, (size_t)got->bytes));
        for (int i = 0; i < want->ndim; i++)
            same = same && got->shape[i] == want->shape[i];
        CHECK(same, "tensor %s differs after the round trip", want->name);
        float f32[64];
        uint16_t f16[64];
        CHECK(vkti_io_tensor_to_f32(&d, got, f32, got->numel) == 0, "%s", d.msg);
        CHECK(vkti_io_tensor_to_f16(&d, got, f16, got->numel) == 0, "%s", d.msg);
        for (uint64_t i = 0; i < got->numel; i++) {
            CHECK(f32[i] == (float)s.values[k][i], "%s[%llu]: %g, expected %g", want->name, (unsigned long long)i,
                  (double)f32[i], s.values[k][i]);
            CHECK(f16[i] == vkti_f32_to_f16((float)s.values[k][i]) || got->dtype == VKTI_IO_I64 ||
                      got->dtype == VKTI_IO_I32,
                  "%s[%llu] as f16: 0x%04x", want->name, (unsigned long long)i, f16[i]);
        }
    }
    CHECK(vkti_safetensors_find(&st, "nope") == NULL, "found a tensor that is not there");
    vkti_safetensors_close(&st);
}

static void check_writer_refusals(void)
{
    float v[2] = {1, 2};
    int64_t s1[1] = {2};
    vkti_diag d = {0};
    uint8_t *buf;
    size_t size;
    vkti_io_tensor dup[2] = {make("a", VKTI_IO_F32, 1, s1, v), make("a", VKTI_IO_F16, 1, s1, v)};
    CHECK(vkti_safetensors_serialize(&d, dup, 2, NULL, 0, &buf, &size) < 0 && strstr(d.msg, "given twice"),
          "duplicate names (of different dtypes): %s", d.msg);
    vkti_io_tensor m = make("__metadata__", VKTI_IO_F32, 1, s1, v);
    CHECK(vkti_safetensors_serialize(&d, &m, 1, NULL, 0, &buf, &size) < 0 && strstr(d.msg, "__metadata__"),
          "a tensor called __metadata__: %s", d.msg);
    vkti_io_tensor bad = make("bad\xff", VKTI_IO_F32, 1, s1, v);
    CHECK(vkti_safetensors_serialize(&d, &bad, 1, NULL, 0, &buf, &size) < 0 && strstr(d.msg, "UTF-8"),
          "a name that is not UTF-8: %s", d.msg);
    vkti_st_meta mm[2] = {{"k", "1"}, {"k", "2"}};
    CHECK(vkti_safetensors_serialize(&d, NULL, 0, mm, 2, &buf, &size) < 0 && strstr(d.msg, "given twice"),
          "duplicate metadata keys: %s", d.msg);
    vkti_io_tensor inc = make("x", VKTI_IO_F32, 1, s1, v);
    inc.numel = 3;
    CHECK(vkti_safetensors_serialize(&d, &inc, 1, NULL, 0, &buf, &size) < 0, "inconsistent element count accepted");
}

/* ---- conversions ----------------------------------------------------------------------------- */

static void check_conversions(void)
{
    vkti_diag d = {0};
    int64_t s1[1];
    /* f16 -> f32: exact, subnormals and infinities included */
    const uint16_t h[5] = {0x3c00, 0x0001, 0xfc00, 0x7bff, 0x8000};
    s1[0] = 5;
    vkti_io_tensor th = make("h", VKTI_IO_F16, 1, s1, h);
    float f[5];
    vkti_io_tensor_to_f32(&d, &th, f, 5);
    CHECK(f[0] == 1.0f && f[1] == ldexpf(1.0f, -24) && isinf(f[2]) && f[2] < 0 && f[3] == 65504.0f &&
              signbit(f[4]) && f[4] == 0.0f,
          "f16 -> f32");
    /* f32 -> f16: round to nearest even, overflow to inf, underflow to zero */
    const float x[5] = {1.0f, 65520.0f, 1e-8f, 1.0f + ldexpf(1.0f, -11), 1.0f + 3 * ldexpf(1.0f, -11)};
    vkti_io_tensor tx = make("x", VKTI_IO_F32, 1, s1, x);
    uint16_t o[5];
    vkti_io_tensor_to_f16(&d, &tx, o, 5);
    CHECK(o[0] == 0x3c00 && o[1] == 0x7c00 && o[2] == 0 && o[3] == 0x3c00 && o[4] == 0x3c02, "f32 -> f16: %04x %04x %04x %04x %04x",
          o[0], o[1], o[2], o[3], o[4]);
    /* f64 -> f16 rounds once: 1 + 2^-11 + 2^-40 is above the tie, so it rounds up (through f32 it
     * would become the tie 1 + 2^-11 and round down to even) */
    const double y[2] = {1.0 + ldexp(1.0, -11) + ldexp(1.0, -40), -(1.0 + ldexp(1.0, -11))};
    s1[0] = 2;
    vkti_io_tensor ty = make("y", VKTI_IO_F64, 1, s1, y);
    vkti_io_tensor_to_f16(&d, &ty, o, 2);
    CHECK(o[0] == 0x3c01 && o[1] == 0xbc00, "f64 -> f16 without double rounding: %04x %04x", o[0], o[1]);
    /* bf16 and integers */
    const uint16_t b[2] = {0x3f80, 0xc040}; /* 1, -3 */
    vkti_io_tensor tb = make("b", VKTI_IO_BF16, 1, s1, b);
    vkti_io_tensor_to_f32(&d, &tb, f, 2);
    vkti_io_tensor_to_f16(&d, &tb, o, 2);
    CHECK(f[0] == 1.0f && f[1] == -3.0f && o[0] == 0x3c00 && o[1] == 0xc200, "bf16 -> f32, f16");
    const int64_t iv[2] = {-3, (int64_t)1 << 40};
    vkti_io_tensor ti = make("i", VKTI_IO_I64, 1, s1, iv);
    vkti_io_tensor_to_f32(&d, &ti, f, 2);
    CHECK(f[0] == -3.0f && f[1] == ldexpf(1.0f, 40), "i64 -> f32");
    const uint8_t bo[2] = {0, 2};
    vkti_io_tensor tbo = make("bo", VKTI_IO_BOOL, 1, s1, bo);
    vkti_io_tensor_to_f32(&d, &tbo, f, 2);
    CHECK(f[0] == 0.0f && f[1] == 1.0f, "bool -> f32");
    CHECK(vkti_io_tensor_to_f32(&d, &tbo, f, 3) < 0, "a wrong element count is refused");
    /* strided: a transposed view of a [2, 3] f32 matrix */
    const float mtx[6] = {0, 1, 2, 3, 4, 5};
    int64_t s2[2] = {2, 3};
    vkti_io_tensor tt = make("t", VKTI_IO_F32, 2, s2, mtx);
    tt.shape[0] = 3, tt.shape[1] = 2, tt.stride[0] = 1, tt.stride[1] = 3, tt.contiguous = 0;
    float g[6];
    uint16_t g16[6];
    uint8_t raw[24];
    vkti_io_tensor_to_f32(&d, &tt, g, 6);
    vkti_io_tensor_to_f16(&d, &tt, g16, 6);
    vkti_io_tensor_copy(&d, &tt, raw, 24);
    const float want[6] = {0, 3, 1, 4, 2, 5};
    int ok = 1;
    for (int i = 0; i < 6; i++)
        ok = ok && g[i] == want[i] && g16[i] == vkti_f32_to_f16(want[i]) && !memcmp(raw + 4 * i, &want[i], 4);
    CHECK(ok, "strided gather (transpose)");
}

int main(void)
{
    check_reference_vectors();
    check_round_trip();
    check_writer_refusals();
    check_conversions();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
