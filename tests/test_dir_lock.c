/* test_dir_lock.c -- one writer per folder (core/dir_lock.c) and the atomic-write
 * helpers runs use around it: removing stale temp files, hard links for copies. */
#include "harness.h"

#include "core/atomic_file.h"
#include "core/dir_lock.h"
#include "core/file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void touch(const char *name, const char *text)
{
    char p[512];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    if (f) fputs(text, f), fclose(f);
}

static int exists(const char *name)
{
    char p[512];
    path_in(p, sizeof p, name);
    return sm_exists(p);
}

TEST(lock_is_exclusive_and_names_the_holder)
{
    sm_lockfile a, b;
    selfmm_error err = {0};
    REQUIRE(sm_dir_lock(tmpdir, &a, &err) == SELFMM_OK);
    CHECK(a.fd >= 0);
    /* the holder's pid is in the file */
    char p[512], *text = NULL;
    path_in(p, sizeof p, SM_DIR_LOCK_NAME);
    REQUIRE(sm_read_file(p, 64, &text, NULL, NULL) == SELFMM_OK);
    CHECK_INT(atol(text), getpid());
    free(text);
    /* a second lock fails at once, even in this process, and names the holder */
    char want[64];
    snprintf(want, sizeof want, "(pid %ld)", (long)getpid());
    CHECK_INT(sm_dir_lock(tmpdir, &b, &err), SELFMM_ERR_STATE);
    CHECK_MSG(strstr(err.message, want) && strstr(err.message, "in use by another run"), "message: %s",
              err.message);
    CHECK_INT(b.fd, -1);
    sm_dir_unlock(&b); /* not held: harmless */
    /* another process is refused too, with our pid */
    pid_t child = fork();
    if (child == 0) {
        sm_lockfile c;
        selfmm_error e = {0};
        _exit(sm_dir_lock(tmpdir, &c, &e) == SELFMM_ERR_STATE && strstr(e.message, want) ? 0 : 1);
    }
    int status = 0;
    REQUIRE(child > 0 && waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* released: the next one gets it */
    sm_dir_unlock(&a);
    CHECK_INT(a.fd, -1);
    sm_dir_unlock(&a);
    REQUIRE(sm_dir_lock(tmpdir, &b, &err) == SELFMM_OK);
    sm_dir_unlock(&b);
}

TEST(lock_dies_with_its_process)
{
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    pid_t child = fork();
    if (child == 0) {
        sm_lockfile c;
        selfmm_error e = {0};
        char ok = sm_dir_lock(tmpdir, &c, &e) == SELFMM_OK ? 'y' : 'n';
        if (write(pipefd[1], &ok, 1) != 1) _exit(2);
        pause(); /* until killed */
        _exit(0);
    }
    char ok = 0;
    REQUIRE(child > 0 && read(pipefd[0], &ok, 1) == 1);
    CHECK(ok == 'y');
    sm_lockfile a;
    selfmm_error err = {0};
    CHECK_INT(sm_dir_lock(tmpdir, &a, &err), SELFMM_ERR_STATE);
    char want[64];
    snprintf(want, sizeof want, "(pid %ld)", (long)child);
    CHECK_MSG(strstr(err.message, want) != NULL, "message: %s", err.message);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CHECK_INT(sm_dir_lock(tmpdir, &a, &err), SELFMM_OK); /* kill -9 left no stale lock */
    sm_dir_unlock(&a);
    close(pipefd[0]), close(pipefd[1]);
}

TEST(lock_needs_the_folder)
{
    sm_lockfile a;
    selfmm_error err = {0};
    char p[512];
    path_in(p, sizeof p, "no/such/dir");
    CHECK_INT(sm_dir_lock(p, &a, &err), SELFMM_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "no/such/dir") != NULL);
    CHECK_INT(a.fd, -1);
}

TEST(stale_temp_files_removed_by_name)
{
    touch("model.safetensors", "keep");
    touch("model.safetensors.tmp.Ab12Cd", "stale");
    touch("model.safetensors.tmp.Ab12Cd.Xy98Zw", "stale (libzip's own temp of a temp)");
    touch("model.safetensors.tmp.", "not a temp name");
    touch("other.safetensors.tmp.Ab12Cd", "another target's");
    touch("model.safetensorsX.tmp.Ab12Cd", "another target's");
    char p[512], d[512];
    path_in(d, sizeof d, "model.safetensors.tmp.dir");
    mkdir(d, 0777); /* not a regular file: left alone */
    path_in(p, sizeof p, "model.safetensors");
    int n = -1;
    selfmm_error err = {0};
    CHECK_INT(sm_atomic_remove_stale(p, &n, &err), SELFMM_OK);
    CHECK_INT(n, 2);
    CHECK(exists("model.safetensors"));
    CHECK(!exists("model.safetensors.tmp.Ab12Cd"));
    CHECK(!exists("model.safetensors.tmp.Ab12Cd.Xy98Zw"));
    CHECK(exists("model.safetensors.tmp."));
    CHECK(exists("other.safetensors.tmp.Ab12Cd"));
    CHECK(exists("model.safetensorsX.tmp.Ab12Cd"));
    CHECK(sm_is_dir(d));
    rmdir(d);
    /* a folder that does not exist holds no temp file */
    path_in(p, sizeof p, "none/model.safetensors");
    CHECK_INT(sm_atomic_remove_stale(p, &n, &err), SELFMM_OK);
    CHECK_INT(n, 0);
}

TEST(link_instead_of_copy)
{
    touch("best.bin", "the best weights");
    touch("top.bin", "an older model");
    char from[512], to[512];
    path_in(from, sizeof from, "best.bin");
    path_in(to, sizeof to, "top.bin");
    selfmm_error err = {0};
    REQUIRE(sm_atomic_link(from, to, &err) == SELFMM_OK);
    struct stat a, b;
    REQUIRE(stat(from, &a) == 0 && stat(to, &b) == 0);
    CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev); /* one file, two names */
    CHECK_INT(b.st_nlink, 2);
    char *text = NULL;
    REQUIRE(sm_read_file(to, 64, &text, NULL, NULL) == SELFMM_OK);
    CHECK_STR(text, "the best weights");
    free(text);
    /* again (a resumed run finishing): still one file, no temp left */
    REQUIRE(sm_atomic_link(from, to, &err) == SELFMM_OK);
    REQUIRE(stat(to, &b) == 0);
    CHECK_INT(b.st_nlink, 2);
    int n = -1;
    CHECK_INT(sm_atomic_remove_stale(to, &n, &err), SELFMM_OK);
    CHECK_INT(n, 0);
    /* replacing the source by an atomic write leaves the link on the old bytes */
    REQUIRE(sm_atomic_write(from, "newer", 5, &err) == SELFMM_OK);
    REQUIRE(sm_read_file(to, 64, &text, NULL, NULL) == SELFMM_OK);
    CHECK_STR(text, "the best weights");
    free(text);
    /* a missing source is NOT_FOUND naming it, and the target stays */
    path_in(from, sizeof from, "missing.bin");
    CHECK_INT(sm_atomic_link(from, to, &err), SELFMM_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "missing.bin") != NULL);
    CHECK(exists("top.bin"));
}

TEST(fsync_setting)
{
    CHECK_INT(selfmm_get_fsync(), 1); /* the default */
    selfmm_config c;
    selfmm_config_default(&c);
    CHECK_INT(c.fsync, 1);
    selfmm_error err = {0};
    CHECK_OK(selfmm_config_set(&c, "fsync", "false", &err), err.message);
    CHECK_INT(c.fsync, 0);
    /* off: still atomic (temp file renamed), the same bytes */
    selfmm_set_fsync(0);
    CHECK_INT(selfmm_get_fsync(), 0);
    char p[512];
    path_in(p, sizeof p, "nosync.bin");
    CHECK_OK(sm_atomic_write(p, "bytes", 5, &err), err.message);
    char *text = NULL;
    REQUIRE(sm_read_file(p, 64, &text, NULL, NULL) == SELFMM_OK);
    CHECK_STR(text, "bytes");
    free(text);
    int n = -1;
    CHECK_OK(sm_atomic_remove_stale(p, &n, &err), err.message);
    CHECK_INT(n, 0);
    selfmm_set_fsync(7); /* any non-zero is on */
    CHECK_INT(selfmm_get_fsync(), 1);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/selfmm_test_dir_lock_XXXXXX");
    if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 1;
    RUN(lock_is_exclusive_and_names_the_holder);
    RUN(lock_dies_with_its_process);
    RUN(lock_needs_the_folder);
    RUN(stale_temp_files_removed_by_name);
    RUN(link_instead_of_copy);
    RUN(fsync_setting);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("# could not remove %s\n", tmpdir);
    return h_finish();
}
