/* dataset_build.c -- selfmm_dataset_build: MMSA's label.csv plus the user's
 * per-clip feature files to a dataset that behaves like a released pickle.
 *
 * The steps follow MMSA-FET (thuiar/MMSA-FET, dataset.py), which turns a
 * label.csv and raw videos into those pickles:
 *   - rows are read by column name; mode train/valid/test picks the split and rows
 *     keep the file's order within it; ids are video_id + "$_$" + clip_id;
 *   - text_bert is [CLS] tokens [SEP] (BertTokenizer.encode), padded with zeros;
 *   - "auto" lengths are int(np.mean(l) + 3 * np.std(l)) over all rows (all splits)
 *     of the sequences' lengths: for text, the token count with [CLS] and [SEP];
 *   - longer sequences are cut at the end, shorter ones padded with zeros at the
 *     end, recorded lengths are capped at the padded length.
 * Two differences, both deliberate: a cut text keeps its [SEP] (the layout of the
 * pickles MMSA's older DataPre.py wrote and of selfmm_tokenizer_encode; MMSA-FET
 * would drop it), and bad rows are reported instead of skipped into an error.csv.
 *
 * Everything about the input is checked first and collected into one report, so
 * that a user fixes all bad rows in one go; only then is anything built. */
#include "core/alloc.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/quote.h"
#include "data/dataset.h"
#include "data/norm.h"
#include "io/csv.h"
#include "data/features.h"
#include "text/utf8.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABELS_MAX_BYTES ((size_t)1 << 30)
#define DEFAULT_MAX_PROBLEMS 50

enum { COL_VIDEO, COL_CLIP, COL_TEXT, COL_LABEL, COL_LT, COL_LA, COL_LV, COL_ANN, COL_MODE, NCOL };
static const char *const col_name[NCOL] = {"video_id", "clip_id", "text", "label", "label_T",
                                           "label_A", "label_V", "annotation", "mode"};
static const int col_required[NCOL] = {1, 1, 1, 1, 0, 0, 0, 0, 1};

typedef struct row {
    int line;                  /* of label.csv, where the record starts */
    char *cell[NCOL];          /* copies; NULL when the column is absent */
    char *id;                  /* "video$_$clip", NULL when the ids are bad */
    int split;                 /* -1 when the mode is bad */
    float label, tav[3];
    int n_tokens;              /* without [CLS] and [SEP] */
    float *feat[2];            /* (T, D) audio, vision */
    int T[2], D[2];
    char *path[2];             /* the feature files read (malloc'd), for check_widths */
} row;

typedef struct problems {
    char *buf;                 /* the listing */
    size_t len, cap;
    int shown, total, limit;
    int oom;
    char first[SELFMM_ERROR_MESSAGE_SIZE];
} problems;

typedef struct builder {
    const selfmm_build_options *o;
    selfmm_error *err;
    problems pr;
    row *rows;
    int n, cap;
    int col[NCOL];             /* field index of each column, -1 when absent */
    int ncols;
    int has_tav[3];
    locale_t loc;
    int count[3];              /* rows per split */
    /* chosen lengths and what they cut */
    int len[3];                /* text L, audio T, vision T */
    int dim[2];
    int is_auto[3], capped;
    double mean[3], std[3];
    int cut[3];
} builder;

/* ---- the report ---- */

static void add_text(problems *p, const char *s)
{
    size_t n = strlen(s);
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 1024;
        while (cap < p->len + n + 1) cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b) {
            p->oom = 1;
            return;
        }
        p->buf = b, p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n + 1);
    p->len += n;
}

static void problem(builder *b, const char *fmt, ...) SM_PRINTF(2, 3);

static void problem(builder *b, const char *fmt, ...)
{
    char line[SELFMM_PATH_MAX * 2 + 512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    problems *p = &b->pr;
    if (!p->total++) { /* kept for err's message, which is shorter */
        size_t n = strnlen(line, sizeof p->first - 1);
        memcpy(p->first, line, n);
        p->first[n] = '\0';
    }
    if (p->shown < p->limit) {
        p->shown++;
        add_text(p, line);
        add_text(p, "\n");
    }
}

/* A problem of one row: "<labels>:<line>: [<id>: ]<what>". */
static void row_problem(builder *b, const row *r, const char *fmt, ...) SM_PRINTF(3, 4);

static void row_problem(builder *b, const row *r, const char *fmt, ...)
{
    char what[SELFMM_PATH_MAX * 2 + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (r->id) problem(b, "%s:%d: %s: %s", b->o->labels, r->line, SM_E(r->id), what);
    else problem(b, "%s:%d: %s", b->o->labels, r->line, what);
}

/* ---- reading label.csv ---- */

static selfmm_status read_header(builder *b, sm_csv *c)
{
    const char *path = b->o->labels;
    int k = sm_csv_next(c);
    if (k == SM_CSV_NOMEM) return sm_error(b->err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
    if (k == SM_CSV_END)
        return sm_error(b->err, SELFMM_ERR_FORMAT, "%s: empty; expected a header line naming the "
                        "columns video_id, clip_id, text, label and mode", path);
    if (k == SM_CSV_BAD)
        return sm_error(b->err, SELFMM_ERR_PARSE, "%s:%d: header: %s", path, c->rec_line, c->problem);
    for (int j = 0; j < NCOL; j++) b->col[j] = -1;
    b->ncols = c->n;
    for (int i = 0; i < c->n; i++) {
        const char *s;
        size_t n;
        sm_csv_trim(sm_csv_field(c, i), &s, &n);
        for (int j = 0; j < NCOL; j++) {
            if (strlen(col_name[j]) != n || memcmp(col_name[j], s, n) != 0) continue;
            if (b->col[j] >= 0)
                return sm_error(b->err, SELFMM_ERR_FORMAT, "%s:%d: column \"%s\" appears twice "
                                "(fields %d and %d)", path, c->rec_line, col_name[j], b->col[j] + 1, i + 1);
            b->col[j] = i;
        }
    }
    for (int j = 0; j < NCOL; j++) {
        if (!col_required[j] || b->col[j] >= 0) continue;
        char have[256] = "";
        size_t o = 0;
        for (int i = 0; i < c->n && o < sizeof have; i++)
            o += (size_t)snprintf(have + o, sizeof have - o, "%s%s", i ? ", " : "",
                                  SM_Q(sm_csv_field(c, i)));
        return sm_error(b->err, SELFMM_ERR_FORMAT, "%s:%d: no column \"%s\" (the header has %s; "
                        "MMSA's label.csv has video_id, clip_id, text, label, label_T, label_A, "
                        "label_V, annotation, mode)", path, c->rec_line, col_name[j], have);
    }
    return SELFMM_OK;
}

static selfmm_status read_rows(builder *b, sm_csv *c)
{
    for (;;) {
        int k = sm_csv_next(c);
        if (k == SM_CSV_END) return SELFMM_OK;
        if (k == SM_CSV_NOMEM) return sm_error(b->err, SELFMM_ERR_NOMEM, "%s: out of memory", b->o->labels);
        if (k == SM_CSV_BAD) {
            problem(b, "%s:%d: %s", b->o->labels, c->rec_line, c->problem);
            continue;
        }
        if (c->n != b->ncols) {
            problem(b, "%s:%d: %d fields, the header has %d", b->o->labels, c->rec_line, c->n, b->ncols);
            continue;
        }
        if (b->n == b->cap) {
            int cap = b->cap ? 2 * b->cap : 256;
            row *r = realloc(b->rows, (size_t)cap * sizeof *r);
            if (!r) return sm_error(b->err, SELFMM_ERR_NOMEM, "%s: out of memory", b->o->labels);
            b->rows = r, b->cap = cap;
        }
        row *r = &b->rows[b->n++];
        memset(r, 0, sizeof *r);
        r->line = c->rec_line;
        r->split = -1;
        for (int j = 0; j < NCOL; j++) {
            if (b->col[j] < 0) continue;
            if (!(r->cell[j] = sm_strdup(sm_csv_field(c, b->col[j]))))
                return sm_error(b->err, SELFMM_ERR_NOMEM, "%s: out of memory", b->o->labels);
        }
    }
}

/* ---- checking one row ---- */

static int blank(const char *s)
{
    const char *t;
    size_t n;
    sm_csv_trim(s, &t, &n);
    return n == 0;
}

/* A trimmed copy of a cell into out (cap bytes); 0 when it does not fit. */
static int trimmed(const char *cell, char *out, size_t cap)
{
    const char *s;
    size_t n;
    sm_csv_trim(cell, &s, &n);
    if (n >= cap) return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

/* A label cell: 1 with *v set, or 0 after reporting the problem. */
static int check_label(builder *b, const row *r, int col, float *v)
{
    const sm_csv_num k = sm_csv_float(r->cell[col], b->loc, v);
    if (k == SM_NUM_OK) return 1;
    if (k == SM_NUM_EMPTY) {
        row_problem(b, r, "%s is empty", col_name[col]);
    } else if (k == SM_NUM_TEXT) {
        const char *s;
        size_t n;
        sm_csv_trim(r->cell[col], &s, &n);
        row_problem(b, r, "%s %s is not a number", col_name[col], SM_QN(s, n));
    } else {
        row_problem(b, r, "%s is %s", col_name[col], sm_csv_nonfinite_name(k));
    }
    return 0;
}

/* An id part usable as a folder or file name under the feature directories. */
static int check_id_part(builder *b, const row *r, int col, char *out, size_t cap)
{
    if (blank(r->cell[col])) {
        row_problem(b, r, "%s is empty", col_name[col]);
        return 0;
    }
    if (!trimmed(r->cell[col], out, cap)) {
        row_problem(b, r, "%s is longer than %zu bytes", col_name[col], cap - 1);
        return 0;
    }
    const char *why = NULL;
    size_t bad = sm_utf8_validate(out, strlen(out), &why);
    if (bad < strlen(out)) {
        row_problem(b, r, "%s is not valid UTF-8 (byte %zu: %s)", col_name[col], bad, why);
        return 0;
    }
    if (strchr(out, '/') || !strcmp(out, ".") || !strcmp(out, "..")) {
        row_problem(b, r, "%s %s cannot be a file name (no '/', '.' or '..')", col_name[col], SM_Q(out));
        return 0;
    }
    return 1;
}

static uint64_t hash_str(const char *s) { return sm_fnv1a(SM_FNV_OFFSET, s, strlen(s)); }

/* Feature file of one row and modality: <dir>/<video>/<clip>.npy or .csv. A bad
 * file is a problem of the row; only running out of memory fails the build. */
static selfmm_status read_features(builder *b, row *r, int m, const char *video, const char *clip)
{
    const char *dir = m == 0 ? b->o->audio_dir : b->o->vision_dir;
    char npy[SELFMM_PATH_MAX], csv[SELFMM_PATH_MAX];
    int a = snprintf(npy, sizeof npy, "%s/%s/%s.npy", dir, video, clip);
    int c = snprintf(csv, sizeof csv, "%s/%s/%s.csv", dir, video, clip);
    if (a < 0 || c < 0 || (size_t)a >= sizeof npy || (size_t)c >= sizeof csv) {
        row_problem(b, r, "%s: the feature path is longer than %d bytes", sm_norm_modality[m],
                    SELFMM_PATH_MAX - 1);
        return SELFMM_OK;
    }
    int has_npy = sm_exists(npy), has_csv = sm_exists(csv);
    if (has_npy && has_csv) {
        row_problem(b, r, "%s: both %s and %s exist; keep one", sm_norm_modality[m], npy, csv);
        return SELFMM_OK;
    }
    if (!has_npy && !has_csv) {
        row_problem(b, r, "%s: no file %s (nor .csv)", sm_norm_modality[m], npy);
        return SELFMM_OK;
    }
    const char *path = has_npy ? npy : csv;
    selfmm_error e = {0};
    selfmm_status st = sm_features_read(path, &r->feat[m], &r->T[m], &r->D[m], &e);
    if (st == SELFMM_ERR_NOMEM) return sm_error_copy(b->err, &e);
    if (st != SELFMM_OK) {
        r->feat[m] = NULL;
        row_problem(b, r, "%s: %s", sm_norm_modality[m], e.message);
        return SELFMM_OK;
    }
    if (!(r->path[m] = sm_strdup(path)))
        return sm_error(b->err, SELFMM_ERR_NOMEM, "%s: out of memory", b->o->labels);
    return SELFMM_OK;
}

static selfmm_status check_rows(builder *b)
{
    for (int k = 0; k < 3; k++) {
        const int col = COL_LT + k;
        for (int i = 0; b->col[col] >= 0 && i < b->n && !b->has_tav[k]; i++)
            b->has_tav[k] = !blank(b->rows[i].cell[col]);
    }
    /* ids seen: open addressing over row indices */
    size_t cap = 16;
    while (cap < 2 * (size_t)b->n) cap *= 2;
    int *seen = malloc(cap * sizeof *seen);
    if (!seen) return sm_error(b->err, SELFMM_ERR_NOMEM, "%s: out of memory", b->o->labels);
    for (size_t i = 0; i < cap; i++) seen[i] = -1;
    for (int i = 0; i < b->n; i++) {
        row *r = &b->rows[i];
        char video[256], clip[256], mode[32];
        int ids_ok = check_id_part(b, r, COL_VIDEO, video, sizeof video);
        ids_ok = check_id_part(b, r, COL_CLIP, clip, sizeof clip) && ids_ok;
        if (ids_ok) {
            size_t n = strlen(video) + strlen(clip) + 4;
            if (!(r->id = malloc(n))) {
                free(seen);
                return sm_error(b->err, SELFMM_ERR_NOMEM, "%s: out of memory", b->o->labels);
            }
            snprintf(r->id, n, "%s$_$%s", video, clip);
            size_t h = (size_t)hash_str(r->id) & (cap - 1);
            while (seen[h] >= 0 && strcmp(b->rows[seen[h]].id, r->id) != 0) h = (h + 1) & (cap - 1);
            if (seen[h] >= 0) {
                row_problem(b, r, "the same video_id and clip_id as line %d", b->rows[seen[h]].line);
                ids_ok = 0;
            } else {
                seen[h] = i;
            }
        }
        if (!trimmed(r->cell[COL_MODE], mode, sizeof mode)) snprintf(mode, sizeof mode, "(long)");
        for (int s = 0; s < 3; s++)
            if (!strcmp(mode, sm_split_names[s])) r->split = s;
        if (r->split < 0) row_problem(b, r, "mode %s: expected train, valid or test", SM_Q(mode));
        else b->count[r->split]++;
        check_label(b, r, COL_LABEL, &r->label);
        for (int k = 0; k < 3; k++)
            if (b->has_tav[k]) check_label(b, r, COL_LT + k, &r->tav[k]);
        if (blank(r->cell[COL_TEXT])) {
            row_problem(b, r, "text is empty");
        } else {
            selfmm_tokens t;
            if (selfmm_tokenizer_tokenize(b->o->tokenizer, r->cell[COL_TEXT], SELFMM_NUL_TERMINATED,
                                          &t) != SELFMM_OK)
                row_problem(b, r, "text: %s", selfmm_tokenizer_errmsg(b->o->tokenizer));
            else if (t.n == 0)
                row_problem(b, r, "text has no tokens (only spaces or control characters)");
            else
                r->n_tokens = t.n;
        }
        if (r->cell[COL_ANN]) { /* stored as a string array: must be text */
            const char *why = NULL;
            size_t n = strlen(r->cell[COL_ANN]), bad = sm_utf8_validate(r->cell[COL_ANN], n, &why);
            if (bad < n) row_problem(b, r, "annotation is not valid UTF-8 (byte %zu: %s)", bad, why);
        }
        for (int m = 0; m < 2 && ids_ok; m++) {
            selfmm_status st = read_features(b, r, m, video, clip);
            if (st != SELFMM_OK) {
                free(seen);
                return st;
            }
        }
    }
    free(seen);
    return SELFMM_OK;
}

/* Every clip of a modality must have the same width: the most common one (the
 * first seen among equals) is taken as right, the others are reported. */
static void check_widths(builder *b)
{
    for (int m = 0; m < 2; m++) {
        int best = 0, best_count = 0, read = 0;
        for (int i = 0; i < b->n; i++) {
            if (!b->rows[i].feat[m]) continue;
            read++;
            int d = b->rows[i].D[m], count = 0;
            if (d == best) continue;
            for (int j = 0; j < b->n; j++) count += b->rows[j].feat[m] && b->rows[j].D[m] == d;
            if (count > best_count) best = d, best_count = count;
        }
        b->dim[m] = best;
        for (int i = 0; i < b->n; i++) {
            row *r = &b->rows[i];
            if (r->feat[m] && r->D[m] != best)
                row_problem(b, r, "%s: %s has %d features per step; %d of the %d %s files read "
                            "have %d", sm_norm_modality[m], r->path[m], r->D[m], best_count, read,
                            sm_norm_modality[m], best);
        }
    }
}

/* ---- lengths ---- */

/* MMSA-FET's padded length: int(np.mean(l) + 3 * np.std(l)) in float64. */
static int auto_length(const int *l, int n, double *mean, double *std)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += l[i];
    double mu = s / n;
    for (int i = 0; i < n; i++) s2 += (l[i] - mu) * (l[i] - mu);
    double sd = sqrt(s2 / n);
    *mean = mu, *std = sd;
    double v = mu + 3 * sd;
    return v >= 2147483647.0 ? 2147483647 : (int)v;
}

static selfmm_status choose_lengths(builder *b)
{
    const selfmm_build_options *o = b->o;
    int *l = malloc((size_t)b->n * sizeof *l);
    if (!l) return sm_error(b->err, SELFMM_ERR_NOMEM, "out of memory");
    const int given[3] = {o->max_len, o->audio_len, o->vision_len};
    for (int k = 0; k < 3; k++) {
        b->is_auto[k] = given[k] == 0;
        if (!b->is_auto[k]) {
            b->len[k] = given[k];
            continue;
        }
        for (int i = 0; i < b->n; i++)
            l[i] = k == 0 ? b->rows[i].n_tokens + 2 : b->rows[i].T[k - 1];
        b->len[k] = auto_length(l, b->n, &b->mean[k], &b->std[k]);
    }
    free(l);
    if (o->max_positions > 0 && b->len[0] > o->max_positions) {
        if (!b->is_auto[0])
            return sm_error(b->err, SELFMM_ERR_RANGE, "max_len %d exceeds max_positions %d (BERT's "
                            "max_position_embeddings)", b->len[0], o->max_positions);
        b->len[0] = o->max_positions;
        b->capped = 1;
    }
    return SELFMM_OK;
}

/* ---- building ---- */

/* n strings in one malloc'd block: the pointer array, then the text (the layout
 * the dataset handle frees with one free()). */
static char **string_block(char *const *src, int n)
{
    size_t bytes = (size_t)n * sizeof(char *);
    for (int i = 0; i < n; i++) bytes += strlen(src[i]) + 1;
    char **p = malloc(bytes);
    if (!p) return NULL;
    char *t = (char *)(p + n);
    for (int i = 0; i < n; i++) {
        size_t k = strlen(src[i]) + 1;
        memcpy(t, src[i], k);
        p[i] = t;
        t += k;
    }
    return p;
}

static selfmm_status alloc_split(builder *b, sm_split_data *d, int n)
{
    const int L = b->len[0], Ta = b->len[1], Tv = b->len[2], Da = b->dim[0], Dv = b->dim[1];
    d->n = n, d->text_len = L;
    d->audio_len = Ta, d->audio_dim = Da, d->vision_len = Tv, d->vision_dim = Dv;
    size_t na, nv, nt;
    if (!sm_mul_ok((size_t)n * Da, (size_t)Ta, &na) || !sm_mul_ok((size_t)n * Dv, (size_t)Tv, &nv) ||
        !sm_mul_ok((size_t)n * 3, (size_t)L, &nt))
        return sm_error(b->err, SELFMM_ERR_RANGE, "the padded dataset is too large");
    d->text_bert = sm_alloc(nt, sizeof(int32_t));
    d->audio = sm_calloc(na, sizeof(float));
    d->vision = sm_calloc(nv, sizeof(float));
    d->audio_lengths = sm_alloc((size_t)n, sizeof(int32_t));
    d->vision_lengths = sm_alloc((size_t)n, sizeof(int32_t));
    d->labels = sm_alloc((size_t)n, sizeof(float));
    int ok = d->text_bert && d->audio && d->vision && d->audio_lengths && d->vision_lengths && d->labels;
    for (int k = 0; k < 3; k++)
        if (b->has_tav[k]) ok = ok && (d->labels_tav[k] = sm_alloc((size_t)n, sizeof(float)));
    if (!ok)
        return sm_error(b->err, SELFMM_ERR_NOMEM, "cannot allocate the padded dataset (%zu + %zu "
                        "floats)", na, nv);
    return SELFMM_OK;
}

/* Strings of one split, in row order: ids, raw text, annotations. */
static selfmm_status split_strings(builder *b, int s, sm_split_data *d)
{
    char **tmp = malloc((size_t)d->n * 3 * sizeof *tmp);
    if (!tmp) return sm_error(b->err, SELFMM_ERR_NOMEM, "out of memory");
    int j = 0;
    for (int i = 0; i < b->n; i++) {
        const row *r = &b->rows[i];
        if (r->split != s) continue;
        tmp[j] = r->id;
        tmp[d->n + j] = r->cell[COL_TEXT];
        tmp[2 * d->n + j] = r->cell[COL_ANN] ? r->cell[COL_ANN] : "";
        j++;
    }
    d->ids = string_block(tmp, d->n);
    d->raw_text = string_block(tmp + d->n, d->n);
    if (b->col[COL_ANN] >= 0) d->annotations = string_block(tmp + 2 * d->n, d->n);
    free(tmp);
    if (!d->ids || !d->raw_text || (b->col[COL_ANN] >= 0 && !d->annotations))
        return sm_error(b->err, SELFMM_ERR_NOMEM, "out of memory");
    return SELFMM_OK;
}

static selfmm_status fill(builder *b, selfmm_dataset *ds)
{
    for (int s = 0; s < 3; s++) {
        SM_TRY(alloc_split(b, &ds->split[s], b->count[s]));
        SM_TRY(split_strings(b, s, &ds->split[s]));
    }
    int next[3] = {0, 0, 0};
    for (int i = 0; i < b->n; i++) {
        row *r = &b->rows[i];
        sm_split_data *d = &ds->split[r->split];
        const int j = next[r->split]++, L = d->text_len;
        int32_t *tb = d->text_bert + (size_t)j * 3 * L;
        int n_tokens = 0;
        /* check_rows tokenized this text already: only NOMEM can fail here */
        selfmm_status st = selfmm_tokenizer_encode(b->o->tokenizer, r->cell[COL_TEXT],
                                                   SELFMM_NUL_TERMINATED, L, tb, tb + L, tb + 2 * L,
                                                   &n_tokens);
        if (st != SELFMM_OK)
            return sm_error(b->err, st, "%s:%d: text: %s", b->o->labels, r->line,
                            selfmm_tokenizer_errmsg(b->o->tokenizer));
        b->cut[0] += n_tokens + 2 > L;
        for (int m = 0; m < 2; m++) {
            const int T = m == 0 ? d->audio_len : d->vision_len, D = b->dim[m];
            const int steps = r->T[m] < T ? r->T[m] : T;
            float *dst = (m == 0 ? d->audio : d->vision) + (size_t)j * T * D;
            memcpy(dst, r->feat[m], (size_t)steps * D * sizeof(float));
            (m == 0 ? d->audio_lengths : d->vision_lengths)[j] = steps;
            b->cut[1 + m] += r->T[m] > T;
            free(r->feat[m]);
            r->feat[m] = NULL;
        }
        d->labels[j] = r->label;
        for (int k = 0; k < 3; k++)
            if (b->has_tav[k]) d->labels_tav[k][j] = r->tav[k];
    }
    return SELFMM_OK;
}

static selfmm_status normalize(builder *b, selfmm_dataset *ds)
{
    float *v[4] = {NULL, NULL, NULL, NULL};
    selfmm_status st = SELFMM_OK;
    for (int k = 0; k < 4 && st == SELFMM_OK; k++)
        if (!(v[k] = malloc((size_t)b->dim[k / 2] * sizeof(float))))
            st = sm_error(b->err, SELFMM_ERR_NOMEM, "normalisation: out of memory");
    for (int m = 0; m < 2 && st == SELFMM_OK; m++) {
        st = sm_norm_compute(&ds->split[SELFMM_SPLIT_TRAIN], m, v[2 * m], v[2 * m + 1], b->err);
        for (int s = 0; s < 3 && st == SELFMM_OK; s++)
            sm_norm_apply_split(&ds->split[s], m, v[2 * m], v[2 * m + 1]);
    }
    if (st == SELFMM_OK) {
        const float *const mean[2] = {v[0], v[2]}, *const sd[2] = {v[1], v[3]};
        st = sm_dataset_set_norm(ds, mean, sd, b->err);
    }
    for (int k = 0; k < 4; k++) free(v[k]);
    return st;
}

static void summary(builder *b)
{
    char line[512];
    problems *p = &b->pr;
    snprintf(line, sizeof line, "%s: %d rows: train %d, valid %d, test %d\n", b->o->labels, b->n,
             b->count[0], b->count[1], b->count[2]);
    add_text(p, line);
    for (int k = 0; k < 3; k++) {
        char how[160];
        if (b->is_auto[k])
            snprintf(how, sizeof how, "auto: int(mean %.4g + 3 x std %.4g) of the %s%s", b->mean[k],
                     b->std[k], k == 0 ? "token counts with [CLS] and [SEP]" : "clips' steps",
                     k == 0 && b->capped ? ", lowered to max_positions" : "");
        else
            snprintf(how, sizeof how, "given");
        if (k == 0)
            snprintf(line, sizeof line, "text: L = %d (%s); %d of %d texts cut\n", b->len[0], how,
                     b->cut[0], b->n);
        else
            snprintf(line, sizeof line, "%s: T = %d (%s), D = %d; %d of %d sequences cut\n",
                     sm_norm_modality[k - 1], b->len[k], how, b->dim[k - 1], b->cut[k], b->n);
        add_text(p, line);
    }
    snprintf(line, sizeof line, "unimodal labels: %s%s%s%s\nnormalisation: %s\n",
             b->has_tav[0] ? "label_T " : "", b->has_tav[1] ? "label_A " : "",
             b->has_tav[2] ? "label_V " : "",
             b->has_tav[0] || b->has_tav[1] || b->has_tav[2] ? "" : "none",
             b->o->normalize ? "per-feature mean and std of the training split's real steps" : "off");
    add_text(p, line);
}

static selfmm_status check_options(const selfmm_build_options *o, selfmm_error *err)
{
    if (!o->labels || !o->audio_dir || !o->vision_dir || !o->tokenizer)
        return sm_error(err, SELFMM_ERR_INVALID_ARG,
                        "dataset build: labels, audio_dir, vision_dir and tokenizer are required");
    if (o->max_len < 0 || o->max_len == 1)
        return sm_error(err, SELFMM_ERR_RANGE, "dataset build: max_len %d: expected 0 (auto) or >= 2 "
                        "([CLS] and [SEP])", o->max_len);
    if (o->audio_len < 0 || o->vision_len < 0 || o->max_positions < 0 || o->max_problems < 0)
        return sm_error(err, SELFMM_ERR_RANGE, "dataset build: negative length or count");
    if (o->max_positions == 1)
        return sm_error(err, SELFMM_ERR_RANGE, "dataset build: max_positions 1 cannot hold [CLS] and [SEP]");
    for (int m = 0; m < 2; m++) {
        const char *dir = m == 0 ? o->audio_dir : o->vision_dir;
        if (!sm_is_dir(dir))
            return sm_error(err, SELFMM_ERR_NOT_FOUND, "%s: the %s feature folder does not exist", dir,
                            sm_norm_modality[m]);
    }
    return SELFMM_OK;
}

SELFMM_API void selfmm_build_options_default(selfmm_build_options *opt)
{
    if (opt) memset(opt, 0, sizeof *opt);
}

static void free_rows(builder *b)
{
    for (int i = 0; i < b->n; i++) {
        row *r = &b->rows[i];
        for (int j = 0; j < NCOL; j++) free(r->cell[j]);
        free(r->id);
        free(r->feat[0]), free(r->feat[1]);
        free(r->path[0]), free(r->path[1]);
    }
    free(b->rows);
}

static selfmm_status build(builder *b, selfmm_dataset **out)
{
    char *text = NULL;
    size_t size = 0;
    SM_TRY(sm_read_file(b->o->labels, LABELS_MAX_BYTES, &text, &size, b->err));
    sm_csv c;
    sm_csv_init(&c, text, size);
    selfmm_status st = read_header(b, &c);
    if (st == SELFMM_OK) st = read_rows(b, &c);
    sm_csv_free(&c);
    free(text);
    if (st == SELFMM_OK && b->n == 0 && b->pr.total == 0)
        st = sm_error(b->err, SELFMM_ERR_DATA, "%s: a header and no rows", b->o->labels);
    if (st == SELFMM_OK) st = check_rows(b);
    if (st != SELFMM_OK) return st;
    check_widths(b);
    for (int s = 0; s < 3; s++)
        if (!b->count[s])
            problem(b, "%s: no row has mode \"%s\" (train, valid and test each need at least one)",
                    b->o->labels, sm_split_names[s]);
    if (b->pr.total) {
        if (b->pr.total > b->pr.shown) {
            char more[128];
            snprintf(more, sizeof more, "... and %d more problems (%d in total)\n",
                     b->pr.total - b->pr.shown, b->pr.total);
            add_text(&b->pr, more);
        }
        return sm_error(b->err, SELFMM_ERR_DATA, "%s: %d problem%s (first: %s)", b->o->labels,
                        b->pr.total, b->pr.total > 1 ? "s" : "", b->pr.first);
    }
    SM_TRY(choose_lengths(b));
    selfmm_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return sm_error(b->err, SELFMM_ERR_NOMEM, "out of memory");
    snprintf(ds->format, sizeof ds->format, "built from label.csv");
    st = fill(b, ds);
    if (st == SELFMM_OK && b->o->normalize) st = normalize(b, ds);
    if (st != SELFMM_OK) {
        selfmm_dataset_free(ds);
        return st;
    }
    summary(b);
    if (b->pr.oom) {
        selfmm_dataset_free(ds);
        return sm_error(b->err, SELFMM_ERR_NOMEM, "dataset build: out of memory for the report");
    }
    *out = ds;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_dataset_build(const selfmm_build_options *opt, selfmm_dataset **out,
                                              char **report, selfmm_error *err)
{
    if (report) *report = NULL;
    if (!opt || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "dataset build: NULL argument");
    SM_TRY(check_options(opt, err));
    builder b;
    memset(&b, 0, sizeof b);
    b.o = opt;
    b.err = err;
    b.pr.limit = opt->max_problems ? opt->max_problems : DEFAULT_MAX_PROBLEMS;
    b.loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!b.loc) return sm_error(err, SELFMM_ERR_NOMEM, "dataset build: cannot create the C locale");
    selfmm_status st = build(&b, out);
    free_rows(&b);
    freelocale(b.loc);
    if (report && b.pr.len && !b.pr.oom && (st == SELFMM_OK || st == SELFMM_ERR_DATA)) *report = b.pr.buf;
    else free(b.pr.buf);
    return st;
}
