/* ckpt.h — PyTorch checkpoints as torch.save writes them (.pt, .pth, .ckpt), read without running
 * anything. The file is a zip archive (zip.h) whose entries share one folder, <archive>/:
 *   data.pkl     the saved object, pickled (protocol 2 by default);
 *   data/<key>   the raw little-endian bytes of each storage, stored uncompressed;
 *   byteorder    "little" (absent in files from before PyTorch 2.1: little then too);
 *   version      the format version (".data/version" in newer files).
 * The pickle (pickle.h) may name only what a checkpoint of tensors needs — collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 / _rebuild_parameter / _rebuild_parameter_with_state, the storage
 * types torch.{Double,Float,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage and
 * torch.storage.UntypedStorage, and, for old textual-inversion embeddings,
 * torch.nn.modules.container.ParameterDict with builtins.set, plus _codecs.encode (how protocol 2
 * writes bytes). Any other global is refused with a message naming it ("refuses to load: the
 * pickle calls os.system"). Each persistent id ('storage', type, key, location, numel) must name an
 * entry data/<key> of exactly numel elements; each tensor's shape, strides and offset must stay
 * inside its storage. Non-contiguous tensors are accepted: io_tensor's conversions gather them.
 * The legacy (pre-1.6, non-zip) format and TorchScript archives are refused with what to do.
 *
 * A state dict is root["state_dict"] (Lightning/SD .ckpt) or the root itself. An AUTOMATIC1111
 * embedding .pt is a dict: string_to_token {"*": 265}, string_to_param {"*": tensor}, name, step,
 * sd_checkpoint, sd_checkpoint_name; in the oldest ones string_to_param is a ParameterDict (a
 * VKTI_PK_OBJECT whose state["_parameters"] is the dict of tensors). */
#ifndef VKTI_IO_CKPT_H
#define VKTI_IO_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"
#include "base/platform.h"
#include "io/io_tensor.h"
#include "io/pickle.h"
#include "io/zip.h"

#define VKTI_CKPT_MAX_TENSORS (1u << 20)
#define VKTI_CKPT_MAX_INFLATED ((uint64_t)4 << 30) /* bytes inflated from deflated storages, in all */

typedef struct vkti_ckpt_storage {
    const char *key;
    vkti_io_dtype dtype;
    uint64_t numel;
    const uint8_t *data;        /* numel elements, in the mapped file or an inflated copy */
    const vkti_pk_value *value; /* the value persistent ids resolve to */
} vkti_ckpt_storage;

typedef struct vkti_ckpt {
    char *path;                      /* the name messages use */
    const uint8_t *data;             /* the whole file */
    size_t size;
    char *prefix;                    /* the archive's folder, "archive" or the saved file's name */
    int version;                     /* the version record, 0 if there is none */
    const vkti_pk_value *root;       /* the saved object */
    vkti_io_tensor *tensors;         /* every tensor the pickle rebuilt, in order (name NULL) */
    size_t tensor_count;
    vkti_ckpt_storage *storages;
    size_t storage_count;
    /* private */
    vkti_zip zip_;
    vkti_pickle *pickle_;
    vkti_mapped_file file_;
    uint32_t *entry_storage_;        /* per zip entry: index + 1 of its storage, 0 if none */
    uint8_t **owned_;                /* inflated buffers */
    size_t owned_count_;
    uint64_t inflated_;
} vkti_ckpt;

/* Maps and reads a checkpoint. On failure *c is empty (closing it is harmless). */
int vkti_ckpt_open(vkti_diag *d, vkti_ckpt *c, const char *path);
/* The same over bytes in memory (name: for messages); data must outlive *c. */
int vkti_ckpt_parse(vkti_diag *d, vkti_ckpt *c, const char *name, const uint8_t *data, size_t size);
void vkti_ckpt_close(vkti_ckpt *c);

/* The tensor value v stands for, or NULL if v is not a tensor. */
const vkti_io_tensor *vkti_ckpt_tensor(const vkti_ckpt *c, const vkti_pk_value *v);
/* The state dict: root["state_dict"] if the root is a dict holding a dict there, else the root
 * if it is a dict; NULL otherwise. */
const vkti_pk_value *vkti_ckpt_state_dict(const vkti_ckpt *c);
/* The tensors of a dict, named by their (str) keys, in the dict's order: *out is a new array
 * (free() it) whose names point into c. Values that are not tensors are left out and counted in
 * *skipped (may be NULL). A key that is not a str, or holds a NUL, is an error. */
int vkti_ckpt_dict_tensors(vkti_diag *d, const vkti_ckpt *c, const vkti_pk_value *dict, vkti_io_tensor **out,
                           size_t *count, size_t *skipped);

#endif
