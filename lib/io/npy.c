/* npy.c -- see npy.h. Follows numpy/lib/format.py (versions 1.0, 2.0, 3.0). */
#include "io/npy.h"

#include "core/quote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

selfmm_status sm_npy_prefix(const uint8_t *b, size_t n, size_t *prefix, size_t *dict_len,
                            const char *what, selfmm_error *err)
{
    if (n < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: not a .npy array (bad magic)", what);
    int major = b[6];
    if (major == 1) {
        *prefix = 10;
        *dict_len = (size_t)b[8] | (size_t)b[9] << 8;
    } else if (major == 2 || major == 3) {
        if (n < 12) return sm_error(err, SELFMM_ERR_FORMAT, "%s: truncated .npy header", what);
        *prefix = 12;
        *dict_len = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    } else {
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: .npy format version %d.%d", what, major, b[7]);
    }
    if (*dict_len > SM_NPY_MAX_HEADER)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: .npy header of %zu bytes (at most %u)", what,
                        *dict_len, SM_NPY_MAX_HEADER);
    return SELFMM_OK;
}

typedef struct cursor {
    const char *p, *end;
} cursor;

static void ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int eat(cursor *c, char ch)
{
    ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string: [*s, *s + *n). */
static int str(cursor *c, const char **s, size_t *n)
{
    ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char q = *c->p++;
    const char *start = c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\') return 0; /* never in NumPy's headers */
        c->p++;
    }
    if (c->p >= c->end) return 0;
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return 1;
}

static int word(cursor *c, const char *w)
{
    ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

selfmm_status sm_npy_parse_dict(const char *text, size_t len, sm_npy_header *h, const char *what,
                                selfmm_error *err)
{
    memset(h, 0, sizeof *h);
    cursor c = {text, text + len};
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!eat(&c, '{')) goto bad;
    while (!eat(&c, '}')) {
        const char *k;
        size_t kn;
        if (!str(&c, &k, &kn) || !eat(&c, ':')) goto bad;
        if (kn == 5 && !memcmp(k, "descr", 5)) {
            const char *d;
            size_t dn;
            char bo;
            if (!str(&c, &d, &dn)) {
                return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                                "%s: structured .npy arrays are not supported", what);
            }
            if (sm_dtype_parse_numpy(d, dn, &h->dtype, &h->itemsize, &bo) != 0)
                return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: .npy dtype %s is not supported",
                                what, SM_QN(d, dn));
            h->swap = bo == '>';
            have_descr = 1;
        } else if (kn == 13 && !memcmp(k, "fortran_order", 13)) {
            if (word(&c, "True")) h->fortran = 1;
            else if (word(&c, "False")) h->fortran = 0;
            else goto bad;
            have_order = 1;
        } else if (kn == 5 && !memcmp(k, "shape", 5)) {
            if (!eat(&c, '(')) goto bad;
            h->ndim = 0;
            while (!eat(&c, ')')) {
                ws(&c);
                int64_t v = 0;
                const char *start = c.p;
                while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
                    if (v > (INT64_MAX - 9) / 10)
                        return sm_error(err, SELFMM_ERR_SHAPE, "%s: .npy shape too large", what);
                    v = v * 10 + (*c.p++ - '0');
                }
                if (c.p < c.end && *c.p == 'L') c.p++; /* Python 2 longs */
                if (c.p == start) {
                    if (c.p < c.end && *c.p == '-')
                        return sm_error(err, SELFMM_ERR_SHAPE, "%s: negative .npy dimension", what);
                    goto bad;
                }
                if (h->ndim == SM_NPY_MAX_DIMS)
                    return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: more than %d dimensions", what,
                                    SM_NPY_MAX_DIMS);
                h->shape[h->ndim++] = v;
                if (!eat(&c, ',')) {
                    if (!eat(&c, ')')) goto bad;
                    break;
                }
            }
            have_shape = 1;
        } else {
            return sm_error(err, SELFMM_ERR_FORMAT, "%s: unexpected key %s in the .npy header",
                            what, SM_QN(k, kn));
        }
        if (!eat(&c, ',')) {
            if (!eat(&c, '}')) goto bad;
            break;
        }
    }
    ws(&c);
    if (c.p != c.end || !have_descr || !have_order || !have_shape) goto bad;
    return SELFMM_OK;
bad:
    return sm_error(err, SELFMM_ERR_FORMAT, "%s: malformed .npy header", what);
}

selfmm_status sm_npy_make_header(const char *descr, int fortran, int ndim, const int64_t *shape,
                                 uint8_t **out, size_t *len, selfmm_error *err)
{
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': (", descr,
                     fortran ? "True" : "False");
    for (int d = 0; d < ndim && n < (int)sizeof dict; d++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (n < (int)sizeof dict)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    if (n >= (int)sizeof dict) return sm_error(err, SELFMM_ERR_RANGE, ".npy header too long");
    size_t prefix = 10, body = (size_t)n + 1; /* + '\n' */
    size_t total = (prefix + body + 63) / 64 * 64;
    uint8_t *h = malloc(total);
    if (!h) return sm_error(err, SELFMM_ERR_NOMEM, "out of memory");
    size_t dict_len = total - prefix;
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (uint8_t)(dict_len & 0xff);
    h[9] = (uint8_t)(dict_len >> 8);
    memcpy(h + prefix, dict, (size_t)n);
    memset(h + prefix + n, ' ', total - prefix - (size_t)n - 1);
    h[total - 1] = '\n';
    *out = h;
    *len = total;
    return SELFMM_OK;
}
