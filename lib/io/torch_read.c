/* torch_read.c -- torch.save checkpoints to a named tensor list, without torch:
 *
 * - zip format (torch >= 1.6): <archive>/data.pkl is a pickle of the state_dict
 *   whose tensors are _rebuild_tensor_v2 calls on persistent storage ids; the
 *   bytes of storage <key> are the stored member <archive>/data/<key>.
 * - legacy format (torch < 1.6, or _use_new_zipfile_serialization=False): five
 *   pickles back to back (magic number, protocol version, system info, the
 *   state_dict, the list of storage keys), then each storage as an 8-byte element
 *   count and its raw bytes, in the order of that list.
 *
 * Tensors point into the file. Every tensor's extent is checked against its
 * storage and every storage against the file before it is listed. */
#include "core/quote.h"
#include "io/pickle.h"
#include "io/tensors.h"
#include "io/zip_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a storage's bytes are. */
typedef struct storage_bytes {
    const uint8_t *data;
    uint64_t size;
} storage_bytes;

typedef selfmm_status (*resolve_fn)(void *ctx, const sm_storage *st, storage_bytes *out,
                                    selfmm_error *err);

static selfmm_status add_tensor(sm_tensor_list *l, const sm_pv *key, const sm_tensor_ref *t,
                                resolve_fn resolve, void *ctx, const char *what, selfmm_error *err)
{
    const sm_storage *st = t->storage->u.storage;
    char name[SM_QUOTE_MAX]; /* the key as messages show it */
    sm_quote(name, sizeof name, key->u.str.p, key->u.str.len);
    storage_bytes sb;
    SM_TRY(resolve(ctx, st, &sb, err));
    int esize = sm_dtype_size(st->dtype);
    /* the storage's declared size must be in the file */
    if ((uint64_t)st->numel > sb.size / (uint64_t)esize)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: tensor %s: storage %s declares %lld "
                        "elements but holds %llu bytes", what, name, SM_Q(st->key), (long long)st->numel,
                        (unsigned long long)sb.size);
    uint64_t avail = (uint64_t)st->numel; /* elements of the storage (or of the view) */
    uint64_t start = (uint64_t)t->offset;
    if (st->view) {
        if ((uint64_t)st->view_offset > avail || (uint64_t)st->view_numel > avail - (uint64_t)st->view_offset)
            return sm_error(err, SELFMM_ERR_FORMAT, "%s: tensor %s: storage view outside its storage",
                            what, name);
        start += (uint64_t)st->view_offset;
        avail = (uint64_t)st->view_offset + (uint64_t)st->view_numel;
    }
    uint64_t extent;
    if (sm_tensor_extent(t->ndim, t->size, t->stride, esize, &extent) != 0 ||
        sm_shape_numel(t->ndim, t->size) < 0)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: tensor %s: shape or strides overflow", what, name);
    if (extent && (start > avail || extent > (avail - start) * (uint64_t)esize)) {
        char shape[96];
        sm_shape_str(shape, sizeof shape, t->ndim, t->size);
        return sm_error(err, SELFMM_ERR_FORMAT,
                        "%s: tensor %s %s at offset %lld does not fit in its storage of %lld "
                        "elements", what, name, shape, (long long)t->offset, (long long)st->numel);
    }
    /* an empty tensor's offset is unchecked: no pointer is formed from it */
    return sm_tensors_add(l, key->u.str.p, key->u.str.len, st->dtype, t->ndim, t->size, t->stride,
                          extent ? sb.data + start * (uint64_t)esize : NULL, err);
}

/* The dict of tensors: the root, or the "state_dict" / "model" entry of a
 * training checkpoint that wraps one. */
static const sm_pv *state_dict_of(const sm_pv *root)
{
    if (!root || root->kind != SM_PV_DICT) return NULL;
    for (size_t i = 0; i < root->u.dict.n; i++)
        if (root->u.dict.vals[i]->kind == SM_PV_TENSOR) return root;
    static const char *const wrappers[] = {"state_dict", "model", "model_state_dict"};
    for (size_t w = 0; w < 3; w++) {
        const sm_pv *d = sm_pv_dict_get(root, wrappers[w]);
        if (d && d->kind == SM_PV_DICT) return d;
    }
    return root;
}

static selfmm_status walk(const sm_pv *root, sm_tensor_list *l, resolve_fn resolve, void *ctx,
                          const char *what, selfmm_error *err)
{
    const sm_pv *sd = state_dict_of(root);
    if (!sd)
        return sm_error(err, SELFMM_ERR_TYPE, "%s: the checkpoint holds a %s, expected a state_dict "
                        "(a dict of tensors)", what, root ? sm_pv_kind_name(root->kind) : "nothing");
    for (size_t i = 0; i < sd->u.dict.n; i++) {
        const sm_pv *k = sd->u.dict.keys[i], *v = sd->u.dict.vals[i];
        if (k->kind != SM_PV_STR || v->kind != SM_PV_TENSOR) continue; /* e.g. an epoch counter */
        SM_TRY(add_tensor(l, k, v->u.tensor, resolve, ctx, what, err));
    }
    if (l->n == 0) return sm_error(err, SELFMM_ERR_FORMAT, "%s: the state_dict holds no tensors", what);
    return sm_tensors_index(l, what, err);
}

/* ---- zip ---- */

/* Check the CRC-32 of every storage member the pickle refers to, all at once (on
 * all threads): the one extra pass over the bytes that integrity costs. Members
 * that are missing or compressed are left to zip_resolve, which names them. */
static selfmm_status verify_storages(const uint8_t *data, const sm_zip_dir *dir, const char *prefix,
                                     const sm_pickle *vm, const char *what, selfmm_error *err)
{
    size_t n;
    sm_pv *const *refs = sm_pickle_storages(vm, &n);
    sm_zip_entry **todo = calloc(n ? n : 1, sizeof *todo);
    if (!todo) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char name[1024];
        snprintf(name, sizeof name, "%sdata/%s", prefix, refs[i]->u.storage->key);
        sm_zip_entry *e = sm_zip_find(dir, name);
        if (e && e->method == 0 && !e->verified) {
            e->verified = -1; /* listed once, however often it is referenced */
            todo[k++] = e;
        }
    }
    for (size_t i = 0; i < k; i++) todo[i]->verified = 0;
    selfmm_status st = sm_zip_verify_many(data, todo, k, what, err);
    free(todo);
    return st;
}

int sm_torch_pickle_name(const char *name)
{
    const char *slash = strchr(name, '/');
    return slash && !strcmp(slash, "/data.pkl");
}

typedef struct zip_ctx {
    const uint8_t *buf;
    const sm_zip_dir *dir;
    char prefix[512];          /* "archive/" */
    const char *what;
} zip_ctx;

static selfmm_status zip_resolve(void *ctx, const sm_storage *st, storage_bytes *out,
                                 selfmm_error *err)
{
    zip_ctx *z = ctx;
    char name[1024];
    snprintf(name, sizeof name, "%sdata/%s", z->prefix, st->key);
    sm_zip_entry *e = sm_zip_find(z->dir, name);
    if (!e) return sm_error(err, SELFMM_ERR_MISSING, "%s: storage member %s is missing", z->what, SM_Q(name));
    if (e->method != 0)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: member %s is compressed (method %d); "
                        "torch stores checkpoint members uncompressed", z->what, SM_Q(name), e->method);
    SM_TRY(sm_zip_verify(z->buf, e, z->what, err)); /* once per storage */
    out->data = z->buf + e->data_offset;
    out->size = e->comp_size;
    return SELFMM_OK;
}

selfmm_status sm_read_torch_zip(const uint8_t *data, size_t size, const char *what,
                                sm_tensor_list *l, selfmm_error *err)
{
    sm_zip_dir dir;
    selfmm_status st = sm_zip_read_dir(data, size, what, &dir, err);
    zip_ctx z = {data, &dir, "", what};
    sm_zip_entry *pkl = NULL;
    for (int i = 0; st == SELFMM_OK && i < dir.n; i++) {
        const char *n = dir.e[i].name;
        if (!sm_torch_pickle_name(n)) continue;
        if (pkl) st = sm_error(err, SELFMM_ERR_FORMAT, "%s: more than one data.pkl", what);
        pkl = &dir.e[i];
        snprintf(z.prefix, sizeof z.prefix, "%.*s", (int)(strchr(n, '/') - n + 1), n);
    }
    if (st == SELFMM_OK && !pkl)
        st = sm_error(err, SELFMM_ERR_FORMAT, "%s: a zip file without <archive>/data.pkl: not a "
                      "PyTorch checkpoint", what);
    if (st == SELFMM_OK && pkl->method != 0)
        st = sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: data.pkl is compressed", what);
    if (st == SELFMM_OK) {
        char bo[600];
        snprintf(bo, sizeof bo, "%sbyteorder", z.prefix);
        sm_zip_entry *e = sm_zip_find(&dir, bo);
        if (e) st = sm_zip_verify(data, e, what, err);
        if (st == SELFMM_OK && e && !(e->comp_size == 6 && !memcmp(data + e->data_offset, "little", 6)))
            st = sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: not a little-endian checkpoint", what);
    }
    if (st == SELFMM_OK) st = sm_zip_verify(data, pkl, what, err);
    /* torch.load reads the format version record too */
    static const char *const version_names[2] = {"version", ".data/version"};
    for (int k = 0; k < 2 && st == SELFMM_OK; k++) {
        char vn[600];
        snprintf(vn, sizeof vn, "%s%s", z.prefix, version_names[k]);
        sm_zip_entry *e = sm_zip_find(&dir, vn);
        if (e) st = sm_zip_verify(data, e, what, err);
    }
    sm_pickle *vm = NULL;
    sm_pv *root = NULL;
    if (st == SELFMM_OK) {
        sm_pickle_opts po = {1};
        char pwhat[600];
        snprintf(pwhat, sizeof pwhat, "%s: %sdata.pkl", what, z.prefix);
        st = sm_pickle_run(data + pkl->data_offset, (size_t)pkl->comp_size, &po, pwhat, &vm, &root,
                           NULL, err);
    }
    if (st == SELFMM_OK) st = verify_storages(data, &dir, z.prefix, vm, what, err);
    if (st == SELFMM_OK) st = walk(root, l, zip_resolve, &z, what, err);
    if (st == SELFMM_OK) snprintf(l->format, sizeof l->format, "torch zip");
    sm_pickle_free(vm);
    sm_zip_dir_free(&dir);
    return st;
}

/* ---- legacy ---- */

typedef struct legacy_storage {
    const char *key;
    sm_dtype dtype;
    int seen_data;
    storage_bytes bytes;
} legacy_storage;

typedef struct legacy_ctx {
    legacy_storage *s;
    size_t n;
    const char *what;
} legacy_ctx;

static int by_key(const void *a, const void *b)
{
    return strcmp(((const legacy_storage *)a)->key, ((const legacy_storage *)b)->key);
}

static legacy_storage *legacy_find(legacy_ctx *c, const char *key)
{
    legacy_storage k = {0};
    k.key = key;
    return c->n ? bsearch(&k, c->s, c->n, sizeof *c->s, by_key) : NULL;
}

static selfmm_status legacy_resolve(void *ctx, const sm_storage *st, storage_bytes *out,
                                    selfmm_error *err)
{
    legacy_ctx *c = ctx;
    legacy_storage *s = legacy_find(c, st->key);
    /* every reference was collected, so its element type is s->dtype */
    if (!s || !s->seen_data)
        return sm_error(err, SELFMM_ERR_MISSING, "%s: storage %s has no data", c->what, SM_Q(st->key));
    *out = s->bytes;
    return SELFMM_OK;
}

/* Collect every storage the pickle refers to (key -> element type), sorted by
 * key: the file holds the bytes of all of them, also those of tensors outside
 * the state_dict (a training checkpoint's optimizer state). */
static selfmm_status legacy_collect(const sm_pickle *vm, legacy_ctx *c, selfmm_error *err)
{
    size_t n;
    sm_pv *const *refs = sm_pickle_storages(vm, &n);
    c->s = calloc(n ? n : 1, sizeof *c->s);
    if (!c->s) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", c->what);
    for (size_t i = 0; i < n; i++) {
        const sm_storage *st = refs[i]->u.storage;
        c->s[c->n].key = st->key;
        c->s[c->n].dtype = st->dtype;
        c->n++;
    }
    qsort(c->s, c->n, sizeof *c->s, by_key);
    size_t u = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (u && !strcmp(c->s[u - 1].key, c->s[i].key)) {
            if (c->s[u - 1].dtype != c->s[i].dtype)
                return sm_error(err, SELFMM_ERR_FORMAT, "%s: storage %s used with two element types",
                                c->what, SM_Q(c->s[i].key));
            continue;
        }
        c->s[u++] = c->s[i];
    }
    c->n = u;
    return SELFMM_OK;
}

/* The magic number torch writes first: 0x1950a86a20f9469cfc6c as a LONG1. */
static int is_magic(const sm_pv *v)
{
    static const uint8_t magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    return v && v->kind == SM_PV_BIGINT && v->u.big.len == 10 && !memcmp(v->u.big.p, magic, 10);
}

selfmm_status sm_read_torch_legacy(const uint8_t *data, size_t size, const char *what,
                                   sm_tensor_list *l, selfmm_error *err)
{
    sm_pickle *vm[5] = {0};
    sm_pv *v[5] = {0};
    size_t pos = 0;
    selfmm_status st = SELFMM_OK;
    static const char *const part[5] = {"magic number", "protocol version", "system info",
                                        "state_dict", "storage keys"};
    sm_pickle_opts po = {1};
    for (int i = 0; i < 5 && st == SELFMM_OK; i++) {
        char pwhat[600];
        snprintf(pwhat, sizeof pwhat, "%s (%s)", what, part[i]);
        size_t used = 0;
        st = sm_pickle_run(data + pos, size - pos, &po, pwhat, &vm[i], &v[i], &used, err);
        pos += used;
    }
    if (st == SELFMM_OK && !is_magic(v[0]))
        st = sm_error(err, SELFMM_ERR_FORMAT, "%s: not a legacy torch checkpoint (bad magic number)", what);
    if (st == SELFMM_OK && (v[1]->kind != SM_PV_INT || v[1]->u.i != 1001))
        st = sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: legacy protocol version other than 1001", what);
    if (st == SELFMM_OK) {
        const sm_pv *le = sm_pv_dict_get(v[2], "little_endian");
        if (le && !(le->kind == SM_PV_BOOL && le->u.b))
            st = sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: not a little-endian checkpoint", what);
    }
    legacy_ctx c = {NULL, 0, what};
    if (st == SELFMM_OK) st = legacy_collect(vm[3], &c, err);
    if (st == SELFMM_OK && v[4]->kind != SM_PV_LIST)
        st = sm_error(err, SELFMM_ERR_FORMAT, "%s: the storage key list is a %s", what,
                      sm_pv_kind_name(v[4]->kind));
    /* the storages, in the order of the key list */
    for (size_t i = 0; st == SELFMM_OK && i < v[4]->u.seq.n; i++) {
        const sm_pv *k = v[4]->u.seq.items[i];
        char key[128];
        if (k->kind != SM_PV_STR || k->u.str.len >= sizeof key) {
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: bad storage key", what);
            break;
        }
        memcpy(key, k->u.str.p, k->u.str.len);
        key[k->u.str.len] = '\0';
        legacy_storage *s = legacy_find(&c, key);
        if (!s) {
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: storage %s is referenced nowhere in the "
                          "pickle (its element size is unknown)", what, SM_Q(key));
            break;
        }
        if (size - pos < 8) {
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: storage %s: truncated", what, SM_Q(key));
            break;
        }
        uint64_t numel = 0;
        for (int b = 7; b >= 0; b--) numel = (numel << 8) | data[pos + (size_t)b];
        pos += 8;
        uint64_t esize = (uint64_t)sm_dtype_size(s->dtype);
        if (numel > (size - pos) / esize) {
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: storage %s declares %llu elements, more "
                          "than the file holds (truncated?)", what, SM_Q(key), (unsigned long long)numel);
            break;
        }
        s->bytes.data = data + pos;
        s->bytes.size = numel * esize;
        s->seen_data = 1;
        pos += (size_t)(numel * esize);
    }
    if (st == SELFMM_OK) st = walk(v[3], l, legacy_resolve, &c, what, err);
    if (st == SELFMM_OK) snprintf(l->format, sizeof l->format, "torch legacy");
    free(c.s);
    for (int i = 0; i < 5; i++) sm_pickle_free(vm[i]);
    return st;
}
