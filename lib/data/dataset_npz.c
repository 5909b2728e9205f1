/* dataset_npz.c -- the .npz form of a dataset (np.savez layout: a zip of .npy
 * members, here named "<split>/<field>.npy"), read and written through libzip.
 * Members are streamed: reading converts straight from the decompressor into the
 * dataset's arrays; writing feeds each member from the arrays in place. */
#include "data/dataset.h"

#include "core/alloc.h"
#include "core/atomic_file.h"
#include "core/quote.h"
#include "data/norm.h"
#include "io/npy.h"
#include "io/tensors.h"
#include "io/zip_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Written members get a fixed time so that the same data gives the same bytes. */
#define NPZ_MTIME ((time_t)946684800) /* 2000-01-01 */

/* ---- reading ---- */

typedef struct npz_ctx {
    zip_t *za;
    size_t file_size;
} npz_ctx;

static selfmm_status zip_fail(zip_t *za, const char *what, const char *op, selfmm_error *err)
{
    zip_error_t *ze = zip_get_error(za);
    return sm_error(err, SELFMM_ERR_FORMAT, "%s: %s: %s", what, op, ze ? zip_error_strerror(ze) : "?");
}

static selfmm_status read_header(sm_array_src *src, selfmm_error *err)
{
    uint8_t pre[12];
    size_t prefix, dict_len;
    if (src->remaining < 10)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: member too short for a .npy header", src->name);
    SM_TRY(sm_src_read(src, pre, 10, err));
    if (pre[6] >= 2) SM_TRY(sm_src_read(src, pre + 10, 2, err));
    SM_TRY(sm_npy_prefix(pre, pre[6] >= 2 ? 12 : 10, &prefix, &dict_len, src->name, err));
    if (dict_len > src->remaining)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: .npy header longer than the member", src->name);
    char *dict = malloc(dict_len + 1);
    if (!dict) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
    sm_npy_header h;
    selfmm_status st = sm_src_read(src, dict, dict_len, err);
    if (st == SELFMM_OK) st = sm_npy_parse_dict(dict, dict_len, &h, src->name, err);
    free(dict);
    SM_TRY(st);
    if (h.dtype == SM_DT_OBJECT)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                        "%s: object arrays in a .npz need pickle and are not read; store strings "
                        "as '<U' arrays", src->name);
    src->dtype = h.dtype;
    src->itemsize = h.itemsize;
    src->swap = h.swap;
    src->ndim = h.ndim;
    memcpy(src->shape, h.shape, sizeof h.shape);
    uint64_t count;
    return sm_src_layout(src, h.fortran, src->remaining, &count, err);
}

/* Open a member by name for streaming (its .npy header read); *found = 0 when the
 * archive has no such member. Once *found is set the caller closes src. */
static selfmm_status member_open(npz_ctx *c, const char *member, sm_array_src *src, int *found,
                                 selfmm_error *err)
{
    zip_int64_t idx = zip_name_locate(c->za, member, 0);
    *found = 0;
    if (idx < 0) return SELFMM_OK;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(c->za, (zip_uint64_t)idx, 0, &st) != 0)
        return zip_fail(c->za, member, "cannot stat", err);
    const zip_uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_CRC;
    if ((st.valid & need) != need)
        return sm_error(err, SELFMM_ERR_FORMAT, "member %s: sizes unknown", SM_Q(member));
    /* sm_zip_read_dir held the directory to these rules already; libzip's view too */
    SM_TRY(sm_zip_check_sizes(NULL, member, (int)st.comp_method, st.comp_size, st.size,
                              c->file_size, err));
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "member %s: compression method %d (only "
                        "stored or deflate)", SM_Q(member), (int)st.comp_method);
    src->kind = SM_SRC_ZIP;
    src->zf = zip_fopen_index(c->za, (zip_uint64_t)idx, 0);
    if (!src->zf) return zip_fail(c->za, member, "cannot open member", err);
    /* libzip checks the CRC-32 when the member is read to its end: sm_src_read
     * reads past the last byte for that */
    src->remaining = st.size;
    *found = 1; /* from here on the caller closes it */
    return read_header(src, err);
}

static selfmm_status npz_open(void *ctx, int s, sm_field f, sm_array_src *src, int *found,
                              selfmm_error *err)
{
    char member[96];
    snprintf(member, sizeof member, "%s/%s.npy", sm_split_names[s], sm_field_key(f));
    return member_open(ctx, member, src, found, err);
}

static void npz_close(void *ctx, sm_array_src *src)
{
    (void)ctx;
    if (src->zf) zip_fclose(src->zf);
    src->zf = NULL;
}

static void norm_member(char *out, size_t cap, int m, int std)
{
    snprintf(out, cap, "norm/%s_%s.npy", sm_norm_modality[m], std ? "std" : "mean");
}

/* The normalisation statistics of a built dataset: all four members or none. */
static selfmm_status read_norm(npz_ctx *c, selfmm_dataset *ds, const char *path, selfmm_error *err)
{
    char member[64];
    int present = 0;
    for (int k = 0; k < 4; k++) {
        norm_member(member, sizeof member, k / 2, k % 2);
        present += zip_name_locate(c->za, member, 0) >= 0;
    }
    if (present == 0) return SELFMM_OK;
    if (present < 4)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: %d of the 4 norm/*.npy members (audio and "
                        "vision mean and std); all or none are expected", path, present);
    float *v[4] = {NULL, NULL, NULL, NULL};
    const int dims[2] = {ds->split[0].audio_dim, ds->split[0].vision_dim};
    selfmm_status st = SELFMM_OK;
    for (int k = 0; k < 4 && st == SELFMM_OK; k++) {
        const int D = dims[k / 2];
        sm_array_src src;
        int found = 0;
        memset(&src, 0, sizeof src);
        norm_member(member, sizeof member, k / 2, k % 2);
        snprintf(src.name, sizeof src.name, "%.*s", (int)strlen(member) - 4, member);
        st = member_open(c, member, &src, &found, err);
        if (st != SELFMM_OK) st = sm_error_prefix(err, st, "%s", path);
        if (st == SELFMM_OK && (src.ndim != 1 || src.shape[0] != D))
            st = sm_error(err, SELFMM_ERR_SHAPE, "%s: %s: %d dimensions (first %lld), expected "
                          "(%d,), the %s feature width", path, src.name, src.ndim,
                          (long long)(src.ndim ? src.shape[0] : 0), D, sm_norm_modality[k / 2]);
        if (st == SELFMM_OK && !(v[k] = malloc((size_t)D * sizeof(float))))
            st = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
        sm_float_stats fs;
        if (st == SELFMM_OK && (st = sm_src_to_f32(&src, v[k], D, &fs, err)) != SELFMM_OK)
            st = sm_error_prefix(err, st, "%s", path);
        if (st == SELFMM_OK && fs.nan + fs.neg_inf + fs.pos_inf) /* converted to 0: refuse */
            st = sm_error(err, SELFMM_ERR_DATA, "%s: %s: %lld values are NaN or infinite", path,
                          src.name, (long long)(fs.nan + fs.neg_inf + fs.pos_inf));
        if (found) npz_close(c, &src);
    }
    for (int m = 0; m < 2 && st == SELFMM_OK; m++) {
        char what[SELFMM_PATH_MAX + 32];
        snprintf(what, sizeof what, "%s: norm/%s", path, sm_norm_modality[m]);
        st = sm_norm_check(v[2 * m], v[2 * m + 1], dims[m], what, err);
    }
    if (st == SELFMM_OK) {
        const float *const mean[2] = {v[0], v[2]}, *const sd[2] = {v[1], v[3]};
        st = sm_dataset_set_norm(ds, mean, sd, err);
    }
    for (int k = 0; k < 4; k++) free(v[k]);
    return st;
}

/* libzip's source: the open file (read with stdio: going through the mapping as
 * well would keep the whole file resident next to the converted arrays), or the
 * buffer. The file is never opened again by name: fd is the one sm_open_input
 * checked. */
static zip_source_t *npz_source(const uint8_t *data, size_t size, int fd, zip_error_t *ze)
{
    if (fd < 0) return zip_source_buffer_create(data, size, 0, ze);
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    FILE *fp = d >= 0 ? fdopen(d, "rb") : NULL;
    if (!fp) {
        if (d >= 0) close(d);
        zip_error_set(ze, ZIP_ER_OPEN, errno);
        return NULL;
    }
    zip_source_t *zs = zip_source_filep_create(fp, 0, -1, ze); /* owns fp from here */
    if (!zs) fclose(fp);
    return zs;
}

selfmm_status sm_dataset_read_npz(selfmm_dataset *ds, const uint8_t *data, size_t size, int fd,
                                  const char *path, const sm_load_opts *opts, selfmm_error *err)
{
    /* our rules for the directory first (zip_read.h), with messages naming the
     * member; libzip then streams the members and checks their CRC-32 */
    sm_zip_dir dir;
    selfmm_status dst = sm_zip_read_dir(data, size, path, &dir, err);
    sm_zip_dir_free(&dir);
    SM_TRY(dst);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *zs = npz_source(data, size, fd, &ze);
    zip_t *za = zs ? zip_open_from_source(zs, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
    if (!za) {
        selfmm_status st = sm_error(err, SELFMM_ERR_FORMAT, "%s: not a readable .npz (zip): %s", path,
                                    zip_error_strerror(&ze));
        zip_error_fini(&ze);
        if (zs) zip_source_free(zs);
        return st;
    }
    zip_error_fini(&ze);
    if (zip_name_locate(za, "train/text_bert.npy", 0) < 0) {
        /* say what the zip is instead of "lacks text_bert" */
        int torch = 0;
        zip_int64_t n = zip_get_num_entries(za, 0);
        for (zip_int64_t i = 0; i < n && !torch; i++) {
            const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
            torch = name && sm_torch_pickle_name(name);
        }
        zip_discard(za);
        if (torch)
            return sm_error(err, SELFMM_ERR_FORMAT, "%s: a PyTorch checkpoint, not a dataset", path);
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: not a libselfmm .npz (no member "
                        "train/text_bert.npy; members are named <split>/<field>.npy)", path);
    }
    snprintf(ds->format, sizeof ds->format, "npz");
    npz_ctx c = {za, size};
    sm_dataset_reader r = {&c, npz_open, npz_close, NULL};
    selfmm_status st = sm_dataset_fill(ds, &r, opts, path, err);
    if (st == SELFMM_OK) st = read_norm(&c, ds, path, err);
    zip_discard(za); /* read-only: frees the archive and its source */
    return st;
}

/* ---- writing ---- */

typedef struct npz_member {
    char name[96];
    uint8_t *header;           /* .npy header (owned) */
    size_t header_len;
    const uint8_t *data;       /* element bytes (owned when own_data) */
    size_t data_len;
    int own_data;
    size_t pos;                /* read position over header + data */
    zip_error_t error;
} npz_member;

static zip_int64_t member_cb(void *ud, void *buf, zip_uint64_t len, zip_source_cmd_t cmd)
{
    npz_member *m = ud;
    size_t total = m->header_len + m->data_len;
    switch (cmd) {
    case ZIP_SOURCE_OPEN: m->pos = 0; return 0;
    case ZIP_SOURCE_READ: {
        size_t n = total - m->pos < len ? total - m->pos : (size_t)len, done = 0;
        if (m->pos < m->header_len) {
            size_t k = m->header_len - m->pos < n ? m->header_len - m->pos : n;
            memcpy(buf, m->header + m->pos, k);
            done = k;
        }
        if (done < n) memcpy((uint8_t *)buf + done, m->data + (m->pos + done - m->header_len), n - done);
        m->pos += n;
        return (zip_int64_t)n;
    }
    case ZIP_SOURCE_CLOSE: return 0;
    case ZIP_SOURCE_STAT: {
        if (len < sizeof(zip_stat_t)) return -1;
        zip_stat_t *st = buf;
        zip_stat_init(st);
        st->size = total;
        st->mtime = NPZ_MTIME;
        st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR: return zip_error_to_data(&m->error, buf, len);
    case ZIP_SOURCE_FREE: return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
        zip_error_set(&m->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* Decode one UTF-8 character; 0 on a malformed sequence. */
static int utf8_next(const unsigned char **s, uint32_t *cp)
{
    const unsigned char *p = *s;
    uint32_t c = p[0];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (n < 0) return 0;
    if (n) c &= 0x3Fu >> n;
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    *s = p + n + 1;
    return 1;
}

/* n UTF-8 strings as a '<U' array (UCS-4 little-endian, NUL-padded). */
static selfmm_status strings_to_ucs4(npz_member *m, char **s, int n, int *chars_out,
                                     selfmm_error *err)
{
    size_t chars = 1;
    for (int i = 0; i < n; i++) {
        size_t k = 0;
        const unsigned char *p = (const unsigned char *)s[i];
        uint32_t cp;
        while (*p) {
            if (!utf8_next(&p, &cp))
                return sm_error(err, SELFMM_ERR_DATA, "%s[%d]: not valid UTF-8", m->name, i);
            k++;
        }
        if (k > chars) chars = k;
    }
    if (chars > (1u << 20)) return sm_error(err, SELFMM_ERR_RANGE, "%s: string too long", m->name);
    size_t bytes;
    if (!sm_mul_ok((size_t)n, chars * 4, &bytes))
        return sm_error(err, SELFMM_ERR_RANGE, "%s: too large", m->name);
    uint8_t *u = calloc(bytes ? bytes : 1, 1);
    if (!u) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", m->name);
    for (int i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)s[i];
        uint8_t *o = u + (size_t)i * chars * 4;
        uint32_t cp;
        while (*p && utf8_next(&p, &cp)) {
            o[0] = (uint8_t)cp, o[1] = (uint8_t)(cp >> 8), o[2] = (uint8_t)(cp >> 16), o[3] = 0;
            o += 4;
        }
    }
    m->data = u;
    m->data_len = bytes;
    m->own_data = 1;
    *chars_out = (int)chars;
    return SELFMM_OK;
}

typedef struct writer {
    npz_member *m;
    int n, cap;
    selfmm_error *err;
} writer;

static selfmm_status add_named(writer *w, const char *name, sm_dtype dt, const void *data,
                               int ndim, const int64_t *shape, char **strings)
{
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 32;
        npz_member *m = realloc(w->m, (size_t)cap * sizeof *m);
        if (!m) return sm_error(w->err, SELFMM_ERR_NOMEM, "npz: out of memory");
        w->m = m, w->cap = cap;
    }
    npz_member *m = &w->m[w->n++];
    memset(m, 0, sizeof *m);
    zip_error_init(&m->error);
    snprintf(m->name, sizeof m->name, "%s", name);
    char descr[24];
    if (strings) {
        int chars = 1;
        SM_TRY(strings_to_ucs4(m, strings, (int)shape[0], &chars, w->err));
        sm_dtype_numpy_str(SM_DT_UNICODE, chars, descr, sizeof descr);
    } else {
        size_t count = 1;
        for (int d = 0; d < ndim; d++) count *= (size_t)shape[d];
        m->data = data;
        m->data_len = count * (size_t)sm_dtype_size(dt);
        sm_dtype_numpy_str(dt, 0, descr, sizeof descr);
    }
    return sm_npy_make_header(descr, 0, ndim, shape, &m->header, &m->header_len, w->err);
}

static selfmm_status add_member(writer *w, int split, sm_field f, sm_dtype dt, const void *data,
                                int ndim, const int64_t *shape, char **strings)
{
    char name[96];
    snprintf(name, sizeof name, "%s/%s.npy", sm_split_names[split], sm_field_key(f));
    return add_named(w, name, dt, data, ndim, shape, strings);
}

static selfmm_status collect(const selfmm_dataset *ds, writer *w)
{
    for (int s = 0; s < 3; s++) {
        const sm_split_data *d = &ds->split[s];
        const int64_t n = d->n;
        if (!d->audio || !d->vision)
            return sm_error(w->err, SELFMM_ERR_STATE, "npz: the features of %s were not loaded",
                            sm_split_names[s]);
        int64_t tb[3] = {n, 3, d->text_len}, au[3] = {n, d->audio_len, d->audio_dim};
        int64_t vi[3] = {n, d->vision_len, d->vision_dim}, one[1] = {n};
        SM_TRY(add_member(w, s, SM_F_TEXT_BERT, SM_DT_I32, d->text_bert, 3, tb, NULL));
        SM_TRY(add_member(w, s, SM_F_AUDIO, SM_DT_F32, d->audio, 3, au, NULL));
        SM_TRY(add_member(w, s, SM_F_VISION, SM_DT_F32, d->vision, 3, vi, NULL));
        if (d->audio_lengths) /* absent in word-aligned data */
            SM_TRY(add_member(w, s, SM_F_AUDIO_LENGTHS, SM_DT_I32, d->audio_lengths, 1, one, NULL));
        if (d->vision_lengths)
            SM_TRY(add_member(w, s, SM_F_VISION_LENGTHS, SM_DT_I32, d->vision_lengths, 1, one, NULL));
        SM_TRY(add_member(w, s, SM_F_LABELS, SM_DT_F32, d->labels, 1, one, NULL));
        for (int k = 0; k < 3; k++)
            if (d->labels_tav[k])
                SM_TRY(add_member(w, s, (sm_field)(SM_F_LABELS_T + k), SM_DT_F32, d->labels_tav[k], 1, one, NULL));
        if (d->class_labels) SM_TRY(add_member(w, s, SM_F_CLASS_LABELS, SM_DT_F32, d->class_labels, 1, one, NULL));
        if (d->ids) SM_TRY(add_member(w, s, SM_F_ID, SM_DT_UNICODE, NULL, 1, one, d->ids));
        if (d->raw_text) SM_TRY(add_member(w, s, SM_F_RAW_TEXT, SM_DT_UNICODE, NULL, 1, one, d->raw_text));
        if (d->annotations)
            SM_TRY(add_member(w, s, SM_F_ANNOTATIONS, SM_DT_UNICODE, NULL, 1, one, d->annotations));
    }
    for (int k = 0; ds->norm_mean[0] && k < 4; k++) {
        const int64_t D[1] = {k < 2 ? ds->split[0].audio_dim : ds->split[0].vision_dim};
        const float *v = k % 2 ? ds->norm_std[k / 2] : ds->norm_mean[k / 2];
        char name[64];
        norm_member(name, sizeof name, k / 2, k % 2);
        SM_TRY(add_named(w, name, SM_DT_F32, v, 1, D, NULL));
    }
    return SELFMM_OK;
}

static selfmm_status write_zip(writer *w, const char *tmp, const char *path)
{
    int zerr = 0;
    zip_t *za = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        selfmm_status st = sm_error(w->err, SELFMM_ERR_IO, "%s: cannot create: %s", path,
                                    zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return st;
    }
    for (int i = 0; i < w->n; i++) {
        npz_member *m = &w->m[i];
        zip_source_t *src = zip_source_function(za, member_cb, m);
        zip_int64_t idx = src ? zip_file_add(za, m->name, src, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            if (src) zip_source_free(src);
            selfmm_status st = zip_fail(za, path, "cannot add a member", w->err);
            zip_discard(za);
            return st;
        }
        if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0 ||
            zip_file_set_mtime(za, (zip_uint64_t)idx, NPZ_MTIME, 0) != 0) {
            selfmm_status st = zip_fail(za, path, "cannot set member attributes", w->err);
            zip_discard(za);
            return st;
        }
    }
    if (zip_close(za) != 0) {
        zip_error_t *ze = zip_get_error(za);
        selfmm_status st = sm_error(w->err, SELFMM_ERR_IO, "%s: write failed: %s", path,
                                    ze ? zip_error_strerror(ze) : "?");
        zip_discard(za);
        return st;
    }
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_dataset_save_npz(selfmm_dataset *ds, const char *path)
{
    if (!ds) return SELFMM_ERR_INVALID_ARG;
    selfmm_error *err = &ds->err;
    if (!path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "save npz: NULL path");
    writer w = {NULL, 0, 0, err};
    selfmm_status st = collect(ds, &w);
    sm_atomic_file af;
    if (st == SELFMM_OK) st = sm_atomic_reserve(&af, path, err);
    if (st == SELFMM_OK) {
        st = write_zip(&w, af.tmp, path);
        if (st == SELFMM_OK) st = sm_atomic_commit(&af, err);
        else sm_atomic_abort(&af);
    }
    for (int i = 0; i < w.n; i++) {
        free(w.m[i].header);
        if (w.m[i].own_data) free((void *)w.m[i].data);
        zip_error_fini(&w.m[i].error);
    }
    free(w.m);
    return st;
}
