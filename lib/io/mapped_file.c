/* mapped_file.c -- see mapped_file.h. */
#include "io/mapped_file.h"

#include "core/file.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

selfmm_status sm_mapped_open_fd(sm_mapped_file *mf, int fd, uint64_t size, const char *path,
                                selfmm_error *err)
{
    memset(mf, 0, sizeof *mf);
    if (size > (uint64_t)SIZE_MAX) return sm_error(err, SELFMM_ERR_RANGE, "%s: too large to map", path);
    size_t n = (size_t)size;
    if (n == 0) return SELFMM_OK;
    void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot map %zu bytes: %s", path, n, strerror(errno));
    mf->data = p;
    mf->size = n;
    mf->map = p;
    mf->map_size = n;
    return SELFMM_OK;
}

selfmm_status sm_mapped_open(sm_mapped_file *mf, const char *path, selfmm_error *err)
{
    memset(mf, 0, sizeof *mf);
    int fd;
    uint64_t size;
    SM_TRY(sm_open_input(path, &fd, &size, err));
    selfmm_status st = sm_mapped_open_fd(mf, fd, size, path, err);
    close(fd); /* the mapping keeps the file */
    return st;
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
