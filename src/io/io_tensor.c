/* io_tensor.c — file dtypes, tensor descriptors and element conversion (see io_tensor.h). */
#include "io/io_tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/half.h"
#include "io/bytes.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "vkti reads little-endian model files in place: big-endian hosts are not supported"
#endif

static const struct {
    const char *name;
    size_t size;
    int is_float;
} dtype_info[VKTI_IO_DTYPE_COUNT] = {
    [VKTI_IO_F64] = {"F64", 8, 1}, [VKTI_IO_F32] = {"F32", 4, 1}, [VKTI_IO_F16] = {"F16", 2, 1},
    [VKTI_IO_BF16] = {"BF16", 2, 1}, [VKTI_IO_I64] = {"I64", 8, 0}, [VKTI_IO_I32] = {"I32", 4, 0},
    [VKTI_IO_I16] = {"I16", 2, 0}, [VKTI_IO_I8] = {"I8", 1, 0}, [VKTI_IO_U8] = {"U8", 1, 0},
    [VKTI_IO_BOOL] = {"BOOL", 1, 0},
};

size_t vkti_io_dtype_size(vkti_io_dtype t) { return (unsigned)t < VKTI_IO_DTYPE_COUNT ? dtype_info[t].size : 0; }
const char *vkti_io_dtype_name(vkti_io_dtype t) { return (unsigned)t < VKTI_IO_DTYPE_COUNT ? dtype_info[t].name : "?"; }
int vkti_io_dtype_is_float(vkti_io_dtype t) { return (unsigned)t < VKTI_IO_DTYPE_COUNT && dtype_info[t].is_float; }

int vkti_io_dtype_from_name(const char *name, vkti_io_dtype *out)
{
    for (int i = 0; i < VKTI_IO_DTYPE_COUNT; i++) {
        if (!strcmp(name, dtype_info[i].name)) {
            *out = (vkti_io_dtype)i;
            return 0;
        }
    }
    return -1;
}

int vkti_io_numel(int ndim, const int64_t *shape, uint64_t *numel)
{
    /* Every partial product must stay below 2^62 (so numel * 8 bytes cannot overflow either).
     * Like the reference, a zero dimension does not excuse an overflow before it. */
    const uint64_t limit = (uint64_t)1 << 62;
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || !vkti_mul_u64(n, (uint64_t)shape[i], &n) || n > limit)
            return 0;
    }
    *numel = n;
    return 1;
}

void vkti_io_tensor_set_packed(vkti_io_tensor *t)
{
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        t->stride[i] = s;
        s *= t->shape[i] > 0 ? t->shape[i] : 1;
    }
    uint64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (uint64_t)t->shape[i];
    t->numel = n;
    t->bytes = n * vkti_io_dtype_size(t->dtype);
    t->contiguous = 1;
}

char *vkti_io_tensor_describe(const vkti_io_tensor *t, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "%s [", vkti_io_dtype_name(t->dtype));
    for (int i = 0; i < t->ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
    return buf;
}

/* ---- element conversion --------------------------------------------------------------------- */

/* f64 -> f16 without double rounding: round to f32 toward zero with a sticky low bit ("round to
 * odd"), which f32 -> f16 then rounds to nearest even exactly as a direct conversion would. */
static uint16_t f64_to_f16(double x)
{
    float f = (float)x;
    if ((double)f != x && !isnan(x)) {
        if (fabs((double)f) > fabs(x))
            f = nextafterf(f, 0.0f);
        uint32_t u;
        memcpy(&u, &f, 4);
        u |= 1u;
        memcpy(&f, &u, 4);
    }
    return vkti_f32_to_f16(f);
}

/* One element at p as a double (integers exact up to 2^53; that is more than f32/f16 keep). */
static double load_f64(vkti_io_dtype t, const uint8_t *p)
{
    switch (t) {
    case VKTI_IO_F64: { double v; memcpy(&v, p, 8); return v; }
    case VKTI_IO_F32: { float v; memcpy(&v, p, 4); return v; }
    case VKTI_IO_F16: { uint16_t v; memcpy(&v, p, 2); return vkti_f16_to_f32(v); }
    case VKTI_IO_BF16: { uint16_t v; memcpy(&v, p, 2); return vkti_bf16_to_f32(v); }
    case VKTI_IO_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case VKTI_IO_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case VKTI_IO_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case VKTI_IO_I8: return (int8_t)p[0];
    case VKTI_IO_U8: return p[0];
    case VKTI_IO_BOOL: return p[0] != 0;
    case VKTI_IO_DTYPE_COUNT: break;
    }
    return 0;
}

typedef enum { OUT_F32, OUT_F16, OUT_RAW } out_kind;

/* Converts n elements starting at src, step bytes apart, to dst (f32, f16 or raw). The common
 * cases (packed f32/f16/bf16 sources) have their own loops; the rest go through load_f64. */
static void convert_run(out_kind kind, void *dst, vkti_io_dtype t, const uint8_t *src, uint64_t n, size_t step)
{
    const size_t es = vkti_io_dtype_size(t);
    if (kind == OUT_RAW) {
        uint8_t *o = dst;
        if (step == es)
            memcpy(o, src, (size_t)n * es);
        else
            for (uint64_t i = 0; i < n; i++)
                memcpy(o + i * es, src + i * step, es);
        return;
    }
    if (kind == OUT_F32) {
        float *o = dst;
        switch (t) {
        case VKTI_IO_F32:
            if (step == 4)
                memcpy(o, src, (size_t)n * 4);
            else
                for (uint64_t i = 0; i < n; i++)
                    memcpy(o + i, src + i * step, 4);
            return;
        case VKTI_IO_F16:
            for (uint64_t i = 0; i < n; i++) {
                uint16_t h;
                memcpy(&h, src + i * step, 2);
                o[i] = vkti_f16_to_f32(h);
            }
            return;
        case VKTI_IO_BF16:
            for (uint64_t i = 0; i < n; i++) {
                uint16_t h;
                memcpy(&h, src + i * step, 2);
                o[i] = vkti_bf16_to_f32(h);
            }
            return;
        default:
            for (uint64_t i = 0; i < n; i++)
                o[i] = (float)load_f64(t, src + i * step);
            return;
        }
    }
    uint16_t *o = dst;
    switch (t) {
    case VKTI_IO_F16:
        if (step == 2)
            memcpy(o, src, (size_t)n * 2);
        else
            for (uint64_t i = 0; i < n; i++)
                memcpy(o + i, src + i * step, 2);
        return;
    case VKTI_IO_F32:
        for (uint64_t i = 0; i < n; i++) {
            float f;
            memcpy(&f, src + i * step, 4);
            o[i] = vkti_f32_to_f16(f);
        }
        return;
    case VKTI_IO_BF16: /* every bf16 value is an f32 value: one rounding */
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + i * step, 2);
            o[i] = vkti_f32_to_f16(vkti_bf16_to_f32(h));
        }
        return;
    default:
        for (uint64_t i = 0; i < n; i++)
            o[i] = f64_to_f16(load_f64(t, src + i * step));
        return;
    }
}

/* Walks the tensor row by row (a row: the last dimension) in row-major order. */
static void convert(out_kind kind, const vkti_io_tensor *t, void *dst)
{
    const size_t es = vkti_io_dtype_size(t->dtype);
    const size_t out_es = kind == OUT_F32 ? 4 : kind == OUT_F16 ? 2 : es;
    if (t->numel == 0)
        return;
    if (t->contiguous || t->ndim == 0) {
        convert_run(kind, dst, t->dtype, t->data, t->numel, es);
        return;
    }
    const int last = t->ndim - 1;
    const uint64_t row = (uint64_t)t->shape[last];
    const size_t step = (size_t)t->stride[last] * es;
    int64_t idx[VKTI_IO_MAX_DIMS] = {0};
    uint8_t *o = dst;
    for (uint64_t done = 0; done < t->numel; done += row) {
        uint64_t off = 0;
        for (int i = 0; i < last; i++)
            off += (uint64_t)idx[i] * (uint64_t)t->stride[i];
        convert_run(kind, o, t->dtype, t->data + off * es, row, step);
        o += row * out_es;
        for (int i = last - 1; i >= 0; i--) {
            if (++idx[i] < t->shape[i])
                break;
            idx[i] = 0;
        }
    }
}

int vkti_io_tensor_to_f32(vkti_diag *d, const vkti_io_tensor *t, float *dst, uint64_t count)
{
    if (count != t->numel)
        return vkti_fail(d, VKTI_E_INTERNAL, "tensor %s has %llu elements, not %llu", t->name ? t->name : "",
                         (unsigned long long)t->numel, (unsigned long long)count);
    convert(OUT_F32, t, dst);
    return VKTI_OK;
}

int vkti_io_tensor_to_f16(vkti_diag *d, const vkti_io_tensor *t, uint16_t *dst, uint64_t count)
{
    if (count != t->numel)
        return vkti_fail(d, VKTI_E_INTERNAL, "tensor %s has %llu elements, not %llu", t->name ? t->name : "",
                         (unsigned long long)t->numel, (unsigned long long)count);
    convert(OUT_F16, t, dst);
    return VKTI_OK;
}

int vkti_io_tensor_copy(vkti_diag *d, const vkti_io_tensor *t, void *dst, uint64_t bytes)
{
    if (bytes != t->bytes)
        return vkti_fail(d, VKTI_E_INTERNAL, "tensor %s has %llu bytes, not %llu", t->name ? t->name : "",
                         (unsigned long long)t->bytes, (unsigned long long)bytes);
    convert(OUT_RAW, t, dst);
    return VKTI_OK;
}
