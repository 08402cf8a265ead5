/* pickle_write.h — a minimal Python pickle writer, protocol 2: the opcodes CPython's pickler emits
 * for the few things a torch.save file of tensors holds (dicts, str, int, bool, None, tuples,
 * globals, REDUCE, persistent ids), byte for byte as CPython writes them, so that the file vkti
 * writes is the file torch.save would write for the same object.
 *
 * CPython's pickler memoizes every dict, str, tuple, global and REDUCE result the moment it is
 * written (BINPUT n; LONG_BINPUT past 255) and writes BINGET for an object it meets again, by
 * identity. This writer follows that: every call below that makes such an object memoizes it;
 * a global (module, name) written twice is fetched from the memo the second time (a class is one
 * object); so is a one-character str below U+0100 (CPython keeps one object for each of those).
 * Any other str is written anew each time, as distinct str objects are.
 *
 * Building order is the pickler's: a container is opened, its items written, then closed:
 *   dict:   vkti_pkw_empty_dict; vkti_pkw_items_begin(n); n times key, value; vkti_pkw_items_end(n)
 *   tuple:  vkti_pkw_tuple_begin(n); n items; vkti_pkw_tuple_end(n)
 *   call:   vkti_pkw_global(f); the argument tuple; vkti_pkw_reduce
 *   persistent id: the id (a tuple); vkti_pkw_binpersid
 * Memory failures are remembered and reported once by vkti_pkw_finish. */
#ifndef VKTI_IO_PICKLE_WRITE_H
#define VKTI_IO_PICKLE_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

#define VKTI_PKW_BATCH 1000 /* CPython writes dict items in SETITEMS batches of this many */

typedef struct vkti_pkw_global_memo {
    char *qualname; /* "module\nname" */
    uint32_t index;
} vkti_pkw_global_memo;

typedef struct vkti_pkw {
    uint8_t *buf;
    size_t len, cap;
    uint32_t memo;                 /* the next memo index */
    int64_t char_memo[256];        /* memo index of each one-character str, -1 if not written */
    vkti_pkw_global_memo *globals; /* globals written so far */
    size_t global_count;
    int oom;
} vkti_pkw;

/* Starts a pickle: PROTO 2. */
void vkti_pkw_init(vkti_pkw *w);
void vkti_pkw_free(vkti_pkw *w);
/* Ends it (STOP) and hands the bytes over (*out: free() it); w is freed either way. */
int vkti_pkw_finish(vkti_diag *d, vkti_pkw *w, uint8_t **out, size_t *size);

void vkti_pkw_none(vkti_pkw *w);
void vkti_pkw_bool(vkti_pkw *w, int v);
/* BININT1, BININT2, BININT or LONG1, as CPython chooses for v */
void vkti_pkw_int(vkti_pkw *w, int64_t v);
/* s[0..n): valid UTF-8 (the caller's check) */
void vkti_pkw_str(vkti_pkw *w, const char *s, size_t n);
void vkti_pkw_empty_dict(vkti_pkw *w);
/* Around the n key/value pairs of a dict (n <= VKTI_PKW_BATCH): MARK ... SETITEMS for n > 1,
 * SETITEM for n == 1, nothing for an empty dict. */
void vkti_pkw_items_begin(vkti_pkw *w, size_t n);
void vkti_pkw_items_end(vkti_pkw *w, size_t n);
/* Around the n items of a tuple: EMPTY_TUPLE for n == 0; TUPLE1..3; MARK ... TUPLE past 3. */
void vkti_pkw_tuple_begin(vkti_pkw *w, size_t n);
void vkti_pkw_tuple_end(vkti_pkw *w, size_t n);
/* GLOBAL "module\nname\n" (or BINGET when written before) */
void vkti_pkw_global(vkti_pkw *w, const char *module, const char *name);
/* REDUCE: calls the global two values down with the tuple on top */
void vkti_pkw_reduce(vkti_pkw *w);
/* BINPERSID: the value on top is a persistent id */
void vkti_pkw_binpersid(vkti_pkw *w);

/* A tensor as torch.Tensor.__reduce_ex__ gives it and torch.save pickles it:
 *   torch._utils._rebuild_tensor_v2(
 *       persistent id ('storage', torch.<storage_type>, storage_key, 'cpu', storage_numel),
 *       offset, tuple(shape), tuple(stride), requires_grad, collections.OrderedDict())
 * storage_type is "FloatStorage", "HalfStorage"...; storage_key "0", "1"... (torch numbers the
 * storages in the order it meets them). */
void vkti_pkw_tensor(vkti_pkw *w, const char *storage_type, const char *storage_key, uint64_t storage_numel,
                     uint64_t offset, int ndim, const int64_t *shape, const int64_t *stride, int requires_grad);

#endif
