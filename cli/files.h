/* files.h -- files the CLI writes, atomically: a temp file next to the target,
 * fsync, rename over it. A reader sees the old file or the complete new one, and a
 * command that fails leaves no half-written output. (The library's own writer is
 * internal; the CLI sees only selfmm.h.) */
#ifndef SELFMM_CLI_FILES_H
#define SELFMM_CLI_FILES_H

#include <stddef.h>

/* Write data[0..len) to path. 0 on success; -1 after printing the reason as an
 * error of command cmd (naming the file). */
int cli_write_file_atomic(const char *cmd, const char *path, const void *data, size_t len);
/* Copy a file, streamed (a bert-base model is 0.4 GB). 0 or -1 as above. */
int cli_copy_file_atomic(const char *cmd, const char *from, const char *to);

#endif
