/* test_metrics.c — the metrics log: CRC-32C against RFC 3720's vectors; TensorBoard records read
 * back by a TFRecord + protocol-buffer decoder written here from the format descriptions (so the
 * encoder is checked against an independent reading, and the decoder is shown to catch a flipped
 * byte); JSON lines (format, escaping, non-finite values, crash leftovers); the writer in a folder,
 * including resume. With VKTI_TB_SAMPLE_DIR set it also leaves a sample event file there for
 * tools/ref/check_tensorboard.py to read with TensorBoard itself. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "base/platform.h"
#include "train/metrics.h"
#include "check.h"

/* ---- an independent decoder ---------------------------------------------------------------- */

typedef struct tb_value {
    char tag[128];
    int has_simple;
    float simple;
    int has_image;
    int height, width, colorspace;
    const uint8_t *png;
    size_t png_size;
} tb_value;

typedef struct tb_event {
    double wall_time;
    int64_t step;
    char file_version[32];
    int nvalues;
    tb_value values[8];
} tb_event;

/* bitwise CRC-32C (no table), for the decoder */
static uint32_t crc_slow(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return ~c;
}

static uint32_t unmask(uint32_t m)
{
    uint32_t r = m - 0xa282ead8u;
    return (r >> 17) | (r << 15);
}

static uint64_t rd_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return 0;
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* Calls field(user, number, wire, varint, ptr, len) for every field of a message; 0 on malformed input. */
typedef int (*field_fn)(void *user, int num, int wire, uint64_t v, const uint8_t *p, size_t len);
static int walk(const uint8_t *p, size_t n, field_fn fn, void *user)
{
    const uint8_t *end = p + n;
    while (p < end) {
        uint64_t key, v = 0, len = 0;
        if (!rd_varint(&p, end, &key))
            return 0;
        int wire = (int)(key & 7), num = (int)(key >> 3);
        const uint8_t *data = p;
        switch (wire) {
        case 0:
            if (!rd_varint(&p, end, &v))
                return 0;
            break;
        case 1:
            if (end - p < 8)
                return 0;
            v = rd_le(p, 8);
            p += 8;
            len = 8;
            break;
        case 5:
            if (end - p < 4)
                return 0;
            v = rd_le(p, 4);
            p += 4;
            len = 4;
            break;
        case 2:
            if (!rd_varint(&p, end, &len) || (uint64_t)(end - p) < len)
                return 0;
            data = p;
            p += len;
            break;
        default:
            return 0;
        }
        if (!fn(user, num, wire, v, data, (size_t)len))
            return 0;
    }
    return 1;
}

static int image_field(void *user, int num, int wire, uint64_t v, const uint8_t *p, size_t len)
{
    tb_value *x = user;
    if (num == 1 && wire == 0)
        x->height = (int)v;
    else if (num == 2 && wire == 0)
        x->width = (int)v;
    else if (num == 3 && wire == 0)
        x->colorspace = (int)v;
    else if (num == 4 && wire == 2) {
        x->png = p;
        x->png_size = len;
    } else
        return 0;
    return 1;
}

static int value_field(void *user, int num, int wire, uint64_t v, const uint8_t *p, size_t len)
{
    tb_value *x = user;
    if (num == 1 && wire == 2 && len < sizeof x->tag) {
        memcpy(x->tag, p, len);
        x->tag[len] = 0;
    } else if (num == 2 && wire == 5) {
        uint32_t u = (uint32_t)v;
        memcpy(&x->simple, &u, 4);
        x->has_simple = 1;
    } else if (num == 4 && wire == 2) {
        x->has_image = 1;
        return walk(p, len, image_field, x);
    } else
        return 0;
    return 1;
}

static int summary_field(void *user, int num, int wire, uint64_t v, const uint8_t *p, size_t len)
{
    (void)v;
    tb_event *e = user;
    if (num != 1 || wire != 2 || e->nvalues == 8)
        return 0;
    tb_value *x = &e->values[e->nvalues++];
    memset(x, 0, sizeof *x);
    return walk(p, len, value_field, x);
}

static int event_field(void *user, int num, int wire, uint64_t v, const uint8_t *p, size_t len)
{
    tb_event *e = user;
    if (num == 1 && wire == 1)
        memcpy(&e->wall_time, &v, 8);
    else if (num == 2 && wire == 0)
        e->step = (int64_t)v;
    else if (num == 3 && wire == 2 && len < sizeof e->file_version) {
        memcpy(e->file_version, p, len);
        e->file_version[len] = 0;
    } else if (num == 5 && wire == 2)
        return walk(p, len, summary_field, e);
    else
        return 0;
    return 1;
}

/* Decodes every record of a TFRecord stream; returns the count, or -1 at the first bad frame. */
static int decode_records(const uint8_t *p, size_t n, tb_event *events, int cap)
{
    int count = 0;
    size_t at = 0;
    while (at < n) {
        if (n - at < 12 || count == cap)
            return -1;
        uint64_t len = rd_le(p + at, 8);
        if (unmask((uint32_t)rd_le(p + at + 8, 4)) != crc_slow(p + at, 8))
            return -1;
        if (len > n - at - 16)
            return -1;
        const uint8_t *data = p + at + 12;
        if (unmask((uint32_t)rd_le(data + len, 4)) != crc_slow(data, (size_t)len))
            return -1;
        tb_event *e = &events[count];
        memset(e, 0, sizeof *e);
        if (!walk(data, (size_t)len, event_field, e))
            return -1;
        count++;
        at += 16 + (size_t)len;
    }
    return count;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_crc(void)
{
    uint8_t buf[32];
    CHECK(vkti_crc32c(0, "123456789", 9) == 0xe3069283u, "check value");
    memset(buf, 0, 32);
    CHECK(vkti_crc32c(0, buf, 32) == 0x8a9136aau, "32 zeros");
    memset(buf, 0xff, 32);
    CHECK(vkti_crc32c(0, buf, 32) == 0x62a8ab43u, "32 ones");
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    CHECK(vkti_crc32c(0, buf, 32) == 0x46dd794eu, "ascending");
    CHECK(vkti_crc32c(vkti_crc32c(0, buf, 10), buf + 10, 22) == vkti_crc32c(0, buf, 32), "incremental");
    CHECK(vkti_crc32c(0, buf, 32) == crc_slow(buf, 32), "table against bitwise");
    CHECK(vkti_crc32c(0, NULL, 0) == 0, "empty");
}

typedef struct png_out {
    uint8_t *data;
    size_t size;
} png_out;

static void png_write(void *ctx, void *data, int size)
{
    png_out *o = ctx;
    uint8_t *p = realloc(o->data, o->size + (size_t)size);
    if (!p)
        return;
    memcpy(p + o->size, data, (size_t)size);
    o->data = p;
    o->size += (size_t)size;
}

/* A small RGB gradient as PNG. */
static png_out make_png(int w, int h)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = px + ((size_t)y * w + x) * 3;
            q[0] = (uint8_t)(255 * x / (w - 1));
            q[1] = (uint8_t)(255 * y / (h - 1));
            q[2] = 128;
        }
    png_out o = {0};
    stbi_write_png_to_func(png_write, &o, w, h, 3, px, w * 3);
    free(px);
    return o;
}

static void test_encode(void)
{
    vkti_bytes b = {0};
    vkti_tb_encode_file_version(&b, 1712345678.25);
    vkti_metric vals[] = {{"loss", 0.125, NULL}, {"lr", 5e-4, NULL}, {"note", 0, "skipped"}, {"nan", NAN, NULL}};
    vkti_tb_encode_scalars(&b, 1712345679.5, 300, "train", vals, 4);
    vkti_tb_encode_scalars(&b, 1712345680.0, 0, "", vals, 1);
    vkti_tb_encode_scalars(&b, 1712345680.0, (int64_t)1 << 40, "eval", vals, 1);
    png_out png = make_png(16, 8);
    vkti_tb_encode_image(&b, 1712345681.0, 301, "preview/0", png.data, png.size, 16, 8, 3);
    CHECK(!b.oom, "oom");
    tb_event ev[8];
    int n = decode_records(b.data, b.size, ev, 8);
    CHECK(n == 5, "decoded %d records", n);
    if (n == 5) {
        CHECK(!strcmp(ev[0].file_version, "brain.Event:2") && ev[0].wall_time == 1712345678.25 && ev[0].step == 0 &&
                  ev[0].nvalues == 0,
              "file version event");
        CHECK(ev[1].step == 300 && ev[1].wall_time == 1712345679.5 && ev[1].nvalues == 3, "scalar event: %d values",
              ev[1].nvalues);
        CHECK(!strcmp(ev[1].values[0].tag, "train/loss") && ev[1].values[0].has_simple &&
                  ev[1].values[0].simple == 0.125f && !strcmp(ev[1].values[1].tag, "train/lr") &&
                  ev[1].values[1].simple == 5e-4f && !strcmp(ev[1].values[2].tag, "train/nan") &&
                  isnan(ev[1].values[2].simple),
              "scalar values");
        CHECK(ev[2].step == 0 && !strcmp(ev[2].values[0].tag, "loss"), "no prefix, step 0: '%s'", ev[2].values[0].tag);
        CHECK(ev[3].step == (int64_t)1 << 40, "large step");
        const tb_value *im = &ev[4].values[0];
        CHECK(ev[4].step == 301 && im->has_image && !strcmp(im->tag, "preview/0") && im->width == 16 &&
                  im->height == 8 && im->colorspace == 3 && im->png_size == png.size &&
                  !memcmp(im->png, png.data, png.size),
              "image event");
        int w = 0, h = 0, c = 0;
        uint8_t *px = im->png ? stbi_load_from_memory(im->png, (int)im->png_size, &w, &h, &c, 3) : NULL;
        CHECK(px && w == 16 && h == 8 && px[3 * 15] == 255 && px[3 * 16 * 7 + 1] == 255, "the PNG decodes");
        stbi_image_free(px);
    }
    /* the decoder catches corruption (so the checks above can fail) */
    size_t at[] = {3, 9, 20, b.size - 2};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        b.data[at[i]] ^= 0x10;
        CHECK(decode_records(b.data, b.size, ev, 8) < 0, "a flipped byte at %zu went unnoticed", at[i]);
        b.data[at[i]] ^= 0x10;
    }
    CHECK(decode_records(b.data, b.size - 1, ev, 8) < 0, "a truncated file went unnoticed");
    free(png.data);
    vkti_bytes_free(&b);
}

typedef struct scan_ctx {
    int count;
    int64_t steps[16];
} scan_ctx;

static int on_line(void *user, const cJSON *rec, int64_t step, const char *line, size_t len)
{
    (void)line;
    (void)len;
    (void)rec;
    scan_ctx *s = user;
    if (s->count < 16)
        s->steps[s->count] = step;
    s->count++;
    return 0;
}

static void test_jsonl(void)
{
    vkti_diag d = {0};
    char line[512];
    vkti_metric vals[] = {{"loss", 0.1, NULL}, {"lr", 0.0005, NULL}, {"grad_norm", INFINITY, NULL},
                          {"file", 0, "previews/\"a\"\\b\n.png"}, {"w\"eird", -2.5e-300, NULL}};
    CHECK(vkti_jsonl_format(&d, line, sizeof line, "train", 120, 1712345678.1234, vals, 5) == VKTI_OK, "%s", d.msg);
    const char *want = "{\"kind\": \"train\", \"step\": 120, \"time\": 1712345678.123, \"loss\": 0.1, \"lr\": 0.0005, "
                       "\"grad_norm\": null, \"file\": \"previews/\\\"a\\\"\\\\b\\u000a.png\", \"w\\\"eird\": -2.5e-300}\n";
    CHECK(!strcmp(line, want), "line:\n%s want\n%s", line, want);
    cJSON *obj = cJSON_ParseWithLength(line, strlen(line));
    CHECK(obj && cJSON_GetObjectItem(obj, "loss")->valuedouble == 0.1 &&
              cJSON_IsNull(cJSON_GetObjectItem(obj, "grad_norm")) &&
              !strcmp(cJSON_GetObjectItem(obj, "file")->valuestring, "previews/\"a\"\\b\n.png"),
          "the line is JSON that reads back");
    cJSON_Delete(obj);
    CHECK(vkti_jsonl_format(&d, line, 40, "train", 1, 0, vals, 5) == VKTI_E_INVALID && line[0] == 0,
          "too small a buffer");
    CHECK(vkti_jsonl_format(&d, line, sizeof line, "eval", 0, NAN, NULL, 0) == VKTI_OK &&
              !strcmp(line, "{\"kind\": \"eval\", \"step\": 0, \"time\": null}\n"),
          "no values: %s", line);

    const char *log = "{\"kind\": \"train\", \"step\": 1, \"loss\": 1}\n"
                      "\n"
                      "{\"kind\": \"train\", \"step\": 2, \"lo\n"             /* torn by a crash, then appended to */
                      "{\"kind\": \"train\", \"step\": 3}\n"
                      "[1, 2]\n"
                      "{\"step\": 4.5}\n"
                      "{\"step\": \"5\"}\n"
                      "{\"kind\": \"eval\", \"step\": 6}\n"
                      "{\"kind\": \"train\", \"step\": 7, \"lo";            /* the unterminated tail */
    scan_ctx s = {0};
    int skipped = 0;
    vkti_jsonl_scan(log, strlen(log), on_line, &s, &skipped);
    CHECK(s.count == 3 && s.steps[0] == 1 && s.steps[1] == 3 && s.steps[2] == 6 && skipped == 5,
          "scan: %d records, %d skipped", s.count, skipped);
    const char nul[] = "{\"step\": 1}\n{\"st\0ep\": 2}\n";
    memset(&s, 0, sizeof s);
    vkti_jsonl_scan(nul, sizeof nul - 1, on_line, &s, &skipped);
    CHECK(s.count == 1 && skipped == 1, "NUL byte in a line");
}

static size_t read_all(const char *path, uint8_t **data)
{
    vkti_diag d = {0};
    size_t size = 0;
    *data = NULL;
    vkti_file_read(&d, path, 1u << 28, data, &size);
    return size;
}

static void test_writer(void)
{
    vkti_diag d = {0};
    const char *bd = getenv("VKTI_BUILD_DIR");
    char dir[512], path[700];
    snprintf(dir, sizeof dir, "%s/test-metrics-%ld/run", bd ? bd : ".", (long)(vkti_now() * 1e3) % 1000000);
    vkti_metrics *m = NULL;
    CHECK(vkti_metrics_open(&d, dir, -1, 1, &m) == VKTI_OK, "open: %s", d.msg);
    if (!m)
        return;
    double t0 = vkti_wall_time();
    for (int step = 1; step <= 10; step++) {
        vkti_metric v[] = {{"loss", 1.0 / step, NULL}, {"lr", 1e-4, NULL}};
        CHECK(vkti_metrics_log(&d, m, "train", step, v, 2) == VKTI_OK, "log: %s", d.msg);
    }
    vkti_metric e[] = {{"loss", 0.25, NULL}};
    vkti_metrics_log(&d, m, "eval", 10, e, 1);
    png_out png = make_png(4, 4);
    CHECK(vkti_metrics_image(&d, m, "preview/0", 10, png.data, png.size, 4, 4, 3) == VKTI_OK, "image");
    char tb[1400];
    snprintf(tb, sizeof tb, "%s", vkti_metrics_tb_path(m));
    CHECK(strstr(tb, "/tensorboard/events.out.tfevents.") != NULL, "event file name %s", tb);
    /* everything is in the files before close (flushed per record) */
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    uint8_t *data;
    size_t size = read_all(path, &data);
    scan_ctx s = {0};
    int skipped = -1;
    vkti_jsonl_scan((const char *)data, size, on_line, &s, &skipped);
    CHECK(s.count == 11 && skipped == 0, "jsonl before close: %d records", s.count);
    free(data);
    size = read_all(tb, &data);
    tb_event *ev = malloc(sizeof(tb_event) * 16);
    int n = decode_records(data, size, ev, 16);
    CHECK(n == 13, "event file before close: %d records", n);
    if (n == 13) {
        CHECK(!strcmp(ev[0].file_version, "brain.Event:2"), "first record is the file version");
        CHECK(ev[3].step == 3 && !strcmp(ev[3].values[0].tag, "train/loss") && ev[3].values[0].simple == (float)(1.0 / 3),
              "train/loss at 3");
        CHECK(ev[11].step == 10 && !strcmp(ev[11].values[0].tag, "eval/loss"), "eval/loss");
        CHECK(ev[12].values[0].has_image && ev[12].values[0].png_size == png.size, "image record");
        CHECK(fabs(ev[5].wall_time - t0) < 60, "wall time %.3f vs %.3f", ev[5].wall_time, t0);
    }
    free(data);
    vkti_metrics_close(m);

    /* a crash leaves a torn line; resuming from the checkpoint at step 5 keeps steps <= 5 only */
    vkti_file *f;
    vkti_file_open_append(&d, path, &f);
    vkti_file_append(&d, f, "{\"kind\": \"train\", \"st", 21);
    vkti_file_close(f);
    CHECK(vkti_metrics_open(&d, dir, 5, 1, &m) == VKTI_OK, "resume open: %s", d.msg);
    if (m) {
        vkti_metric v[] = {{"loss", 0.5, NULL}};
        vkti_metrics_log(&d, m, "train", 6, v, 1);
        vkti_metrics_close(m);
    }
    size = read_all(path, &data);
    memset(&s, 0, sizeof s);
    vkti_jsonl_scan((const char *)data, size, on_line, &s, &skipped);
    CHECK(s.count == 6 && s.steps[4] == 5 && s.steps[5] == 6 && skipped == 0 && data[size - 1] == '\n',
          "after resume: %d records, %d skipped", s.count, skipped);
    free(data);
    /* a new run replaces the log */
    CHECK(vkti_metrics_open(&d, dir, -1, 0, &m) == VKTI_OK && !vkti_metrics_tb_path(m)[0], "new run: %s", d.msg);
    vkti_metrics_close(m);
    size = read_all(path, &data);
    CHECK(size == 0, "a new run starts an empty log (%zu bytes)", size);
    free(data);
    /* a folder that cannot be made */
    snprintf(path, sizeof path, "%s/metrics.jsonl/x", dir);
    CHECK(vkti_metrics_open(&d, path, -1, 1, &m) != VKTI_OK && m == NULL, "open under a file: %s", d.msg);
    free(png.data);
    free(ev);
}

/* A deterministic sample for tools/ref/check_tensorboard.py (values it checks). */
static void write_sample(const char *dir)
{
    vkti_diag d = {0};
    vkti_metrics *m = NULL;
    if (vkti_metrics_open(&d, dir, -1, 1, &m)) {
        printf("FAIL sample: %s\n", d.msg);
        failed++;
        return;
    }
    for (int step = 0; step < 50; step++) {
        vkti_metric v[] = {{"loss", 1.0 / (1 + step), NULL}, {"lr", 1e-4, NULL}};
        vkti_metrics_log(&d, m, "train", step, v, 2);
        if (step % 10 == 0) {
            vkti_metric e[] = {{"loss", 0.5 - step / 1000.0, NULL}};
            vkti_metrics_log(&d, m, "eval", step, e, 1);
        }
    }
    png_out png = make_png(64, 32);
    vkti_metrics_image(&d, m, "preview/0", 25, png.data, png.size, 64, 32, 3);
    free(png.data);
    printf("sample event file: %s\n", vkti_metrics_tb_path(m));
    vkti_metrics_close(m);
}

int main(void)
{
    test_crc();
    test_encode();
    test_jsonl();
    test_writer();
    const char *sample = getenv("VKTI_TB_SAMPLE_DIR");
    if (sample && sample[0])
        write_sample(sample);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
