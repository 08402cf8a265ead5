/* pc_shape.h — push constants of the shape shaders (C and GLSL): upsample.comp, concat.comp,
 * chslice.comp, bcast_add.comp, bcast_add_grad.comp, timestep_embed.comp, embed_gather.comp,
 * embed_scatter.comp. One struct serves the family (GLSL allows one push block per shader);
 * each field says which shaders read it. Activations are NHWC; a "row" is one pixel or token. */
#ifndef VKTI_PC_SHAPE_H
#define VKTI_PC_SHAPE_H
#include "pc_common.h"

/* Row-parallel shaders run 64 channel lanes x VKTI_SHAPE_ROWS rows per workgroup. */
#define VKTI_SHAPE_LANES 64
#define VKTI_SHAPE_ROWS 4

/* flags */
#define VKTI_SHAPE_BACKWARD 1u    /* upsample: dx = sum of 2x2 blocks of dy */
#define VKTI_SHAPE_ACCUMULATE 2u  /* chslice, embed_scatter: add to the destination */
#define VKTI_SHAPE_FLIP 4u        /* timestep_embed: flip_sin_to_cos, [cos | sin] */
#define VKTI_SHAPE_T_I32 8u       /* timestep_embed: timesteps are i32 (else f32) */

/* upsample:       out [N, 2H, 2W, C] = nearest(x [N, H, W, C]); backward dx = 2x2 sums of dy.
 * concat:         out [rows, C + C2] = [a [rows, C] | b [rows, C2]].
 * chslice:        dst [rows, C] (+)= src [rows, C2][:, first : first + C].
 * bcast_add:      out [N, P, C] = x + b [N, C]; bcast_add_grad: db [N, C] = sum_p dy.
 * timestep_embed: out [N, C] (C = dim): w_j = exp(j * coef), a = scale * t_n * w_j,
 *                 [cos a | sin a] (FLIP) or [sin a | cos a] over 2 * half_dim columns, then a
 *                 zero column when dim is odd (diffusers get_timestep_embedding).
 * embed_gather:   out [rows, C] (C = D) = table [V, D] row id if id < V (rows below `first`
 *                 from table0, the rest from table1), extra [E, D] row id - V if
 *                 V <= id < V + E, else zeros; embed_scatter: d_extra [E, D] (+)=
 *                 sum of the d_out rows whose id is V + e. */
VKTI_PUSH_BEGIN(vkti_pc_shape)
    VKTI_PC_U32 rows;      /* rows to produce: upsample, concat, chslice, embed */
    VKTI_PC_U32 C;         /* channels of the output (embed: D; timestep_embed: dim) */
    VKTI_PC_U32 C2;        /* concat: channels of b; chslice: channels of src */
    VKTI_PC_U32 first;     /* chslice: first source channel; embed_gather: first row of table1 */
    VKTI_PC_U32 H;         /* upsample: the small tensor's height and width */
    VKTI_PC_U32 W;
    VKTI_PC_U32 N;         /* bcast_add, timestep_embed: samples */
    VKTI_PC_U32 P;         /* bcast_add: pixels per sample */
    VKTI_PC_U32 half_dim;  /* timestep_embed */
    VKTI_PC_U32 V;         /* embed: vocabulary rows */
    VKTI_PC_U32 E;         /* embed: learned rows */
    VKTI_PC_U32 flags;
    VKTI_PC_F32 coef;      /* timestep_embed: -ln(max_period) / (half_dim - shift) */
    VKTI_PC_F32 scale;     /* timestep_embed */
VKTI_PUSH_END(vkti_pc_shape)
VKTI_PUSH_CHECK(vkti_pc_shape)

#endif
