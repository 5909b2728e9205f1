/* features.c -- see features.h; also the public selfmm_features_load. */
#include "data/features.h"

#include "core/alloc.h"
#include "core/quote.h"
#include "io/dtype.h"
#include "io/mapped_file.h"
#include "io/npy.h"
#include "io/tensors.h"
#include "io/csv.h"

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- CSV ---- */

typedef struct csv_read {
    float *x;
    size_t n, cap;
    int rows, cols, cols_line;
    int64_t nonfinite;
    int bad_line, bad_col;
    sm_csv_num bad_kind;
} csv_read;

static int append(csv_read *r, float v)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        if (cap > SIZE_MAX / sizeof(float)) return 0;
        float *x = realloc(r->x, cap * sizeof *x);
        if (!x) return 0;
        r->x = x, r->cap = cap;
    }
    r->x[r->n++] = v;
    return 1;
}

static selfmm_status csv_rows(const char *path, sm_csv *c, csv_read *r, locale_t loc,
                              selfmm_error *err)
{
    int first = 1;
    for (;;) {
        int k = sm_csv_next(c);
        if (k == SM_CSV_END) return SELFMM_OK;
        if (k == SM_CSV_NOMEM) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
        if (k == SM_CSV_BAD)
            return sm_error(err, SELFMM_ERR_PARSE, "%s: line %d: %s", path, c->rec_line, c->problem);
        if (first) { /* header or numbers? */
            first = 0;
            int numeric = 0, text = 0;
            float dummy;
            for (int i = 0; i < c->n; i++) {
                sm_csv_num nk = sm_csv_float(sm_csv_field(c, i), loc, &dummy);
                numeric += nk != SM_NUM_EMPTY && nk != SM_NUM_TEXT;
                text += nk == SM_NUM_TEXT;
            }
            if (numeric == 0) continue; /* a header */
            /* Numbers and empty cells: a row of numbers with a hole, reported below
             * as the empty value it is. */
            if (text > 0)
                return sm_error(err, SELFMM_ERR_PARSE,
                                "%s: line %d mixes numbers and text: neither a header nor a row "
                                "of numbers", path, c->rec_line);
        }
        if (r->rows == 0) r->cols = c->n, r->cols_line = c->rec_line;
        else if (c->n != r->cols)
            return sm_error(err, SELFMM_ERR_SHAPE, "%s: line %d has %d values, line %d has %d "
                            "(ragged rows)", path, c->rec_line, c->n, r->cols_line, r->cols);
        for (int i = 0; i < c->n; i++) {
            float v = 0;
            sm_csv_num nk = sm_csv_float(sm_csv_field(c, i), loc, &v);
            if (nk == SM_NUM_EMPTY)
                return sm_error(err, SELFMM_ERR_PARSE, "%s: line %d, column %d: empty value", path,
                                c->rec_line, i + 1);
            if (nk == SM_NUM_TEXT)
                return sm_error(err, SELFMM_ERR_PARSE, "%s: line %d, column %d: not a number: %s",
                                path, c->rec_line, i + 1, SM_Q(sm_csv_field(c, i)));
            if (nk != SM_NUM_OK && !r->nonfinite++)
                r->bad_line = c->rec_line, r->bad_col = i + 1, r->bad_kind = nk;
            if (!append(r, nk == SM_NUM_OK ? v : 0.0f))
                return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
        }
        if (r->rows == INT_MAX)
            return sm_error(err, SELFMM_ERR_RANGE, "%s: more than %d rows", path, INT_MAX);
        r->rows++;
    }
}

static selfmm_status read_csv(const char *path, const uint8_t *data, size_t size, float **x,
                              int *T, int *D, selfmm_error *err)
{
    locale_t loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!loc) return sm_error(err, SELFMM_ERR_NOMEM, "%s: cannot create the C locale", path);
    sm_csv c;
    sm_csv_init(&c, (const char *)data, size);
    csv_read r = {0};
    selfmm_status st = csv_rows(path, &c, &r, loc, err);
    sm_csv_free(&c);
    freelocale(loc);
    if (st == SELFMM_OK && r.rows == 0)
        st = sm_error(err, SELFMM_ERR_DATA, "%s: no rows of numbers (an empty feature file)", path);
    if (st == SELFMM_OK && r.nonfinite)
        st = sm_error(err, SELFMM_ERR_DATA, "%s: line %d, column %d: %s (%lld non-finite values in "
                      "the file)", path, r.bad_line, r.bad_col, sm_csv_nonfinite_name(r.bad_kind),
                      (long long)r.nonfinite);
    if (st != SELFMM_OK) {
        free(r.x);
        return st;
    }
    *x = r.x;
    *T = r.rows;
    *D = r.cols;
    return SELFMM_OK;
}

/* ---- .npy ---- */

static selfmm_status read_npy(const char *path, const uint8_t *b, size_t size, float **x, int *T,
                              int *D, selfmm_error *err)
{
    size_t prefix, dict_len;
    SM_TRY(sm_npy_prefix(b, size, &prefix, &dict_len, path, err));
    if (prefix + dict_len > size)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: truncated .npy header", path);
    sm_npy_header h;
    SM_TRY(sm_npy_parse_dict((const char *)b + prefix, dict_len, &h, path, err));
    char shape[96];
    sm_shape_str(shape, sizeof shape, h.ndim, h.shape);
    if (h.dtype != SM_DT_F32 && h.dtype != SM_DT_F64)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: dtype %s: features must be float32 or "
                        "float64", path, sm_dtype_name(h.dtype));
    if (h.ndim != 2)
        return sm_error(err, SELFMM_ERR_SHAPE, "%s: shape %s: expected (T, D), one row of D "
                        "features per time step", path, shape);
    if (h.shape[0] == 0 || h.shape[1] == 0)
        return sm_error(err, SELFMM_ERR_DATA, "%s: shape %s: an empty feature file", path, shape);
    if (h.shape[0] > INT_MAX || h.shape[1] > INT_MAX)
        return sm_error(err, SELFMM_ERR_RANGE, "%s: shape %s: too large", path, shape);
    const size_t t = (size_t)h.shape[0], d = (size_t)h.shape[1], isz = (size_t)h.itemsize;
    size_t count, bytes;
    if (!sm_mul_ok(t, d, &count) || !sm_mul_ok(count, 8, &bytes)) /* data and the float copy */
        return sm_error(err, SELFMM_ERR_RANGE, "%s: shape %s: too large", path, shape);
    bytes = count * isz;
    const size_t have = size - prefix - dict_len;
    if (have != bytes)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: shape %s needs %zu data bytes, the file holds "
                        "%zu", path, shape, bytes, have);
    float *out = malloc(count * sizeof *out);
    if (!out) return sm_error(err, SELFMM_ERR_NOMEM, "%s: cannot allocate %zu floats", path, count);
    const uint8_t *data = b + prefix + dict_len;
    int64_t nonfinite = 0;
    size_t first = 0;
    sm_csv_num first_kind = SM_NUM_OK;
    for (size_t i = 0; i < t; i++)
        for (size_t j = 0; j < d; j++) {
            size_t src = h.fortran ? j * t + i : i * d + j;
            double v; /* float64 first: a value beyond float32 is refused, not rounded to inf */
            sm_dtype_to_f64(h.dtype, h.swap, data + src * isz, 1, &v);
            float f = (float)v;
            sm_csv_num k = isnan(v)   ? SM_NUM_NAN
                           : isinf(v) ? SM_NUM_INF
                           : isinf(f) ? SM_NUM_RANGE
                                      : SM_NUM_OK;
            if (k != SM_NUM_OK) {
                if (!nonfinite++) first = i * d + j, first_kind = k;
                f = 0;
            }
            out[i * d + j] = f;
        }
    if (nonfinite) {
        free(out);
        return sm_error(err, SELFMM_ERR_DATA, "%s: step %zu, feature %zu: %s (%lld non-finite values "
                        "in the file)", path, first / d, first % d, sm_csv_nonfinite_name(first_kind),
                        (long long)nonfinite);
    }
    *x = out;
    *T = (int)t;
    *D = (int)d;
    return SELFMM_OK;
}

selfmm_status sm_features_parse(const uint8_t *data, size_t size, const char *path, float **x,
                                int *T, int *D, selfmm_error *err)
{
    if (size == 0) return sm_error(err, SELFMM_ERR_DATA, "%s: an empty file", path);
    if (size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0) return read_npy(path, data, size, x, T, D, err);
    return read_csv(path, data, size, x, T, D, err);
}

selfmm_status sm_features_read(const char *path, float **x, int *T, int *D, selfmm_error *err)
{
    sm_mapped_file mf;
    SM_TRY(sm_mapped_open(&mf, path, err));
    selfmm_status st = sm_features_parse(mf.data, mf.size, path, x, T, D, err);
    sm_mapped_close(&mf);
    return st;
}

SELFMM_API selfmm_status selfmm_features_load(const char *path, float **data, int *steps,
                                              int *dim, selfmm_error *err)
{
    if (!path || !data || !steps || !dim)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "features load: NULL argument");
    return sm_features_read(path, data, steps, dim, err);
}

SELFMM_API void selfmm_features_free(float *data) { free(data); }
