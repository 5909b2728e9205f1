/* file_info.c -- selfmm_file_info: what a dataset or checkpoint file holds, as a
 * text report or one JSON object. Datasets are read in "info" mode: features are
 * converted for their statistics only and bad values are counted, not refused. */
#include "core/json.h"
#include "data/dataset.h"
#include "io/safetensors.h"
#include "io/tensors.h"
#include "io/zip_read.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing string ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) SM_PRINTF(2, 3);

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap - b->len <= (size_t)n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
}

static cJSON *shape_json(int ndim, const int64_t *shape)
{
    cJSON *a = cJSON_CreateArray();
    for (int d = 0; a && d < ndim; d++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)shape[d]));
    return a;
}

/* ---- datasets ---- */

static const char *leaf(const char *name)
{
    const char *s = strchr(name, '/');
    return s ? s + 1 : name;
}

static int in_split(const sm_field_info *f, int s)
{
    size_t n = strlen(sm_split_names[s]);
    return !strncmp(f->name, sm_split_names[s], n) && f->name[n] == '/';
}

static void dataset_text(const selfmm_dataset *ds, const char *path, sbuf *b)
{
    sb_printf(b, "file     %s\nformat   %s%s\n", path, ds->format,
              ds->has_config ? ", with a config entry (ignored)" : "");
    if (ds->norm_mean[0])
        sb_printf(b, "norm     features standardised with the training split's statistics "
                     "(norm/*.npy: audio %d, vision %d values)\n",
                  ds->split[0].audio_dim, ds->split[0].vision_dim);
    for (int s = 0; s < 3; s++) {
        const sm_split_data *d = &ds->split[s];
        sb_printf(b, "\nsplit %s: %d samples, text length %d, audio %d x %d, vision %d x %d\n",
                  sm_split_names[s], d->n, d->text_len, d->audio_len, d->audio_dim, d->vision_len,
                  d->vision_dim);
        sb_printf(b, "  %-24s %-10s %-16s %s\n", "field", "dtype", "shape", "notes");
        for (int i = 0; i < ds->n_field; i++) {
            const sm_field_info *f = &ds->field[i];
            if (!in_split(f, s)) continue;
            char shape[96], notes[256] = "";
            size_t o = 0;
            sm_shape_str(shape, sizeof shape, f->ndim, f->shape);
#define NOTE(...) (o += (size_t)snprintf(notes + o, o < sizeof notes ? sizeof notes - o : 0, \
                                        o ? "; " : ""), \
                   o += (size_t)snprintf(notes + o, o < sizeof notes ? sizeof notes - o : 0, __VA_ARGS__))
            if (f->nan) NOTE("%lld NaN", (long long)f->nan);
            if (f->neg_inf)
                NOTE("%lld -inf%s", (long long)f->neg_inf, !strcmp(leaf(f->name), "audio") ? " (set to 0)" : "");
            if (f->pos_inf) NOTE("%lld +inf", (long long)f->pos_inf);
            if (f->out_of_range) NOTE("%lld outside [1, T]", (long long)f->out_of_range);
            if (f->has_stats) NOTE("min %g, max %g, mean %.4g, std %.4g", f->min, f->max, f->mean, f->std);
            if (f->has_stats && strstr(f->name, "labels"))
                NOTE("%lld < 0, %lld = 0, %lld > 0", (long long)f->negative, (long long)f->zero,
                     (long long)f->positive);
#undef NOTE
            sb_printf(b, "  %-24s %-10s %-16s %s\n", leaf(f->name), f->dtype, shape, notes);
        }
    }
}

static cJSON *dataset_json(const selfmm_dataset *ds, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", path);
    cJSON_AddStringToObject(root, "kind", "dataset");
    cJSON_AddStringToObject(root, "format", ds->format);
    cJSON_AddBoolToObject(root, "has_config", ds->has_config);
    cJSON_AddBoolToObject(root, "normalized", ds->norm_mean[0] != NULL);
    cJSON *splits = cJSON_AddObjectToObject(root, "splits");
    for (int s = 0; s < 3; s++) {
        const sm_split_data *d = &ds->split[s];
        cJSON *o = cJSON_AddObjectToObject(splits, sm_split_names[s]);
        cJSON_AddNumberToObject(o, "samples", d->n);
        cJSON_AddNumberToObject(o, "text_len", d->text_len);
        cJSON_AddNumberToObject(o, "audio_len", d->audio_len);
        cJSON_AddNumberToObject(o, "audio_dim", d->audio_dim);
        cJSON_AddNumberToObject(o, "vision_len", d->vision_len);
        cJSON_AddNumberToObject(o, "vision_dim", d->vision_dim);
        cJSON *fields = cJSON_AddObjectToObject(o, "fields");
        for (int i = 0; i < ds->n_field; i++) {
            const sm_field_info *f = &ds->field[i];
            if (!in_split(f, s)) continue;
            cJSON *x = cJSON_AddObjectToObject(fields, leaf(f->name));
            cJSON_AddStringToObject(x, "dtype", f->dtype);
            cJSON_AddItemToObject(x, "shape", shape_json(f->ndim, f->shape));
            cJSON_AddNumberToObject(x, "nan", (double)f->nan);
            cJSON_AddNumberToObject(x, "neg_inf", (double)f->neg_inf);
            cJSON_AddNumberToObject(x, "pos_inf", (double)f->pos_inf);
            cJSON_AddNumberToObject(x, "out_of_range", (double)f->out_of_range);
            if (f->has_stats) {
                cJSON_AddNumberToObject(x, "min", f->min);
                cJSON_AddNumberToObject(x, "max", f->max);
                cJSON_AddNumberToObject(x, "mean", f->mean);
                cJSON_AddNumberToObject(x, "std", f->std);
                cJSON_AddNumberToObject(x, "negative", (double)f->negative);
                cJSON_AddNumberToObject(x, "zero", (double)f->zero);
                cJSON_AddNumberToObject(x, "positive", (double)f->positive);
            }
        }
    }
    return root;
}

/* ---- checkpoints ---- */

static int64_t total_params(const sm_tensor_list *l)
{
    int64_t n = 0;
    for (int i = 0; i < l->n; i++) n += l->t[i].numel;
    return n;
}

/* What the tensors are: a native model, a Self-MM state_dict, BERT, or other. */
static const char *ckpt_kind(const sm_tensor_list *l)
{
    const char *fmt = sm_tensors_meta(l, "format");
    if (fmt && !strcmp(fmt, "libselfmm")) return "libselfmm model";
    for (int i = 0; i < l->n; i++)
        if (strstr(l->t[i].name, "audio_model.rnn.weight_ih_l0")) return "Self-MM state_dict";
    for (int i = 0; i < l->n; i++)
        if (strstr(l->t[i].name, "embeddings.word_embeddings.weight")) return "BERT weights";
    return "tensors";
}

static void ckpt_text(const sm_tensor_list *l, const char *path, sbuf *b)
{
    sb_printf(b, "file     %s\nformat   %s (%s)\ntensors  %d, %lld parameters\n", path, l->format,
              ckpt_kind(l), l->n, (long long)total_params(l));
    static const char *const lstm[2][2] = {{"audio_model.rnn.weight_ih_l0", "audio_dim"},
                                           {"video_model.rnn.weight_ih_l0", "video_dim"}};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < l->n; i++)
            if (strstr(l->t[i].name, lstm[k][0]) && l->t[i].ndim == 2) {
                sb_printf(b, "widths   %s %lld (from %s)\n", lstm[k][1], (long long)l->t[i].shape[1],
                          l->t[i].name);
                break;
            }
    const char *cfg = sm_tensors_meta(l, "config");
    for (int i = 0; i < l->n_meta; i++) {
        if (!strcmp(l->meta_key[i], "config")) continue;
        size_t n = strlen(l->meta_val[i]);
        if (n <= 60 && !strchr(l->meta_val[i], '\n')) sb_printf(b, "meta     %s = %s\n", l->meta_key[i], l->meta_val[i]);
        else sb_printf(b, "meta     %s (%zu bytes)\n", l->meta_key[i], n);
    }
    if (cfg) sb_printf(b, "config   %s\n", cfg);
    else sb_printf(b, "config   none stored%s\n",
                   strstr(l->format, "torch") ? " (a .pth holds no config)" : "");
    int w = 6;
    for (int i = 0; i < l->n; i++) {
        int n = (int)strlen(l->t[i].name);
        w = n > w ? (n < 100 ? n : 100) : w;
    }
    sb_printf(b, "\n  %-*s  %-9s %s\n", w, "tensor", "dtype", "shape");
    for (int i = 0; i < l->n; i++) {
        char shape[128];
        sm_shape_str(shape, sizeof shape, l->t[i].ndim, l->t[i].shape);
        sb_printf(b, "  %-*s  %-9s %s\n", w, l->t[i].name, sm_dtype_name(l->t[i].dtype), shape);
    }
}

static cJSON *ckpt_json(const sm_tensor_list *l, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", path);
    cJSON_AddStringToObject(root, "kind", "checkpoint");
    cJSON_AddStringToObject(root, "format", l->format);
    cJSON_AddStringToObject(root, "content", ckpt_kind(l));
    cJSON_AddNumberToObject(root, "num_tensors", l->n);
    cJSON_AddNumberToObject(root, "num_parameters", (double)total_params(l));
    const char *cfg = sm_tensors_meta(l, "config");
    cJSON *c = NULL;
    if (cfg && sm_json_parse(cfg, "config", &c, NULL) != SELFMM_OK) c = NULL; /* shown as null */
    cJSON_AddItemToObject(root, "config", c ? c : cJSON_CreateNull());
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    for (int i = 0; i < l->n_meta; i++)
        if (strcmp(l->meta_key[i], "config") != 0) cJSON_AddStringToObject(meta, l->meta_key[i], l->meta_val[i]);
    cJSON *ts = cJSON_AddArrayToObject(root, "tensors");
    for (int i = 0; i < l->n; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", l->t[i].name);
        cJSON_AddStringToObject(t, "dtype", sm_dtype_name(l->t[i].dtype));
        cJSON_AddItemToObject(t, "shape", shape_json(l->t[i].ndim, l->t[i].shape));
        cJSON_AddItemToArray(ts, t);
    }
    return root;
}

/* ---- dispatch ---- */

/* A zip is a torch checkpoint when it has <archive>/data.pkl, else a .npz. */
static int zip_is_torch(const uint8_t *data, size_t size)
{
    sm_zip_dir dir;
    int torch = 0;
    if (sm_zip_read_dir(data, size, "", &dir, NULL) == SELFMM_OK) {
        for (int i = 0; i < dir.n && !torch; i++) torch = sm_torch_pickle_name(dir.e[i].name);
    }
    sm_zip_dir_free(&dir);
    return torch;
}

static selfmm_status finish(cJSON *json, sbuf *b, selfmm_info_format format, char **out,
                            const char *path, selfmm_error *err)
{
    char *s = NULL;
    if (format == SELFMM_INFO_JSON) {
        s = json ? cJSON_Print(json) : NULL;
        cJSON_Delete(json);
        free(b->p);
    } else {
        cJSON_Delete(json);
        s = b->failed ? NULL : b->p;
        if (!s) free(b->p);
    }
    if (!s) return sm_error(err, SELFMM_ERR_NOMEM, "%s: info: out of memory", path);
    *out = s;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_file_info(const char *path, selfmm_info_format format, char **out,
                                          selfmm_error *err)
{
    if (!path || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "info: NULL argument");
    if (format != SELFMM_INFO_TEXT && format != SELFMM_INFO_JSON)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "info: bad format %d", (int)format);
    sm_mapped_file mf;
    SM_TRY(sm_mapped_open(&mf, path, err));
    sm_ckpt_kind kind = sm_ckpt_detect(mf.data, mf.size);
    if (kind == SM_CKPT_TORCH_ZIP && !zip_is_torch(mf.data, mf.size)) kind = SM_CKPT_UNKNOWN;
    int dataset = kind == SM_CKPT_UNKNOWN;
    int known = !dataset || (mf.size >= 2 && mf.data[0] == 0x80) ||
                (mf.size >= 4 && !memcmp(mf.data, "PK\3\4", 4));
    sm_mapped_close(&mf);
    if (!known)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: not a file libselfmm reads (MMSA pickle, .npz, "
                        "PyTorch checkpoint, safetensors)", path);
    sbuf b = {0};
    cJSON *json = NULL;
    selfmm_status st;
    if (dataset) {
        selfmm_dataset *ds = NULL;
        sm_load_opts o = {0, 0, 1};
        st = sm_dataset_open(path, &o, &ds, err);
        if (st != SELFMM_OK) return st;
        if (format == SELFMM_INFO_JSON) json = dataset_json(ds, path);
        else dataset_text(ds, path, &b);
        selfmm_dataset_free(ds);
    } else {
        sm_tensor_list l;
        SM_TRY(sm_read_checkpoint(path, &l, err));
        if (format == SELFMM_INFO_JSON) json = ckpt_json(&l, path);
        else ckpt_text(&l, path, &b);
        sm_tensors_free(&l);
    }
    return finish(json, &b, format, out, path, err);
}
