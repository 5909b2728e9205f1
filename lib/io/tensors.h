/* tensors.h -- the named tensor list: what every checkpoint reader produces
 * (torch zip, torch legacy, safetensors) and every checkpoint consumer walks
 * (BERT loading, .pth import, the native model file, info). A tensor is a name,
 * an element type, a shape, strides and a pointer to its first element in the
 * mapped file; readers validate that every element lies inside the file before a
 * tensor is listed, so consumers never check bounds again. */
#ifndef SM_IO_TENSORS_H
#define SM_IO_TENSORS_H

#include "core/error.h"
#include "io/dtype.h"
#include "io/mapped_file.h"

#include <stddef.h>
#include <stdint.h>

#define SM_TENSOR_MAX_DIMS 8

typedef struct sm_tensor {
    char *name;
    sm_dtype dtype;
    int ndim;
    int64_t shape[SM_TENSOR_MAX_DIMS];
    int64_t stride[SM_TENSOR_MAX_DIMS]; /* in elements */
    int64_t numel;
    const uint8_t *data;       /* element (0, ..., 0); NULL when numel == 0 */
} sm_tensor;

typedef struct sm_tensor_list {
    char format[32];           /* "torch zip", "torch legacy", "safetensors" */
    sm_tensor *t;
    int n, cap;
    char **meta_key, **meta_val; /* safetensors __metadata__ (n_meta entries) */
    int n_meta;
    sm_mapped_file mf;         /* the file the data points into (when opened from a path) */
    int *order;                /* tensor indices sorted by name (sm_tensors_index) */
} sm_tensor_list;

/* Append a tensor (name copied); contiguous strides are filled in when stride is
 * NULL. The caller has validated the data range. */
selfmm_status sm_tensors_add(sm_tensor_list *l, const char *name, size_t name_len, sm_dtype dt,
                             int ndim, const int64_t *shape, const int64_t *stride,
                             const uint8_t *data, selfmm_error *err);
selfmm_status sm_tensors_add_meta(sm_tensor_list *l, const char *key, const char *val,
                                  selfmm_error *err);
void sm_tensors_free(sm_tensor_list *l);
/* Sort the names for lookups; a name that appears twice is an error. Readers
 * call it once all tensors are listed. */
selfmm_status sm_tensors_index(sm_tensor_list *l, const char *what, selfmm_error *err);
/* By exact name, or NULL (a binary search once indexed). */
const sm_tensor *sm_tensors_find(const sm_tensor_list *l, const char *name);
const char *sm_tensors_meta(const sm_tensor_list *l, const char *key);

/* Elements (product of the shape) with an overflow check: -1 when it overflows
 * or a dimension is negative. */
int64_t sm_shape_numel(int ndim, const int64_t *shape);
/* The byte span [first, last] element bytes a strided tensor touches, relative to
 * its first element: 0 on success, -1 on overflow. Used by readers to validate. */
int sm_tensor_extent(int ndim, const int64_t *shape, const int64_t *stride, int elem_size,
                     uint64_t *bytes);
/* "(3, 4)" */
void sm_shape_str(char *out, size_t cap, int ndim, const int64_t *shape);

/* All elements of a numeric tensor to float32, in row-major order (strided
 * tensors are gathered). dst holds numel floats. */
void sm_tensor_to_f32(const sm_tensor *t, float *dst);
/* The same, then give the file pages of a contiguous tensor back to the kernel: a
 * checkpoint copied into a model never costs the model's size twice in memory. */
void sm_tensors_take_f32(const sm_tensor_list *l, const sm_tensor *t, float *dst);

/* ---- readers (tensors from a file or a buffer) ---- */

/* Which checkpoint a buffer holds, by magic. */
typedef enum sm_ckpt_kind {
    SM_CKPT_UNKNOWN, SM_CKPT_TORCH_ZIP, SM_CKPT_TORCH_LEGACY, SM_CKPT_SAFETENSORS
} sm_ckpt_kind;
sm_ckpt_kind sm_ckpt_detect(const uint8_t *data, size_t size);
/* 1 when a zip member name is a torch checkpoint's pickle, "<archive>/data.pkl":
 * what tells a torch zip from a .npz. */
int sm_torch_pickle_name(const char *name);

selfmm_status sm_read_torch_zip(const uint8_t *data, size_t size, const char *what,
                                sm_tensor_list *l, selfmm_error *err);
selfmm_status sm_read_torch_legacy(const uint8_t *data, size_t size, const char *what,
                                   sm_tensor_list *l, selfmm_error *err);
selfmm_status sm_read_safetensors(const uint8_t *data, size_t size, const char *what,
                                  sm_tensor_list *l, selfmm_error *err);
/* Any of the three from a buffer (by magic). */
selfmm_status sm_read_checkpoint_mem(const uint8_t *data, size_t size, const char *what,
                                     sm_tensor_list *l, selfmm_error *err);
/* Map a file and read it; the list keeps the mapping until sm_tensors_free. */
selfmm_status sm_read_checkpoint(const char *path, sm_tensor_list *l, selfmm_error *err);

#endif
