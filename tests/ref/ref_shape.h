/* ref_shape.h — double-precision CPU references for the shape ops (src/ops/shape.h). Inputs
 * are double so that the same functions serve finite-difference gradient checks. Backward
 * references overwrite their outputs. */
#ifndef VKTI_TESTS_REF_SHAPE_H
#define VKTI_TESTS_REF_SHAPE_H

#include <stdint.h>

/* out [N, 2H, 2W, C] from x [N, H, W, C]; dx [N, H, W, C] from dy [N, 2H, 2W, C] */
void ref_upsample2x(double *out, const double *x, int64_t N, int64_t H, int64_t W, int64_t C);
void ref_upsample2x_backward(double *dx, const double *dy, int64_t N, int64_t H, int64_t W, int64_t C);
/* out [rows, Ca + Cb] = [a | b]; da, db (either may be NULL) from d_out */
void ref_concat(double *out, const double *a, const double *b, int64_t rows, int64_t Ca, int64_t Cb);
void ref_concat_backward(double *da, double *db, const double *d_out, int64_t rows, int64_t Ca, int64_t Cb);
/* out [N, P, C] = x + b [N, C]; db [N, C] = sum_p dy */
void ref_bcast_add(double *out, const double *x, const double *b, int64_t N, int64_t P, int64_t C);
void ref_bcast_add_backward_b(double *db, const double *dy, int64_t N, int64_t P, int64_t C);
/* diffusers get_timestep_embedding in exact arithmetic: out [N, dim] */
void ref_timestep_embed(double *out, const double *t, int64_t N, int64_t dim, int flip, double shift,
                        double max_period, double scale);
/* out [rows, D]: table [V, D] for id < V, extra [E, D] for V <= id < V + E, else 0 */
void ref_embed(double *out, const int32_t *ids, const float *table, const double *extra, int64_t rows, int64_t V,
               int64_t E, int64_t D);
/* d_extra [E, D] = sum of the d_out rows whose id is V + e */
void ref_embed_backward(double *d_extra, const int32_t *ids, const double *d_out, int64_t rows, int64_t V,
                        int64_t E, int64_t D);

#endif
