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
    af->fd = -1;
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

/* Files are written with O_DIRECT, through an aligned buffer, where the file
 * system takes it. Buffered writes copy every byte into the page cache in the
 * kernel: on the ext4 of the build machine that is 2.4-4.5 s of kernel CPU for a
 * 1.2 GB checkpoint, direct writes of 8 MiB pieces take 0.7 s
 * (docs/PLATFORM.md §7). The tail that is not a whole number of blocks is written
 * without O_DIRECT. Where O_DIRECT is refused (tmpfs, some network file systems),
 * at open or at the first write, the file is written buffered as before. */
enum { SINK_BUF = 8 << 20, SINK_ALIGN = 4096 };

typedef struct direct_sink {
    int fd, direct;
    unsigned char *buf; /* SINK_BUF bytes, SINK_ALIGN-aligned */
    size_t len;
} direct_sink;

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int sink_buffered(direct_sink *s)
{
    s->direct = 0;
    int fl = fcntl(s->fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(s->fd, F_SETFL, fl & ~O_DIRECT);
}

/* Write the buffer's whole blocks (all of it when buffered). */
static int sink_drain(direct_sink *s, int all)
{
    size_t n = s->direct && !all ? s->len / SINK_ALIGN * SINK_ALIGN : s->len;
    if (all && s->direct && s->len % SINK_ALIGN && sink_buffered(s) != 0) return -1;
    if (!n) return 0;
    if (s->direct) {
        ssize_t w;
        do w = write(s->fd, s->buf, n);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EINVAL) return -1;
        if (w != (ssize_t)n) { /* refused, or partly written: the rest goes buffered */
            size_t done = w > 0 ? (size_t)w : 0;
            if (sink_buffered(s) != 0 || write_all(s->fd, s->buf + done, n - done) != 0) return -1;
        }
    } else if (write_all(s->fd, s->buf, n) != 0) {
        return -1;
    }
    memmove(s->buf, s->buf + n, s->len - n);
    s->len -= n;
    return 0;
}

static ssize_t sink_write(void *cookie, const char *data, size_t size)
{
    direct_sink *s = cookie;
    size_t done = 0;
    while (done < size) {
        size_t k = SINK_BUF - s->len < size - done ? SINK_BUF - s->len : size - done;
        memcpy(s->buf + s->len, data + done, k);
        s->len += k, done += k;
        if (s->len == SINK_BUF && sink_drain(s, 0) != 0) return -1;
    }
    return (ssize_t)size;
}

/* The tail; the descriptor stays open for sm_atomic_commit's fsync. */
static int sink_close(void *cookie)
{
    direct_sink *s = cookie;
    int rc = sink_drain(s, 1);
    free(s->buf);
    free(s);
    return rc;
}

/* fp on fd through a direct_sink, or a plain stream when O_DIRECT is not in use. */
static FILE *open_stream(int fd, int direct)
{
    if (!direct) return fdopen(fd, "wb");
    direct_sink *s = calloc(1, sizeof *s);
    void *buf = NULL;
    if (!s || posix_memalign(&buf, SINK_ALIGN, SINK_BUF) != 0) {
        free(s);
        return NULL;
    }
    s->fd = fd, s->direct = 1, s->buf = buf;
    static const cookie_io_functions_t io = {.write = sink_write, .close = sink_close};
    FILE *fp = fopencookie(s, "wb", io);
    if (!fp) free(buf), free(s);
    return fp;
}

selfmm_status sm_atomic_open(sm_atomic_file *af, const char *path, selfmm_error *err)
{
    SM_TRY(make_names(af, path, err));
    int direct = 1, fd = open(af->tmp, O_WRONLY | O_TRUNC | O_CLOEXEC | O_DIRECT);
    if (fd < 0 && errno == EINVAL) direct = 0, fd = open(af->tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
    af->fp = fd >= 0 ? open_stream(fd, direct) : NULL;
    if (!af->fp) {
        int e = errno ? errno : ENOMEM;
        if (fd >= 0) close(fd);
        unlink(af->tmp);
        return sm_error(err, SELFMM_ERR_IO, "%s: cannot open for writing: %s", af->tmp, strerror(e));
    }
    /* a plain stream owns fd (fclose closes it); a sink leaves it to us */
    af->fd = direct ? fd : -1;
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
        const int fd = af->fd >= 0 ? af->fd : fileno(af->fp);
        if (af->fd >= 0) { /* the sink writes its tail when the stream closes */
            if (fclose(af->fp) != 0 && !failed) failed = 1, e = errno;
            if (!failed && sync_files && fsync(fd) != 0) failed = 1, e = errno;
            if (close(fd) != 0 && !failed) failed = 1, e = errno;
        } else {
            if (!failed && sync_files && fsync(fd) != 0) failed = 1, e = errno;
            if (fclose(af->fp) != 0 && !failed) failed = 1, e = errno;
        }
        af->fp = NULL;
        af->fd = -1;
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
    if (af->fd >= 0) close(af->fd);
    af->fd = -1;
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
