/* dir_lock.c -- see dir_lock.h. */
#include "core/dir_lock.h"

#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

void sm_lockfile_init(sm_lockfile *lk) { lk->fd = -1; }

/* The pid the holder wrote, 0 when there is none (yet). */
static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    return end != buf && (*end == '\n' || *end == '\0') && pid > 0 ? pid : 0;
}

/* The holder writes its pid right after taking the lock: wait for it a little
 * (at most 0.5 s) rather than report an unknown holder. */
static long holder_pid(int fd)
{
    const struct timespec tick = {0, 10 * 1000 * 1000};
    long pid = 0;
    for (int i = 0; i < 50 && !(pid = read_pid(fd)); i++) nanosleep(&tick, NULL);
    return pid;
}

selfmm_status sm_dir_lock(const char *dir, sm_lockfile *lk, selfmm_error *err)
{
    lk->fd = -1;
    if (!dir) return sm_error(err, SELFMM_ERR_INVALID_ARG, "lock: NULL directory");
    char path[SELFMM_PATH_MAX];
    SM_TRY(sm_path_join(path, sizeof path, dir, SM_DIR_LOCK_NAME, err));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        int e = errno;
        return sm_error(err, e == ENOENT || e == ENOTDIR ? SELFMM_ERR_NOT_FOUND : SELFMM_ERR_IO,
                        "%s: cannot open the folder's lock file: %s", path, strerror(e));
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {}
    if (rc != 0) {
        int e = errno;
        selfmm_status st;
        if (e == EWOULDBLOCK) {
            long pid = holder_pid(fd);
            char who[48] = "pid unknown";
            if (pid) snprintf(who, sizeof who, "pid %ld", pid);
            st = sm_error(err, SELFMM_ERR_STATE,
                          "%s is in use by another run (%s): wait for it to end, or choose another "
                          "folder", dir, who);
        } else {
            st = sm_error(err, SELFMM_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
        }
        close(fd);
        return st;
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot write the lock file: %s", path, strerror(e));
    }
    lk->fd = fd;
    return SELFMM_OK;
}

void sm_dir_unlock(sm_lockfile *lk)
{
    if (!lk || lk->fd < 0) return;
    close(lk->fd); /* releases the flock */
    lk->fd = -1;
}
