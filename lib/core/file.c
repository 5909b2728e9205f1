/* file.c -- see file.h. */
#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static selfmm_status open_error(const char *path, int e, selfmm_error *err)
{
    if (e == ENOENT || e == ENOTDIR)
        return sm_error(err, SELFMM_ERR_NOT_FOUND, "%s: no such file", path);
    return sm_error(err, SELFMM_ERR_IO, "%s: cannot open: %s", path, strerror(e));
}

selfmm_status sm_read_file(const char *path, size_t max_size, char **data, size_t *size,
                           selfmm_error *err)
{
    if (!path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "NULL path");
    FILE *fp = fopen(path, "rb");
    if (!fp) return open_error(path, errno, err);
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return sm_error(err, SELFMM_ERR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max_size) {
        fclose(fp);
        return sm_error(err, SELFMM_ERR_RANGE, "%s: %lld bytes, more than the %zu accepted", path,
                        (long long)st.st_size, max_size);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(fp);
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n + 1);
    }
    if (n && fread(buf, 1, n, fp) != n) {
        int e = errno;
        free(buf);
        fclose(fp);
        return sm_error(err, SELFMM_ERR_IO, "%s: read failed: %s", path, strerror(e));
    }
    fclose(fp);
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
