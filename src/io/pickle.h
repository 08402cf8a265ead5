/* pickle.h — a Python pickle interpreter that builds a tree of values and executes nothing.
 *
 * It reads protocols 0 to 5 (torch.save writes protocol 2). Plain data (None, bools, ints up to
 * 64 bits, floats, str, bytes, tuples, lists, dicts, sets) becomes values directly. Everything a
 * real unpickler would import or call goes through the caller's hooks instead: GLOBAL and
 * STACK_GLOBAL ask find_class, which accepts an allow-listed name (returning an id) or refuses it;
 * REDUCE and NEWOBJ hand the accepted callable and its argument tuple to call, which builds a
 * value; BINPERSID/PERSID hand the persistent id to persistent_load. BUILD only records its
 * argument as the value's state, and only on dicts, objects and host values. INST, OBJ, the
 * extension registry and out-of-band buffers are refused.
 *
 * Hostile input: every read is bounds-checked; the stack, marks, memo, value count, memory, string
 * sizes and nesting depth are capped (limits below); a value cannot change once it has been put
 * into another (so no cycles can form, and the tree's expanded size and depth are known and
 * capped); a dict holding one str or int key twice is refused. The result is a DAG that any walk
 * can traverse in bounded time. */
#ifndef VKTI_IO_PICKLE_H
#define VKTI_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

#define VKTI_PK_MAX_INPUT (64u << 20)   /* bytes of pickle (an SD checkpoint's is ~200 KB) */
#define VKTI_PK_MAX_VALUES (2u << 20)   /* values built */
#define VKTI_PK_MAX_MEMORY (256u << 20) /* bytes the values, strings and item arrays may take */
#define VKTI_PK_MAX_STACK (1u << 20)    /* stack entries */
#define VKTI_PK_MAX_MARKS (1u << 16)    /* open MARKs */
#define VKTI_PK_MAX_MEMO (1u << 20)     /* highest memo index + 1 */
#define VKTI_PK_MAX_DEPTH 100           /* nesting of containers */
#define VKTI_PK_MAX_TREE (1u << 26)     /* values in the tree with shared ones counted each time */

typedef enum vkti_pk_kind {
    VKTI_PK_NONE = 0,
    VKTI_PK_BOOL,   /* i: 0 or 1 */
    VKTI_PK_INT,    /* i */
    VKTI_PK_FLOAT,  /* f */
    VKTI_PK_STR,    /* s, len: UTF-8 (checked), NUL-terminated (may hold NULs inside: see len) */
    VKTI_PK_BYTES,  /* s, len */
    VKTI_PK_TUPLE,  /* items, count */
    VKTI_PK_LIST,   /* items, count */
    VKTI_PK_SET,    /* items, count (set and frozenset) */
    VKTI_PK_DICT,   /* items: count key/value pairs, key0 value0 key1 value1...; flags ORDERED */
    VKTI_PK_GLOBAL, /* an allow-listed callable or class: i = find_class's id, s = "module.name" */
    VKTI_PK_OBJECT, /* an instance of an allow-listed class (NEWOBJ): s = its "module.name", state */
    VKTI_PK_HOST    /* a value the hooks made: i = their type, len = their index, host = theirs */
} vkti_pk_kind;

#define VKTI_PK_ORDERED 1u /* a DICT built as collections.OrderedDict */

typedef struct vkti_pk_value vkti_pk_value;
struct vkti_pk_value {
    vkti_pk_kind kind;
    uint32_t flags;
    int64_t i;
    double f;
    const char *s;
    size_t len;
    vkti_pk_value **items;
    size_t count;
    vkti_pk_value *state; /* what BUILD gave it (an OrderedDict's attributes, an object's __dict__) */
    void *host;
    /* private */
    size_t cap_;
    uint32_t height_;     /* 1 + the deepest child */
    uint64_t weight_;     /* values in the subtree, shared ones counted each time */
    int frozen_;          /* placed into another value: no longer changes */
};

typedef struct vkti_pickle vkti_pickle;

typedef struct vkti_pk_hooks {
    void *user;
    /* GLOBAL: accept module.name by setting *id, or refuse it (return a status and a message). */
    int (*find_class)(void *user, vkti_diag *d, vkti_pickle *pk, const char *module, const char *name, int64_t *id);
    /* REDUCE (newobj 0) or NEWOBJ (newobj 1): callable is a GLOBAL value, args a TUPLE. */
    int (*call)(void *user, vkti_diag *d, vkti_pickle *pk, const vkti_pk_value *callable, const vkti_pk_value *args,
                int newobj, vkti_pk_value **out);
    int (*persistent_load)(void *user, vkti_diag *d, vkti_pickle *pk, const vkti_pk_value *pid, vkti_pk_value **out);
} vkti_pk_hooks;

/* Interprets data (what: the name messages use, e.g. "model.ckpt: archive/data.pkl"). hooks may
 * be NULL: then every global and persistent id is refused. On success *out owns the tree. */
int vkti_pickle_load(vkti_diag *d, vkti_pickle **out, const char *what, const uint8_t *data, size_t size,
                     const vkti_pk_hooks *hooks);
void vkti_pickle_free(vkti_pickle *pk);
const vkti_pk_value *vkti_pickle_root(const vkti_pickle *pk);

/* For hooks, while loading: a new value (NULL when a limit is hit or memory is out; the message
 * is then set and the hook returns vkti_pickle_status(pk)). Strings are copied. */
vkti_pk_value *vkti_pk_new(vkti_pickle *pk, vkti_pk_kind kind);
vkti_pk_value *vkti_pk_new_str(vkti_pickle *pk, vkti_pk_kind kind, const void *s, size_t len);
/* Appends item to a new TUPLE/LIST/SET, or a key and value to a DICT (0 ok, else a status). */
int vkti_pk_append(vkti_pickle *pk, vkti_pk_value *container, vkti_pk_value *item);
int vkti_pk_set_item(vkti_pickle *pk, vkti_pk_value *dict, vkti_pk_value *key, vkti_pk_value *value);
int vkti_pickle_status(const vkti_pickle *pk);
/* The name messages use, as given to vkti_pickle_load. */
const char *vkti_pickle_what(const vkti_pickle *pk);
/* Where the interpreter is (the byte offset of the opcode running), and the str key the value a
 * hook is building will most likely be stored under (a guess from the stack; NULL if none):
 * for hooks' messages ("the tensor under 'model.conv.weight'"). */
size_t vkti_pickle_pos(const vkti_pickle *pk);
const vkti_pk_value *vkti_pickle_hint(const vkti_pickle *pk);

/* Reading the tree. */
/* The value under a str key of a DICT, or NULL (also when v is not a dict). */
const vkti_pk_value *vkti_pk_get(const vkti_pk_value *dict, const char *key);
/* 1 if v is a STR equal to s. */
int vkti_pk_is_str(const vkti_pk_value *v, const char *s);
const char *vkti_pk_kind_name(vkti_pk_kind kind);

#endif
