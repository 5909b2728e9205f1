/* test_mpi.c -- selfmm-cli under Open MPI's mpirun (issue 12; docs/SCALING.md).
 *
 * - A plain start loads no MPI (no libmpi in the binary, none loaded by train), and
 *   `mpirun -np 1 selfmm-cli train` writes what a plain run writes, bit for bit.
 * - With dropout on, 2 ranks, and 3 ranks on a tail batch smaller than the ranks (one
 *   rank without samples), agree with a plain run over 2 epochs within the
 *   tolerances of docs/SCALING.md: the demo, and the tiny BERT of
 *   tests/fixtures/reference/train/ on its SIMS-shaped data with batch_size 8 (tail
 *   batches in training, validation and test; partial accumulation windows).
 * - kill -9 of one rank ends the job within seconds and leaves no process; train
 *   --resume then finishes it: on 2 ranks exactly as the uninterrupted 2-rank run,
 *   on 1 and 3 ranks within the tolerances.
 * - A rank whose data file is bad (another working directory) ends the job with its
 *   message; --distribute seeds trains one seed per rank exactly as a plain run of
 *   each seed, and refuses an --out the ranks do not share; other launchers and
 *   other commands under mpirun are refused; bench reports the allreduce.
 *
 * Needs Open MPI (openmpi-bin: `make check` installs it, tools/deps.sh test). Runs
 * as root too (OMPI_ALLOW_RUN_AS_ROOT), with --oversubscribe (3 ranks on 2 CPUs),
 * --bind-to none (a rank's threads are not squeezed onto one core) and shared memory
 * only (--mca pml ob1 --mca btl self,vader: no network probing). */
#include "harness.h"

#include "support/run_compare.h"
#include "support/testfile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FIX "tests/fixtures/reference/train/"
/* Open MPI unloads its plugins in MPI_Finalize, and LeakSanitizer then reports what
 * they never freed in frames it cannot name (nor suppress): in sanitizer builds,
 * leaks are checked by the plain runs and tests/test_dist.c, not under mpirun. */
#define MPIRUN                                                                                              \
    "mpirun --oversubscribe --bind-to none --mca pml ob1 --mca btl self,vader -x ASAN_OPTIONS=detect_leaks=0"

static char cli[1024], dir[1024]; /* absolute paths, shorter than the buffers below */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Start `sh -c cmd` in its own process group; its pid. */
static pid_t start(const char *cmd)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait up to timeout seconds; the exit status (128 + signal), or -1 on a timeout
 * (the whole group is killed then). */
static int finish(pid_t pid, double timeout)
{
    const double t0 = now();
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (now() - t0 > timeout) {
            printf("# timeout after %.0f s: killing the job\n", timeout);
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(5000);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run a shell command (with its output redirected by the caller); its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = finish(start(cmd), 300);
    if (rc != 0) printf("# exit %d: %s\n", rc, cmd);
    return rc;
}

/* dir/name, emptied. */
static const char *fresh(char *buf, size_t cap, const char *name)
{
    (void)cap; /* PATH_MAX */
    snprintf(buf, PATH_MAX, "%s/%.64s", dir, name);
    run("rm -rf '%s'", buf);
    return buf;
}

static int file_has(const char *path, const char *needle)
{
    size_t n;
    uint8_t *t = tf_read(path, &n);
    int has = t && strstr((char *)t, needle) != NULL;
    if (!has) {
        printf("# %s does not contain \"%s\"%s\n", path, needle, t ? ":" : "");
        if (t) printf("# %.1500s\n", (char *)t);
    }
    free(t);
    return has;
}

/* Two train folders of one seed: the seed folders compared (strict: every value),
 * and in strict mode also the best model and the summary, byte for byte. */
static int same_run(const char *a, const char *b, long long seed, int strict, const char *what)
{
    char sa[PATH_MAX + 64], sb[PATH_MAX + 64];
    snprintf(sa, sizeof sa, "%s/seed-%lld", a, seed);
    snprintf(sb, sizeof sb, "%s/seed-%lld", b, seed);
    rc_report rep;
    int bad = rc_compare(sa, sb, strict, &rep);
    rc_print(what, &rep);
    if (strict) {
        static const char *const files[] = {"model.safetensors", "metrics.json", "results.csv", NULL};
        for (int i = 0; files[i]; i++) {
            snprintf(sa, sizeof sa, "%s/%s", a, files[i]);
            snprintf(sb, sizeof sb, "%s/%s", b, files[i]);
            if (!tf_same(sa, sb)) printf("# %s: %s differs\n", what, files[i]), bad++;
        }
    }
    return bad == 0;
}

/* ---- one process ------------------------------------------------------------------ */

TEST(plain_start_loads_no_mpi)
{
    char out[PATH_MAX], log[PATH_MAX];
    snprintf(log, sizeof log, "%s/ld.log", dir);
    CHECK_INT(run("readelf -d '%s' | grep -q 'NEEDED.*libmpi' && exit 1 || exit 0", cli), 0);
    fresh(out, sizeof out, "plain-ld");
    REQUIRE(run("LD_DEBUG=libs '%s' train --demo --max-epochs 1 --out '%s' --quiet >/dev/null 2>'%s'", cli, out,
                log) == 0);
    CHECK_INT(run("grep -q 'libmpi' '%s' && exit 1 || exit 0", log), 0);
    /* under mpirun it is loaded */
    fresh(out, sizeof out, "np1-ld");
    REQUIRE(run(MPIRUN " -np 1 -x LD_DEBUG=libs '%s' train --demo --max-epochs 1 --out '%s' --quiet >/dev/null "
                "2>'%s'",
                cli, out, log) == 0);
    CHECK_INT(run("grep -q 'libmpi.so.40' '%s'", log), 0);
}

TEST(one_rank_is_the_plain_run)
{
    char a[PATH_MAX], b[PATH_MAX];
    fresh(a, sizeof a, "plain");
    fresh(b, sizeof b, "np1");
    REQUIRE(run("'%s' train --demo --max-epochs 2 --save-labels --out '%s' --quiet >/dev/null", cli, a) == 0);
    REQUIRE(run(MPIRUN " -np 1 '%s' train --demo --max-epochs 2 --save-labels --out '%s' --quiet >/dev/null", cli,
                b) == 0);
    CHECK(same_run(b, a, 1111, 1, "mpirun -np 1 against a plain run"));
}

/* ---- several ranks against one process ------------------------------------------- */

/* The demo and the tiny BERT case, with dropout on, 2 epochs. */
#define DEMO_ARGS "--demo --max-epochs 2 --save-labels"
#define BERT_ARGS                                                                                          \
    "--preset sims --data " FIX "sims.pkl --bert " FIX "bert --set batch_size=8 --max-epochs 2 --save-labels"

static void against_plain(const char *name, const char *args, int np)
{
    char a[PATH_MAX], b[PATH_MAX], tag[64], what[160];
    snprintf(tag, sizeof tag, "%s-plain", name);
    fresh(a, sizeof a, tag);
    fresh(b, sizeof b, name);
    REQUIRE(run("'%s' train %s --out '%s' --quiet >/dev/null 2>&1", cli, args, a) == 0);
    REQUIRE(run(MPIRUN " -np %d '%s' train %s --out '%s' --quiet >/dev/null 2>&1", np, cli, args, b) == 0);
    snprintf(what, sizeof what, "%d ranks against one process: %s", np, args);
    CHECK(same_run(b, a, 1111, 0, what));
}

TEST(demo_on_two_ranks) { against_plain("demo-np2", DEMO_ARGS, 2); }
/* 512 samples in batches of 30: the tail batch of 2 leaves rank 2 without a sample */
TEST(demo_on_three_ranks_with_an_idle_rank) { against_plain("demo-np3", DEMO_ARGS " --set batch_size=30", 3); }
TEST(tiny_bert_on_two_ranks) { against_plain("bert-np2", BERT_ARGS, 2); }
TEST(tiny_bert_on_three_ranks) { against_plain("bert-np3", BERT_ARGS " --set tail_step=true", 3); }

/* ---- kill -9 of a rank, then resume --------------------------------------------------- */

/* The pid of the child of parent whose environment says OMPI_COMM_WORLD_RANK=rank. */
static pid_t rank_pid(pid_t parent, int rank)
{
    char want[64];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while (d && !found && (e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *fp = fopen(path, "r");
        int ppid = 0;
        if (fp) {
            if (fscanf(fp, "%*d (%*[^)]) %*c %d", &ppid) != 1) ppid = 0;
            fclose(fp);
        }
        if (ppid != parent) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
        size_t n = 0;
        fp = fopen(path, "r");
        if (!fp) continue;
        static char env[1 << 16];
        n = fread(env, 1, sizeof env - 1, fp);
        fclose(fp);
        for (size_t i = 0; i < n; i += strlen(env + i) + 1) {
            env[n] = '\0';
            if (!strcmp(env + i, want)) found = pid;
        }
    }
    if (d) closedir(d);
    return found;
}

/* Processes (not zombies) whose command line mentions s. */
static int processes_with(const char *s)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int count = 0;
    while (d && (e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || pid == getpid()) continue;
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        FILE *fp = fopen(path, "r");
        if (!fp) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        for (size_t i = 0; i < n; i++)
            if (!buf[i]) buf[i] = ' ';
        buf[n] = '\0';
        if (n && strstr(buf, s) && !strstr(buf, "sh -c")) count++;
    }
    if (d) closedir(d);
    return count;
}

TEST(kill_a_rank_then_resume)
{
    char full[PATH_MAX], cut[PATH_MAX], ckpt[PATH_MAX + 64], log[PATH_MAX], cmd[16384];
    const char *args = "--demo --max-epochs 2 --save-labels --set batch_size=8";
    fresh(full, sizeof full, "kill-full");
    REQUIRE(run(MPIRUN " -np 2 '%s' train %s --out '%s' --quiet >/dev/null", cli, args, full) == 0);
    fresh(cut, sizeof cut, "kill-cut");
    snprintf(ckpt, sizeof ckpt, "%s/seed-1111/checkpoint.safetensors", cut);
    snprintf(log, sizeof log, "%s/kill.log", dir);
    snprintf(cmd, sizeof cmd, "exec " MPIRUN " -np 2 '%s' train %s --out '%s' --quiet >'%s' 2>&1", cli, args, cut,
             log);
    pid_t job = start(cmd);
    /* the first epoch's checkpoint, then rank 1 dies in the second */
    const double t0 = now();
    struct stat sb;
    while (stat(ckpt, &sb) != 0 && now() - t0 < 120) usleep(2000);
    pid_t victim = rank_pid(job, 1);
    CHECK_MSG(victim > 0, "no rank 1 under mpirun %d", (int)job);
    if (victim > 0) kill(victim, SIGKILL);
    const double t1 = now();
    int rc = finish(job, 60);
    const double took = now() - t1;
    printf("# kill -9 of rank 1: mpirun exit %d after %.2f s\n", rc, took);
    CHECK_MSG(rc > 0 && took < 10, "mpirun exit %d after %.1f s", rc, took);
    usleep(200000);
    CHECK_INT(processes_with(cut), 0);
    size_t n;
    uint8_t *t = tf_read(log, &n);
    if (t) printf("# %.400s\n", (char *)t);
    free(t);
    /* resumed on 2 ranks: the same summation order, the same bits */
    char c1[PATH_MAX], c3[PATH_MAX];
    fresh(c1, sizeof c1, "kill-cut-np1");
    fresh(c3, sizeof c3, "kill-cut-np3");
    REQUIRE(run("cp -a '%s' '%s' && cp -a '%s' '%s'", cut, c1, cut, c3) == 0);
    REQUIRE(run(MPIRUN " -np 2 '%s' train --resume '%s' --quiet >/dev/null", cli, cut) == 0);
    CHECK(same_run(cut, full, 1111, 1, "killed, resumed on 2 ranks, against the uninterrupted 2-rank run"));
    /* on 1 and 3 ranks: the order of float sums differs */
    REQUIRE(run("'%s' train --resume '%s' --quiet >/dev/null", cli, c1) == 0);
    CHECK(same_run(c1, full, 1111, 0, "killed, resumed on 1 process, against the uninterrupted 2-rank run"));
    REQUIRE(run(MPIRUN " -np 3 '%s' train --resume '%s' --quiet >/dev/null", cli, c3) == 0);
    CHECK(same_run(c3, full, 1111, 0, "killed, resumed on 3 ranks, against the uninterrupted 2-rank run"));
}

/* The ranks die with their launcher (PR_SET_PDEATHSIG) instead of waiting for peers
 * that are gone. */
TEST(kill_mpirun_leaves_no_rank)
{
    char out[PATH_MAX], ckpt[PATH_MAX + 64], cmd[16384];
    fresh(out, sizeof out, "kill-mpirun");
    snprintf(ckpt, sizeof ckpt, "%s/seed-1111/checkpoint.safetensors", out);
    snprintf(cmd, sizeof cmd,
             "exec " MPIRUN " -np 2 '%s' train --demo --max-epochs 3 --set batch_size=8 --out '%s' --quiet "
             ">/dev/null 2>&1",
             cli, out);
    pid_t job = start(cmd);
    const double t0 = now();
    struct stat sb;
    while (stat(ckpt, &sb) != 0 && now() - t0 < 120) usleep(2000);
    REQUIRE(rank_pid(job, 0) > 0 && rank_pid(job, 1) > 0);
    CHECK_INT(processes_with(out), 3); /* mpirun and its two ranks */
    kill(job, SIGKILL);
    CHECK_INT(finish(job, 30), 128 + SIGKILL);
    const double t1 = now();
    while (processes_with(out) > 0 && now() - t1 < 10) usleep(10000);
    printf("# kill -9 of mpirun: no rank left after %.2f s\n", now() - t1);
    CHECK_INT(processes_with(out), 0);
}

/* ---- failures and the other modes --------------------------------------------------- */

TEST(a_rank_with_a_bad_file_ends_the_job)
{
    /* rank 1 runs in another folder where the same relative --data is a truncated copy */
    char a[PATH_MAX], b[PATH_MAX], src[PATH_MAX], err[PATH_MAX], out[PATH_MAX];
    fresh(a, sizeof a, "host-a");
    fresh(b, sizeof b, "host-b");
    fresh(out, sizeof out, "bad-file-out");
    REQUIRE(realpath(FIX "sims.pkl", src) != NULL);
    REQUIRE(run("mkdir -p '%s' '%s' && cp '%s' '%s/data.pkl' && head -c 20000 '%s' > '%s/data.pkl'", a, b, src, a,
                src, b) == 0);
    snprintf(err, sizeof err, "%s/bad-file.err", dir);
    char bert[PATH_MAX];
    REQUIRE(realpath(FIX "bert", bert) != NULL);
    const double t0 = now();
    int rc = run(MPIRUN " -np 1 -wdir '%s' '%s' train --preset sims --data data.pkl --bert '%s' --out '%s' --quiet : "
                 "-np 1 -wdir '%s' '%s' train --preset sims --data data.pkl --bert '%s' --out '%s' --quiet "
                 ">/dev/null 2>'%s'",
                 a, cli, bert, out, b, cli, bert, out, err);
    const double took = now() - t0;
    CHECK_MSG(rc != 0 && rc != -1 && took < 20, "exit %d after %.1f s", rc, took);
    CHECK(file_has(err, "selfmm-cli train: rank 1 ("));
    CHECK(file_has(err, "data.pkl"));
    CHECK_INT(processes_with(out), 0);
}

TEST(seeds_one_per_rank_equal_plain_runs)
{
    char a[PATH_MAX], b[PATH_MAX];
    fresh(a, sizeof a, "seeds-plain");
    fresh(b, sizeof b, "seeds-np2");
    REQUIRE(run("'%s' train " DEMO_ARGS " --seeds 1111,1112,1113 --out '%s' --quiet >/dev/null", cli, a) == 0);
    REQUIRE(run(MPIRUN " -np 2 '%s' train " DEMO_ARGS " --seeds 1111,1112,1113 --distribute seeds --out '%s' "
                "--quiet >/dev/null",
                cli, b) == 0);
    for (long long s = 1111; s <= 1113; s++) CHECK(same_run(b, a, s, 1, "--distribute seeds on 2 ranks"));
    char la[PATH_MAX + 32], lb[PATH_MAX + 32];
    snprintf(la, sizeof la, "%s/train_log.jsonl", a);
    snprintf(lb, sizeof lb, "%s/train_log.jsonl", b);
    CHECK(rc_logs_equal(la, lb));
    /* an --out that is not the same folder for every rank (relative, other working
     * directories) is refused */
    char wa[PATH_MAX], wb[PATH_MAX], err[PATH_MAX];
    fresh(wa, sizeof wa, "seeds-host-a");
    fresh(wb, sizeof wb, "seeds-host-b");
    REQUIRE(run("mkdir -p '%s' '%s'", wa, wb) == 0);
    snprintf(err, sizeof err, "%s/seeds-shared.err", dir);
    int rc = run(MPIRUN " -np 1 -wdir '%s' '%s' train --demo --seeds 1,2 --distribute seeds --out run --quiet : "
                 "-np 1 -wdir '%s' '%s' train --demo --seeds 1,2 --distribute seeds --out run --quiet >/dev/null "
                 "2>'%s'",
                 wa, cli, wb, cli, err);
    CHECK(rc != 0 && rc != -1);
    CHECK(file_has(err, "needs --out on a filesystem every rank sees"));
}

TEST(other_launchers_and_commands_are_refused)
{
    char err[PATH_MAX], out[PATH_MAX];
    snprintf(err, sizeof err, "%s/refused.err", dir);
    fresh(out, sizeof out, "refused");
    /* MPICH's hydra sets PMI_RANK / PMI_SIZE, not OMPI_COMM_WORLD_SIZE */
    CHECK(run("env -u OMPI_COMM_WORLD_SIZE PMI_RANK=0 PMI_SIZE=2 '%s' train --demo --out '%s' 2>'%s'", cli, out,
              err) == 1);
    CHECK(file_has(err, "Open MPI's mpirun only"));
    /* a library that is not Open MPI's */
    CHECK(run("SELFMM_MPI=1 SELFMM_MPI_LIB=libz.so.1 '%s' train --demo --out '%s' 2>'%s'", cli, out, err) == 1);
    CHECK(file_has(err, "Open MPI only"));
    /* commands that run as one process */
    CHECK(run(MPIRUN " -np 2 '%s' config --preset sims >/dev/null 2>'%s'", cli, err) != 0);
    CHECK(file_has(err, "runs as one process"));
    CHECK(run(MPIRUN " -np 1 '%s' config --preset sims >/dev/null 2>'%s'", cli, err) == 0);
}

TEST(bench_reports_the_allreduce)
{
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/bench.json", dir);
    REQUIRE(run(MPIRUN " -np 2 '%s' bench --batch 4 --steps 2 --set num_hidden_layers=1 >'%s'", cli, out) == 0);
    CHECK(file_has(out, "\"ranks\": 2"));
    CHECK(file_has(out, "\"step_s_per_rank\": ["));
    CHECK(file_has(out, "\"allreduce_s\": "));
    CHECK(file_has(out, "\"allreduce_floats\": "));
    CHECK_INT(run("test $(wc -l < '%s') -eq 1", out), 0); /* one line: rank 0's */
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* harmless when not root; as root mpirun refuses to start without them */
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    char rel[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
    h_build_path(rel, sizeof rel, "selfmm-cli");
    if (!realpath(rel, a) || !realpath(tf_scratch("mpi"), b) || strlen(a) >= sizeof cli || strlen(b) >= sizeof dir) {
        printf("not ok - selfmm-cli and a scratch folder\n");
        return 1;
    }
    strcpy(cli, a);
    strcpy(dir, b);
    if (run("command -v mpirun >/dev/null") != 0) {
        printf("not ok - mpirun is installed (openmpi-bin: make deps-test)\n");
        return 1;
    }
    RUN(plain_start_loads_no_mpi);
    RUN(one_rank_is_the_plain_run);
    RUN(demo_on_two_ranks);
    RUN(demo_on_three_ranks_with_an_idle_rank);
    RUN(tiny_bert_on_two_ranks);
    RUN(tiny_bert_on_three_ranks);
    RUN(kill_a_rank_then_resume);
    RUN(kill_mpirun_leaves_no_rank);
    RUN(a_rank_with_a_bad_file_ends_the_job);
    RUN(seeds_one_per_rank_equal_plain_runs);
    RUN(other_launchers_and_commands_are_refused);
    RUN(bench_reports_the_allreduce);
    return h_finish();
}
