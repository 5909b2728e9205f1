/* mapped_file.c -- see mapped_file.h. */
#include "io/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

selfmm_status sm_mapped_open(sm_mapped_file *mf, const char *path, selfmm_error *err)
{
    memset(mf, 0, sizeof *mf);
    if (!path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "NULL path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return sm_error(err, SELFMM_ERR_NOT_FOUND, "%s: no such file", path);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sm_error(err, SELFMM_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return sm_error(err, SELFMM_ERR_RANGE, "%s: too large to map", path);
    }
    size_t n = (size_t)st.st_size;
    if (n == 0) {
        close(fd);
        return SELFMM_OK;
    }
    void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot map %zu bytes: %s", path, n, strerror(e));
    mf->data = p;
    mf->size = n;
    mf->map = p;
    mf->map_size = n;
    return SELFMM_OK;
}

void sm_mapped_close(sm_mapped_file *mf)
{
    if (mf && mf->map) munmap(mf->map, mf->map_size);
    if (mf) memset(mf, 0, sizeof *mf);
}

void sm_mapped_drop(const sm_mapped_file *mf, const void *p, size_t n)
{
    if (!mf || !mf->map || !p || n == 0) return;
    uintptr_t lo = (uintptr_t)mf->map, hi = lo + mf->map_size;
    uintptr_t a = (uintptr_t)p, b = a + n;
    if (a < lo || b > hi || b < a) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    a = (a + page - 1) & ~(page - 1); /* whole pages inside the range only */
    b &= ~(page - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}
