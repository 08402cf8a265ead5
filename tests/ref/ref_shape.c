/* ref_shape.c — double-precision references for the shape ops (see ref_shape.h). */
#include "ref/ref_shape.h"

#include <math.h>
#include <string.h>

void ref_upsample2x(double *out, const double *x, int64_t N, int64_t H, int64_t W, int64_t C)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t y = 0; y < 2 * H; y++)
            for (int64_t xx = 0; xx < 2 * W; xx++)
                for (int64_t c = 0; c < C; c++)
                    out[((n * 2 * H + y) * 2 * W + xx) * C + c] = x[((n * H + y / 2) * W + xx / 2) * C + c];
}

void ref_upsample2x_backward(double *dx, const double *dy, int64_t N, int64_t H, int64_t W, int64_t C)
{
    memset(dx, 0, sizeof(double) * (size_t)(N * H * W * C));
    for (int64_t n = 0; n < N; n++)
        for (int64_t y = 0; y < 2 * H; y++)
            for (int64_t xx = 0; xx < 2 * W; xx++)
                for (int64_t c = 0; c < C; c++)
                    dx[((n * H + y / 2) * W + xx / 2) * C + c] += dy[((n * 2 * H + y) * 2 * W + xx) * C + c];
}

void ref_concat(double *out, const double *a, const double *b, int64_t rows, int64_t Ca, int64_t Cb)
{
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < Ca; c++)
            out[r * (Ca + Cb) + c] = a[r * Ca + c];
        for (int64_t c = 0; c < Cb; c++)
            out[r * (Ca + Cb) + Ca + c] = b[r * Cb + c];
    }
}

void ref_concat_backward(double *da, double *db, const double *d_out, int64_t rows, int64_t Ca, int64_t Cb)
{
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; da && c < Ca; c++)
            da[r * Ca + c] = d_out[r * (Ca + Cb) + c];
        for (int64_t c = 0; db && c < Cb; c++)
            db[r * Cb + c] = d_out[r * (Ca + Cb) + Ca + c];
    }
}

void ref_bcast_add(double *out, const double *x, const double *b, int64_t N, int64_t P, int64_t C)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++)
            for (int64_t c = 0; c < C; c++)
                out[(n * P + p) * C + c] = x[(n * P + p) * C + c] + b[n * C + c];
}

void ref_bcast_add_backward_b(double *db, const double *dy, int64_t N, int64_t P, int64_t C)
{
    memset(db, 0, sizeof(double) * (size_t)(N * C));
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++)
            for (int64_t c = 0; c < C; c++)
                db[n * C + c] += dy[(n * P + p) * C + c];
}

void ref_timestep_embed(double *out, const double *t, int64_t N, int64_t dim, int flip, double shift,
                        double max_period, double scale)
{
    int64_t half = dim / 2;
    for (int64_t n = 0; n < N; n++) {
        double *o = out + n * dim;
        for (int64_t j = 0; j < half; j++) {
            double a = scale * t[n] * exp(-log(max_period) * (double)j / ((double)half - shift));
            o[j] = flip ? cos(a) : sin(a);
            o[half + j] = flip ? sin(a) : cos(a);
        }
        if (dim % 2)
            o[dim - 1] = 0.0;
    }
}

void ref_embed(double *out, const int32_t *ids, const float *table, const double *extra, int64_t rows, int64_t V,
               int64_t E, int64_t D)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t id = ids[r];
        for (int64_t d = 0; d < D; d++)
            out[r * D + d] = id >= 0 && id < V ? table[id * D + d] : id >= V && id < V + E ? extra[(id - V) * D + d] : 0.0;
    }
}

void ref_embed_backward(double *d_extra, const int32_t *ids, const double *d_out, int64_t rows, int64_t V,
                        int64_t E, int64_t D)
{
    memset(d_extra, 0, sizeof(double) * (size_t)(E * D));
    for (int64_t r = 0; r < rows; r++)
        if (ids[r] >= V && ids[r] < V + E)
            for (int64_t d = 0; d < D; d++)
                d_extra[(ids[r] - V) * D + d] += d_out[r * D + d];
}
