/* file.c -- see file.h. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a non-regular file is, for the message. */
static const char *file_kind(mode_t m)
{
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISLNK(m)) return "a symbolic link";
    return "not a file";
}

static selfmm_status not_regular(const char *path, mode_t m, selfmm_error *err)
{
    return sm_error(err, SELFMM_ERR_IO, "%s: not a regular file (%s)", path, file_kind(m));
}

selfmm_status sm_open_input(const char *path, int *fd, uint64_t *size, selfmm_error *err)
{
    *fd = -1;
    if (!path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "NULL path");
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (f < 0) {
        int e = errno;
        struct stat st;
        if (e == ENOENT || e == ENOTDIR)
            return sm_error(err, SELFMM_ERR_NOT_FOUND, "%s: no such file", path);
        /* a socket cannot be opened at all (ENXIO): say what it is */
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) return not_regular(path, st.st_mode, err);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return not_regular(path, st.st_mode, err);
    }
    int fl = fcntl(f, F_GETFL);
    if (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(f);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    *fd = f;
    if (size) *size = (uint64_t)st.st_size;
    return SELFMM_OK;
}

selfmm_status sm_read_file(const char *path, size_t max_size, char **data, size_t *size,
                           selfmm_error *err)
{
    int fd;
    uint64_t n64;
    SM_TRY(sm_open_input(path, &fd, &n64, err));
    if (n64 > max_size) {
        close(fd);
        return sm_error(err, SELFMM_ERR_RANGE, "%s: %llu bytes, more than the %zu accepted", path,
                        (unsigned long long)n64, max_size);
    }
    size_t n = (size_t)n64, got = 0;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n + 1);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { /* an error, or the file shrank while we read it */
            int e = r < 0 ? errno : 0;
            free(buf);
            close(fd);
            return sm_error(err, SELFMM_ERR_IO, "%s: read failed: %s", path,
                            e ? strerror(e) : "the file shrank while being read");
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    if (size) *size = n;
    return SELFMM_OK;
}

int sm_is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sm_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0;
}

selfmm_status sm_path_join(char *out, size_t cap, const char *dir, const char *name,
                           selfmm_error *err)
{
    size_t dl = strlen(dir);
    int n = (dl && dir[dl - 1] == '/') ? snprintf(out, cap, "%s%s", dir, name)
                                       : snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "path too long: %s/%s", dir, name);
    return SELFMM_OK;
}

selfmm_status sm_mkdirs(const char *path, selfmm_error *err)
{
    char buf[SELFMM_PATH_MAX];
    if (!path || !*path || strlen(path) >= sizeof buf)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "bad directory path");
    strcpy(buf, path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return sm_error(err, SELFMM_ERR_IO, "%s: cannot create directory: %s", buf,
                                strerror(errno));
            *p = c;
            if (c == '\0') break;
        }
    }
    if (!sm_is_dir(path)) return sm_error(err, SELFMM_ERR_IO, "%s: not a directory", path);
    return SELFMM_OK;
}
