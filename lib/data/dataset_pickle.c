/* dataset_pickle.c -- MMSA dataset pickles: the safe pickle VM builds the value
 * tree (array bytes stay in the mapped file), then each field is handed to the
 * converter as a byte stream over those bytes. */
#include "data/dataset.h"

#include <stdio.h>
#include <string.h>

typedef struct pk_ctx {
    const sm_pv *split[3];
    const sm_mapped_file *mf;
} pk_ctx;

static selfmm_status src_from_array(sm_array_src *src, const sm_ndarray *a,
                                    const sm_mapped_file *mf, selfmm_error *err)
{
    if (!a->built)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: numpy array without its state", src->name);
    src->dtype = a->dtype.dt;
    src->itemsize = a->dtype.itemsize;
    src->swap = a->dtype.byteorder == '>';
    src->ndim = a->ndim;
    memcpy(src->shape, a->shape, sizeof src->shape);
    uint64_t count;
    if (a->dtype.dt == SM_DT_OBJECT) {
        SM_TRY(sm_src_layout(src, a->fortran, 0, &count, err));
        src->kind = SM_SRC_OBJECTS;
        src->list = a->objects;
        if ((uint64_t)a->objects->u.seq.n != count)
            return sm_error(err, SELFMM_ERR_SHAPE, "%s: object array with %zu items for %llu elements",
                            src->name, a->objects->u.seq.n, (unsigned long long)count);
        return SELFMM_OK;
    }
    src->kind = SM_SRC_BYTES;
    src->bytes = a->data;
    src->mf = mf;
    size_t have;
    SM_TRY(sm_pbytes_size(&a->data, &have, err));
    if (a->data.latin1) sm_mapped_drop(mf, a->data.p, a->data.len); /* the scan read it all */
    return sm_src_layout(src, a->fortran, have, &count, err);
}

static selfmm_status pk_open(void *ctx, int s, sm_field f, sm_array_src *src, int *found,
                             selfmm_error *err)
{
    pk_ctx *c = ctx;
    const sm_pv *v = sm_pv_dict_get(c->split[s], sm_field_key(f));
    *found = v != NULL;
    if (!v) return SELFMM_OK;
    if (v->kind == SM_PV_NDARRAY) return src_from_array(src, v->u.arr, c->mf, err);
    if (v->kind == SM_PV_LIST || v->kind == SM_PV_TUPLE) {
        src->kind = SM_SRC_LIST;
        src->dtype = SM_DT_OBJECT;
        src->list = v;
        src->ndim = 1;
        src->shape[0] = (int64_t)v->u.seq.n;
        return SELFMM_OK;
    }
    *found = 0; /* nothing to close */
    return sm_error(err, SELFMM_ERR_TYPE, "%s is a %s, expected a numpy array or a list", src->name,
                    sm_pv_kind_name(v->kind));
}

static void pk_close(void *ctx, sm_array_src *src)
{
    (void)ctx;
    (void)src; /* nothing is held: the bytes belong to the mapped file */
}

/* The unused `text` array (N, L, 768): shown by info, never converted. */
static void pk_describe(void *ctx, int s, selfmm_dataset *ds)
{
    pk_ctx *c = ctx;
    const sm_pv *v = sm_pv_dict_get(c->split[s], "text");
    if (!v || v->kind != SM_PV_NDARRAY || !v->u.arr->built || ds->n_field == SM_MAX_FIELDS) return;
    sm_field_info *fi = &ds->field[ds->n_field++];
    memset(fi, 0, sizeof *fi);
    snprintf(fi->name, sizeof fi->name, "%s/text (unused)", sm_split_names[s]);
    snprintf(fi->dtype, sizeof fi->dtype, "%s", sm_dtype_name(v->u.arr->dtype.dt));
    fi->ndim = v->u.arr->ndim;
    memcpy(fi->shape, v->u.arr->shape, sizeof fi->shape);
}

selfmm_status sm_dataset_read_pickle(selfmm_dataset *ds, const uint8_t *data, size_t size,
                                     const sm_mapped_file *mf, const char *path,
                                     const sm_load_opts *opts, selfmm_error *err)
{
    sm_pickle *vm = NULL;
    sm_pv *root = NULL;
    sm_pickle_opts po = {0};
    selfmm_status st = sm_pickle_run(data, size, &po, path, &vm, &root, NULL, err);
    pk_ctx c = {{NULL, NULL, NULL}, mf};
    if (st == SELFMM_OK && root->kind != SM_PV_DICT)
        st = sm_error(err, SELFMM_ERR_TYPE, "%s: the pickle holds a %s, expected the MMSA dict "
                      "of train/valid/test", path, sm_pv_kind_name(root->kind));
    for (int s = 0; s < 3 && st == SELFMM_OK; s++) {
        c.split[s] = sm_pv_dict_get(root, sm_split_names[s]);
        if (!c.split[s])
            st = sm_error(err, SELFMM_ERR_MISSING, "%s: no split \"%s\"", path, sm_split_names[s]);
        else if (c.split[s]->kind != SM_PV_DICT)
            st = sm_error(err, SELFMM_ERR_TYPE, "%s: split \"%s\" is a %s, expected a dict", path,
                          sm_split_names[s], sm_pv_kind_name(c.split[s]->kind));
    }
    if (st == SELFMM_OK) {
        snprintf(ds->format, sizeof ds->format, "MMSA pickle (protocol %d)", data[1]);
        ds->has_config = sm_pv_dict_get(root, "config") != NULL;
        sm_dataset_reader r = {&c, pk_open, pk_close, pk_describe};
        st = sm_dataset_fill(ds, &r, opts, path, err);
    }
    sm_pickle_free(vm);
    return st;
}
