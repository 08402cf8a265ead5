/* metrics.c — the JSON-lines log and TensorBoard event files (see metrics.h).
 *
 * Formats written from their public descriptions (no code copied): TFRecord framing as
 * TensorFlow's record_writer documents it (uint64 length, masked CRC-32C of the length, data,
 * masked CRC-32C of the data; mask = ((crc >> 15) | (crc << 17)) + 0xa282ead8, little-endian);
 * tensorflow/core/util/event.proto (Event: wall_time = 1 double, step = 2 int64, file_version = 3
 * string, summary = 5) and summary.proto (Summary.value = 1; Value: tag = 1, simple_value = 2
 * float, image = 4; Image: height = 1, width = 2, colorspace = 3, encoded_image_string = 4). */
#include "train/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CRC-32C table for the reflected polynomial 0x82f63b78 (generated once, checked by the tests
 * against RFC 3720's vectors). */
static const uint32_t crc32c_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
    0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
    0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
    0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
    0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
    0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
    0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
    0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
    0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
    0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
    0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
    0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
    0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
    0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
    0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
    0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
    0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
    0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
    0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
    0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
    0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
    0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
    0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
    0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
    0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
    0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
    0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
    0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
    0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
    0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
    0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
    0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
    0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t vkti_crc32c(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < size; i++)
        crc = crc32c_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint32_t vkti_crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

/* ---- bytes and protocol-buffer pieces ---------------------------------------------------- */

void vkti_bytes_free(vkti_bytes *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void put(vkti_bytes *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->size + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->size + n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->size, src, n);
    b->size += n;
}

static void put_u8(vkti_bytes *b, uint8_t v) { put(b, &v, 1); }

static void put_le(vkti_bytes *b, uint64_t v, int n)
{
    uint8_t tmp[8];
    for (int i = 0; i < n; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));
    put(b, tmp, (size_t)n);
}

static void put_varint(vkti_bytes *b, uint64_t v)
{
    uint8_t tmp[10];
    int n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
    put(b, tmp, (size_t)n);
}

/* field key: (number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32) */
static void put_key(vkti_bytes *b, int field, int wire) { put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire); }

static void put_bytes_field(vkti_bytes *b, int field, const void *data, size_t n)
{
    put_key(b, field, 2);
    put_varint(b, n);
    put(b, data, n);
}

static void put_double_field(vkti_bytes *b, int field, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_key(b, field, 1);
    put_le(b, u, 8);
}

static void put_float_field(vkti_bytes *b, int field, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_key(b, field, 5);
    put_le(b, u, 4);
}

static void put_varint_field(vkti_bytes *b, int field, uint64_t v)
{
    put_key(b, field, 0);
    put_varint(b, v);
}

/* Appends a TFRecord holding event. */
static void put_record(vkti_bytes *out, const vkti_bytes *event)
{
    if (event->oom) {
        out->oom = 1;
        return;
    }
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)event->size >> (8 * i));
    put(out, len, 8);
    put_le(out, vkti_crc32c_mask(vkti_crc32c(0, len, 8)), 4);
    put(out, event->data, event->size);
    put_le(out, vkti_crc32c_mask(vkti_crc32c(0, event->data, event->size)), 4);
}

static void event_head(vkti_bytes *ev, double wall_time, int64_t step)
{
    put_double_field(ev, 1, wall_time);
    if (step)
        put_varint_field(ev, 2, (uint64_t)step); /* int64: negative numbers as 10-byte varints */
}

void vkti_tb_encode_file_version(vkti_bytes *out, double wall_time)
{
    vkti_bytes ev = {0};
    event_head(&ev, wall_time, 0);
    put_bytes_field(&ev, 3, "brain.Event:2", 13);
    put_record(out, &ev);
    vkti_bytes_free(&ev);
}

void vkti_tb_encode_scalars(vkti_bytes *out, double wall_time, int64_t step, const char *tag_prefix,
                            const vkti_metric *values, int count)
{
    vkti_bytes summary = {0}, value = {0}, ev = {0};
    char tag[256];
    for (int i = 0; i < count; i++) {
        if (values[i].text)
            continue;
        snprintf(tag, sizeof tag, "%s%s%s", tag_prefix ? tag_prefix : "", tag_prefix && tag_prefix[0] ? "/" : "",
                 values[i].name);
        value.size = 0;
        put_bytes_field(&value, 1, tag, strlen(tag));
        put_float_field(&value, 2, (float)values[i].value);
        if (value.oom)
            summary.oom = 1;
        put_bytes_field(&summary, 1, value.data, value.size);
    }
    event_head(&ev, wall_time, step);
    if (summary.oom)
        ev.oom = 1;
    put_bytes_field(&ev, 5, summary.data, summary.size);
    put_record(out, &ev);
    vkti_bytes_free(&summary);
    vkti_bytes_free(&value);
    vkti_bytes_free(&ev);
}

void vkti_tb_encode_image(vkti_bytes *out, double wall_time, int64_t step, const char *tag, const uint8_t *png,
                          size_t png_size, int width, int height, int channels)
{
    vkti_bytes image = {0}, value = {0}, summary = {0}, ev = {0};
    put_varint_field(&image, 1, (uint64_t)height);
    put_varint_field(&image, 2, (uint64_t)width);
    put_varint_field(&image, 3, (uint64_t)channels); /* colorspace: 1 grey, 3 RGB, 4 RGBA */
    put_bytes_field(&image, 4, png, png_size);
    put_bytes_field(&value, 1, tag, strlen(tag));
    if (image.oom)
        value.oom = 1;
    put_bytes_field(&value, 4, image.data, image.size);
    if (value.oom)
        summary.oom = 1;
    put_bytes_field(&summary, 1, value.data, value.size);
    event_head(&ev, wall_time, step);
    if (summary.oom)
        ev.oom = 1;
    put_bytes_field(&ev, 5, summary.data, summary.size);
    put_record(out, &ev);
    vkti_bytes_free(&image);
    vkti_bytes_free(&value);
    vkti_bytes_free(&summary);
    vkti_bytes_free(&ev);
}

/* ---- JSON lines --------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int full;
} sbuf;

static void sput(sbuf *s, const char *fmt, ...) VKTI_PRINTF(2, 3);
static void sput(sbuf *s, const char *fmt, ...)
{
    if (s->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->p + s->n, s->cap - s->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= s->cap - s->n) {
        s->full = 1;
        return;
    }
    s->n += (size_t)k;
}

static void sput_string(sbuf *s, const char *str)
{
    sput(s, "\"");
    for (const unsigned char *p = (const unsigned char *)str; *p && !s->full; p++) {
        if (*p == '"' || *p == '\\')
            sput(s, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            sput(s, "\\u%04x", *p);
        else
            sput(s, "%c", *p);
    }
    sput(s, "\"");
}

static void sput_number(sbuf *s, double x)
{
    if (!isfinite(x)) {
        sput(s, "null");
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    sput(s, "%s", buf);
}

int vkti_jsonl_format(vkti_diag *d, char *out, size_t cap, const char *kind, int64_t step, double time,
                      const vkti_metric *values, int count)
{
    sbuf s = {out, 0, cap, cap == 0};
    sput(&s, "{\"kind\": ");
    sput_string(&s, kind);
    sput(&s, ", \"step\": %lld, \"time\": ", (long long)step);
    if (isfinite(time))
        sput(&s, "%.3f", time);
    else
        sput(&s, "null");
    for (int i = 0; i < count; i++) {
        sput(&s, ", ");
        sput_string(&s, values[i].name);
        sput(&s, ": ");
        if (values[i].text)
            sput_string(&s, values[i].text);
        else
            sput_number(&s, values[i].value);
    }
    sput(&s, "}\n");
    if (s.full) {
        if (cap)
            out[0] = 0;
        return vkti_fail(d, VKTI_E_INVALID, "metrics: a %s record at step %lld does not fit in %zu bytes", kind,
                         (long long)step, cap);
    }
    return VKTI_OK;
}

int vkti_jsonl_scan(const char *text, size_t len, vkti_jsonl_fn fn, void *user, int *skipped)
{
    int skip = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) { /* the unterminated tail a crash leaves */
            skip++;
            break;
        }
        size_t n = (size_t)(nl - p);
        const char *line = p;
        p = nl + 1;
        if (n == 0)
            continue;
        cJSON *obj = memchr(line, 0, n) ? NULL : cJSON_ParseWithLength(line, n);
        const cJSON *st = obj ? cJSON_GetObjectItemCaseSensitive(obj, "step") : NULL;
        if (!obj || !cJSON_IsObject(obj) || !cJSON_IsNumber(st) || st->valuedouble != floor(st->valuedouble) ||
            fabs(st->valuedouble) > 9007199254740992.0) {
            cJSON_Delete(obj);
            skip++;
            continue;
        }
        int stop = fn ? fn(user, obj, (int64_t)st->valuedouble, line, n) : 0;
        cJSON_Delete(obj);
        if (stop)
            break;
    }
    if (skipped)
        *skipped = skip;
    return VKTI_OK;
}

/* ---- the metrics writer ------------------------------------------------------------------- */

struct vkti_metrics {
    vkti_file *jsonl;
    vkti_file *tb;
    char tb_path[1400];
};

typedef struct keep_ctx {
    vkti_bytes kept;
    int64_t until;
} keep_ctx;

static int keep_line(void *user, const cJSON *record, int64_t step, const char *line, size_t len)
{
    (void)record;
    keep_ctx *k = user;
    if (step <= k->until) {
        put(&k->kept, line, len);
        put_u8(&k->kept, '\n');
    }
    return 0;
}

static void safe_host(char *host)
{
    for (char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '.' || *p == '_'))
            *p = '_';
}

int vkti_metrics_open(vkti_diag *d, const char *out_dir, int64_t resume_step, int tensorboard, vkti_metrics **out)
{
    *out = NULL;
    vkti_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return vkti_fail(d, VKTI_E_OOM, "metrics: out of host memory");
    char path[1200];
    int rc = VKTI_OK;
    if (strlen(out_dir) >= 1024) {
        rc = vkti_fail(d, VKTI_E_INVALID, "metrics: the output folder's path is too long");
        goto fail;
    }
    rc = vkti_mkdir_p(d, out_dir);
    if (rc)
        goto fail;
    snprintf(path, sizeof path, "%s/metrics.jsonl", out_dir);
    /* a new log, or the old one without what came after the checkpoint */
    keep_ctx k = {{0}, resume_step};
    if (resume_step >= 0 && vkti_file_exists(path)) {
        uint8_t *old = NULL;
        size_t size = 0;
        if ((rc = vkti_file_read(d, path, VKTI_METRICS_FILE_MAX, &old, &size)))
            goto fail;
        int skipped = 0;
        vkti_jsonl_scan((const char *)old, size, keep_line, &k, &skipped);
        free(old);
        if (k.kept.oom) {
            vkti_bytes_free(&k.kept);
            rc = vkti_fail(d, VKTI_E_OOM, "metrics: out of host memory reading %s", path);
            goto fail;
        }
        if (skipped)
            vkti_log(d, VKTI_LOG_WARN, "%s: %d unreadable line(s) dropped (an interrupted write?)", path, skipped);
    }
    rc = vkti_file_write_atomic(d, path, k.kept.data ? (const void *)k.kept.data : "", k.kept.size);
    vkti_bytes_free(&k.kept);
    if (rc || (rc = vkti_file_open_append(d, path, &m->jsonl)))
        goto fail;
    if (tensorboard) {
        char dir[1100], host[128];
        snprintf(dir, sizeof dir, "%s/tensorboard", out_dir);
        if ((rc = vkti_mkdir_p(d, dir)))
            goto fail;
        double now = vkti_wall_time();
        vkti_hostname(host, sizeof host);
        safe_host(host);
        snprintf(m->tb_path, sizeof m->tb_path, "%s/events.out.tfevents.%010lld.%s", dir, (long long)now, host);
        if ((rc = vkti_file_open_append(d, m->tb_path, &m->tb)))
            goto fail;
        vkti_bytes rec = {0};
        vkti_tb_encode_file_version(&rec, now);
        rc = rec.oom ? vkti_fail(d, VKTI_E_OOM, "metrics: out of host memory") : vkti_file_append(d, m->tb, rec.data, rec.size);
        vkti_bytes_free(&rec);
        if (rc)
            goto fail;
    }
    *out = m;
    return VKTI_OK;
fail:
    vkti_metrics_close(m);
    return vkti_fail_wrap(d, rc, "metrics in %s", out_dir);
}

int vkti_metrics_log(vkti_diag *d, vkti_metrics *m, const char *kind, int64_t step, const vkti_metric *values,
                     int count)
{
    double now = vkti_wall_time();
    char line[VKTI_METRICS_LINE_MAX];
    int rc = vkti_jsonl_format(d, line, sizeof line, kind, step, now, values, count);
    if (rc)
        return rc;
    if ((rc = vkti_file_append(d, m->jsonl, line, strlen(line))))
        return rc;
    if (m->tb) {
        vkti_bytes rec = {0};
        vkti_tb_encode_scalars(&rec, now, step, kind, values, count);
        rc = rec.oom ? vkti_fail(d, VKTI_E_OOM, "metrics: out of host memory") : vkti_file_append(d, m->tb, rec.data, rec.size);
        vkti_bytes_free(&rec);
    }
    return rc;
}

int vkti_metrics_image(vkti_diag *d, vkti_metrics *m, const char *tag, int64_t step, const uint8_t *png,
                       size_t png_size, int width, int height, int channels)
{
    if (!m->tb)
        return VKTI_OK;
    vkti_bytes rec = {0};
    vkti_tb_encode_image(&rec, vkti_wall_time(), step, tag, png, png_size, width, height, channels);
    int rc = rec.oom ? vkti_fail(d, VKTI_E_OOM, "metrics: out of host memory for a %zu-byte image", png_size)
                     : vkti_file_append(d, m->tb, rec.data, rec.size);
    vkti_bytes_free(&rec);
    return rc;
}

const char *vkti_metrics_tb_path(const vkti_metrics *m) { return m->tb_path; }

void vkti_metrics_close(vkti_metrics *m)
{
    if (!m)
        return;
    vkti_file_close(m->jsonl);
    vkti_file_close(m->tb);
    free(m);
}
