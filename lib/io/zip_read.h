/* zip_read.h -- the central directory of a zip held in memory, with each member's
 * data offset (libzip has no API for it, docs/PLATFORM.md §5, and torch checkpoints
 * are read in place from the mapped file). Handles ZIP64 and data descriptors (torch's writer sets
 * sizes only in the central directory). Every offset and size is checked against
 * the buffer. */
#ifndef SM_IO_ZIP_READ_H
#define SM_IO_ZIP_READ_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sm_zip_entry {
    char *name;                /* NUL-terminated copy */
    uint64_t data_offset;      /* first byte of the member's data in the buffer */
    uint64_t comp_size, size;
    int method;                /* 0 stored, 8 deflate, ... */
    uint32_t crc;
} sm_zip_entry;

typedef struct sm_zip_dir {
    sm_zip_entry *e;           /* sorted by name (not in archive order) */
    int n;
} sm_zip_dir;

selfmm_status sm_zip_read_dir(const uint8_t *buf, size_t len, const char *what, sm_zip_dir *dir,
                              selfmm_error *err);
void sm_zip_dir_free(sm_zip_dir *dir);
/* The entry of that name, or NULL. */
const sm_zip_entry *sm_zip_find(const sm_zip_dir *dir, const char *name);

/* CRC-32 (zip / zlib polynomial), continuing from crc (start with 0). */
uint32_t sm_crc32(uint32_t crc, const void *data, size_t n);

#endif
