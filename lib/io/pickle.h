/* pickle.h -- a safe pickle reader: a small virtual machine that interprets the
 * opcodes NumPy's and torch's pickles use (protocols 2 to 5) and builds a tree of
 * plain values. It never imports or calls anything: the only globals it accepts
 * are a fixed list (NumPy array/dtype/scalar reconstruction, _codecs.encode and
 * bytes() for protocol 2's bytes, collections.OrderedDict, torch's tensor rebuild
 * and storage types), and each of
 * those is interpreted here by a few lines of C. Any other global (os.system,
 * builtins.eval, ...) stops the run with an error naming it.
 *
 * Bounds: bytes, strings and array data are referenced in place in the input (a
 * declared length beyond the end of the input is an error, never an allocation);
 * every opcode allocates O(1) values, so memory is proportional to the input; the
 * stack, the mark depth and the memo are bounded. Values may share children (memo
 * gets) and may even form cycles (a list appended to itself): consumers walk the
 * tree to a fixed depth and never recurse on arbitrary values. */
#ifndef SM_IO_PICKLE_H
#define SM_IO_PICKLE_H

#include "core/error.h"
#include "io/dtype.h"

#include <stddef.h>
#include <stdint.h>

#define SM_PICKLE_MAX_MARKS 256       /* nested MARKs */
#define SM_PICKLE_MAX_STACK (1 << 22) /* stack entries */
#define SM_PICKLE_MAX_MEMO (1 << 24)  /* memo entries */
#define SM_PICKLE_MAX_DIMS 8          /* ndarray / tensor dimensions */

typedef enum sm_pv_kind {
    SM_PV_NONE,
    SM_PV_BOOL,
    SM_PV_INT,      /* fits in int64 */
    SM_PV_BIGINT,   /* LONG1/LONG4 wider than 64 bits: raw little-endian bytes */
    SM_PV_FLOAT,
    SM_PV_STR,      /* UTF-8 bytes in place (not NUL-terminated) */
    SM_PV_BYTES,    /* bytes / bytearray, possibly latin-1 text (see sm_pbytes) */
    SM_PV_TUPLE,
    SM_PV_LIST,
    SM_PV_DICT,     /* dict and collections.OrderedDict: insertion order kept */
    SM_PV_GLOBAL,   /* one of the accepted globals (a class or function) */
    SM_PV_DTYPE,    /* numpy.dtype */
    SM_PV_NDARRAY,  /* numpy.ndarray */
    SM_PV_STORAGE,  /* a torch storage reference (persistent id) */
    SM_PV_TENSOR    /* torch._utils._rebuild_tensor_v2(...) */
} sm_pv_kind;

/* The accepted globals. */
typedef enum sm_global_id {
    SM_G_NP_RECONSTRUCT,   /* numpy.core.multiarray._reconstruct */
    SM_G_NP_NDARRAY,       /* numpy.ndarray */
    SM_G_NP_DTYPE,         /* numpy.dtype */
    SM_G_NP_SCALAR,        /* numpy.core.multiarray.scalar */
    SM_G_NP_FROMBUFFER,    /* numpy.core.numeric._frombuffer (protocol 5) */
    SM_G_CODECS_ENCODE,    /* _codecs.encode (protocol 2 bytes) */
    SM_G_EMPTY_BYTES,      /* __builtin__.bytes() (protocol 2 empty bytes, e.g. an empty
                              array's data); only without arguments */
    SM_G_ORDERED_DICT,     /* collections.OrderedDict */
    SM_G_TORCH_REBUILD_V2, /* torch._utils._rebuild_tensor_v2 */
    SM_G_TORCH_REBUILD,    /* torch._utils._rebuild_tensor (older files) */
    SM_G_TORCH_PARAMETER,  /* torch._utils._rebuild_parameter */
    SM_G_TORCH_STORAGE     /* torch.<Type>Storage: dtype in sm_pv.u.global.dtype */
} sm_global_id;

/* Bytes held by a value. With latin1 set, p/len is the UTF-8 encoding of a str
 * whose characters are all < 256 and the bytes are those characters: protocol 2
 * writes bytes as _codecs.encode(str, 'latin1'). Decoding is lazy, so the pages
 * of arrays nobody reads are never touched. */
typedef struct sm_pbytes {
    const uint8_t *p;
    size_t len;
    int latin1;
} sm_pbytes;

/* Number of bytes after decoding (len itself unless latin1). SELFMM_ERR_FORMAT when
 * the latin-1 text is not valid UTF-8 of characters < 256. */
selfmm_status sm_pbytes_size(const sm_pbytes *b, size_t *out, selfmm_error *err);

/* One character of latin-1 text p[0..len) at byte *i (its UTF-8: one byte below
 * 0x80, or 0xC2/0xC3 and a continuation byte): the byte it stands for, and *i
 * moves past it; -1 (*i unchanged) when the bytes at *i are not such a character
 * or *i is at the end. */
static inline int sm_latin1_next(const uint8_t *p, size_t len, size_t *i)
{
    if (*i >= len) return -1;
    uint8_t c = p[*i];
    if (c < 0x80) {
        *i += 1;
        return c;
    }
    if ((c == 0xC2 || c == 0xC3) && *i + 1 < len && (p[*i + 1] & 0xC0) == 0x80) {
        int v = ((c & 0x03) << 6) | (p[*i + 1] & 0x3F);
        *i += 2;
        return v;
    }
    return -1;
}

typedef struct sm_np_dtype {
    sm_dtype dt;
    int itemsize;          /* bytes per element */
    char byteorder;        /* '<', '>', '|' or '=' */
} sm_np_dtype;

typedef struct sm_pv sm_pv;

typedef struct sm_ndarray {
    sm_np_dtype dtype;
    int ndim;
    int64_t shape[SM_PICKLE_MAX_DIMS];
    int fortran;           /* column-major data */
    int built;             /* state set (BUILD or _frombuffer) */
    sm_pbytes data;        /* raw element bytes (not for SM_DT_OBJECT) */
    sm_pv *objects;        /* SM_DT_OBJECT: a list of the items */
} sm_ndarray;

typedef struct sm_storage {
    sm_dtype dtype;        /* from the storage class */
    const char *key;       /* NUL-terminated copy */
    const char *location;  /* "cpu", ... */
    int64_t numel;         /* elements */
    /* Legacy files may reference a view of a root storage: offset and size of the
     * view in elements of the root (view == 0 otherwise). */
    int view;
    int64_t view_offset, view_numel;
    void *user;            /* for the checkpoint reader: resolved bytes */
} sm_storage;

typedef struct sm_tensor_ref {
    sm_pv *storage;        /* SM_PV_STORAGE */
    int64_t offset;        /* in elements */
    int ndim;
    int64_t size[SM_PICKLE_MAX_DIMS];
    int64_t stride[SM_PICKLE_MAX_DIMS];
} sm_tensor_ref;

struct sm_pv {
    sm_pv_kind kind;
    union {
        int b;
        int64_t i;
        double f;
        struct { const uint8_t *p; size_t len; } big;
        struct { const char *p; size_t len; } str;
        sm_pbytes bytes;
        struct { sm_pv **items; size_t n, cap; } seq;            /* tuple, list */
        struct { sm_pv **keys, **vals; size_t n, cap; } dict;
        struct { sm_global_id id; sm_dtype dtype; const char *name; } global;
        sm_np_dtype dtype;
        sm_ndarray *arr;
        sm_storage *storage;
        sm_tensor_ref *tensor;
    } u;
};

typedef struct sm_pickle sm_pickle;

/* Options of one run. */
typedef struct sm_pickle_opts {
    int allow_torch;       /* accept torch globals and BINPERSID storage references */
    /* Persistent ids are ('storage', type, key, location, numel) in zip files and
     * ('storage', type, key, location, numel, view_metadata) in legacy files. */
} sm_pickle_opts;

/* Run one pickle from buf[0..len). On success *root is the value of STOP and
 * *consumed the bytes read (a file may hold several pickles back to back). The
 * values live until sm_pickle_free(p). what names the input in messages. On
 * failure *out is still set (free it) and the message names the opcode offset. */
selfmm_status sm_pickle_run(const uint8_t *buf, size_t len, const sm_pickle_opts *opts,
                            const char *what, sm_pickle **out, sm_pv **root, size_t *consumed,
                            selfmm_error *err);
void sm_pickle_free(sm_pickle *p);
/* Every storage reference of the run (SM_PV_STORAGE, one per BINPERSID, in input
 * order; a storage referenced twice appears twice), wherever it sits in the tree:
 * legacy checkpoints store the bytes of all of them. */
sm_pv *const *sm_pickle_storages(const sm_pickle *p, size_t *n);

/* Small helpers for consumers. */
const char *sm_pv_kind_name(sm_pv_kind k);
/* A dict's value for a str key, or NULL. Dicts keep every SETITEM in order; a
 * key set twice appears twice when iterating, and this returns the last value. */
sm_pv *sm_pv_dict_get(const sm_pv *dict, const char *key);
/* 1 when v is a str equal to s. */
int sm_pv_str_eq(const sm_pv *v, const char *s);
/* A malloc'd NUL-terminated copy of a str value (NULL on allocation failure). */
char *sm_pv_str_dup(const sm_pv *v);

#endif
