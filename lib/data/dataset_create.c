/* dataset_create.c -- selfmm_dataset_create: a dataset from a caller's arrays.
 *
 * The arrays are offered to the loader through the same reader interface as the
 * pickle and npz formats (an in-memory "format"), so they pass exactly the checks
 * and conversions a file does: shapes, lengths in [1, T], NaN and infinities, the
 * audio -inf rule, strings. */
#include "data/dataset.h"

#include <stdlib.h>
#include <string.h>

typedef struct mem_reader {
    const selfmm_split_view *v; /* [3] */
} mem_reader;

static void bytes_src(sm_array_src *src, sm_dtype dt, const void *p, int ndim, int64_t d0,
                      int64_t d1, int64_t d2)
{
    src->kind = SM_SRC_BYTES;
    src->dtype = dt;
    src->itemsize = sm_dtype_size(dt);
    src->ndim = ndim;
    src->shape[0] = d0, src->shape[1] = d1, src->shape[2] = d2;
    int64_t n = d0 * (ndim > 1 ? d1 : 1) * (ndim > 2 ? d2 : 1);
    src->bytes.p = p;
    src->bytes.len = (size_t)n * (size_t)src->itemsize;
}

static selfmm_status mem_open(void *ctx, int split, sm_field f, sm_array_src *src, int *found,
                              selfmm_error *err)
{
    const selfmm_split_view *v = &((mem_reader *)ctx)->v[split];
    const void *p = NULL;
    *found = 0;
    switch (f) {
    case SM_F_TEXT_BERT:
        if ((p = v->text_bert)) bytes_src(src, SM_DT_I32, p, 3, v->n, 3, v->text_len);
        break;
    case SM_F_AUDIO:
        if ((p = v->audio)) bytes_src(src, SM_DT_F32, p, 3, v->n, v->audio_len, v->audio_dim);
        break;
    case SM_F_VISION:
        if ((p = v->vision)) bytes_src(src, SM_DT_F32, p, 3, v->n, v->vision_len, v->vision_dim);
        break;
    case SM_F_AUDIO_LENGTHS:
        if ((p = v->audio_lengths)) bytes_src(src, SM_DT_I32, p, 1, v->n, 0, 0);
        break;
    case SM_F_VISION_LENGTHS:
        if ((p = v->vision_lengths)) bytes_src(src, SM_DT_I32, p, 1, v->n, 0, 0);
        break;
    case SM_F_LABELS:
        if ((p = v->labels)) bytes_src(src, SM_DT_F32, p, 1, v->n, 0, 0);
        break;
    case SM_F_LABELS_T:
    case SM_F_LABELS_A:
    case SM_F_LABELS_V:
        if ((p = v->labels_unimodal[1 + (f - SM_F_LABELS_T)])) bytes_src(src, SM_DT_F32, p, 1, v->n, 0, 0);
        break;
    case SM_F_ID:
    case SM_F_RAW_TEXT:
        if ((p = f == SM_F_ID ? (const void *)v->ids : (const void *)v->raw_text)) {
            src->kind = SM_SRC_CSTRINGS;
            src->dtype = SM_DT_OBJECT;
            src->ndim = 1;
            src->shape[0] = v->n;
            src->cstr = p;
        }
        break;
    default: break;
    }
    if (p && v->n < 1)
        return sm_error(err, SELFMM_ERR_SHAPE, "%s: a split needs at least one sample (n = %d)",
                        src->name, v->n);
    *found = p != NULL;
    return SELFMM_OK;
}

static void mem_close(void *ctx, sm_array_src *src) { (void)ctx, (void)src; }

SELFMM_API selfmm_status selfmm_dataset_create(const selfmm_split_view splits[3],
                                               const selfmm_data_options *opt,
                                               selfmm_dataset **out, selfmm_error *err)
{
    if (!splits || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "dataset create: NULL argument");
    selfmm_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return sm_error(err, SELFMM_ERR_NOMEM, "dataset create: out of memory");
    snprintf(ds->format, sizeof ds->format, "memory");
    mem_reader mr = {splits};
    sm_dataset_reader r = {&mr, mem_open, mem_close, NULL};
    sm_load_opts o = {0};
    if (opt) o.nan_to_zero = opt->nan_to_zero != 0, o.clamp_lengths = opt->clamp_lengths != 0;
    selfmm_status st = sm_dataset_fill(ds, &r, &o, "dataset create", err);
    if (st != SELFMM_OK) {
        selfmm_dataset_free(ds);
        return st;
    }
    *out = ds;
    return SELFMM_OK;
}
