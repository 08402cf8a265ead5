/* io_tensor.h — tensors as model files hold them: the file dtypes (with safetensors' names), a
 * descriptor of one tensor's elements inside a mapped file (shape, strides, pointer), and conversion
 * of those elements — packed or strided — to f32, f16 or packed raw bytes in a caller's buffer.
 * The safetensors and torch-checkpoint readers both describe their tensors this way, so a model
 * loader treats the two formats alike. File data is little-endian; vkti builds on little-endian
 * hosts only (io_tensor.c checks). */
#ifndef VKTI_IO_IO_TENSOR_H
#define VKTI_IO_IO_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

#define VKTI_IO_MAX_DIMS 8 /* Stable Diffusion needs 4; files with more are refused by name */

typedef enum vkti_io_dtype {
    VKTI_IO_F64 = 0,
    VKTI_IO_F32,
    VKTI_IO_F16,
    VKTI_IO_BF16,
    VKTI_IO_I64,
    VKTI_IO_I32,
    VKTI_IO_I16,
    VKTI_IO_I8,
    VKTI_IO_U8,
    VKTI_IO_BOOL,
    VKTI_IO_DTYPE_COUNT
} vkti_io_dtype;

size_t vkti_io_dtype_size(vkti_io_dtype t);
/* safetensors' name: "F32", "BF16", "BOOL"... */
const char *vkti_io_dtype_name(vkti_io_dtype t);
/* From a safetensors name (exact, case-sensitive); -1 if it is not one vkti reads. */
int vkti_io_dtype_from_name(const char *name, vkti_io_dtype *out);
int vkti_io_dtype_is_float(vkti_io_dtype t);

typedef struct vkti_io_tensor {
    const char *name;                    /* owned by the file object it came from; may be NULL */
    vkti_io_dtype dtype;
    int ndim;                            /* 0: a scalar (one element) */
    int64_t shape[VKTI_IO_MAX_DIMS];
    int64_t stride[VKTI_IO_MAX_DIMS];    /* in elements, >= 0 */
    int contiguous;                      /* 1: row-major packed, data[0..bytes) is the tensor */
    const uint8_t *data;                 /* the first element; every element shape and stride
                                            address lies inside the file (the readers check). It
                                            may be unaligned: read it with memcpy or the
                                            conversions below, never through a cast pointer */
    uint64_t numel;
    uint64_t bytes;                      /* numel * element size: the size of a packed copy */
} vkti_io_tensor;

/* Overflow-checked element count of a shape (each dimension >= 0); 0 on overflow past 2^62. */
int vkti_io_numel(int ndim, const int64_t *shape, uint64_t *numel);
/* Fills stride (row-major), contiguous, numel and bytes from dtype, ndim and shape (which the
 * caller has checked with vkti_io_numel). */
void vkti_io_tensor_set_packed(vkti_io_tensor *t);
/* "F32 [320, 4, 3, 3]" */
char *vkti_io_tensor_describe(const vkti_io_tensor *t, char *buf, size_t cap);

/* Converts all numel elements, in row-major order, into dst (count must equal numel): floats are
 * rounded to nearest even (f64 -> f32, f32 -> f16), integers and booleans converted by value.
 * Strided (non-contiguous) tensors are gathered: nothing is ever refused for its layout. */
int vkti_io_tensor_to_f32(vkti_diag *d, const vkti_io_tensor *t, float *dst, uint64_t count);
int vkti_io_tensor_to_f16(vkti_diag *d, const vkti_io_tensor *t, uint16_t *dst, uint64_t count);
/* Copies the elements, packed in row-major order, unconverted (bytes must equal t->bytes). */
int vkti_io_tensor_copy(vkti_diag *d, const vkti_io_tensor *t, void *dst, uint64_t bytes);

#endif
