/* file.h -- small file helpers with errors that name the file. */
#ifndef SM_CORE_FILE_H
#define SM_CORE_FILE_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

/* Open an input file so that nothing can block: open(O_RDONLY | O_NONBLOCK |
 * O_CLOEXEC) (a FIFO without a writer would block a plain open), fstat, refuse
 * anything but a regular file before a byte is read, then clear O_NONBLOCK. Every
 * reader of the library opens its inputs here, so a FIFO, socket, device or
 * directory given where a file is expected fails at once, with one message:
 * "<path>: not a regular file (a FIFO)" (SELFMM_ERR_IO). A missing file is
 * SELFMM_ERR_NOT_FOUND ("<path>: no such file"). *fd is the caller's to close;
 * *size (may be NULL) is the file's size. */
selfmm_status sm_open_input(const char *path, int *fd, uint64_t *size, selfmm_error *err);

/* Read a whole file into a NUL-terminated malloc'd buffer (free with free()),
 * opened with sm_open_input. max_size bounds what is accepted (SELFMM_ERR_RANGE
 * beyond it, before anything is allocated). Missing file: SELFMM_ERR_NOT_FOUND;
 * other failures SELFMM_ERR_IO. */
selfmm_status sm_read_file(const char *path, size_t max_size, char **data, size_t *size,
                           selfmm_error *err);
/* 1 if path is an existing directory. */
int sm_is_dir(const char *path);
/* 1 if path exists (any type). */
int sm_exists(const char *path);
/* dir + "/" + name into out (SELFMM_ERR_INVALID_ARG when it does not fit). */
selfmm_status sm_path_join(char *out, size_t cap, const char *dir, const char *name,
                           selfmm_error *err);
/* mkdir -p. */
selfmm_status sm_mkdirs(const char *path, selfmm_error *err);

#endif
