/* safetensors.h — the safetensors format (https://github.com/huggingface/safetensors): a reader
 * over a memory-mapped file that makes every check of the reference implementation (and a few
 * more), and a writer whose files the reference loads.
 *
 * Layout: 8 bytes little-endian header length N, N bytes of UTF-8 JSON, then the data section.
 * The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
 * into the data section) and may hold "__metadata__", a string -> string map.
 *
 * Reader checks, each with its own message naming the file and the tensor: file >= 8 bytes;
 * N <= VKTI_ST_MAX_HEADER and inside the file; the header is valid UTF-8 and strict JSON whose top
 * level is an object; dtypes known (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL; any other is refused
 * by name); shapes lists of non-negative integers whose product fits; data_offsets two
 * non-negative integers, begin <= end, end - begin = numel * dtype size; the tensors, in offset
 * order, tile the data section exactly (no gap, no overlap, nothing past its end, no trailing
 * bytes); no name twice; no NUL in a name; __metadata__ a string -> string object (or null).
 * Unknown fields of a tensor entry are ignored, as the reference does. */
#ifndef VKTI_IO_SAFETENSORS_H
#define VKTI_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"
#include "base/platform.h"
#include "io/io_tensor.h"

#define VKTI_ST_MAX_HEADER 100000000u /* the reference's MAX_HEADER_SIZE */
#define VKTI_ST_MAX_TENSORS (1u << 20) /* SD 1.x has ~1,100 tensors, SDXL ~2,500 */

typedef struct vkti_st_meta {
    const char *key, *value;
} vkti_st_meta;

typedef struct vkti_safetensors {
    char *path;                   /* the name messages use */
    const uint8_t *data;          /* the whole file */
    size_t size;
    uint64_t header_len;          /* N */
    vkti_io_tensor *tensors;      /* count, in data order; names and data point into this object */
    size_t count;
    vkti_st_meta *meta;           /* meta_count pairs of __metadata__, in file order */
    size_t meta_count;
    uint32_t *by_name_;           /* tensor indices sorted by name */
    char *pool_;                  /* decoded strings */
    vkti_mapped_file file_;
} vkti_safetensors;

/* Maps and checks a file. On failure *st is left empty (closing it is harmless). */
int vkti_safetensors_open(vkti_diag *d, vkti_safetensors *st, const char *path);
/* The same over bytes in memory (name: for messages). data must outlive *st. */
int vkti_safetensors_parse(vkti_diag *d, vkti_safetensors *st, const char *name, const uint8_t *data, size_t size);
void vkti_safetensors_close(vkti_safetensors *st);

/* The tensor called name, or NULL. */
const vkti_io_tensor *vkti_safetensors_find(const vkti_safetensors *st, const char *name);
/* The __metadata__ value for key, or NULL. */
const char *vkti_safetensors_meta(const vkti_safetensors *st, const char *key);

/* Writer. Each tensor needs name, dtype, ndim, shape and data, with numel/bytes/strides as
 * vkti_io_tensor_set_packed fills them (or as a reader gave them: strided data is copied
 * packed); names must be distinct valid UTF-8, not "__metadata__". Tensors are written sorted by
 * descending dtype alignment, then by name (bytewise) — the reference's order: with the header
 * padded with spaces to a multiple of 8, every tensor's data is then aligned to its element size
 * in the file (so readers can use it in place), and the file does not depend on the caller's order.
 * Metadata pairs go in the order given (keys distinct). The file is built in memory. */
int vkti_safetensors_serialize(vkti_diag *d, const vkti_io_tensor *tensors, size_t count,
                               const vkti_st_meta *meta, size_t meta_count, uint8_t **out, size_t *size);
/* Serializes and writes path atomically (temporary file, flush, rename). */
int vkti_safetensors_write(vkti_diag *d, const char *path, const vkti_io_tensor *tensors, size_t count,
                           const vkti_st_meta *meta, size_t meta_count);

#endif
