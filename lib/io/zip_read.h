/* zip_read.h -- the central directory of a zip held in memory, with each member's
 * data offset (libzip has no API for it, docs/PLATFORM.md §5, and torch checkpoints are read in place
 * from the mapped file). Handles ZIP64 and data descriptors (torch's writer sets
 * sizes only in the central directory).
 *
 * The rules every zip we read is held to (torch checkpoints here; .npz files run
 * the same check before libzip streams their members), those of Python's zipfile
 * and libzip:
 * - every offset and size lies inside the file, member data before the central
 *   directory, and no two members overlap;
 * - a field at its ZIP64 marker (0xFFFFFFFF) is taken from the ZIP64 extra field,
 *   which must hold it; in the central directory and in the local header alike;
 * - the local header agrees with the central directory: same name (an entry
 *   pointing at another member's header is refused), same method, and the same
 *   CRC-32 and sizes unless a data descriptor follows the data (then they may be 0);
 * - a stored member's compressed and uncompressed sizes are equal; a deflated one
 *   claims no more than deflate can produce (a zip bomb otherwise);
 * - no encryption;
 * - the CRC-32 of a member's data matches, checked when the member is used
 *   (sm_zip_verify; .npz members by libzip at the end of each member).
 * Messages name the file and the member. */
#ifndef SM_IO_ZIP_READ_H
#define SM_IO_ZIP_READ_H

#include "core/crc32.h"
#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sm_zip_entry {
    char *name;                /* NUL-terminated copy */
    uint64_t local_offset;     /* the local header */
    uint64_t data_offset;      /* first byte of the member's data in the buffer */
    uint64_t comp_size, size;
    int method;                /* 0 stored, 8 deflate, ... */
    uint32_t crc;
    int verified;              /* sm_zip_verify found the CRC right */
} sm_zip_entry;

typedef struct sm_zip_dir {
    sm_zip_entry *e;           /* sorted by name (not in archive order) */
    int n;
} sm_zip_dir;

selfmm_status sm_zip_read_dir(const uint8_t *buf, size_t len, const char *what, sm_zip_dir *dir,
                              selfmm_error *err);
void sm_zip_dir_free(sm_zip_dir *dir);
/* The entry of that name, or NULL. */
sm_zip_entry *sm_zip_find(const sm_zip_dir *dir, const char *name);

/* The size rules of one member (also for libzip's view of a .npz member): stored
 * means equal sizes; compressed data within the file's file_size bytes; deflate
 * ratios beyond what deflate produces refused. Messages start with "what: " (what
 * may be NULL: no prefix). */
selfmm_status sm_zip_check_sizes(const char *what, const char *member, int method, uint64_t comp_size,
                                 uint64_t size, uint64_t file_size, selfmm_error *err);

/* Check the CRC-32 of a stored member's data in buf against the directory's, once
 * (e->verified): SELFMM_ERR_FORMAT naming the file and the member on a mismatch. */
selfmm_status sm_zip_verify(const uint8_t *buf, sm_zip_entry *e, const char *what, selfmm_error *err);
/* The same for n members at once, on all threads (a 440 MB checkpoint in tens of
 * milliseconds); the first damaged one in e's order is reported. */
selfmm_status sm_zip_verify_many(const uint8_t *buf, sm_zip_entry *const *e, size_t n,
                                 const char *what, selfmm_error *err);

#endif
