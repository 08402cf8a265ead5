/* conv2d.c — dispatch of shaders/conv2d.comp (portable) and shaders/conv2d_cm.comp (tensor cores):
 * shape and parameter checks, kernel and tile choice, the flat workgroup grid, and the host-side
 * weight relayout. */
#include "ops/conv2d.h"

#include <stdint.h>
#include <stdio.h>

#include "ops/op_common.h"
#include "pc_conv2d.h"

#define CONV_MAX_KERNEL 64     /* kernel side and padding limits: far above any SD layer */
#define CONV_MAX_STRIDE 16
#define CONV_CM_SHARED 41984   /* bytes of shared memory conv2d_cm.comp declares with 128x128 tiles */

/* sizes of one call; "x" is in (forward) or d_in (backward), "y" out or d_out */
typedef struct conv_dims {
    int64_t N, H, W, Cin, Ho, Wo, Cout;
} conv_dims;

int64_t vkti_conv2d_out_size(int64_t in, int k, int stride, int pad_a, int pad_b)
{
    int64_t padded = in + pad_a + pad_b;
    if (stride < 1 || k < 1 || padded < k)
        return 0;
    return (padded - k) / stride + 1;
}

static int check_params(vkti_cmd *c, const char *op, const vkti_conv2d_params *p)
{
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    if (!p)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: no parameters", op);
    if (p->kh < 1 || p->kw < 1 || p->kh > CONV_MAX_KERNEL || p->kw > CONV_MAX_KERNEL || p->stride < 1 ||
        p->stride > CONV_MAX_STRIDE)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: kernel %dx%d stride %d out of range (1..%d, 1..%d)", op, p->kh,
                         p->kw, p->stride, CONV_MAX_KERNEL, CONV_MAX_STRIDE);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0 || p->pad_top > CONV_MAX_KERNEL ||
        p->pad_bottom > CONV_MAX_KERNEL || p->pad_left > CONV_MAX_KERNEL || p->pad_right > CONV_MAX_KERNEL)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: padding (%d,%d,%d,%d) out of range 0..%d", op, p->pad_top,
                         p->pad_bottom, p->pad_left, p->pad_right, CONV_MAX_KERNEL);
    return VKTI_OK;
}

/* Checks x [N, H, W, Cin], weight [Cout, kh, kw, Cin], y [N, Ho, Wo, Cout] and one shared float dtype. */
static int check_tensors(vkti_cmd *c, const char *op, const char *xname, const vkti_tensor *x, const char *yname,
                         const vkti_tensor *y, const vkti_tensor *w, const vkti_conv2d_params *p, conv_dims *cd)
{
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    int rc = check_params(c, op, p);
    if (rc)
        return rc;
    if (!x || !x->block || x->ndim != 4 || !w || !w->block || w->ndim != 4)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: %s and weight must be 4-D tensors ([N, H, W, C] and [Cout, kh, kw, Cin])",
                         op, xname);
    if (!vkti_op_variant(x->dtype))
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: unsupported dtype %s (f32 or f16)", op, vkti_dtype_name(x->dtype));
    cd->N = x->shape[0];
    cd->H = x->shape[1];
    cd->W = x->shape[2];
    cd->Cin = x->shape[3];
    cd->Cout = w->shape[0];
    cd->Ho = vkti_conv2d_out_size(cd->H, p->kh, p->stride, p->pad_top, p->pad_bottom);
    cd->Wo = vkti_conv2d_out_size(cd->W, p->kw, p->stride, p->pad_left, p->pad_right);
    if (cd->Ho < 1 || cd->Wo < 1)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: %s of %lldx%lld padded (%d,%d,%d,%d) is smaller than the %dx%d kernel",
                         op, xname, (long long)cd->H, (long long)cd->W, p->pad_top, p->pad_bottom, p->pad_left,
                         p->pad_right, p->kh, p->kw);
    int64_t ws[4] = {cd->Cout, p->kh, p->kw, cd->Cin};
    int64_t ys[4] = {cd->N, cd->Ho, cd->Wo, cd->Cout};
    if ((rc = vkti_op_check(c, op, "weight", w, x->dtype, -1)) || (rc = vkti_op_check_shape(c, op, "weight", w, 4, ws)) ||
        (rc = vkti_op_check(c, op, yname, y, x->dtype, -1)) || (rc = vkti_op_check_shape(c, op, yname, y, 4, ys)))
        return rc;
    /* the shader computes element offsets in 32-bit signed integers */
    if (vkti_tensor_numel(x) > INT32_MAX || vkti_tensor_numel(y) > INT32_MAX || vkti_tensor_numel(w) > INT32_MAX)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: a tensor has more than 2^31 elements: split the batch", op);
    if (cd->N < 1 || cd->Cin < 1 || cd->Cout < 1)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: empty tensor (N %lld, Cin %lld, Cout %lld)", op, (long long)cd->N,
                         (long long)cd->Cin, (long long)cd->Cout);
    return VKTI_OK;
}

/* The shader variant and its tiles for one call. */
typedef struct conv_kernel {
    const char *shader;
    char variant[16];
    uint32_t spec[6];  /* portable shader: {WG, BM, BN, BK, TM, TN} */
    int nspec;
    int64_t bm, bn;    /* tile rows and columns */
} conv_kernel;

/* Portable tiles for a GEMM of M rows, ncols columns and K slices of kchan channels. The
 * shader needs WG == (BM/TM) * (BN/TN), WG % BK == 0 and WG % BN == 0. */
static void portable_tiles(int64_t M, int64_t ncols, int64_t kchan, uint32_t spec[6])
{
    static const uint32_t big[6] = {256, 64, 64, 16, 4, 4};
    static const uint32_t small[6] = {256, 32, 32, 16, 2, 2};  /* more workgroups for small problems */
    static const uint32_t narrow16[6] = {256, 128, 16, 16, 4, 2}; /* conv_out and friends: few columns */
    static const uint32_t narrow8[6] = {256, 128, 8, 16, 4, 1};
    const uint32_t *t = big;
    if (ncols <= 8)
        t = narrow8;
    else if (ncols <= 16)
        t = narrow16;
    else if (M * ncols <= 64 * 64 * 32)
        t = small;
    for (int i = 0; i < 6; i++)
        spec[i] = t[i];
    /* K slices never straddle taps, so few channels (RGB input, 4 latent channels) take a
     * narrower slice instead of padding 3 channels to 16 */
    if (kchan <= 4)
        spec[3] = 4;
    else if (kchan <= 8)
        spec[3] = 8;
}

/* Tensor cores (conv2d_cm.comp) for f16 storage on a device with the f16 16x8x16 cooperative-matrix
 * shape, 32-wide subgroups and the Vulkan memory model (as matmul_cm) when both channel counts are
 * multiples of 8 (its 16-byte loads); 128x128 tiles when they alone fill the device, else 64x64.
 * Otherwise conv2d.comp. */
static void choose_kernel(vkti_cmd *c, int backward, vkti_dtype dt, const conv_dims *cd, int64_t rows, int64_t ncols,
                          int64_t kchan, conv_kernel *k)
{
    const vkti_device_info *info = vkti_gpu_info(vkti_cmd_gpu(c));
    if (dt == VKTI_F16 && info->coopmat_nv_f16_16x8x16 && info->subgroup_size == 32 && info->memory_model &&
        info->max_shared_memory >= CONV_CM_SHARED && cd->Cin % 8 == 0 && cd->Cout % 8 == 0) {
        /* 64x64 tiles: the 128x128 variant measured 2-3x slower on an H100 (2026-11-26; one
         * 256-invocation workgroup per multiprocessor hides no latency): kept for tuning */
        const int big = 0;
        k->shader = "conv2d_cm";
        snprintf(k->variant, sizeof k->variant, "%s%s", backward ? "bwd" : "fwd", big ? "" : "_s");
        k->nspec = 0;
        k->bm = k->bn = big ? 128 : 64;
        return;
    }
    k->shader = "conv2d";
    snprintf(k->variant, sizeof k->variant, "%s_%s", backward ? "bwd" : "fwd", vkti_op_variant(dt));
    portable_tiles(rows, ncols, kchan, k->spec);
    k->nspec = 6;
    k->bm = k->spec[1];
    k->bn = k->spec[2];
}

/* rows: GEMM rows (of the largest phase class), ncols: GEMM columns, kchan: channels summed per tap */
static int dispatch(vkti_cmd *c, const char *op, int backward, const conv_dims *cd, const vkti_conv2d_params *p,
                    uint32_t flags, int64_t rows, int64_t ncols, int64_t kchan, int64_t classes, const vkti_arg *args,
                    int nargs)
{
    conv_kernel k;
    choose_kernel(c, backward, args[0].t->dtype, cd, rows, ncols, kchan, &k);
    int64_t m_tiles = (rows + k.bm - 1) / k.bm, n_tiles = (ncols + k.bn - 1) / k.bn;
    int64_t groups = m_tiles * n_tiles * classes;
    if (groups > (int64_t)UINT32_MAX)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: %lld workgroups: split the batch", op,
                         (long long)groups);
    vkti_pc_conv2d pc = {
        .N = (uint32_t)cd->N, .H = (uint32_t)cd->H, .W = (uint32_t)cd->W, .Cin = (uint32_t)cd->Cin,
        .Ho = (uint32_t)cd->Ho, .Wo = (uint32_t)cd->Wo, .Cout = (uint32_t)cd->Cout,
        .kh = (uint32_t)p->kh, .kw = (uint32_t)p->kw, .stride = (uint32_t)p->stride,
        .pad_top = (uint32_t)p->pad_top, .pad_left = (uint32_t)p->pad_left, .flags = flags,
        .m_tiles = (uint32_t)m_tiles, .n_tiles = (uint32_t)n_tiles, .groups = (uint32_t)groups,
    };
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)groups, 1, g);
    return vkti_op_run(c, k.shader, k.variant, k.nspec ? k.spec : NULL, k.nspec, args, nargs, &pc, sizeof pc, g[0],
                       g[1], g[2]);
}

int vkti_conv2d_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *in, const vkti_tensor *weight,
                        const vkti_tensor *bias, const vkti_tensor *residual, const vkti_conv2d_params *p)
{
    const char *op = "conv2d forward";
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    conv_dims cd;
    int rc = check_tensors(c, op, "in", in, "out", out, weight, p, &cd);
    if (rc)
        return rc;
    uint32_t flags = 0;
    if (bias) {
        if ((rc = vkti_op_check(c, op, "bias", bias, in->dtype, -1)))
            return rc;
        if (bias->ndim == 1 && bias->shape[0] == cd.Cout)
            flags |= VKTI_CONV_BIAS;
        else if (bias->ndim == 2 && bias->shape[0] == cd.N && bias->shape[1] == cd.Cout)
            flags |= VKTI_CONV_BIAS_SAMPLE;
        else
            return vkti_fail(d, VKTI_E_INTERNAL, "%s: bias must be [%lld] or [%lld, %lld]", op, (long long)cd.Cout,
                             (long long)cd.N, (long long)cd.Cout);
    }
    if (residual) {
        if ((rc = vkti_op_check(c, op, "residual", residual, in->dtype, -1)) ||
            (rc = vkti_op_check_shape(c, op, "residual", residual, 4, out->shape)))
            return rc;
        flags |= VKTI_CONV_RESIDUAL;
    }
    /* absent bias / residual bind a placeholder the shader never reads */
    vkti_arg args[5] = {{out, VKTI_WRITE}, {in, VKTI_READ}, {weight, VKTI_READ}, {bias ? bias : in, VKTI_READ},
                        {residual ? residual : in, VKTI_READ}};
    return dispatch(c, op, 0, &cd, p, flags, cd.N * cd.Ho * cd.Wo, cd.Cout, cd.Cin, 1, args, 5);
}

int vkti_conv2d_backward(vkti_cmd *c, const vkti_tensor *d_in, const vkti_tensor *d_out, const vkti_tensor *weight,
                         const vkti_conv2d_params *p, int accumulate)
{
    const char *op = "conv2d backward";
    conv_dims cd;
    int rc = check_tensors(c, op, "d_in", d_in, "d_out", d_out, weight, p, &cd);
    if (rc)
        return rc;
    /* rows: the input pixels of the largest phase class (y % stride, x % stride) */
    int64_t s = p->stride, hc = (cd.H + s - 1) / s, wc = (cd.W + s - 1) / s;
    vkti_arg args[3] = {{d_in, accumulate ? VKTI_RW : VKTI_WRITE}, {d_out, VKTI_READ}, {weight, VKTI_READ}};
    return dispatch(c, op, 1, &cd, p, accumulate ? VKTI_CONV_ACCUM : 0u, cd.N * hc * wc, cd.Cin, cd.Cout, s * s, args,
                    3);
}

void vkti_conv2d_weight_from_oihw(float *dst, const float *src, int cout, int cin, int kh, int kw)
{
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cin; i++)
            for (int y = 0; y < kh; y++)
                for (int x = 0; x < kw; x++)
                    dst[(((size_t)o * kh + y) * kw + x) * cin + i] = src[(((size_t)o * cin + i) * kh + y) * kw + x];
}
