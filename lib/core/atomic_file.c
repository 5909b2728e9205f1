/* atomic_file.c -- see atomic_file.h. */
#include "core/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkstemp creates files 0600; a written file should get the usual 0666 & ~umask.
 * The umask can only be read by setting it, so read it once. */
static mode_t file_mode(void)
{
    static mode_t mode;
    static int known;
    if (!known) {
        mode_t m = umask(022);
        umask(m);
        mode = 0666 & ~m;
        known = 1;
    }
    return mode;
}

/* selfmm_set_fsync: a process-wide setting, read once per file written. */
static volatile int sync_files = 1;

SELFMM_API void selfmm_set_fsync(int on) { sync_files = on != 0; }
SELFMM_API int selfmm_get_fsync(void) { return sync_files; }

static selfmm_status make_names(sm_atomic_file *af, const char *path, selfmm_error *err)
{
    if (!path || !*path) return sm_error(err, SELFMM_ERR_INVALID_ARG, "empty output path");
    if (strlen(path) >= sizeof af->path)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "output path too long: %.64s...", path);
    memset(af, 0, sizeof *af);
    strcpy(af->path, path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0)
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot create temporary file: %s", path,
                        strerror(errno));
    fchmod(fd, file_mode());
    close(fd);
    return SELFMM_OK;
}

selfmm_status sm_atomic_reserve(sm_atomic_file *af, const char *path, selfmm_error *err)
{
    return make_names(af, path, err);
}

selfmm_status sm_atomic_open(sm_atomic_file *af, const char *path, selfmm_error *err)
{
    SM_TRY(make_names(af, path, err));
    af->fp = fopen(af->tmp, "wb");
    if (!af->fp) {
        int e = errno;
        unlink(af->tmp);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot open for writing: %s", af->tmp, strerror(e));
    }
    return SELFMM_OK;
}

static void fsync_dir(const char *path)
{
    if (!sync_files) return;
    char dir[SELFMM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

selfmm_status sm_atomic_commit(sm_atomic_file *af, selfmm_error *err)
{
    int failed = 0, e = 0;
    if (af->fp) {
        if (fflush(af->fp) != 0 || ferror(af->fp)) failed = 1, e = errno;
        if (!failed && sync_files && fsync(fileno(af->fp)) != 0) failed = 1, e = errno;
        if (fclose(af->fp) != 0 && !failed) failed = 1, e = errno;
        af->fp = NULL;
    } else if (sync_files) { /* written by another writer (libzip), closed */
        int fd = open(af->tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) failed = 1, e = errno;
        if (fd >= 0) close(fd);
    }
    if (failed) {
        unlink(af->tmp);
        return sm_error(err, SELFMM_ERR_IO, "%s: write failed: %s", af->path, strerror(e));
    }
    if (rename(af->tmp, af->path) != 0) {
        e = errno;
        unlink(af->tmp);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot replace: %s", af->path, strerror(e));
    }
    fsync_dir(af->path);
    return SELFMM_OK;
}

void sm_atomic_abort(sm_atomic_file *af)
{
    if (af->fp) fclose(af->fp);
    af->fp = NULL;
    if (af->tmp[0]) unlink(af->tmp);
    af->tmp[0] = '\0';
}

selfmm_status sm_atomic_write(const char *path, const void *data, size_t size, selfmm_error *err)
{
    sm_atomic_file af;
    SM_TRY(sm_atomic_open(&af, path, err));
    if (size && fwrite(data, 1, size, af.fp) != size) {
        int e = errno;
        sm_atomic_abort(&af);
        return sm_error(err, SELFMM_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return sm_atomic_commit(&af, err);
}

selfmm_status sm_atomic_copy(const char *from, const char *to, selfmm_error *err)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return sm_error(err, errno == ENOENT ? SELFMM_ERR_NOT_FOUND : SELFMM_ERR_IO, "%s: cannot open: %s",
                        from, strerror(errno));
    sm_atomic_file af;
    selfmm_status st = sm_atomic_open(&af, to, err);
    if (st != SELFMM_OK) {
        fclose(in);
        return st;
    }
    char *buf = malloc(1 << 16);
    if (!buf) st = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", to);
    size_t n;
    while (st == SELFMM_OK && (n = fread(buf, 1, 1 << 16, in)) > 0)
        if (fwrite(buf, 1, n, af.fp) != n)
            st = sm_error(err, SELFMM_ERR_IO, "%s: write failed: %s", to, strerror(errno));
    if (st == SELFMM_OK && ferror(in)) st = sm_error(err, SELFMM_ERR_IO, "%s: read failed", from);
    fclose(in);
    free(buf);
    if (st != SELFMM_OK) {
        sm_atomic_abort(&af);
        return st;
    }
    return sm_atomic_commit(&af, err);
}

selfmm_status sm_atomic_link(const char *from, const char *to, selfmm_error *err)
{
    struct stat a, b;
    if (stat(from, &a) == 0 && stat(to, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return SELFMM_OK; /* linked already (rename between two names of one file does nothing) */
    sm_atomic_file af;
    SM_TRY(sm_atomic_reserve(&af, to, err)); /* a free name next to the target */
    unlink(af.tmp);
    if (link(from, af.tmp) != 0) {
        int e = errno;
        af.tmp[0] = '\0';
        if (e == ENOENT)
            return sm_error(err, SELFMM_ERR_NOT_FOUND, "%s: cannot open: %s", from, strerror(e));
        /* no hard links here (EPERM: some file systems; EXDEV: another one; EMLINK) */
        return sm_atomic_copy(from, to, err);
    }
    if (rename(af.tmp, af.path) != 0) {
        int e = errno;
        unlink(af.tmp);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot replace: %s", af.path, strerror(e));
    }
    fsync_dir(af.path);
    return SELFMM_OK;
}

selfmm_status sm_atomic_remove_stale(const char *path, int *removed, selfmm_error *err)
{
    if (removed) *removed = 0;
    char dir[SELFMM_PATH_MAX], prefix[SELFMM_PATH_MAX + 8];
    if (!path || snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "bad path");
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else strcpy(dir, ".");
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return SELFMM_OK;
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    }
    selfmm_status st = SELFMM_OK;
    const size_t plen = strlen(prefix);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, plen) != 0 || !e->d_name[plen]) continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
            st = sm_error(err, SELFMM_ERR_IO, "%s/%s: cannot remove: %s", dir, e->d_name, strerror(errno));
            break;
        }
        if (removed) (*removed)++;
    }
    closedir(d);
    return st;
}
