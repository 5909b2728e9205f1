/* npy.h -- the NumPy .npy header: magic "\x93NUMPY", version, header length, and a
 * Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces to a multiple of 64 bytes and ending in '\n'. */
#ifndef SM_IO_NPY_H
#define SM_IO_NPY_H

#include "core/error.h"
#include "io/dtype.h"

#include <stddef.h>
#include <stdint.h>

#define SM_NPY_MAX_DIMS 8
#define SM_NPY_MAX_HEADER (1u << 20)

typedef struct sm_npy_header {
    sm_dtype dtype;
    int itemsize;
    int swap;                  /* '>' data */
    int fortran;
    int ndim;
    int64_t shape[SM_NPY_MAX_DIMS];
} sm_npy_header;

/* The first 12 bytes: magic and version. *prefix gets the bytes before the dict
 * (10 for version 1, 12 for versions 2 and 3) and *dict_len the dict's length.
 * At least 10 bytes must be given (12 for versions 2 and 3). */
selfmm_status sm_npy_prefix(const uint8_t *b, size_t n, size_t *prefix, size_t *dict_len,
                            const char *what, selfmm_error *err);
/* Parse the dict text. */
selfmm_status sm_npy_parse_dict(const char *text, size_t len, sm_npy_header *h, const char *what,
                                selfmm_error *err);
/* A complete header (magic to '\n') for descr and shape into out (malloc'd). */
selfmm_status sm_npy_make_header(const char *descr, int fortran, int ndim, const int64_t *shape,
                                 uint8_t **out, size_t *len, selfmm_error *err);

#endif
