/* safetensors.h -- safetensors reading (in tensors.h: sm_read_safetensors) and
 * writing of float32 tensors with string metadata. */
#ifndef SM_IO_SAFETENSORS_H
#define SM_IO_SAFETENSORS_H

#include "io/tensors.h"

/* The reference implementation refuses headers above 100,000,000 bytes; so do we. */
#define SM_SAFETENSORS_MAX_HEADER 100000000u

/* One float32 tensor to write. */
typedef struct sm_st_out {
    const char *name;
    int ndim;
    const int64_t *shape;
    int64_t numel;
    const float *data;
} sm_st_out;

/* "F32", "BF16", ... */
const char *sm_safetensors_dtype_name(sm_dtype dt);

/* Write tensors (in order, contiguous) and the metadata strings atomically. */
selfmm_status sm_write_safetensors(const char *path, const sm_st_out *t, int n,
                                   const char *const *meta_key, const char *const *meta_val,
                                   int n_meta, selfmm_error *err);

#endif
