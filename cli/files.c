/* files.c -- see files.h. */
#include "files.h"

#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int report(const char *cmd, const char *path, const char *what)
{
    cli_fail(cmd, "%s: %s", path, what);
    return -1;
}

/* A temp file next to path, opened for writing with the usual mode (mkstemp makes 0600). */
static int open_temp(const char *cmd, const char *path, char *tmp, size_t cap)
{
    if (snprintf(tmp, cap, "%s.tmp.XXXXXX", path) >= (int)cap) return report(cmd, path, "path too long");
    int fd = mkstemp(tmp);
    if (fd < 0) return report(cmd, path, strerror(errno));
    mode_t mask = umask(022);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) return -1;
        p += w, len -= (size_t)w;
    }
    return 0;
}

/* fsync, close and rename the temp file over path; on failure (failed: the write
 * already did, errno tells why) close and remove it. */
static int finish_temp(const char *cmd, int fd, const char *tmp, const char *path, int failed)
{
    int e = failed ? errno : 0;
    if (!failed && fsync(fd) != 0) failed = 1, e = errno;
    if (close(fd) != 0 && !failed) failed = 1, e = errno;
    if (!failed && rename(tmp, path) != 0) failed = 1, e = errno;
    if (failed) {
        unlink(tmp);
        return report(cmd, path, e ? strerror(e) : "write failed");
    }
    return 0;
}

int cli_write_file_atomic(const char *cmd, const char *path, const void *data, size_t len)
{
    char tmp[SELFMM_PATH_MAX + 32];
    int fd = open_temp(cmd, path, tmp, sizeof tmp);
    if (fd < 0) return -1;
    return finish_temp(cmd, fd, tmp, path, write_all(fd, data, len) != 0);
}

int cli_copy_file_atomic(const char *cmd, const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return report(cmd, from, strerror(errno));
    char tmp[SELFMM_PATH_MAX + 32];
    int fd = open_temp(cmd, to, tmp, sizeof tmp);
    if (fd < 0) {
        fclose(in);
        return -1;
    }
    static char buf[1 << 16];
    int failed = 0;
    size_t n;
    while (!failed && (n = fread(buf, 1, sizeof buf, in)) > 0) failed = write_all(fd, buf, n) != 0;
    if (ferror(in)) failed = 1;
    fclose(in);
    return finish_temp(cmd, fd, tmp, to, failed);
}
