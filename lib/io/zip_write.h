/* zip_write.h -- a minimal zip writer for PyTorch checkpoints: stored members
 * whose data starts on a 64-byte boundary (padding in an "FB" extra field, as
 * torch's own writer does), no timestamps (1980-01-01), sizes in the local
 * headers. Deterministic: the same members give the same bytes. Archives above
 * 4 GiB (ZIP64) are refused. */
#ifndef SM_IO_ZIP_WRITE_H
#define SM_IO_ZIP_WRITE_H

#include "core/error.h"

#include <stdio.h>
#include <stdint.h>

typedef struct sm_zipw_entry {
    char *name;
    uint32_t crc;
    uint64_t size, local;
} sm_zipw_entry;

typedef struct sm_zip_writer {
    FILE *fp;
    const char *path;          /* for messages */
    uint64_t off;
    sm_zipw_entry *e;
    int n, cap;
} sm_zip_writer;

void sm_zipw_init(sm_zip_writer *w, FILE *fp, const char *path);
selfmm_status sm_zipw_add(sm_zip_writer *w, const char *name, const void *data, size_t size,
                          selfmm_error *err);
/* Write the central directory. */
selfmm_status sm_zipw_finish(sm_zip_writer *w, selfmm_error *err);
void sm_zipw_free(sm_zip_writer *w);

#endif
