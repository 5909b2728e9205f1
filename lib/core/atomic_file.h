/* atomic_file.h -- write a file so that readers see either the old one or the
 * complete new one: write a temp file in the same directory, fsync it, rename it
 * over the target, fsync the directory. Never leaves a half-written target. */
#ifndef SM_CORE_ATOMIC_FILE_H
#define SM_CORE_ATOMIC_FILE_H

#include "core/error.h"

#include <stdio.h>

typedef struct sm_atomic_file {
    char path[SELFMM_PATH_MAX];   /* the target */
    char tmp[SELFMM_PATH_MAX + 32]; /* the temp file next to it */
    FILE *fp;                     /* open on tmp after sm_atomic_open */
    int fd;                       /* fp's descriptor (-1 when none); fp writes through an
                                     aligned buffer with O_DIRECT where the file system
                                     allows it (atomic_file.c says why) */
} sm_atomic_file;

/* Create the temp file and open it for writing (fp). */
selfmm_status sm_atomic_open(sm_atomic_file *af, const char *path, selfmm_error *err);
/* Only choose the temp name (for writers that open the file themselves, like libzip). */
selfmm_status sm_atomic_reserve(sm_atomic_file *af, const char *path, selfmm_error *err);
/* Flush, fsync, close, rename over the target, fsync the directory. On failure the
 * temp file is removed and the target is untouched. */
selfmm_status sm_atomic_commit(sm_atomic_file *af, selfmm_error *err);
/* Close and remove the temp file (after a failed write). */
void sm_atomic_abort(sm_atomic_file *af);
/* Write a whole buffer to path atomically. */
selfmm_status sm_atomic_write(const char *path, const void *data, size_t size, selfmm_error *err);
/* Copy the file from into to atomically, streamed (a bert-base model is 0.4 GB). */
selfmm_status sm_atomic_copy(const char *from, const char *to, selfmm_error *err);
/* Make to a second name of the file from (a hard link), atomically replacing to:
 * no byte is copied. Where the file system has no hard links (or from is on
 * another one) it copies (sm_atomic_copy). Only for files nobody rewrites in
 * place: our writers replace files by rename, which leaves the other name on the
 * old contents. */
selfmm_status sm_atomic_link(const char *from, const char *to, selfmm_error *err);
/* Remove the temp files that writes to path left behind when their process was
 * killed between creating and renaming them (path.tmp.*, regular files only; a
 * writer that is still running would lose its file: call this only while owning
 * path's folder, see core/dir_lock.h). *removed (may be NULL) counts them. A
 * missing folder removes nothing. */
selfmm_status sm_atomic_remove_stale(const char *path, int *removed, selfmm_error *err);

#endif
