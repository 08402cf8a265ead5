/* nn.c — weight loading and activation arenas shared by the networks (see nn.h). */
#include "model/nn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv2d.h"

int vkti_nn_init(vkti_nn *nn, vkti_gpu *g, vkti_dtype dtype, const vkti_weight_source *src, const char *what)
{
    memset(nn, 0, sizeof *nn);
    nn->g = g;
    nn->d = vkti_gpu_diag(g);
    nn->dtype = dtype;
    nn->src = src;
    nn->what = what;
    int rc;
    if ((rc = vkti_arena_create(g, "weights", 0, &nn->weights)) || (rc = vkti_arena_create(g, "activations", 0, &nn->act)) ||
        (rc = vkti_arena_create(g, "temporaries", 0, &nn->tmp))) {
        vkti_nn_free(nn);
        return rc;
    }
    return VKTI_OK;
}

void vkti_nn_free(vkti_nn *nn)
{
    vkti_arena_free(nn->weights);
    vkti_arena_free(nn->act);
    vkti_arena_free(nn->tmp);
    memset(nn, 0, sizeof *nn);
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < ndim && n < cap; i++) {
        int w = snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

int vkti_nn_weight(vkti_nn *nn, vkti_tensor *out, int flags, int ndim, const int64_t *shape, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const vkti_io_tensor *t = NULL;
    int rc = nn->src->get(nn->src->user, nn->d, name, &t);
    if (rc)
        return rc;
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char want[128], got[128];
        shape_str(want, sizeof want, ndim, shape);
        shape_str(got, sizeof got, t->ndim, t->shape);
        return vkti_fail(nn->d, VKTI_E_FORMAT, "%s: tensor %s has shape [%s], expected [%s] (a checkpoint of another "
                         "architecture, or a damaged file)", nn->what, name, got, want);
    }
    if (!vkti_io_dtype_is_float(t->dtype))
        return vkti_fail(nn->d, VKTI_E_FORMAT, "%s: tensor %s is %s, expected a floating-point type", nn->what, name,
                         vkti_io_dtype_name(t->dtype));
    uint64_t n = t->numel;
    float *host = malloc(sizeof(float) * (n ? n : 1) * ((flags & VKTI_NN_CONV) ? 2 : 1));
    if (!host)
        return vkti_fail(nn->d, VKTI_E_OOM, "%s: out of host memory loading %s", nn->what, name);
    rc = vkti_io_tensor_to_f32(nn->d, t, host, n);
    int64_t dshape[VKTI_MAX_DIMS];
    int dndim = ndim;
    for (int i = 0; i < ndim && i < VKTI_MAX_DIMS; i++)
        dshape[i] = shape[i];
    float *src = host;
    if (rc == VKTI_OK && (flags & VKTI_NN_CONV)) {
        if (ndim != 4) {
            free(host);
            return vkti_fail(nn->d, VKTI_E_INTERNAL, "%s: %s is not a 4-D conv weight", nn->what, name);
        }
        src = host + n;
        vkti_conv2d_weight_from_oihw(src, host, (int)shape[0], (int)shape[1], (int)shape[2], (int)shape[3]);
        dshape[1] = shape[2];
        dshape[2] = shape[3];
        dshape[3] = shape[1];
    }
    if (rc == VKTI_OK && ndim > VKTI_MAX_DIMS)
        rc = vkti_fail(nn->d, VKTI_E_FORMAT, "%s: %s has %d dimensions", nn->what, name, ndim);
    if (rc == VKTI_OK)
        rc = vkti_arena_tensor(nn->weights, out, (flags & VKTI_NN_KEEP_F32) ? VKTI_F32 : nn->dtype, dndim, dshape);
    if (rc == VKTI_OK)
        rc = vkti_tensor_upload_f32(nn->g, out, src, (int64_t)n);
    free(host);
    if (rc == VKTI_OK)
        nn->params += n;
    return rc;
}

int vkti_nn_alloc(vkti_nn *nn, vkti_arena *a, vkti_tensor *out, int ndim, const int64_t *shape)
{
    return vkti_arena_tensor(a, out, nn->dtype, ndim, shape);
}

vkti_tensor vkti_nn_reshape(const vkti_tensor *t, int ndim, const int64_t *shape)
{
    vkti_tensor r = *t;
    r.ndim = ndim;
    for (int i = 0; i < VKTI_MAX_DIMS; i++)
        r.shape[i] = i < ndim ? shape[i] : 0;
    return r;
}
