/* dataset_convert.c -- streaming conversion of one source array (pickle bytes,
 * latin-1 text, npz member, Python list) to float32, int32 or strings. Data moves
 * through a fixed chunk buffer; pages of a mapped file are dropped as soon as they
 * are converted. */
#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_ELEMS 65536

selfmm_status sm_src_layout(const sm_array_src *src, int fortran, uint64_t bytes, uint64_t *count,
                            selfmm_error *err)
{
    int big_dims = 0;
    uint64_t n = 1;
    for (int d = 0; d < src->ndim; d++) {
        big_dims += src->shape[d] > 1;
        if (src->shape[d] && n > UINT64_MAX / (uint64_t)src->shape[d])
            return sm_error(err, SELFMM_ERR_SHAPE, "%s: shape overflows", src->name);
        n *= (uint64_t)src->shape[d];
    }
    if (fortran && big_dims > 1)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                        "%s: Fortran-ordered array; store it with np.ascontiguousarray", src->name);
    *count = n;
    if (src->dtype == SM_DT_OBJECT) return SELFMM_OK;
    if (src->itemsize <= 0 && n)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: zero-sized elements", src->name);
    if ((src->itemsize > 0 && n > UINT64_MAX / (uint64_t)src->itemsize) ||
        n * (uint64_t)src->itemsize != bytes)
        return sm_error(err, SELFMM_ERR_FORMAT,
                        "%s: the shape declares %llu elements of %d bytes, but the data holds %llu bytes",
                        src->name, (unsigned long long)n, src->itemsize, (unsigned long long)bytes);
    return SELFMM_OK;
}

/* ---- byte sources ---- */

/* Decode latin-1 text (UTF-8 of chars < 256) starting at *pos into n bytes. */
static selfmm_status read_latin1(sm_array_src *src, uint8_t *dst, size_t n, selfmm_error *err)
{
    size_t len = src->bytes.len, i = src->pos;
    for (size_t o = 0; o < n; o++) {
        int c = sm_latin1_next(src->bytes.p, len, &i);
        if (c < 0 && i >= len)
            return sm_error(err, SELFMM_ERR_FORMAT, "%s: array data shorter than its shape",
                            src->name);
        if (c < 0)
            return sm_error(err, SELFMM_ERR_FORMAT,
                            "%s: array data (latin-1 text) has an invalid character at byte %zu",
                            src->name, i);
        dst[o] = (uint8_t)c;
    }
    src->pos = i;
    return SELFMM_OK;
}

selfmm_status sm_src_read(sm_array_src *src, void *dst, size_t n, selfmm_error *err)
{
    if (src->kind == SM_SRC_ZIP) {
        if (n > src->remaining)
            return sm_error(err, SELFMM_ERR_FORMAT, "%s: member shorter than its shape", src->name);
        size_t got = 0;
        while (got < n) {
            zip_int64_t r = zip_fread(src->zf, (uint8_t *)dst + got, n - got);
            if (r <= 0) {
                zip_error_t *ze = zip_file_get_error(src->zf);
                return sm_error(err, SELFMM_ERR_FORMAT, "%s: cannot read member data: %s",
                                src->name, r < 0 && ze ? zip_error_strerror(ze) : "truncated");
            }
            got += (size_t)r;
        }
        src->remaining -= n;
        if (src->remaining == 0) {
            /* read past the end: libzip checks the member's CRC-32 and size there */
            uint8_t extra;
            zip_int64_t r = zip_fread(src->zf, &extra, 1);
            if (r != 0) {
                zip_error_t *ze = zip_file_get_error(src->zf);
                int code = r < 0 && ze ? zip_error_code_zip(ze) : ZIP_ER_INCONS;
                return sm_error(err, SELFMM_ERR_FORMAT, "%s: %s", src->name,
                                code == ZIP_ER_CRC ? "the member's CRC-32 does not match its data: "
                                                     "the file is damaged"
                                : r > 0 ? "member data longer than its header declares"
                                        : zip_error_strerror(ze));
            }
        }
        return SELFMM_OK;
    }
    if (src->kind != SM_SRC_BYTES)
        return sm_error(err, SELFMM_ERR_STATE, "%s: not a byte source", src->name);
    size_t start = src->pos;
    if (src->bytes.latin1) {
        SM_TRY(read_latin1(src, dst, n, err));
    } else {
        if (n > src->bytes.len - src->pos)
            return sm_error(err, SELFMM_ERR_FORMAT, "%s: array data shorter than its shape",
                            src->name);
        memcpy(dst, src->bytes.p + src->pos, n);
        src->pos += n;
    }
    /* What is converted is not read again: give the pages back. */
    sm_mapped_drop(src->mf, src->bytes.p + start, src->pos - start);
    return SELFMM_OK;
}

/* ---- Python lists ---- */

static selfmm_status list_number(const sm_array_src *src, int64_t i, double *out, selfmm_error *err)
{
    const sm_pv *v = src->list->u.seq.items[i];
    switch (v->kind) {
    case SM_PV_INT: *out = (double)v->u.i; return SELFMM_OK;
    case SM_PV_BOOL: *out = v->u.b; return SELFMM_OK;
    case SM_PV_FLOAT: *out = v->u.f; return SELFMM_OK;
    default:
        return sm_error(err, SELFMM_ERR_TYPE, "%s[%lld] is a %s, expected a number", src->name,
                        (long long)i, sm_pv_kind_name(v->kind));
    }
}

static selfmm_status check_count(const sm_array_src *src, int64_t count, selfmm_error *err)
{
    if ((src->kind == SM_SRC_LIST || src->kind == SM_SRC_OBJECTS) &&
        (int64_t)src->list->u.seq.n != count)
        return sm_error(err, SELFMM_ERR_SHAPE, "%s: %zu items, expected %lld", src->name,
                        src->list->u.seq.n, (long long)count);
    return SELFMM_OK;
}

/* A raw array of numbers (not objects, not a list: those are read one by one). */
static selfmm_status check_numeric(const sm_array_src *src, selfmm_error *err)
{
    if (src->kind == SM_SRC_OBJECTS || !sm_dtype_is_numeric(src->dtype))
        return sm_error(err, SELFMM_ERR_TYPE, "%s: %s data, expected numbers", src->name,
                        sm_dtype_name(src->dtype));
    return SELFMM_OK;
}

/* ---- float32 ---- */

static void scan(float *x, int64_t n, int64_t base, sm_float_stats *st)
{
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], 4);
        if ((bits & 0x7f800000u) != 0x7f800000u) continue; /* finite: the common case */
        if (bits & 0x007fffffu) {
            if (!st->nan++) st->first_nan = base + i;
        } else if (bits >> 31) {
            if (!st->neg_inf++) st->first_neg_inf = base + i;
        } else {
            if (!st->pos_inf++) st->first_pos_inf = base + i;
        }
        x[i] = 0.0f; /* kept only when the caller allows it */
    }
}

selfmm_status sm_src_to_f32(sm_array_src *src, float *dst, int64_t count, sm_float_stats *st,
                            selfmm_error *err)
{
    memset(st, 0, sizeof *st);
    st->first_nan = st->first_neg_inf = st->first_pos_inf = -1;
    SM_TRY(check_count(src, count, err));
    if (src->kind == SM_SRC_LIST) {
        for (int64_t i = 0; i < count; i++) {
            double d;
            SM_TRY(list_number(src, i, &d, err));
            float f = (float)d;
            scan(&f, 1, i, st);
            if (dst) dst[i] = f;
        }
        return SELFMM_OK;
    }
    SM_TRY(check_numeric(src, err));
    size_t isz = (size_t)src->itemsize;
    uint8_t *raw = malloc(CHUNK_ELEMS * isz);
    float *tmp = dst ? NULL : malloc(CHUNK_ELEMS * sizeof *tmp);
    if (!raw || (!dst && !tmp)) {
        free(raw), free(tmp);
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
    }
    selfmm_status s = SELFMM_OK;
    for (int64_t done = 0; done < count && s == SELFMM_OK;) {
        int64_t k = count - done < CHUNK_ELEMS ? count - done : CHUNK_ELEMS;
        s = sm_src_read(src, raw, (size_t)k * isz, err);
        if (s != SELFMM_OK) break;
        float *out = dst ? dst + done : tmp;
        sm_dtype_to_f32(src->dtype, src->swap, raw, (size_t)k, out);
        scan(out, k, done, st);
        done += k;
    }
    free(raw);
    free(tmp);
    return s;
}

/* ---- int32 ---- */

static selfmm_status check_int(const sm_array_src *src, double d, int64_t i, selfmm_error *err)
{
    if (!(d == floor(d)) || d < -2147483648.0 || d > 2147483647.0)
        return sm_error(err, SELFMM_ERR_DATA, "%s: element %lld = %g is not an integer in int32 range",
                        src->name, (long long)i, d);
    return SELFMM_OK;
}

selfmm_status sm_src_to_i32(sm_array_src *src, int32_t *dst, int64_t count, selfmm_error *err)
{
    SM_TRY(check_count(src, count, err));
    if (src->kind == SM_SRC_LIST) {
        for (int64_t i = 0; i < count; i++) {
            double d;
            SM_TRY(list_number(src, i, &d, err));
            SM_TRY(check_int(src, d, i, err));
            dst[i] = (int32_t)d;
        }
        return SELFMM_OK;
    }
    SM_TRY(check_numeric(src, err));
    size_t isz = (size_t)src->itemsize;
    uint8_t *raw = malloc(CHUNK_ELEMS * isz);
    double *tmp = malloc(CHUNK_ELEMS * sizeof *tmp);
    selfmm_status s = SELFMM_OK;
    if (!raw || !tmp) s = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
    for (int64_t done = 0; done < count && s == SELFMM_OK;) {
        int64_t k = count - done < CHUNK_ELEMS ? count - done : CHUNK_ELEMS;
        s = sm_src_read(src, raw, (size_t)k * isz, err);
        if (s != SELFMM_OK) break;
        sm_dtype_to_f64(src->dtype, src->swap, raw, (size_t)k, tmp);
        for (int64_t i = 0; i < k && s == SELFMM_OK; i++) {
            s = check_int(src, tmp[i], done + i, err);
            if (s == SELFMM_OK) dst[done + i] = (int32_t)tmp[i]; /* NaN or 1e10: no cast */
        }
        done += k;
    }
    free(raw);
    free(tmp);
    return s;
}

/* ---- strings ---- */

typedef struct text_buf {
    char *p;
    size_t len, cap;
    size_t *off;               /* start of each string */
} text_buf;

static int text_put(text_buf *t, const char *s, size_t n)
{
    if (n + 1 > t->cap - t->len) {
        size_t cap = t->cap ? t->cap : 256;
        while (n + 1 > cap - t->len) {
            if (cap > SIZE_MAX / 2) return 0;
            cap *= 2;
        }
        char *q = realloc(t->p, cap);
        if (!q) return 0;
        t->p = q, t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->p[t->len + n] = '\0';
    t->len += n + 1;
    return 1;
}

/* UCS-4 (little- or big-endian) to UTF-8, trailing NULs dropped as NumPy does. */
static selfmm_status ucs4_to_utf8(const sm_array_src *src, const uint8_t *in, size_t chars,
                                  char *out, size_t *out_len, int64_t index, selfmm_error *err)
{
    while (chars > 0) {
        const uint8_t *c = in + 4 * (chars - 1);
        if (c[0] | c[1] | c[2] | c[3]) break;
        chars--;
    }
    size_t o = 0;
    for (size_t i = 0; i < chars; i++) {
        const uint8_t *c = in + 4 * i;
        uint32_t cp = src->swap ? ((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3])
                                : ((uint32_t)c[3] << 24 | (uint32_t)c[2] << 16 | (uint32_t)c[1] << 8 | c[0]);
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return sm_error(err, SELFMM_ERR_DATA, "%s[%lld]: invalid character U+%X", src->name,
                            (long long)index, cp);
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xC0 | cp >> 6);
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xE0 | cp >> 12);
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | cp >> 18);
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    *out_len = o;
    return SELFMM_OK;
}

selfmm_status sm_src_to_strings(sm_array_src *src, int64_t count, char ***out, selfmm_error *err)
{
    SM_TRY(check_count(src, count, err));
    text_buf t = {0};
    uint8_t *raw = NULL;
    char *utf8 = NULL;
    selfmm_status s = SELFMM_OK;
    if ((uint64_t)count > SIZE_MAX / sizeof(size_t) || !(t.off = malloc(((size_t)count + 1) * sizeof *t.off)))
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
    if (src->kind == SM_SRC_CSTRINGS) {
        for (int64_t i = 0; i < count && s == SELFMM_OK; i++) {
            const char *v = src->cstr[i];
            if (!v) {
                s = sm_error(err, SELFMM_ERR_DATA, "%s[%lld] is NULL", src->name, (long long)i);
                break;
            }
            t.off[i] = t.len;
            if (!text_put(&t, v, strlen(v)))
                s = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
        }
    } else if (src->kind == SM_SRC_LIST || src->kind == SM_SRC_OBJECTS) {
        for (int64_t i = 0; i < count && s == SELFMM_OK; i++) {
            const sm_pv *v = src->list->u.seq.items[i];
            if (v->kind != SM_PV_STR) {
                s = sm_error(err, SELFMM_ERR_TYPE, "%s[%lld] is a %s, expected a str", src->name,
                             (long long)i, sm_pv_kind_name(v->kind));
                break;
            }
            t.off[i] = t.len;
            if (!text_put(&t, v->u.str.p, v->u.str.len))
                s = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
        }
    } else if (src->dtype == SM_DT_UNICODE) {
        size_t isz = (size_t)src->itemsize, chars = isz / 4;
        raw = malloc(isz ? isz : 1);
        utf8 = malloc(chars * 4 + 1);
        if (!raw || !utf8) s = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
        for (int64_t i = 0; i < count && s == SELFMM_OK; i++) {
            size_t n = 0;
            s = sm_src_read(src, raw, isz, err);
            if (s == SELFMM_OK) s = ucs4_to_utf8(src, raw, chars, utf8, &n, i, err);
            t.off[i] = t.len;
            if (s == SELFMM_OK && !text_put(&t, utf8, n))
                s = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
        }
    } else {
        s = sm_error(err, SELFMM_ERR_TYPE, "%s: %s data, expected strings", src->name,
                     sm_dtype_name(src->dtype));
    }
    if (s == SELFMM_OK) {
        size_t head = (size_t)count * sizeof(char *);
        char **block = malloc(head + t.len + 1);
        if (!block) {
            s = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
        } else {
            char *text = (char *)block + head;
            if (t.len) memcpy(text, t.p, t.len);
            for (int64_t i = 0; i < count; i++) block[i] = text + t.off[i];
            *out = block;
        }
    }
    free(t.p);
    free(t.off);
    free(raw);
    free(utf8);
    return s;
}
