/* tensors.c -- the named tensor list (see tensors.h) and checkpoint detection. */
#include "io/tensors.h"

#include "core/quote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libselfmm's readers assume a little-endian host (checkpoint data is little-endian)"
#endif

int64_t sm_shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return -1;
        if (shape[d] && n > INT64_MAX / shape[d]) return -1;
        n *= shape[d];
    }
    return n;
}

int sm_tensor_extent(int ndim, const int64_t *shape, const int64_t *stride, int elem_size,
                     uint64_t *bytes)
{
    uint64_t last = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || stride[d] < 0) return -1;
        if (shape[d] == 0) {
            *bytes = 0;
            return 0;
        }
        uint64_t span = (uint64_t)(shape[d] - 1);
        if (span && (uint64_t)stride[d] > (UINT64_MAX / 2) / span) return -1;
        last += span * (uint64_t)stride[d];
        if (last > UINT64_MAX / 4) return -1;
    }
    if (last + 1 > UINT64_MAX / (uint64_t)(elem_size > 0 ? elem_size : 1)) return -1;
    *bytes = (last + 1) * (uint64_t)elem_size;
    return 0;
}

void sm_shape_str(char *out, size_t cap, int ndim, const int64_t *shape)
{
    size_t o = (size_t)snprintf(out, cap, "(");
    for (int d = 0; d < ndim && o < cap; d++)
        o += (size_t)snprintf(out + o, cap - o, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (o < cap) snprintf(out + o, cap - o, ndim == 1 ? ",)" : ")");
}

selfmm_status sm_tensors_add(sm_tensor_list *l, const char *name, size_t name_len, sm_dtype dt,
                             int ndim, const int64_t *shape, const int64_t *stride,
                             const uint8_t *data, selfmm_error *err)
{
    if (ndim < 0 || ndim > SM_TENSOR_MAX_DIMS)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "tensor with %d dimensions", ndim);
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        sm_tensor *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) return sm_error(err, SELFMM_ERR_NOMEM, "tensor list: out of memory");
        l->t = t, l->cap = cap;
    }
    sm_tensor *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    t->name = malloc(name_len + 1);
    if (!t->name) return sm_error(err, SELFMM_ERR_NOMEM, "tensor list: out of memory");
    memcpy(t->name, name, name_len);
    t->name[name_len] = '\0';
    t->dtype = dt;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = sm_shape_numel(ndim, shape);
    if (stride) {
        memcpy(t->stride, stride, (size_t)ndim * sizeof *stride);
    } else {
        /* Each partial product divides numel, so it fits; an empty tensor addresses
         * no element, and its other dimensions may be huge: strides 1. */
        int64_t s = 1;
        for (int d = ndim - 1; d >= 0; d--) t->stride[d] = s, s *= t->numel > 0 ? shape[d] : 1;
    }
    t->data = t->numel ? data : NULL;
    l->n++;
    free(l->order); /* stale */
    l->order = NULL;
    return SELFMM_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const sm_tensor *const *)a)->name, (*(const sm_tensor *const *)b)->name);
}

selfmm_status sm_tensors_index(sm_tensor_list *l, const char *what, selfmm_error *err)
{
    free(l->order);
    l->order = NULL;
    size_t n = (size_t)l->n;
    /* sort pointers (qsort's comparator then needs no context), keep indices */
    const sm_tensor **by = malloc((n ? n : 1) * sizeof *by);
    int *order = malloc((n ? n : 1) * sizeof *order);
    if (!by || !order) {
        free(by), free(order);
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    }
    for (size_t i = 0; i < n; i++) by[i] = &l->t[i];
    qsort(by, n, sizeof *by, by_name);
    for (size_t i = 0; i < n; i++) order[i] = (int)(by[i] - l->t);
    free(by);
    for (size_t i = 1; i < n; i++) {
        const char *name = l->t[order[i]].name;
        if (!strcmp(l->t[order[i - 1]].name, name)) {
            free(order);
            return sm_error(err, SELFMM_ERR_FORMAT, "%s: tensor %s appears twice", what, SM_Q(name));
        }
    }
    l->order = order;
    return SELFMM_OK;
}

selfmm_status sm_tensors_add_meta(sm_tensor_list *l, const char *key, const char *val,
                                  selfmm_error *err)
{
    char **k = realloc(l->meta_key, (size_t)(l->n_meta + 1) * sizeof *k);
    if (k) l->meta_key = k;
    char **v = realloc(l->meta_val, (size_t)(l->n_meta + 1) * sizeof *v);
    if (v) l->meta_val = v;
    char *kk = k && v ? strdup(key) : NULL, *vv = kk ? strdup(val) : NULL;
    if (!vv) {
        free(kk);
        return sm_error(err, SELFMM_ERR_NOMEM, "tensor list: out of memory");
    }
    l->meta_key[l->n_meta] = kk;
    l->meta_val[l->n_meta] = vv;
    l->n_meta++;
    return SELFMM_OK;
}

void sm_tensors_free(sm_tensor_list *l)
{
    if (!l) return;
    for (int i = 0; i < l->n; i++) free(l->t[i].name);
    free(l->t);
    for (int i = 0; i < l->n_meta; i++) free(l->meta_key[i]), free(l->meta_val[i]);
    free(l->meta_key);
    free(l->meta_val);
    free(l->order);
    sm_mapped_close(&l->mf);
    memset(l, 0, sizeof *l);
}

const sm_tensor *sm_tensors_find(const sm_tensor_list *l, const char *name)
{
    if (!l->order) {
        for (int i = 0; i < l->n; i++)
            if (!strcmp(l->t[i].name, name)) return &l->t[i];
        return NULL;
    }
    int lo = 0, hi = l->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(l->t[l->order[mid]].name, name);
        if (!c) return &l->t[l->order[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *sm_tensors_meta(const sm_tensor_list *l, const char *key)
{
    for (int i = 0; i < l->n_meta; i++)
        if (!strcmp(l->meta_key[i], key)) return l->meta_val[i];
    return NULL;
}

void sm_tensors_take_f32(const sm_tensor_list *l, const sm_tensor *t, float *dst)
{
    sm_tensor_to_f32(t, dst);
    if (t->numel > 0)
        sm_mapped_drop(&l->mf, t->data, (size_t)t->numel * (size_t)sm_dtype_size(t->dtype));
}

void sm_tensor_to_f32(const sm_tensor *t, float *dst)
{
    if (t->numel <= 0) return;
    int esize = sm_dtype_size(t->dtype);
    int contiguous = 1;
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != s) contiguous = 0;
        s *= t->shape[d];
    }
    if (contiguous) {
        sm_dtype_to_f32(t->dtype, 0, t->data, (size_t)t->numel, dst);
        return;
    }
    /* Gather: walk the index like an odometer over the last dimension's rows. */
    int nd = t->ndim;
    int64_t idx[SM_TENSOR_MAX_DIMS] = {0};
    int64_t inner = t->shape[nd - 1], inner_stride = t->stride[nd - 1];
    for (int64_t out = 0; out < t->numel; out += inner) {
        int64_t off = 0;
        for (int d = 0; d < nd - 1; d++) off += idx[d] * t->stride[d];
        for (int64_t i = 0; i < inner; i++)
            sm_dtype_to_f32(t->dtype, 0, t->data + (size_t)(off + i * inner_stride) * (size_t)esize, 1,
                            dst + out + i);
        for (int d = nd - 2; d >= 0; d--) {
            if (++idx[d] < t->shape[d]) break;
            idx[d] = 0;
        }
    }
}

sm_ckpt_kind sm_ckpt_detect(const uint8_t *data, size_t size)
{
    if (size >= 4 && !memcmp(data, "PK\3\4", 4)) return SM_CKPT_TORCH_ZIP;
    /* legacy torch.save: PROTO 2, LONG1 of 10 bytes (the magic number) */
    if (size >= 4 && data[0] == 0x80 && data[2] == 0x8a && data[3] == 10) return SM_CKPT_TORCH_LEGACY;
    if (size >= 9) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--) n = (n << 8) | data[i];
        if (n >= 2 && n <= size - 8 && data[8] == '{') return SM_CKPT_SAFETENSORS;
    }
    return SM_CKPT_UNKNOWN;
}

selfmm_status sm_read_checkpoint_mem(const uint8_t *data, size_t size, const char *what,
                                     sm_tensor_list *l, selfmm_error *err)
{
    switch (sm_ckpt_detect(data, size)) {
    case SM_CKPT_TORCH_ZIP: return sm_read_torch_zip(data, size, what, l, err);
    case SM_CKPT_TORCH_LEGACY: return sm_read_torch_legacy(data, size, what, l, err);
    case SM_CKPT_SAFETENSORS: return sm_read_safetensors(data, size, what, l, err);
    default:
        return sm_error(err, SELFMM_ERR_FORMAT,
                        "%s: not a checkpoint (neither a PyTorch zip or legacy file nor safetensors)",
                        what);
    }
}

selfmm_status sm_read_checkpoint(const char *path, sm_tensor_list *l, selfmm_error *err)
{
    memset(l, 0, sizeof *l);
    SM_TRY(sm_mapped_open(&l->mf, path, err));
    selfmm_status st = sm_read_checkpoint_mem(l->mf.data, l->mf.size, path, l, err);
    if (st != SELFMM_OK) sm_tensors_free(l);
    return st;
}
