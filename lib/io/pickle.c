/* pickle.c -- the safe pickle VM (see pickle.h). Opcode semantics follow CPython's
 * Lib/pickle.py (_Unpickler); the globals are interpreted, never looked up. */
#include "io/pickle.h"

#include "core/quote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUES_PER_BLOCK 1024

struct sm_pickle {
    /* allocation */
    sm_pv *block;               /* current block of values */
    int block_used;
    void **owned;               /* every malloc'd block, freed at the end */
    size_t n_owned, cap_owned;
    sm_pv **containers;         /* values whose item arrays are malloc'd */
    size_t n_containers, cap_containers;
    sm_pv **storages;           /* every SM_PV_STORAGE made (sm_pickle_storages) */
    size_t n_storages, cap_storages;
    /* machine */
    const uint8_t *buf;
    size_t len, pos, op_pos;
    sm_pv **stack;
    size_t sp, stack_cap;
    size_t marks[SM_PICKLE_MAX_MARKS];
    int n_marks;
    sm_pv **memo;
    size_t memo_n, memo_cap;
    sm_pickle_opts opts;
    const char *what;
    int opcode;
    selfmm_error *err;
};

/* ---- small things ---- */

const char *sm_pv_kind_name(sm_pv_kind k)
{
    static const char *const names[] = {"None", "bool", "int", "int", "float", "str", "bytes",
                                         "tuple", "list", "dict", "global", "numpy.dtype",
                                         "numpy.ndarray", "torch storage", "torch tensor"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

selfmm_status sm_pbytes_size(const sm_pbytes *b, size_t *out, selfmm_error *err)
{
    if (!b->latin1) {
        *out = b->len;
        return SELFMM_OK;
    }
    size_t n = 0;
    for (size_t i = 0; i < b->len; n++)
        if (sm_latin1_next(b->p, b->len, &i) < 0)
            return sm_error(err, SELFMM_ERR_FORMAT,
                            "latin-1 encoded bytes: invalid character at byte %zu", i);
    *out = n;
    return SELFMM_OK;
}

sm_pv *sm_pv_dict_get(const sm_pv *d, const char *key)
{
    if (!d || d->kind != SM_PV_DICT) return NULL;
    for (size_t i = d->u.dict.n; i-- > 0;) /* the last assignment wins */
        if (sm_pv_str_eq(d->u.dict.keys[i], key)) return d->u.dict.vals[i];
    return NULL;
}

int sm_pv_str_eq(const sm_pv *v, const char *s)
{
    if (!v || v->kind != SM_PV_STR) return 0;
    size_t n = strlen(s);
    return v->u.str.len == n && memcmp(v->u.str.p, s, n) == 0;
}

char *sm_pv_str_dup(const sm_pv *v)
{
    if (!v || v->kind != SM_PV_STR) return NULL;
    char *s = malloc(v->u.str.len + 1);
    if (!s) return NULL;
    memcpy(s, v->u.str.p, v->u.str.len);
    s[v->u.str.len] = '\0';
    return s;
}

/* ---- errors ---- */

static selfmm_status fail(sm_pickle *p, selfmm_status st, const char *fmt, ...) SM_PRINTF(3, 4);

static selfmm_status fail(sm_pickle *p, selfmm_status st, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int c = p->opcode;
    if (c < 0)
        return sm_error(p->err, st, "%s: pickle: %s", p->what, msg);
    return sm_error(p->err, st, "%s: pickle opcode 0x%02x%s%c%s at offset %zu: %s", p->what, c,
                    c >= 0x20 && c < 0x7f ? " '" : "", c >= 0x20 && c < 0x7f ? c : ' ',
                    c >= 0x20 && c < 0x7f ? "'" : "", p->op_pos, msg);
}

#define NOMEM(p) fail(p, SELFMM_ERR_NOMEM, "out of memory")

/* ---- allocation ---- */

static int own(sm_pickle *p, void *ptr)
{
    if (p->n_owned == p->cap_owned) {
        size_t cap = p->cap_owned ? p->cap_owned * 2 : 64;
        void **o = realloc(p->owned, cap * sizeof *o);
        if (!o) return 0;
        p->owned = o, p->cap_owned = cap;
    }
    p->owned[p->n_owned++] = ptr;
    return 1;
}

static void *alloc_owned(sm_pickle *p, size_t size)
{
    void *ptr = calloc(1, size);
    if (ptr && !own(p, ptr)) {
        free(ptr);
        return NULL;
    }
    return ptr;
}

/* Append v to a growing array of values. */
static int list_add(sm_pv ***items, size_t *n, size_t *cap, sm_pv *v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        sm_pv **grown = realloc(*items, c * sizeof *grown);
        if (!grown) return 0;
        *items = grown, *cap = c;
    }
    (*items)[(*n)++] = v;
    return 1;
}

static sm_pv *new_value(sm_pickle *p, sm_pv_kind kind)
{
    if (!p->block || p->block_used == VALUES_PER_BLOCK) {
        p->block = alloc_owned(p, VALUES_PER_BLOCK * sizeof(sm_pv));
        if (!p->block) return NULL;
        p->block_used = 0;
    }
    sm_pv *v = &p->block[p->block_used++];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    if ((kind == SM_PV_TUPLE || kind == SM_PV_LIST || kind == SM_PV_DICT) &&
        !list_add(&p->containers, &p->n_containers, &p->cap_containers, v))
        return NULL;
    return v;
}

static int seq_push(sm_pv *s, sm_pv *item)
{
    if (s->u.seq.n == s->u.seq.cap) {
        size_t cap = s->u.seq.cap ? s->u.seq.cap * 2 : 4;
        sm_pv **it = realloc(s->u.seq.items, cap * sizeof *it);
        if (!it) return 0;
        s->u.seq.items = it, s->u.seq.cap = cap;
    }
    s->u.seq.items[s->u.seq.n++] = item;
    return 1;
}

/* Items are appended; a key set twice keeps both entries and lookups see the
 * last one, as Python's dict does. (Replacing in place would make every SETITEM
 * a scan: quadratic for a dict of many keys.) */
static int dict_set(sm_pv *d, sm_pv *key, sm_pv *val)
{
    if (d->u.dict.n == d->u.dict.cap) {
        size_t cap = d->u.dict.cap ? d->u.dict.cap * 2 : 8;
        sm_pv **k = realloc(d->u.dict.keys, cap * sizeof *k);
        if (!k) return 0;
        d->u.dict.keys = k;
        sm_pv **v = realloc(d->u.dict.vals, cap * sizeof *v);
        if (!v) return 0;
        d->u.dict.vals = v;
        d->u.dict.cap = cap;
    }
    d->u.dict.keys[d->u.dict.n] = key;
    d->u.dict.vals[d->u.dict.n] = val;
    d->u.dict.n++;
    return 1;
}

void sm_pickle_free(sm_pickle *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_containers; i++) {
        sm_pv *v = p->containers[i];
        if (v->kind == SM_PV_DICT) {
            free(v->u.dict.keys);
            free(v->u.dict.vals);
        } else if (v->kind == SM_PV_TUPLE || v->kind == SM_PV_LIST) {
            free(v->u.seq.items);
        }
    }
    free(p->containers);
    free(p->storages);
    for (size_t i = 0; i < p->n_owned; i++) free(p->owned[i]);
    free(p->owned);
    free(p->stack);
    free(p->memo);
    free(p);
}

sm_pv *const *sm_pickle_storages(const sm_pickle *p, size_t *n)
{
    *n = p->n_storages;
    return p->storages;
}

/* ---- the stack ---- */

static size_t mark_base(const sm_pickle *p) { return p->n_marks ? p->marks[p->n_marks - 1] : 0; }

static selfmm_status push(sm_pickle *p, sm_pv *v)
{
    if (!v) return NOMEM(p);
    if (p->sp == p->stack_cap) {
        if (p->stack_cap >= SM_PICKLE_MAX_STACK)
            return fail(p, SELFMM_ERR_RANGE, "stack deeper than %d entries", SM_PICKLE_MAX_STACK);
        size_t cap = p->stack_cap ? p->stack_cap * 2 : 64;
        sm_pv **s = realloc(p->stack, cap * sizeof *s);
        if (!s) return NOMEM(p);
        p->stack = s, p->stack_cap = cap;
    }
    p->stack[p->sp++] = v;
    return SELFMM_OK;
}

/* Pop one value that lies above the current mark. */
static selfmm_status pop(sm_pickle *p, sm_pv **out)
{
    if (p->sp <= mark_base(p)) return fail(p, SELFMM_ERR_FORMAT, "stack underflow");
    *out = p->stack[--p->sp];
    return SELFMM_OK;
}

static selfmm_status top(sm_pickle *p, sm_pv **out)
{
    if (p->sp <= mark_base(p)) return fail(p, SELFMM_ERR_FORMAT, "stack underflow");
    *out = p->stack[p->sp - 1];
    return SELFMM_OK;
}

/* Pop the topmost mark: the items above it are stack[*base .. sp). */
static selfmm_status pop_mark(sm_pickle *p, size_t *base)
{
    if (!p->n_marks) return fail(p, SELFMM_ERR_FORMAT, "no MARK on the stack");
    *base = p->marks[--p->n_marks];
    return SELFMM_OK;
}

/* ---- reading the opcode stream ---- */

static selfmm_status need(sm_pickle *p, uint64_t n)
{
    if (n > p->len - p->pos)
        return fail(p, SELFMM_ERR_FORMAT, "needs %llu bytes, only %zu left (truncated?)",
                    (unsigned long long)n, p->len - p->pos);
    return SELFMM_OK;
}

static uint64_t read_le(sm_pickle *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p->buf[p->pos + (size_t)i];
    p->pos += (size_t)n;
    return v;
}

/* A length-prefixed blob: the prefix is `width` bytes. */
static selfmm_status read_blob(sm_pickle *p, int width, const uint8_t **data, size_t *len)
{
    SM_TRY(need(p, (uint64_t)width));
    uint64_t n = read_le(p, width);
    SM_TRY(need(p, n));
    *data = p->buf + p->pos;
    *len = (size_t)n;
    p->pos += (size_t)n;
    return SELFMM_OK;
}

/* ---- value constructors ---- */

static sm_pv *new_int(sm_pickle *p, int64_t i)
{
    sm_pv *v = new_value(p, SM_PV_INT);
    if (v) v->u.i = i;
    return v;
}

/* LONG1 / LONG4: little-endian two's complement of n bytes. */
static sm_pv *new_long(sm_pickle *p, const uint8_t *b, size_t n)
{
    if (n == 0) return new_int(p, 0);
    /* Drop redundant sign-extension bytes, then it fits in int64 if <= 8 bytes. */
    int neg = (b[n - 1] & 0x80) != 0;
    size_t m = n;
    while (m > 1 && b[m - 1] == (neg ? 0xFF : 0x00) && (((b[m - 2] & 0x80) != 0) == neg)) m--;
    if (m <= 8) {
        uint64_t u = neg ? ~(uint64_t)0 : 0;
        for (size_t i = 0; i < m; i++) {
            u &= ~((uint64_t)0xFF << (8 * i));
            u |= (uint64_t)b[i] << (8 * i);
        }
        return new_int(p, (int64_t)u);
    }
    sm_pv *v = new_value(p, SM_PV_BIGINT);
    if (v) v->u.big.p = b, v->u.big.len = n;
    return v;
}

static sm_pv *new_str(sm_pickle *p, const uint8_t *s, size_t n)
{
    sm_pv *v = new_value(p, SM_PV_STR);
    if (v) v->u.str.p = (const char *)s, v->u.str.len = n;
    return v;
}

static sm_pv *new_bytes(sm_pickle *p, const uint8_t *s, size_t n, int latin1)
{
    sm_pv *v = new_value(p, SM_PV_BYTES);
    if (v) v->u.bytes.p = s, v->u.bytes.len = n, v->u.bytes.latin1 = latin1;
    return v;
}

/* ---- globals ---- */

typedef struct global_entry {
    const char *module, *name;
    sm_global_id id;
    sm_dtype dtype;
    int torch;
} global_entry;

static const global_entry globals[] = {
    {"numpy.core.multiarray", "_reconstruct", SM_G_NP_RECONSTRUCT, 0, 0},
    {"numpy._core.multiarray", "_reconstruct", SM_G_NP_RECONSTRUCT, 0, 0},
    {"numpy", "ndarray", SM_G_NP_NDARRAY, 0, 0},
    {"numpy", "dtype", SM_G_NP_DTYPE, 0, 0},
    {"numpy.core.multiarray", "scalar", SM_G_NP_SCALAR, 0, 0},
    {"numpy._core.multiarray", "scalar", SM_G_NP_SCALAR, 0, 0},
    {"numpy.core.numeric", "_frombuffer", SM_G_NP_FROMBUFFER, 0, 0},
    {"numpy._core.numeric", "_frombuffer", SM_G_NP_FROMBUFFER, 0, 0},
    {"_codecs", "encode", SM_G_CODECS_ENCODE, 0, 0},
    {"__builtin__", "bytes", SM_G_EMPTY_BYTES, 0, 0},
    {"builtins", "bytes", SM_G_EMPTY_BYTES, 0, 0},
    {"collections", "OrderedDict", SM_G_ORDERED_DICT, 0, 0},
    {"torch._utils", "_rebuild_tensor_v2", SM_G_TORCH_REBUILD_V2, 0, 1},
    {"torch._utils", "_rebuild_tensor", SM_G_TORCH_REBUILD, 0, 1},
    {"torch._utils", "_rebuild_parameter", SM_G_TORCH_PARAMETER, 0, 1},
    {"torch", "FloatStorage", SM_G_TORCH_STORAGE, SM_DT_F32, 1},
    {"torch", "DoubleStorage", SM_G_TORCH_STORAGE, SM_DT_F64, 1},
    {"torch", "HalfStorage", SM_G_TORCH_STORAGE, SM_DT_F16, 1},
    {"torch", "BFloat16Storage", SM_G_TORCH_STORAGE, SM_DT_BF16, 1},
    {"torch", "LongStorage", SM_G_TORCH_STORAGE, SM_DT_I64, 1},
    {"torch", "IntStorage", SM_G_TORCH_STORAGE, SM_DT_I32, 1},
    {"torch", "ShortStorage", SM_G_TORCH_STORAGE, SM_DT_I16, 1},
    {"torch", "CharStorage", SM_G_TORCH_STORAGE, SM_DT_I8, 1},
    {"torch", "ByteStorage", SM_G_TORCH_STORAGE, SM_DT_U8, 1},
    {"torch", "BoolStorage", SM_G_TORCH_STORAGE, SM_DT_BOOL, 1},
};

static int span_eq(const uint8_t *s, size_t n, const char *z)
{
    size_t m = strlen(z);
    return n == m && memcmp(s, z, n) == 0;
}

/* Print at most 80 bytes of a name, escaping what is not printable. */
static selfmm_status lookup_global(sm_pickle *p, const uint8_t *mod, size_t mod_len,
                                   const uint8_t *name, size_t name_len)
{
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        const global_entry *g = &globals[i];
        if (!span_eq(mod, mod_len, g->module) || !span_eq(name, name_len, g->name)) continue;
        if (g->torch && !p->opts.allow_torch) break;
        sm_pv *v = new_value(p, SM_PV_GLOBAL);
        if (!v) return NOMEM(p);
        v->u.global.id = g->id;
        v->u.global.dtype = g->dtype;
        v->u.global.name = g->name;
        return push(p, v);
    }
    return fail(p, SELFMM_ERR_UNSUPPORTED,
                "refusing global '%s.%s': only NumPy array%s reconstruction is allowed, "
                "nothing is ever imported or called",
                SM_EN(mod, mod_len), SM_EN(name, name_len), p->opts.allow_torch ? " and torch tensor" : "");
}

/* ---- interpreting the accepted callables ---- */

static selfmm_status want_tuple(sm_pickle *p, const sm_pv *args, size_t min, size_t max,
                                const char *fn)
{
    if (args->kind != SM_PV_TUPLE)
        return fail(p, SELFMM_ERR_TYPE, "%s: arguments are a %s, expected a tuple", fn,
                    sm_pv_kind_name(args->kind));
    if (args->u.seq.n < min || args->u.seq.n > max)
        return fail(p, SELFMM_ERR_FORMAT, "%s: %zu arguments, expected %zu to %zu", fn,
                    args->u.seq.n, min, max);
    return SELFMM_OK;
}

static int is_int(const sm_pv *v) { return v->kind == SM_PV_INT || v->kind == SM_PV_BOOL; }
static int64_t int_of(const sm_pv *v) { return v->kind == SM_PV_BOOL ? v->u.b : v->u.i; }

/* A tuple of non-negative ints (a shape) into dims. */
static selfmm_status int_tuple(sm_pickle *p, const sm_pv *t, int64_t *dims, int *ndim,
                               const char *what)
{
    if (t->kind != SM_PV_TUPLE && t->kind != SM_PV_LIST)
        return fail(p, SELFMM_ERR_TYPE, "%s is a %s, expected a tuple of ints", what,
                    sm_pv_kind_name(t->kind));
    if (t->u.seq.n > SM_PICKLE_MAX_DIMS)
        return fail(p, SELFMM_ERR_UNSUPPORTED, "%s has %zu dimensions (at most %d)", what,
                    t->u.seq.n, SM_PICKLE_MAX_DIMS);
    for (size_t i = 0; i < t->u.seq.n; i++) {
        const sm_pv *d = t->u.seq.items[i];
        if (!is_int(d)) return fail(p, SELFMM_ERR_TYPE, "%s[%zu] is not an int", what, i);
        if (int_of(d) < 0)
            return fail(p, SELFMM_ERR_SHAPE, "%s[%zu] = %lld is negative", what, i,
                        (long long)int_of(d));
        dims[i] = int_of(d);
    }
    *ndim = (int)t->u.seq.n;
    return SELFMM_OK;
}

/* NumPy's type strings as dtype.__reduce__ writes them: "f4", "<f8", "U7", "O8", "b1". */
static selfmm_status parse_typestr(sm_pickle *p, const sm_pv *s, sm_np_dtype *dt)
{
    if (s->kind != SM_PV_STR && s->kind != SM_PV_BYTES)
        return fail(p, SELFMM_ERR_TYPE, "numpy.dtype: type is a %s, expected a str",
                    sm_pv_kind_name(s->kind));
    const char *t = s->kind == SM_PV_STR ? s->u.str.p : (const char *)s->u.bytes.p;
    size_t n = s->kind == SM_PV_STR ? s->u.str.len : s->u.bytes.len;
    if (sm_dtype_parse_numpy(t, n, &dt->dt, &dt->itemsize, &dt->byteorder) != 0) {
        return fail(p, SELFMM_ERR_UNSUPPORTED, "numpy.dtype %s is not supported", SM_QN(t, n));
    }
    return SELFMM_OK;
}

static selfmm_status call_reconstruct(sm_pickle *p, const sm_pv *args)
{
    SM_TRY(want_tuple(p, args, 3, 3, "numpy _reconstruct"));
    const sm_pv *cls = args->u.seq.items[0];
    if (cls->kind != SM_PV_GLOBAL || cls->u.global.id != SM_G_NP_NDARRAY)
        return fail(p, SELFMM_ERR_UNSUPPORTED, "numpy _reconstruct of something else than numpy.ndarray");
    sm_pv *v = new_value(p, SM_PV_NDARRAY);
    if (!v || !(v->u.arr = alloc_owned(p, sizeof(sm_ndarray)))) return NOMEM(p);
    return push(p, v); /* the state comes with BUILD */
}

static selfmm_status call_dtype(sm_pickle *p, const sm_pv *args)
{
    SM_TRY(want_tuple(p, args, 1, 3, "numpy.dtype"));
    sm_pv *v = new_value(p, SM_PV_DTYPE);
    if (!v) return NOMEM(p);
    SM_TRY(parse_typestr(p, args->u.seq.items[0], &v->u.dtype));
    return push(p, v);
}

static selfmm_status bytes_of(sm_pickle *p, const sm_pv *b, const char *what, size_t *size)
{
    if (b->kind != SM_PV_BYTES)
        return fail(p, SELFMM_ERR_TYPE, "%s is a %s, expected bytes", what, sm_pv_kind_name(b->kind));
    if (sm_pbytes_size(&b->u.bytes, size, p->err) != SELFMM_OK)
        return fail(p, SELFMM_ERR_FORMAT, "%s: %s", what, p->err ? p->err->message : "bad bytes");
    return SELFMM_OK;
}

/* Copy the first n decoded bytes of b into out (b holds them: sm_pbytes_size). */
static void decode_small(const sm_pbytes *b, uint8_t *out, size_t n)
{
    if (!b->latin1) {
        memcpy(out, b->p, n);
        return;
    }
    for (size_t i = 0, o = 0; o < n; o++) out[o] = (uint8_t)sm_latin1_next(b->p, b->len, &i);
}

static selfmm_status call_scalar(sm_pickle *p, const sm_pv *args)
{
    SM_TRY(want_tuple(p, args, 1, 2, "numpy scalar"));
    const sm_pv *dt = args->u.seq.items[0];
    if (dt->kind != SM_PV_DTYPE) return fail(p, SELFMM_ERR_TYPE, "numpy scalar without a dtype");
    if (dt->u.dtype.dt == SM_DT_OBJECT && args->u.seq.n == 2)
        return push(p, args->u.seq.items[1]);
    if (!sm_dtype_is_numeric(dt->u.dtype.dt) || args->u.seq.n != 2)
        return fail(p, SELFMM_ERR_UNSUPPORTED, "numpy scalar of type %s is not supported",
                    sm_dtype_name(dt->u.dtype.dt));
    size_t n;
    SM_TRY(bytes_of(p, args->u.seq.items[1], "numpy scalar data", &n));
    int size = sm_dtype_size(dt->u.dtype.dt);
    if (n != (size_t)size)
        return fail(p, SELFMM_ERR_FORMAT, "numpy scalar: %zu bytes for a %s", n,
                    sm_dtype_name(dt->u.dtype.dt));
    uint8_t raw[8];
    decode_small(&args->u.seq.items[1]->u.bytes, raw, n);
    double d;
    int swap = dt->u.dtype.byteorder == '>';
    sm_dtype_to_f64(dt->u.dtype.dt, swap, raw, 1, &d);
    sm_pv *v;
    if (sm_dtype_is_float(dt->u.dtype.dt)) {
        v = new_value(p, SM_PV_FLOAT);
        if (v) v->u.f = d;
    } else if (dt->u.dtype.dt == SM_DT_BOOL) {
        v = new_value(p, SM_PV_BOOL);
        if (v) v->u.b = d != 0;
    } else if (dt->u.dtype.dt == SM_DT_I64 || dt->u.dtype.dt == SM_DT_U64) {
        uint64_t u = 0;
        if (swap) for (int i = 0; i < 8; i++) u = (u << 8) | raw[i];
        else memcpy(&u, raw, 8);
        if (dt->u.dtype.dt == SM_DT_U64 && u > (uint64_t)INT64_MAX)
            return fail(p, SELFMM_ERR_RANGE, "numpy uint64 scalar beyond int64");
        v = new_int(p, (int64_t)u);
    } else {
        v = new_int(p, (int64_t)d); /* exact: at most 32 bits */
    }
    return push(p, v);
}

static selfmm_status call_frombuffer(sm_pickle *p, const sm_pv *args)
{
    SM_TRY(want_tuple(p, args, 4, 4, "numpy _frombuffer"));
    const sm_pv *buf = args->u.seq.items[0], *dt = args->u.seq.items[1];
    const sm_pv *shape = args->u.seq.items[2], *order = args->u.seq.items[3];
    if (buf->kind != SM_PV_BYTES) return fail(p, SELFMM_ERR_TYPE, "numpy _frombuffer: buffer is not bytes");
    if (dt->kind != SM_PV_DTYPE) return fail(p, SELFMM_ERR_TYPE, "numpy _frombuffer: no dtype");
    if (dt->u.dtype.dt == SM_DT_OBJECT)
        return fail(p, SELFMM_ERR_UNSUPPORTED, "numpy _frombuffer of an object array");
    sm_pv *v = new_value(p, SM_PV_NDARRAY);
    if (!v || !(v->u.arr = alloc_owned(p, sizeof(sm_ndarray)))) return NOMEM(p);
    sm_ndarray *a = v->u.arr;
    a->dtype = dt->u.dtype;
    SM_TRY(int_tuple(p, shape, a->shape, &a->ndim, "numpy _frombuffer shape"));
    if (!sm_pv_str_eq(order, "C") && !sm_pv_str_eq(order, "F"))
        return fail(p, SELFMM_ERR_FORMAT, "numpy _frombuffer: order is not 'C' or 'F'");
    a->fortran = sm_pv_str_eq(order, "F");
    a->data = buf->u.bytes;
    a->built = 1;
    return push(p, v);
}

static selfmm_status call_encode(sm_pickle *p, const sm_pv *args)
{
    SM_TRY(want_tuple(p, args, 1, 2, "_codecs.encode"));
    const sm_pv *s = args->u.seq.items[0];
    if (s->kind != SM_PV_STR) return fail(p, SELFMM_ERR_TYPE, "_codecs.encode of a non-str");
    if (args->u.seq.n == 2 && !sm_pv_str_eq(args->u.seq.items[1], "latin1") &&
        !sm_pv_str_eq(args->u.seq.items[1], "latin-1"))
        return fail(p, SELFMM_ERR_UNSUPPORTED, "_codecs.encode with an encoding other than latin1");
    return push(p, new_bytes(p, (const uint8_t *)s->u.str.p, s->u.str.len, 1));
}

static selfmm_status call_rebuild_tensor(sm_pickle *p, const sm_pv *args, int v2)
{
    const char *fn = v2 ? "torch _rebuild_tensor_v2" : "torch _rebuild_tensor";
    SM_TRY(want_tuple(p, args, 4, v2 ? 7 : 4, fn));
    const sm_pv *st = args->u.seq.items[0], *off = args->u.seq.items[1];
    if (st->kind != SM_PV_STORAGE) return fail(p, SELFMM_ERR_TYPE, "%s: first argument is not a storage", fn);
    if (!is_int(off) || int_of(off) < 0) return fail(p, SELFMM_ERR_FORMAT, "%s: bad storage offset", fn);
    sm_pv *v = new_value(p, SM_PV_TENSOR);
    if (!v || !(v->u.tensor = alloc_owned(p, sizeof(sm_tensor_ref)))) return NOMEM(p);
    sm_tensor_ref *t = v->u.tensor;
    t->storage = (sm_pv *)st;
    t->offset = int_of(off);
    int nstride;
    SM_TRY(int_tuple(p, args->u.seq.items[2], t->size, &t->ndim, "tensor size"));
    SM_TRY(int_tuple(p, args->u.seq.items[3], t->stride, &nstride, "tensor stride"));
    if (nstride != t->ndim)
        return fail(p, SELFMM_ERR_FORMAT, "%s: %d sizes but %d strides", fn, t->ndim, nstride);
    return push(p, v);
}

static selfmm_status do_reduce(sm_pickle *p, const sm_pv *fn, const sm_pv *args)
{
    if (fn->kind != SM_PV_GLOBAL)
        return fail(p, SELFMM_ERR_TYPE, "REDUCE on a %s, which is not callable", sm_pv_kind_name(fn->kind));
    switch (fn->u.global.id) {
    case SM_G_NP_RECONSTRUCT: return call_reconstruct(p, args);
    case SM_G_NP_DTYPE: return call_dtype(p, args);
    case SM_G_NP_SCALAR: return call_scalar(p, args);
    case SM_G_NP_FROMBUFFER: return call_frombuffer(p, args);
    case SM_G_CODECS_ENCODE: return call_encode(p, args);
    case SM_G_EMPTY_BYTES:
        SM_TRY(want_tuple(p, args, 0, 0, "bytes"));
        return push(p, new_bytes(p, p->buf, 0, 0));
    case SM_G_ORDERED_DICT:
        SM_TRY(want_tuple(p, args, 0, 0, "collections.OrderedDict"));
        return push(p, new_value(p, SM_PV_DICT));
    case SM_G_TORCH_REBUILD_V2: return call_rebuild_tensor(p, args, 1);
    case SM_G_TORCH_REBUILD: return call_rebuild_tensor(p, args, 0);
    case SM_G_TORCH_PARAMETER:
        SM_TRY(want_tuple(p, args, 1, 4, "torch _rebuild_parameter"));
        if (args->u.seq.items[0]->kind != SM_PV_TENSOR)
            return fail(p, SELFMM_ERR_TYPE, "torch _rebuild_parameter of a non-tensor");
        return push(p, args->u.seq.items[0]);
    default:
        return fail(p, SELFMM_ERR_UNSUPPORTED, "'%s' cannot be called", fn->u.global.name);
    }
}

/* ---- BUILD ---- */

static selfmm_status build_dtype(sm_pickle *p, sm_pv *obj, const sm_pv *state)
{
    /* (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]) */
    if (state->kind != SM_PV_TUPLE || state->u.seq.n < 8 || state->u.seq.n > 9)
        return fail(p, SELFMM_ERR_FORMAT, "numpy.dtype state is not the 8/9-tuple NumPy writes");
    sm_pv **s = state->u.seq.items;
    if (s[1]->kind != SM_PV_STR || s[1]->u.str.len != 1 || !memchr("<>|=", s[1]->u.str.p[0], 4))
        return fail(p, SELFMM_ERR_FORMAT, "numpy.dtype state: bad byte order");
    if (s[2]->kind != SM_PV_NONE || s[3]->kind != SM_PV_NONE || s[4]->kind != SM_PV_NONE)
        return fail(p, SELFMM_ERR_UNSUPPORTED, "structured or sub-array numpy dtypes are not supported");
    obj->u.dtype.byteorder = s[1]->u.str.p[0];
    if (obj->u.dtype.dt == SM_DT_UNICODE) {
        if (!is_int(s[5]) || int_of(s[5]) < 0 || int_of(s[5]) % 4 != 0 || int_of(s[5]) > (1 << 22))
            return fail(p, SELFMM_ERR_FORMAT, "numpy.dtype state: bad unicode item size");
        obj->u.dtype.itemsize = (int)int_of(s[5]);
    }
    return SELFMM_OK;
}

static selfmm_status build_ndarray(sm_pickle *p, sm_pv *obj, const sm_pv *state)
{
    /* (version, shape, dtype, is_fortran, data) or the 4-tuple without version */
    sm_ndarray *a = obj->u.arr;
    if (a->built) return fail(p, SELFMM_ERR_FORMAT, "numpy array state set twice");
    if (state->kind != SM_PV_TUPLE || (state->u.seq.n != 5 && state->u.seq.n != 4))
        return fail(p, SELFMM_ERR_FORMAT, "numpy array state is not the 5-tuple NumPy writes");
    sm_pv **s = state->u.seq.items + (state->u.seq.n == 5);
    SM_TRY(int_tuple(p, s[0], a->shape, &a->ndim, "numpy array shape"));
    if (s[1]->kind != SM_PV_DTYPE) return fail(p, SELFMM_ERR_TYPE, "numpy array state without a dtype");
    a->dtype = s[1]->u.dtype;
    if (s[2]->kind != SM_PV_BOOL) return fail(p, SELFMM_ERR_TYPE, "numpy array state: is_fortran not a bool");
    a->fortran = s[2]->u.b;
    if (a->dtype.dt == SM_DT_OBJECT) {
        if (s[3]->kind != SM_PV_LIST)
            return fail(p, SELFMM_ERR_TYPE, "numpy object array: items are a %s, expected a list",
                        sm_pv_kind_name(s[3]->kind));
        a->objects = s[3];
    } else {
        if (s[3]->kind == SM_PV_STR) /* Python 2 pickles: raw bytes in a str */
            return fail(p, SELFMM_ERR_UNSUPPORTED, "numpy array data in a str (Python 2 pickle)");
        if (s[3]->kind != SM_PV_BYTES)
            return fail(p, SELFMM_ERR_TYPE, "numpy array data is a %s, expected bytes",
                        sm_pv_kind_name(s[3]->kind));
        a->data = s[3]->u.bytes;
    }
    a->built = 1;
    return SELFMM_OK;
}

static selfmm_status do_build(sm_pickle *p, sm_pv *obj, const sm_pv *state)
{
    switch (obj->kind) {
    case SM_PV_DTYPE: return build_dtype(p, obj, state);
    case SM_PV_NDARRAY: return build_ndarray(p, obj, state);
    case SM_PV_DICT:
        /* OrderedDict with instance attributes (a state_dict's _metadata): the
         * attributes are dropped, the items are what matters. */
        if (state->kind == SM_PV_DICT || state->kind == SM_PV_TUPLE || state->kind == SM_PV_NONE)
            return SELFMM_OK;
        break;
    default: break;
    }
    return fail(p, SELFMM_ERR_UNSUPPORTED, "BUILD of a %s with a %s state is not supported",
                sm_pv_kind_name(obj->kind), sm_pv_kind_name(state->kind));
}

/* ---- persistent ids (torch storages) ---- */

static selfmm_status do_persid(sm_pickle *p, const sm_pv *pid)
{
    if (!p->opts.allow_torch)
        return fail(p, SELFMM_ERR_UNSUPPORTED, "persistent id in a data pickle");
    if (pid->kind != SM_PV_TUPLE || (pid->u.seq.n != 5 && pid->u.seq.n != 6) ||
        !sm_pv_str_eq(pid->u.seq.items[0], "storage"))
        return fail(p, SELFMM_ERR_FORMAT, "persistent id is not a ('storage', ...) tuple");
    sm_pv **s = pid->u.seq.items;
    if (s[1]->kind != SM_PV_GLOBAL || s[1]->u.global.id != SM_G_TORCH_STORAGE)
        return fail(p, SELFMM_ERR_UNSUPPORTED, "persistent id: not a torch storage type");
    if (s[2]->kind != SM_PV_STR || s[3]->kind != SM_PV_STR || !is_int(s[4]) || int_of(s[4]) < 0)
        return fail(p, SELFMM_ERR_FORMAT, "persistent id: bad key, location or size");
    sm_pv *v = new_value(p, SM_PV_STORAGE);
    if (!v || !(v->u.storage = alloc_owned(p, sizeof(sm_storage)))) return NOMEM(p);
    sm_storage *st = v->u.storage;
    st->dtype = s[1]->u.global.dtype;
    char *key = alloc_owned(p, s[2]->u.str.len + 1), *loc = alloc_owned(p, s[3]->u.str.len + 1);
    if (!key || !loc) return NOMEM(p);
    memcpy(key, s[2]->u.str.p, s[2]->u.str.len);
    memcpy(loc, s[3]->u.str.p, s[3]->u.str.len);
    st->key = key;
    st->location = loc;
    st->numel = int_of(s[4]);
    if (pid->u.seq.n == 6 && s[5]->kind != SM_PV_NONE) {
        /* legacy view: (view_key, offset, view_size) into the root storage */
        const sm_pv *vm = s[5];
        if (vm->kind != SM_PV_TUPLE || vm->u.seq.n != 3 || !is_int(vm->u.seq.items[1]) ||
            !is_int(vm->u.seq.items[2]) || int_of(vm->u.seq.items[1]) < 0 ||
            int_of(vm->u.seq.items[2]) < 0)
            return fail(p, SELFMM_ERR_FORMAT, "persistent id: bad storage view");
        st->view = 1;
        st->view_offset = int_of(vm->u.seq.items[1]);
        st->view_numel = int_of(vm->u.seq.items[2]);
    }
    if (!list_add(&p->storages, &p->n_storages, &p->cap_storages, v)) return NOMEM(p);
    return push(p, v);
}

/* ---- memo ---- */

static selfmm_status memo_put(sm_pickle *p, uint64_t idx)
{
    sm_pv *v = NULL;
    SM_TRY(top(p, &v));
    /* Picklers number memo entries 0, 1, 2, ...: an index beyond the next free
     * one would only make us allocate for nothing. */
    if (idx > p->memo_n)
        return fail(p, SELFMM_ERR_FORMAT, "memo index %llu skips ahead of %zu entries",
                    (unsigned long long)idx, p->memo_n);
    if (idx == p->memo_n) {
        if (p->memo_n >= SM_PICKLE_MAX_MEMO)
            return fail(p, SELFMM_ERR_RANGE, "more than %d memo entries", SM_PICKLE_MAX_MEMO);
        if (p->memo_n == p->memo_cap) {
            size_t cap = p->memo_cap ? p->memo_cap * 2 : 64;
            sm_pv **m = realloc(p->memo, cap * sizeof *m);
            if (!m) return NOMEM(p);
            p->memo = m, p->memo_cap = cap;
        }
        p->memo_n++;
    }
    p->memo[idx] = v;
    return SELFMM_OK;
}

static selfmm_status memo_get(sm_pickle *p, uint64_t idx)
{
    if (idx >= p->memo_n)
        return fail(p, SELFMM_ERR_FORMAT, "memo index %llu not set", (unsigned long long)idx);
    return push(p, p->memo[idx]);
}

/* ---- the loop ---- */

static selfmm_status make_tuple(sm_pickle *p, size_t base)
{
    sm_pv *t = new_value(p, SM_PV_TUPLE);
    if (!t) return NOMEM(p);
    for (size_t i = base; i < p->sp; i++)
        if (!seq_push(t, p->stack[i])) return NOMEM(p);
    p->sp = base;
    return push(p, t);
}

static selfmm_status tuple_n(sm_pickle *p, size_t n)
{
    if (p->sp < mark_base(p) + n) return fail(p, SELFMM_ERR_FORMAT, "stack underflow");
    return make_tuple(p, p->sp - n);
}

static selfmm_status add_items(sm_pickle *p, size_t base, int dict)
{
    if (base == 0 || base > p->sp) return fail(p, SELFMM_ERR_FORMAT, "nothing below the MARK");
    sm_pv *target = p->stack[base - 1];
    if (dict) {
        if (target->kind != SM_PV_DICT)
            return fail(p, SELFMM_ERR_TYPE, "SETITEMS on a %s", sm_pv_kind_name(target->kind));
        if ((p->sp - base) % 2)
            return fail(p, SELFMM_ERR_FORMAT, "SETITEMS with an odd number of items");
        for (size_t i = base; i < p->sp; i += 2)
            if (!dict_set(target, p->stack[i], p->stack[i + 1])) return NOMEM(p);
    } else {
        if (target->kind != SM_PV_LIST)
            return fail(p, SELFMM_ERR_TYPE, "APPENDS on a %s", sm_pv_kind_name(target->kind));
        for (size_t i = base; i < p->sp; i++)
            if (!seq_push(target, p->stack[i])) return NOMEM(p);
    }
    p->sp = base;
    return SELFMM_OK;
}

/* One opcode; *stop set at STOP. */
static selfmm_status step(sm_pickle *p, int *stop)
{
    sm_pv *a = NULL, *b = NULL, *c = NULL;
    const uint8_t *data = NULL;
    size_t n = 0, base = 0;
    p->op_pos = p->pos;
    p->opcode = -1;
    SM_TRY(need(p, 1));
    int op = p->buf[p->pos++];
    p->opcode = op;
    switch (op) {
    case 0x80: /* PROTO */
        SM_TRY(need(p, 1));
        n = p->buf[p->pos++];
        if (n < 2 || n > 5)
            return fail(p, SELFMM_ERR_UNSUPPORTED, "pickle protocol %zu (supported: 2 to 5)", n);
        return SELFMM_OK;
    case 0x95: /* FRAME: a framing hint; the content is read as if unframed */
        SM_TRY(need(p, 8));
        n = (size_t)read_le(p, 8);
        return need(p, n);
    case '.': /* STOP: the result is the top of the stack (as in CPython) */
        SM_TRY(top(p, &a));
        *stop = 1;
        return SELFMM_OK;
    case '(': /* MARK */
        if (p->n_marks == SM_PICKLE_MAX_MARKS)
            return fail(p, SELFMM_ERR_RANGE, "MARKs nested deeper than %d", SM_PICKLE_MAX_MARKS);
        p->marks[p->n_marks++] = p->sp;
        return SELFMM_OK;
    case '0': /* POP */
        return pop(p, &a);
    case '1': /* POP_MARK */
        SM_TRY(pop_mark(p, &base));
        p->sp = base;
        return SELFMM_OK;
    case '2': /* DUP */
        SM_TRY(top(p, &a));
        return push(p, a);
    case 'N': return push(p, new_value(p, SM_PV_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        a = new_value(p, SM_PV_BOOL);
        if (a) a->u.b = op == 0x88;
        return push(p, a);
    case 'J': /* BININT */
        SM_TRY(need(p, 4));
        return push(p, new_int(p, (int32_t)(uint32_t)read_le(p, 4)));
    case 'K': /* BININT1 */
        SM_TRY(need(p, 1));
        return push(p, new_int(p, (int64_t)read_le(p, 1)));
    case 'M': /* BININT2 */
        SM_TRY(need(p, 2));
        return push(p, new_int(p, (int64_t)read_le(p, 2)));
    case 0x8a: /* LONG1 */
        SM_TRY(read_blob(p, 1, &data, &n));
        return push(p, new_long(p, data, n));
    case 0x8b: /* LONG4 */
        SM_TRY(read_blob(p, 4, &data, &n)); /* a negative size reads as > 2^31: truncated */
        return push(p, new_long(p, data, n));
    case 'G': { /* BINFLOAT: big-endian double */
        SM_TRY(need(p, 8));
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = (u << 8) | p->buf[p->pos + (size_t)i];
        p->pos += 8;
        a = new_value(p, SM_PV_FLOAT);
        if (a) memcpy(&a->u.f, &u, 8);
        return push(p, a);
    }
    case 0x8c: /* SHORT_BINUNICODE */
        SM_TRY(read_blob(p, 1, &data, &n));
        return push(p, new_str(p, data, n));
    case 'X': /* BINUNICODE */
        SM_TRY(read_blob(p, 4, &data, &n));
        return push(p, new_str(p, data, n));
    case 0x8d: /* BINUNICODE8 */
        SM_TRY(read_blob(p, 8, &data, &n));
        return push(p, new_str(p, data, n));
    case 'C': /* SHORT_BINBYTES */
        SM_TRY(read_blob(p, 1, &data, &n));
        return push(p, new_bytes(p, data, n, 0));
    case 'B': /* BINBYTES */
        SM_TRY(read_blob(p, 4, &data, &n));
        return push(p, new_bytes(p, data, n, 0));
    case 0x8e: /* BINBYTES8 */
    case 0x96: /* BYTEARRAY8 */
        SM_TRY(read_blob(p, 8, &data, &n));
        return push(p, new_bytes(p, data, n, 0));
    case 0x97: /* NEXT_BUFFER */
        return fail(p, SELFMM_ERR_UNSUPPORTED,
                    "out-of-band buffer (protocol 5 buffer_callback): the data is not in the "
                    "file; pickle it without buffer_callback");
    case 0x98: /* READONLY_BUFFER: a no-op on bytes we only read */
        SM_TRY(top(p, &a));
        if (a->kind != SM_PV_BYTES) return fail(p, SELFMM_ERR_TYPE, "READONLY_BUFFER on a non-buffer");
        return SELFMM_OK;
    case '}': return push(p, new_value(p, SM_PV_DICT));
    case ']': return push(p, new_value(p, SM_PV_LIST));
    case ')': return push(p, new_value(p, SM_PV_TUPLE));
    case 0x8f: return push(p, new_value(p, SM_PV_LIST)); /* EMPTY_SET: kept as a list */
    case 't': /* TUPLE */
        SM_TRY(pop_mark(p, &base));
        return make_tuple(p, base);
    case 0x85: return tuple_n(p, 1);
    case 0x86: return tuple_n(p, 2);
    case 0x87: return tuple_n(p, 3);
    case 0x91: /* FROZENSET: kept as a tuple */
        SM_TRY(pop_mark(p, &base));
        return make_tuple(p, base);
    case 'l': /* LIST */
    case 'd': /* DICT */
        SM_TRY(pop_mark(p, &base));
        SM_TRY(push(p, new_value(p, op == 'l' ? SM_PV_LIST : SM_PV_DICT)));
        /* move the new container below its items, then add them */
        a = p->stack[p->sp - 1];
        memmove(p->stack + base + 1, p->stack + base, (p->sp - 1 - base) * sizeof *p->stack);
        p->stack[base] = a;
        return add_items(p, base + 1, op == 'd');
    case 'a': /* APPEND */
        SM_TRY(pop(p, &b));
        SM_TRY(top(p, &a));
        if (a->kind != SM_PV_LIST) return fail(p, SELFMM_ERR_TYPE, "APPEND on a %s", sm_pv_kind_name(a->kind));
        return seq_push(a, b) ? SELFMM_OK : NOMEM(p);
    case 'e': /* APPENDS */
    case 0x90: /* ADDITEMS */
        SM_TRY(pop_mark(p, &base));
        return add_items(p, base, 0);
    case 's': /* SETITEM */
        SM_TRY(pop(p, &c));
        SM_TRY(pop(p, &b));
        SM_TRY(top(p, &a));
        if (a->kind != SM_PV_DICT) return fail(p, SELFMM_ERR_TYPE, "SETITEM on a %s", sm_pv_kind_name(a->kind));
        return dict_set(a, b, c) ? SELFMM_OK : NOMEM(p);
    case 'u': /* SETITEMS */
        SM_TRY(pop_mark(p, &base));
        return add_items(p, base, 1);
    case 'q': /* BINPUT */
        SM_TRY(need(p, 1));
        return memo_put(p, read_le(p, 1));
    case 'r': /* LONG_BINPUT */
        SM_TRY(need(p, 4));
        return memo_put(p, read_le(p, 4));
    case 0x94: /* MEMOIZE */
        return memo_put(p, p->memo_n);
    case 'h': /* BINGET */
        SM_TRY(need(p, 1));
        return memo_get(p, read_le(p, 1));
    case 'j': /* LONG_BINGET */
        SM_TRY(need(p, 4));
        return memo_get(p, read_le(p, 4));
    case 'c': { /* GLOBAL: "module\nname\n" */
        const uint8_t *mod = p->buf + p->pos, *end = p->buf + p->len;
        const uint8_t *nl1 = memchr(mod, '\n', (size_t)(end - mod));
        const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
        if (!nl2) return fail(p, SELFMM_ERR_FORMAT, "GLOBAL without two newline-terminated names");
        p->pos = (size_t)(nl2 + 1 - p->buf);
        return lookup_global(p, mod, (size_t)(nl1 - mod), nl1 + 1, (size_t)(nl2 - nl1 - 1));
    }
    case 0x93: /* STACK_GLOBAL */
        SM_TRY(pop(p, &b));
        SM_TRY(pop(p, &a));
        if (a->kind != SM_PV_STR || b->kind != SM_PV_STR)
            return fail(p, SELFMM_ERR_TYPE, "STACK_GLOBAL needs two str");
        return lookup_global(p, (const uint8_t *)a->u.str.p, a->u.str.len,
                             (const uint8_t *)b->u.str.p, b->u.str.len);
    case 'R': /* REDUCE */
        SM_TRY(pop(p, &b));
        SM_TRY(pop(p, &a));
        return do_reduce(p, a, b);
    case 0x81: /* NEWOBJ: cls.__new__(cls, *args) */
    case 0x92: /* NEWOBJ_EX */
        if (op == 0x92) SM_TRY(pop(p, &c));
        SM_TRY(pop(p, &b));
        SM_TRY(pop(p, &a));
        if (a->kind == SM_PV_GLOBAL && a->u.global.id == SM_G_ORDERED_DICT)
            return push(p, new_value(p, SM_PV_DICT));
        return fail(p, SELFMM_ERR_UNSUPPORTED, "NEWOBJ of %s is not supported",
                    a->kind == SM_PV_GLOBAL ? a->u.global.name : sm_pv_kind_name(a->kind));
    case 'b': /* BUILD */
        SM_TRY(pop(p, &b));
        SM_TRY(top(p, &a));
        return do_build(p, a, b);
    case 'Q': /* BINPERSID */
        SM_TRY(pop(p, &a));
        return do_persid(p, a);
    default:
        return fail(p, SELFMM_ERR_UNSUPPORTED, "opcode not supported (not one that NumPy or "
                    "torch pickles of protocol 2 to 5 use)");
    }
}

selfmm_status sm_pickle_run(const uint8_t *buf, size_t len, const sm_pickle_opts *opts,
                            const char *what, sm_pickle **out, sm_pv **root, size_t *consumed,
                            selfmm_error *err)
{
    *out = NULL;
    sm_pickle *p = calloc(1, sizeof *p);
    if (!p) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    *out = p;
    p->buf = buf;
    p->len = buf ? len : 0;
    p->what = what ? what : "pickle";
    p->err = err;
    p->opcode = -1;
    if (opts) p->opts = *opts;
    if (p->len < 2 || buf[0] != 0x80)
        return fail(p, SELFMM_ERR_FORMAT, "not a pickle of protocol 2 or later (no PROTO opcode)");
    int stop = 0;
    while (!stop) SM_TRY(step(p, &stop));
    *root = p->stack[p->sp - 1];
    if (consumed) *consumed = p->pos;
    return SELFMM_OK;
}
