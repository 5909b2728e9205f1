/* safetensors.c -- reading any safetensors file into a tensor list, and writing
 * float32 tensors with string metadata (the native model file).
 *
 * Layout: u64 little-endian header length N, N bytes of JSON
 * {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}},
 * then the data; offsets are relative to the first data byte. The reader holds a
 * file to what the reference implementation (the safetensors crate, which
 * Python's safetensors runs) accepts: a header of at most 100,000,000 bytes that
 * is exactly one JSON object (UTF-8; only whitespace after it: writers pad the
 * header with spaces to a multiple of 8), each range matching dtype x shape, and
 * the ranges, in order, covering the data exactly: no gap, no overlap, nothing
 * after the last. A name given twice takes its last entry (core/json.h), whose
 * range then leaves the first one's bytes uncovered. */
#include "io/safetensors.h"

#include "core/atomic_file.h"
#include "core/json.h"
#include "core/quote.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    sm_dtype dt;
} dtypes[] = {
    {"F32", SM_DT_F32}, {"F16", SM_DT_F16}, {"BF16", SM_DT_BF16}, {"F64", SM_DT_F64},
    {"I64", SM_DT_I64}, {"I32", SM_DT_I32}, {"I16", SM_DT_I16}, {"I8", SM_DT_I8},
    {"U64", SM_DT_U64}, {"U32", SM_DT_U32}, {"U16", SM_DT_U16}, {"U8", SM_DT_U8},
    {"BOOL", SM_DT_BOOL},
};

const char *sm_safetensors_dtype_name(sm_dtype dt)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].dt == dt) return dtypes[i].name;
    return "?";
}

/* A JSON number that is a non-negative integer below 2^53. */
static int json_u53(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0) || d != floor(d) || d > 9007199254740992.0) return 0;
    *out = (uint64_t)d;
    return 1;
}

typedef struct range {
    uint64_t begin, end;
    const char *name;
} range;

static int by_begin(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

selfmm_status sm_read_safetensors(const uint8_t *data, size_t size, const char *what,
                                  sm_tensor_list *l, selfmm_error *err)
{
    if (size < 8) return sm_error(err, SELFMM_ERR_FORMAT, "%s: too short for safetensors", what);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | data[i];
    if (hlen > size - 8 || hlen > SM_SAFETENSORS_MAX_HEADER)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: safetensors header of %llu bytes does not fit "
                        "(file of %zu bytes)", what, (unsigned long long)hlen, size);
    const uint8_t *base = data + 8 + hlen;
    uint64_t dlen = size - 8 - hlen;
    cJSON *root = NULL;
    char hwhat[SELFMM_PATH_MAX + 32];
    snprintf(hwhat, sizeof hwhat, "%s: safetensors header", what);
    selfmm_status jst = sm_json_parse_n((const char *)data + 8, (size_t)hlen, hwhat, &root, err);
    if (jst != SELFMM_OK) { /* a damaged file, as every other header problem here */
        if (jst == SELFMM_ERR_PARSE && err) err->status = SELFMM_ERR_FORMAT;
        return jst == SELFMM_ERR_PARSE ? SELFMM_ERR_FORMAT : jst;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: safetensors header is not a JSON object", what);
    }
    int count = cJSON_GetArraySize(root);
    range *ranges = calloc((size_t)count + 1, sizeof *ranges);
    int nr = 0;
    selfmm_status st = ranges ? SELFMM_OK : sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    for (const cJSON *e = root->child; e && st == SELFMM_OK; e = e->next) {
        const char *name = e->string ? e->string : "";
        const char *qname = SM_Q(name); /* as messages show it */
        if (!strcmp(name, "__metadata__")) {
            if (cJSON_IsNull(e)) continue; /* the crate's Option: null is no metadata */
            if (!cJSON_IsObject(e)) {
                st = sm_error(err, SELFMM_ERR_FORMAT, "%s: __metadata__ is not an object", what);
                break;
            }
            for (const cJSON *m = e->child; m && st == SELFMM_OK; m = m->next) {
                if (!cJSON_IsString(m))
                    st = sm_error(err, SELFMM_ERR_FORMAT, "%s: metadata %s is not a string", what,
                                  SM_Q(m->string ? m->string : ""));
                else
                    st = sm_tensors_add_meta(l, m->string ? m->string : "", m->valuestring, err);
            }
            continue;
        }
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(off) ||
            cJSON_GetArraySize(off) != 2) {
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: tensor %s: needs dtype, shape and "
                          "data_offsets [begin, end]", what, qname);
            break;
        }
        sm_dtype dtype = SM_DT_COUNT;
        for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
            if (!strcmp(dt->valuestring, dtypes[i].name)) dtype = dtypes[i].dt;
        if (dtype == SM_DT_COUNT) {
            st = sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: tensor %s: dtype %s is not supported",
                          what, qname, SM_Q(dt->valuestring));
            break;
        }
        int ndim = cJSON_GetArraySize(shape);
        int64_t dims[SM_TENSOR_MAX_DIMS];
        if (ndim > SM_TENSOR_MAX_DIMS) {
            st = sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: tensor %s: %d dimensions", what, qname, ndim);
            break;
        }
        int d = 0;
        for (const cJSON *x = shape->child; x; x = x->next, d++) {
            uint64_t u;
            if (!json_u53(x, &u)) {
                st = sm_error(err, SELFMM_ERR_SHAPE, "%s: tensor %s: dimension %d is not a "
                              "non-negative integer", what, qname, d);
                break;
            }
            dims[d] = (int64_t)u;
        }
        if (st != SELFMM_OK) break;
        uint64_t b, en;
        if (!json_u53(off->child, &b) || !json_u53(off->child->next, &en) || b > en || en > dlen) {
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: tensor %s: data_offsets outside the %llu "
                          "data bytes", what, qname, (unsigned long long)dlen);
            break;
        }
        int64_t n = sm_shape_numel(ndim, dims);
        uint64_t esize = (uint64_t)sm_dtype_size(dtype);
        if (n < 0 || (uint64_t)n > UINT64_MAX / esize || (uint64_t)n * esize != en - b) {
            char s[96];
            sm_shape_str(s, sizeof s, ndim, dims);
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: tensor %s: %llu bytes for %s %s", what,
                          qname, (unsigned long long)(en - b), dt->valuestring, s);
            break;
        }
        ranges[nr++] = (range){b, en, name};
        st = sm_tensors_add(l, name, strlen(name), dtype, ndim, dims, NULL, base + b, err);
    }
    if (st == SELFMM_OK) {
        /* in order of their offsets, each range starts where the previous one ends */
        qsort(ranges, (size_t)nr, sizeof *ranges, by_begin);
        uint64_t at = 0;
        for (int i = 0; i < nr && st == SELFMM_OK; i++) {
            if (ranges[i].begin < at)
                st = sm_error(err, SELFMM_ERR_FORMAT, "%s: tensors %s and %s overlap", what,
                              SM_Q(ranges[i - 1].name), SM_Q(ranges[i].name));
            else if (ranges[i].begin > at)
                st = sm_error(err, SELFMM_ERR_FORMAT, "%s: data bytes [%llu, %llu) belong to no tensor "
                              "(before %s): safetensors data must be covered in order, without gaps",
                              what, (unsigned long long)at, (unsigned long long)ranges[i].begin,
                              SM_Q(ranges[i].name));
            at = ranges[i].end;
        }
        if (st == SELFMM_OK && at != dlen)
            st = sm_error(err, SELFMM_ERR_FORMAT, "%s: the tensors cover %llu of the %llu data bytes "
                          "(trailing bytes belong to no tensor)", what, (unsigned long long)at,
                          (unsigned long long)dlen);
    }
    /* duplicate names (cJSON keeps both) are refused here */
    if (st == SELFMM_OK) st = sm_tensors_index(l, what, err);
    if (st == SELFMM_OK) snprintf(l->format, sizeof l->format, "safetensors");
    free(ranges);
    cJSON_Delete(root);
    return st;
}

/* ---- writing ---- */

static cJSON *raw_u64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

selfmm_status sm_write_safetensors(const char *path, const sm_st_out *t, int n,
                                   const char *const *meta_key, const char *const *meta_val,
                                   int n_meta, selfmm_error *err)
{
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    int ok = root && meta && cJSON_AddItemToObject(root, "__metadata__", meta);
    if (!ok) cJSON_Delete(meta);
    for (int i = 0; ok && i < n_meta; i++) {
        cJSON *s = cJSON_CreateString(meta_val[i]);
        ok = s && cJSON_AddItemToObject(meta, meta_key[i], s);
        if (!ok) cJSON_Delete(s);
    }
    uint64_t off = 0;
    for (int i = 0; ok && i < n; i++) {
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *o = cJSON_CreateArray();
        ok = e && shape && o;
        for (int d = 0; ok && d < t[i].ndim; d++) ok = cJSON_AddItemToArray(shape, raw_u64((uint64_t)t[i].shape[d]));
        uint64_t bytes = (uint64_t)t[i].numel * 4;
        ok = ok && cJSON_AddItemToArray(o, raw_u64(off)) && cJSON_AddItemToArray(o, raw_u64(off + bytes));
        ok = ok && cJSON_AddItemToObject(e, "dtype", cJSON_CreateString("F32"));
        ok = ok && cJSON_AddItemToObject(e, "shape", shape) && (shape = NULL, 1);
        ok = ok && cJSON_AddItemToObject(e, "data_offsets", o) && (o = NULL, 1);
        ok = ok && cJSON_AddItemToObject(root, t[i].name, e) && (e = NULL, 1);
        cJSON_Delete(e), cJSON_Delete(shape), cJSON_Delete(o);
        off += bytes;
    }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
    size_t jl = strlen(json), pad = (8 - (8 + jl) % 8) % 8, hl = jl + pad;
    uint8_t head[8];
    for (int i = 0; i < 8; i++) head[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    sm_atomic_file af;
    selfmm_status st = sm_atomic_open(&af, path, err);
    if (st == SELFMM_OK) {
        int w = fwrite(head, 1, 8, af.fp) == 8 && fwrite(json, 1, jl, af.fp) == jl;
        for (size_t i = 0; w && i < pad; i++) w = fputc(' ', af.fp) != EOF;
        for (int i = 0; w && i < n; i++)
            w = fwrite(t[i].data, 4, (size_t)t[i].numel, af.fp) == (size_t)t[i].numel;
        if (!w) {
            int e = errno;
            sm_atomic_abort(&af);
            st = sm_error(err, SELFMM_ERR_IO, "%s: write failed: %s", path, strerror(e));
        } else {
            st = sm_atomic_commit(&af, err);
        }
    }
    free(json);
    return st;
}
