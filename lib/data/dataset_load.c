/* dataset_load.c -- validating and converting the fields of an MMSA dataset
 * (docs/MODEL.md §6), whatever the file format, and the public selfmm_dataset_* calls. */
#include "data/dataset.h"

#include "core/alloc.h"
#include "core/file.h"
#include "core/log.h"
#include "io/tensors.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const sm_split_names[3] = {"train", "valid", "test"};

const char *sm_field_key(sm_field f)
{
    static const char *const keys[SM_F_COUNT] = {
        "text_bert", "audio", "vision", "audio_lengths", "vision_lengths",
        "regression_labels", "regression_labels_T", "regression_labels_A", "regression_labels_V",
        "classification_labels", "id", "raw_text", "annotations",
    };
    return (unsigned)f < SM_F_COUNT ? keys[f] : "?";
}

static void free_split(sm_split_data *s)
{
    sm_free(s->text_bert);
    sm_free(s->audio);
    sm_free(s->vision);
    sm_free(s->audio_lengths);
    sm_free(s->vision_lengths);
    sm_free(s->labels);
    for (int k = 0; k < 3; k++) sm_free(s->labels_tav[k]);
    sm_free(s->class_labels);
    free(s->ids);
    free(s->raw_text);
    free(s->annotations);
    memset(s, 0, sizeof *s);
}

SELFMM_API void selfmm_dataset_free(selfmm_dataset *ds)
{
    if (!ds) return;
    for (int s = 0; s < 3; s++) free_split(&ds->split[s]);
    for (int k = 0; k < 2; k++) free(ds->norm_mean[k]), free(ds->norm_std[k]);
    free(ds->b_ids), free(ds->b_mask), free(ds->b_seg), free(ds->b_alen), free(ds->b_vlen);
    free(ds->b_audio), free(ds->b_vision), free(ds->b_labels); /* all 4-byte elements */
    free(ds);
}

SELFMM_API const char *selfmm_dataset_errmsg(const selfmm_dataset *ds)
{
    return ds ? ds->err.message : "NULL dataset";
}

/* ---- one field ---- */

static sm_field_info *record(selfmm_dataset *ds, const sm_array_src *src)
{
    if (ds->n_field == SM_MAX_FIELDS) return NULL;
    sm_field_info *fi = &ds->field[ds->n_field++];
    memset(fi, 0, sizeof *fi);
    snprintf(fi->name, sizeof fi->name, "%s", src->name);
    if (src->kind == SM_SRC_LIST) snprintf(fi->dtype, sizeof fi->dtype, "list");
    else if (src->dtype == SM_DT_UNICODE) snprintf(fi->dtype, sizeof fi->dtype, "<U%d", src->itemsize / 4);
    else snprintf(fi->dtype, sizeof fi->dtype, "%s", sm_dtype_name(src->dtype));
    fi->ndim = src->ndim;
    memcpy(fi->shape, src->shape, sizeof fi->shape);
    return fi;
}

/* A dimension that must fit in an int and be at least `min`. */
static selfmm_status dim_ok(const sm_array_src *src, int d, int64_t min, selfmm_error *err)
{
    if (src->shape[d] < min || src->shape[d] > INT_MAX) {
        char s[128];
        sm_shape_str(s, sizeof s, src->ndim, src->shape);
        return sm_error(err, SELFMM_ERR_SHAPE, "%s: shape %s: dimension %d must be in [%lld, %d]",
                        src->name, s, d, (long long)min, INT_MAX);
    }
    return SELFMM_OK;
}

static selfmm_status want_shape(const sm_array_src *src, int ndim, const int64_t *want,
                                const char *desc, selfmm_error *err)
{
    int ok = src->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = want[d] < 0 || src->shape[d] == want[d];
    if (!ok) {
        char s[128];
        sm_shape_str(s, sizeof s, src->ndim, src->shape);
        return sm_error(err, SELFMM_ERR_SHAPE, "%s: shape %s, expected %s", src->name, s, desc);
    }
    return SELFMM_OK;
}

/* Where flat index i of an (n, T, D) array lies, for messages. */
static void where3(char *out, size_t cap, int64_t i, int64_t T, int64_t D)
{
    snprintf(out, cap, "sample %lld, step %lld, feature %lld", (long long)(i / (T * D)),
             (long long)(i / D % T), (long long)(i % D));
}

/* The flat index of the first value counted as bad: NaN, +inf and, when
 * neg_inf_bad, -inf; -1 when there is none. */
static int64_t first_bad(const sm_float_stats *st, int neg_inf_bad)
{
    const int64_t at[3] = {st->first_nan, st->first_pos_inf, neg_inf_bad ? st->first_neg_inf : -1};
    int64_t first = -1;
    for (int k = 0; k < 3; k++)
        if (at[k] >= 0 && (first < 0 || at[k] < first)) first = at[k];
    return first;
}

typedef struct loader {
    selfmm_dataset *ds;
    const sm_dataset_reader *r;
    const sm_load_opts *o;
    const char *path;
    selfmm_error *err;
} loader;

static selfmm_status open_field(loader *L, int s, sm_field f, int required, sm_array_src *src,
                                int *found)
{
    memset(src, 0, sizeof *src);
    snprintf(src->name, sizeof src->name, "%s/%s", sm_split_names[s], sm_field_key(f));
    *found = 0;
    SM_TRY(L->r->open(L->r->ctx, s, f, src, found, L->err));
    if (!*found && required)
        return sm_error(L->err, SELFMM_ERR_MISSING, "split \"%s\" lacks the field \"%s\"",
                        sm_split_names[s], sm_field_key(f));
    if (*found && !record(L->ds, src))
        return sm_error(L->err, SELFMM_ERR_RANGE, "more than %d fields", SM_MAX_FIELDS);
    return SELFMM_OK;
}

static sm_field_info *last_info(loader *L) { return &L->ds->field[L->ds->n_field - 1]; }

/* Statistics of the finite values of x[0..n), for info. */
static void stats_f(sm_field_info *fi, const float *x, int n)
{
    double s = 0, s2 = 0;
    int64_t k = 0;
    fi->min = fi->max = 0;
    for (int i = 0; i < n; i++) {
        double v = x[i];
        if (v != v || v - v != 0) continue;
        if (!k || v < fi->min) fi->min = v;
        if (!k || v > fi->max) fi->max = v;
        s += v, s2 += v * v, k++;
        fi->negative += v < 0, fi->zero += v == 0, fi->positive += v > 0;
    }
    fi->mean = k ? s / (double)k : 0;
    double var = k ? s2 / (double)k - fi->mean * fi->mean : 0;
    fi->std = var > 0 ? sqrt(var) : 0;
    fi->has_stats = 1;
}

/* Features (n, T, D) of a split to float32: -inf is 0 in audio (reference), NaN
 * and other infinities are an error unless nan_to_zero. D must be the train
 * split's: one model reads every split. */
static selfmm_status load_features(loader *L, sm_array_src *src, int split, int n, int audio,
                                   float **out, int *T, int *D)
{
    const int64_t want[3] = {n, -1, -1};
    SM_TRY(want_shape(src, 3, want, "(N, T, D) with the N of text_bert", L->err));
    SM_TRY(dim_ok(src, 1, 1, L->err));
    SM_TRY(dim_ok(src, 2, 1, L->err));
    const sm_split_data *train = &L->ds->split[SELFMM_SPLIT_TRAIN];
    const int train_D = audio ? train->audio_dim : train->vision_dim;
    if (split != SELFMM_SPLIT_TRAIN && src->shape[2] != train_D)
        return sm_error(L->err, SELFMM_ERR_SHAPE, "%s: %lld features per step, the train split has %d",
                        src->name, (long long)src->shape[2], train_D);
    *T = (int)src->shape[1], *D = (int)src->shape[2];
    size_t count;
    if (!sm_mul_ok((size_t)n, (size_t)*T * (size_t)*D, &count) || count > (size_t)INT64_MAX / 4)
        return sm_error(L->err, SELFMM_ERR_RANGE, "%s: too many elements", src->name);
    float *x = NULL;
    if (!L->o->info_only) {
        x = sm_alloc(count, sizeof *x);
        if (!x)
            return sm_error(L->err, SELFMM_ERR_NOMEM, "%s: cannot allocate %zu floats", src->name,
                            count);
    }
    sm_float_stats st;
    selfmm_status s = sm_src_to_f32(src, x, (int64_t)count, &st, L->err);
    if (s != SELFMM_OK) {
        sm_free(x);
        return s;
    }
    sm_field_info *fi = last_info(L);
    fi->nan = st.nan, fi->neg_inf = st.neg_inf, fi->pos_inf = st.pos_inf;
    int64_t bad = st.nan + st.pos_inf + (audio ? 0 : st.neg_inf);
    if (bad && !L->o->nan_to_zero && !L->o->info_only) {
        char at[96];
        where3(at, sizeof at, first_bad(&st, !audio), *T, *D);
        sm_free(x);
        return sm_error(L->err, SELFMM_ERR_DATA,
                        "%s: %lld NaN and %lld infinite values (first at %s); set nan_to_zero "
                        "to replace them by 0",
                        src->name, (long long)st.nan, (long long)(bad - st.nan), at);
    }
    if (bad && !L->o->info_only)
        sm_log(SELFMM_LOG_WARN, "%s: %s: replaced %lld NaN/infinite values by 0", L->path,
               src->name, (long long)bad);
    if (audio && st.neg_inf && !L->o->info_only)
        sm_log(SELFMM_LOG_INFO, "%s: %s: set %lld -inf values to 0 (as the reference does)",
               L->path, src->name, (long long)st.neg_inf);
    *out = x;
    return SELFMM_OK;
}

static selfmm_status load_lengths(loader *L, sm_array_src *src, int n, int T, int32_t **out)
{
    const int64_t want[1] = {n};
    SM_TRY(want_shape(src, 1, want, "(N,) with the N of text_bert", L->err));
    int32_t *x = sm_alloc((size_t)n, sizeof *x);
    float *f = malloc((size_t)n * sizeof *f);
    if (!x || !f) {
        sm_free(x), free(f);
        return sm_error(L->err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
    }
    selfmm_status s = sm_src_to_i32(src, x, n, L->err);
    for (int i = 0; s == SELFMM_OK && i < n; i++) f[i] = (float)x[i];
    if (s == SELFMM_OK) stats_f(last_info(L), f, n);
    free(f);
    int64_t bad = 0, first = -1;
    for (int i = 0; s == SELFMM_OK && i < n; i++) {
        if (x[i] >= 1 && x[i] <= T) continue;
        if (!bad++) first = i;
    }
    last_info(L)->out_of_range = bad;
    if (s == SELFMM_OK && bad && !L->o->clamp_lengths && !L->o->info_only)
        s = sm_error(L->err, SELFMM_ERR_DATA,
                     "%s: %lld lengths outside [1, %d] (first: sample %lld has %d); set "
                     "clamp_lengths to clamp them",
                     src->name, (long long)bad, T, (long long)first, x[first]);
    if (s == SELFMM_OK && bad) {
        for (int i = 0; i < n; i++) x[i] = x[i] < 1 ? 1 : x[i] > T ? T : x[i];
        if (!L->o->info_only)
            sm_log(SELFMM_LOG_WARN, "%s: %s: clamped %lld lengths to [1, %d]", L->path, src->name,
                   (long long)bad, T);
    }
    if (s != SELFMM_OK) {
        sm_free(x);
        return s;
    }
    *out = x;
    return SELFMM_OK;
}

static selfmm_status load_labels(loader *L, sm_array_src *src, int n, float **out)
{
    const int64_t want[2] = {n, 1};
    if (want_shape(src, 1, want, "", NULL) != SELFMM_OK)
        SM_TRY(want_shape(src, 2, want, "(N,) or (N, 1) with the N of text_bert", L->err));
    float *x = sm_alloc((size_t)n, sizeof *x);
    if (!x) return sm_error(L->err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
    sm_float_stats st;
    selfmm_status s = sm_src_to_f32(src, x, n, &st, L->err);
    int64_t bad = st.nan + st.neg_inf + st.pos_inf;
    if (s == SELFMM_OK) stats_f(last_info(L), x, n);
    last_info(L)->nan = st.nan;
    last_info(L)->neg_inf = st.neg_inf;
    last_info(L)->pos_inf = st.pos_inf;
    if (s == SELFMM_OK && bad && !L->o->info_only)
        s = sm_error(L->err, SELFMM_ERR_DATA, "%s: %lld labels are NaN or infinite (first: sample %lld)",
                     src->name, (long long)bad, (long long)first_bad(&st, 1));
    if (s != SELFMM_OK) {
        sm_free(x);
        return s;
    }
    *out = x;
    return SELFMM_OK;
}

static selfmm_status load_strings(loader *L, sm_array_src *src, int n, char ***out)
{
    const int64_t want[2] = {n, 1};
    if (want_shape(src, 1, want, "", NULL) != SELFMM_OK)
        SM_TRY(want_shape(src, 2, want, "(N,) with the N of text_bert", L->err));
    return sm_src_to_strings(src, n, out, L->err);
}

static selfmm_status load_text(loader *L, sm_array_src *src, sm_split_data *d)
{
    const int64_t want[3] = {-1, 3, -1};
    SM_TRY(want_shape(src, 3, want, "(N, 3, L): token ids, mask, segment ids", L->err));
    SM_TRY(dim_ok(src, 0, 1, L->err));
    SM_TRY(dim_ok(src, 2, 1, L->err));
    d->n = (int)src->shape[0], d->text_len = (int)src->shape[2];
    size_t count;
    if (!sm_mul_ok((size_t)d->n, 3 * (size_t)d->text_len, &count))
        return sm_error(L->err, SELFMM_ERR_RANGE, "%s: too many elements", src->name);
    if (!(d->text_bert = sm_alloc(count, sizeof(int32_t))))
        return sm_error(L->err, SELFMM_ERR_NOMEM, "%s: out of memory", src->name);
    return sm_src_to_i32(src, d->text_bert, (int64_t)count, L->err);
}

/* Convert field f of split s into its place in the split. */
static selfmm_status convert(loader *L, int s, sm_field f, sm_array_src *src)
{
    sm_split_data *d = &L->ds->split[s];
    switch (f) {
    case SM_F_TEXT_BERT: return load_text(L, src, d);
    case SM_F_AUDIO: return load_features(L, src, s, d->n, 1, &d->audio, &d->audio_len, &d->audio_dim);
    case SM_F_VISION:
        return load_features(L, src, s, d->n, 0, &d->vision, &d->vision_len, &d->vision_dim);
    case SM_F_AUDIO_LENGTHS: return load_lengths(L, src, d->n, d->audio_len, &d->audio_lengths);
    case SM_F_VISION_LENGTHS: return load_lengths(L, src, d->n, d->vision_len, &d->vision_lengths);
    case SM_F_LABELS: return load_labels(L, src, d->n, &d->labels);
    case SM_F_LABELS_T:
    case SM_F_LABELS_A:
    case SM_F_LABELS_V: return load_labels(L, src, d->n, &d->labels_tav[f - SM_F_LABELS_T]);
    case SM_F_CLASS_LABELS: return load_labels(L, src, d->n, &d->class_labels);
    case SM_F_ID: return load_strings(L, src, d->n, &d->ids);
    case SM_F_RAW_TEXT: return load_strings(L, src, d->n, &d->raw_text);
    case SM_F_ANNOTATIONS: return load_strings(L, src, d->n, &d->annotations);
    case SM_F_COUNT: break;
    }
    return sm_error(L->err, SELFMM_ERR_STATE, "%s: no conversion for this field", src->name);
}

/* Every field of split s in the order of sm_field: text_bert first (its N sizes
 * the others), features before their lengths (T bounds them). */
static selfmm_status load_split(loader *L, int s)
{
    for (int f = 0; f < SM_F_COUNT; f++) {
        sm_array_src src;
        int found;
        /* the lengths are absent from word-aligned data (MMSA's aligned_50.pkl): a model
         * with need_data_aligned takes them from the text; one without refuses the batch */
        int required = f <= SM_F_LABELS && f != SM_F_AUDIO_LENGTHS && f != SM_F_VISION_LENGTHS;
        selfmm_status st = open_field(L, s, (sm_field)f, required, &src, &found);
        if (st == SELFMM_OK && found) st = convert(L, s, (sm_field)f, &src);
        if (found) L->r->close(L->r->ctx, &src);
        SM_TRY(st);
    }
    if (L->r->describe_extra) L->r->describe_extra(L->r->ctx, s, L->ds);
    return SELFMM_OK;
}

selfmm_status sm_dataset_fill(selfmm_dataset *ds, const sm_dataset_reader *r,
                              const sm_load_opts *opts, const char *path, selfmm_error *err)
{
    loader L = {ds, r, opts, path, err};
    for (int s = 0; s < 3; s++) {
        selfmm_status st = load_split(&L, s);
        if (st != SELFMM_OK) return sm_error_prefix(err, st, "%s", path);
    }
    return SELFMM_OK;
}

/* ---- opening files ---- */

static selfmm_status read_any(const uint8_t *data, size_t size, const sm_mapped_file *mf, int fd,
                              const char *path, const sm_load_opts *opts, selfmm_dataset **out,
                              selfmm_error *err)
{
    selfmm_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
    selfmm_status st;
    if (size >= 2 && data[0] == 0x80) {
        st = sm_dataset_read_pickle(ds, data, size, mf, path, opts, err);
    } else if (size >= 4 && memcmp(data, "PK\3\4", 4) == 0) {
        st = sm_dataset_read_npz(ds, data, size, fd, path, opts, err);
    } else {
        char head[40] = "";
        for (size_t i = 0; i < size && i < 8; i++) snprintf(head + 3 * i, 4, " %02x", data[i]);
        st = sm_error(err, SELFMM_ERR_FORMAT,
                      "%s: neither an MMSA pickle (protocol 2 to 5) nor a .npz (first bytes:%s)",
                      path, size ? head : " none, the file is empty");
    }
    if (st != SELFMM_OK) {
        selfmm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return SELFMM_OK;
}

selfmm_status sm_dataset_open_mem(const uint8_t *data, size_t size, const char *path,
                                  const sm_load_opts *opts, selfmm_dataset **out,
                                  selfmm_error *err)
{
    return read_any(data, size, NULL, -1, path, opts, out, err);
}

selfmm_status sm_dataset_open(const char *path, const sm_load_opts *opts, selfmm_dataset **out,
                              selfmm_error *err)
{
    int fd;
    uint64_t size;
    SM_TRY(sm_open_input(path, &fd, &size, err));
    sm_mapped_file mf;
    selfmm_status st = sm_mapped_open_fd(&mf, fd, size, path, err);
    if (st == SELFMM_OK) st = read_any(mf.data, mf.size, &mf, fd, path, opts, out, err);
    sm_mapped_close(&mf);
    close(fd);
    return st;
}

SELFMM_API selfmm_status selfmm_dataset_load(const char *path, const selfmm_data_options *opt,
                                             selfmm_dataset **out, selfmm_error *err)
{
    if (!path || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "dataset load: NULL argument");
    sm_load_opts o = {0};
    if (opt) o.nan_to_zero = opt->nan_to_zero != 0, o.clamp_lengths = opt->clamp_lengths != 0;
    return sm_dataset_open(path, &o, out, err);
}

SELFMM_API selfmm_status selfmm_dataset_split(selfmm_dataset *ds, selfmm_split split,
                                              selfmm_split_view *v)
{
    if (!ds || !v) return SELFMM_ERR_INVALID_ARG;
    if ((unsigned)split > SELFMM_SPLIT_TEST)
        return sm_error(&ds->err, SELFMM_ERR_INVALID_ARG, "bad split %d", (int)split);
    const sm_split_data *d = &ds->split[split];
    memset(v, 0, sizeof *v);
    v->n = d->n;
    v->text_len = d->text_len;
    v->text_bert = d->text_bert;
    v->audio_len = d->audio_len, v->audio_dim = d->audio_dim, v->audio = d->audio;
    v->audio_lengths = d->audio_lengths;
    v->vision_len = d->vision_len, v->vision_dim = d->vision_dim, v->vision = d->vision;
    v->vision_lengths = d->vision_lengths;
    v->labels = d->labels;
    v->labels_unimodal[0] = d->labels;
    for (int k = 0; k < 3; k++) v->labels_unimodal[k + 1] = d->labels_tav[k];
    v->ids = (const char *const *)d->ids;
    v->raw_text = (const char *const *)d->raw_text;
    return SELFMM_OK;
}

/* Grow a batch buffer to hold n elements of size bytes. */
static int grow(void **buf, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap) return 1;
    size_t bytes;
    if (!sm_mul_ok(n, size, &bytes)) return 0;
    void *p = realloc(*buf, bytes);
    if (!p) return 0;
    *buf = p;
    *cap = n;
    return 1;
}

SELFMM_API selfmm_status selfmm_dataset_batch(selfmm_dataset *ds, selfmm_split split,
                                              const int *idx, int b, selfmm_batch *batch,
                                              const float **labels)
{
    if (!ds) return SELFMM_ERR_INVALID_ARG;
    selfmm_error *err = &ds->err;
    if (!idx || !batch || b < 1)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "dataset batch: NULL argument or b < 1");
    if ((unsigned)split > SELFMM_SPLIT_TEST)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "dataset batch: bad split %d", (int)split);
    const sm_split_data *d = &ds->split[split];
    if (!d->audio || !d->vision)
        return sm_error(err, SELFMM_ERR_STATE, "dataset batch: features were not loaded");
    for (int i = 0; i < b; i++)
        if (idx[i] < 0 || idx[i] >= d->n)
            return sm_error(err, SELFMM_ERR_RANGE, "dataset batch: index %d (entry %d) outside [0, %d) of %s",
                            idx[i], i, d->n, sm_split_names[split]);
    size_t L = (size_t)d->text_len;
    size_t A = (size_t)d->audio_len * (size_t)d->audio_dim, V = (size_t)d->vision_len * (size_t)d->vision_dim;
    size_t need[8] = {(size_t)b * L, (size_t)b * L, (size_t)b * L, (size_t)b * A, (size_t)b * V,
                      (size_t)b, (size_t)b, (size_t)b};
    void **bufs[8] = {(void **)&ds->b_ids, (void **)&ds->b_mask, (void **)&ds->b_seg,
                      (void **)&ds->b_audio, (void **)&ds->b_vision, (void **)&ds->b_alen,
                      (void **)&ds->b_vlen, (void **)&ds->b_labels};
    int ok = 1;
    for (int k = 0; k < 8 && ok; k++) ok = grow(bufs[k], &ds->b_cap[k], need[k], 4);
    if (!ok) return sm_error(err, SELFMM_ERR_NOMEM, "dataset batch: out of memory");
    for (int i = 0; i < b; i++) {
        size_t j = (size_t)idx[i];
        const int32_t *tb = d->text_bert + j * 3 * L;
        memcpy(ds->b_ids + (size_t)i * L, tb, L * sizeof(int32_t));
        memcpy(ds->b_mask + (size_t)i * L, tb + L, L * sizeof(int32_t));
        memcpy(ds->b_seg + (size_t)i * L, tb + 2 * L, L * sizeof(int32_t));
        memcpy(ds->b_audio + (size_t)i * A, d->audio + j * A, A * sizeof(float));
        memcpy(ds->b_vision + (size_t)i * V, d->vision + j * V, V * sizeof(float));
        ds->b_alen[i] = d->audio_lengths ? d->audio_lengths[j] : 0;
        ds->b_vlen[i] = d->vision_lengths ? d->vision_lengths[j] : 0;
        ds->b_labels[i] = d->labels[j];
    }
    memset(batch, 0, sizeof *batch);
    batch->batch = b;
    batch->text_len = d->text_len;
    batch->text_ids = ds->b_ids;
    batch->text_mask = ds->b_mask;
    batch->text_segment = ds->b_seg;
    batch->audio_len = d->audio_len;
    batch->audio_dim = d->audio_dim;
    batch->audio = ds->b_audio;
    batch->audio_lengths = d->audio_lengths ? ds->b_alen : NULL;
    batch->vision_len = d->vision_len;
    batch->vision_dim = d->vision_dim;
    batch->vision = ds->b_vision;
    batch->vision_lengths = d->vision_lengths ? ds->b_vlen : NULL;
    if (labels) *labels = ds->b_labels;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_dataset_text_run_len(selfmm_dataset *ds, selfmm_split split,
                                                     const int *idx, int b, int *run)
{
    if (!ds) return SELFMM_ERR_INVALID_ARG;
    selfmm_error *err = &ds->err;
    if (!idx || !run || b < 1)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "text run length: NULL argument or b < 1");
    if ((unsigned)split > SELFMM_SPLIT_TEST)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "text run length: bad split %d", (int)split);
    const sm_split_data *d = &ds->split[split];
    const int L = d->text_len;
    int longest = 0;
    for (int i = 0; i < b; i++) {
        if (idx[i] < 0 || idx[i] >= d->n)
            return sm_error(err, SELFMM_ERR_RANGE, "text run length: index %d (entry %d) outside [0, %d) of %s",
                            idx[i], i, d->n, sm_split_names[split]);
        /* as selfmm_model_forward: one past the last position whose mask is set */
        const int32_t *mask = d->text_bert + ((size_t)idx[i] * 3 + 1) * (size_t)L;
        int t = L;
        while (t > longest && mask[t - 1] == 0) t--;
        if (t > longest) longest = t;
    }
    *run = longest;
    return SELFMM_OK;
}
