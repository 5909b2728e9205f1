/* mapped_file.h -- a whole input file mapped read-only (mmap), so that readers can
 * reference array bytes in place instead of copying them. Multi-GB dataset
 * pickles are converted array by array; sm_mapped_drop() returns the pages of an
 * array already converted to the kernel, which keeps peak memory near the size of
 * the converted data rather than file + copy. */
#ifndef SM_IO_MAPPED_FILE_H
#define SM_IO_MAPPED_FILE_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sm_mapped_file {
    const uint8_t *data;   /* size bytes; NULL for an empty file */
    size_t size;
    void *map;             /* what munmap gets (NULL when nothing is mapped) */
    size_t map_size;
} sm_mapped_file;

/* Map path read-only, opened with sm_open_input (core/file.h: a FIFO, device or
 * directory is refused before anything is read). Errors: SELFMM_ERR_NOT_FOUND,
 * SELFMM_ERR_IO (not a regular file, mmap failed), each naming the file. An empty
 * file maps to data = NULL, size = 0. */
selfmm_status sm_mapped_open(sm_mapped_file *mf, const char *path, selfmm_error *err);
/* The same for a file already opened with sm_open_input (fd stays open; size as
 * sm_open_input gave it; path names it in messages). */
selfmm_status sm_mapped_open_fd(sm_mapped_file *mf, int fd, uint64_t size, const char *path,
                                selfmm_error *err);
void sm_mapped_close(sm_mapped_file *mf);
/* Tell the kernel we are done with bytes [p, p + n) of the mapping (pages wholly
 * inside the range are dropped; re-reading them faults them back in). A range
 * outside the mapping is ignored, so readers may call it on any buffer. */
void sm_mapped_drop(const sm_mapped_file *mf, const void *p, size_t n);

#endif
