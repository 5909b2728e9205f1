/* mpi.c -- Open MPI through dlopen (see mpi.h).
 *
 * Open MPI's handles are the addresses of global objects in libmpi.so.40 (its
 * mpi.h: #define MPI_COMM_WORLD OMPI_PREDEFINED_GLOBAL(MPI_Comm,
 * ompi_mpi_comm_world)), so dlsym("ompi_mpi_comm_world") is MPI_COMM_WORLD and no
 * mpi.h is needed to build this file. The other constants used have been Open
 * MPI's ABI since 1.x: MPI_SUCCESS 0, MPI_IN_PLACE (void *)1, MPI_THREAD_FUNNELED
 * 1, MPI_MAX_ERROR_STRING 256. MPICH (libmpi.so.12) has integer handles and is
 * refused by name. Errors keep Open MPI's default handler (MPI_ERRORS_ARE_FATAL):
 * a failing MPI call ends the job with Open MPI's message. */
#include "mpi.h"

#include "common.h"

#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

typedef void *MPI_Comm, *MPI_Datatype, *MPI_Op;
#define MPI_SUCCESS 0
#define MPI_IN_PLACE ((void *)1)
#define MPI_THREAD_FUNNELED 1
#define MPI_MAX_ERROR_STRING 256

static struct {
    void *lib;
    int on;                      /* MPI initialised */
    int rank, size;              /* in MPI_COMM_WORLD */
    int quiet;                   /* cli_mpi_quiet */
    char tag[320];               /* "rank R (host): " */
    MPI_Comm world;
    MPI_Datatype f32, byte;
    MPI_Op sum;
    int (*Init_thread)(int *, char ***, int, int *);
    int (*Finalize)(void);
    int (*Comm_rank)(MPI_Comm, int *);
    int (*Comm_size)(MPI_Comm, int *);
    int (*Comm_split)(MPI_Comm, int, int, MPI_Comm *);
    int (*Allreduce)(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm);
    int (*Allgather)(const void *, int, MPI_Datatype, void *, int, MPI_Datatype, MPI_Comm);
    int (*Bcast)(void *, int, MPI_Datatype, int, MPI_Comm);
    int (*Barrier)(MPI_Comm);
    int (*Abort)(MPI_Comm, int);
    int (*Error_string)(int, char *, int *);
} M = {.size = 1};

/* What a table's callbacks get as `user`: one communicator. */
typedef struct comm_ctx {
    MPI_Comm comm;
    char msg[MPI_MAX_ERROR_STRING + 64];
} comm_ctx;

static comm_ctx world_ctx, group_ctx;
static selfmm_collectives world_table;

/* The largest piece of one MPI call: counts are int. 64 MiB pieces cost nothing
 * measurable against one call (docs/SCALING.md) and keep Open MPI's buffers small. */
static const size_t chunk_bytes = (size_t)64 << 20;

/* ---- the environment ---------------------------------------------------------- */

static int env_int(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : 0;
}

/* The processes a launcher announced (0: it did not say). */
static int launcher_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS", NULL};
    for (int i = 0; vars[i]; i++)
        if (env_int(vars[i]) > 0) return env_int(vars[i]);
    return 0;
}

/* 1 Open MPI's launcher (or a PMIx one), -1 another MPI's, 0 none. */
static int launched(const char **why)
{
    if (getenv("OMPI_COMM_WORLD_SIZE")) return *why = "OMPI_COMM_WORLD_SIZE", 1;
    if (getenv("PMIX_RANK")) return *why = "PMIX_RANK", 1;
    if (getenv("PMI_RANK") || getenv("PMI_SIZE")) return *why = "PMI_RANK", -1; /* MPICH's hydra, srun --mpi=pmi2 */
    return *why = "", 0;
}

/* ---- the callbacks ---------------------------------------------------------------- */

static int failed(comm_ctx *x, const char *what, int rc)
{
    char s[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (M.Error_string) M.Error_string(rc, s, &len);
    snprintf(x->msg, sizeof x->msg, "%s: %s", what, s[0] ? s : "MPI error");
    return rc ? rc : -1;
}

static int cb_allreduce(float *buf, int64_t n, void *user)
{
    comm_ctx *x = user;
    const int64_t step = (int64_t)(chunk_bytes / sizeof(float));
    for (int64_t off = 0; off < n; off += step) {
        int cnt = (int)(n - off < step ? n - off : step);
        int rc = M.Allreduce(MPI_IN_PLACE, buf + off, cnt, M.f32, M.sum, x->comm);
        if (rc != MPI_SUCCESS) return failed(x, "MPI_Allreduce", rc);
    }
    return 0;
}

static int cb_allgather(const void *send, size_t bytes, void *recv, void *user)
{
    comm_ctx *x = user;
    if (bytes > INT_MAX) {
        snprintf(x->msg, sizeof x->msg, "allgather of %zu bytes per rank: beyond MPI's int count", bytes);
        return -1;
    }
    int rc = M.Allgather(send, (int)bytes, M.byte, recv, (int)bytes, M.byte, x->comm);
    return rc == MPI_SUCCESS ? 0 : failed(x, "MPI_Allgather", rc);
}

static int cb_broadcast(void *buf, size_t bytes, int root, void *user)
{
    comm_ctx *x = user;
    for (size_t off = 0; off < bytes; off += chunk_bytes) {
        size_t cnt = bytes - off < chunk_bytes ? bytes - off : chunk_bytes;
        int rc = M.Bcast((char *)buf + off, (int)cnt, M.byte, root, x->comm);
        if (rc != MPI_SUCCESS) return failed(x, "MPI_Bcast", rc);
    }
    return 0;
}

static int cb_barrier(void *user)
{
    comm_ctx *x = user;
    int rc = M.Barrier(x->comm);
    return rc == MPI_SUCCESS ? 0 : failed(x, "MPI_Barrier", rc);
}

static const char *cb_errmsg(void *user) { return ((comm_ctx *)user)->msg; }

static void fill(selfmm_collectives *c, comm_ctx *x)
{
    memset(c, 0, sizeof *c);
    c->version = SELFMM_COLLECTIVES_VERSION;
    M.Comm_rank(x->comm, &c->rank);
    M.Comm_size(x->comm, &c->size);
    c->user = x;
    c->allreduce_sum_f32 = cb_allreduce;
    c->allgather = cb_allgather;
    c->broadcast = cb_broadcast;
    c->barrier = cb_barrier;
    c->errmsg = cb_errmsg;
}

/* ---- loading ------------------------------------------------------------------------ */

static int load(const char *cmd)
{
    const char *path = getenv("SELFMM_MPI_LIB");
    if (!path || !*path) path = "libmpi.so.40";
    /* RTLD_LOCAL is enough for Debian's Open MPI 4.1: its plugins link libmpi and
     * libopen-pal themselves. SELFMM_MPI_GLOBAL=1 is there for builds whose plugins
     * do not. */
    const int flags = RTLD_NOW | (getenv("SELFMM_MPI_GLOBAL") ? RTLD_GLOBAL : RTLD_LOCAL);
    M.lib = dlopen(path, flags);
    if (!M.lib)
        return cli_fail(cmd, "started by mpirun but %s cannot be loaded: %s (install Debian's openmpi-bin "
                             "and libopenmpi3, or set SELFMM_MPI_LIB)",
                        path, dlerror());
    struct {
        const char *name;
        void **dst;
    } syms[] = {
        {"MPI_Init_thread", (void **)&M.Init_thread}, {"MPI_Finalize", (void **)&M.Finalize},
        {"MPI_Comm_rank", (void **)&M.Comm_rank},     {"MPI_Comm_size", (void **)&M.Comm_size},
        {"MPI_Comm_split", (void **)&M.Comm_split},   {"MPI_Allreduce", (void **)&M.Allreduce},
        {"MPI_Allgather", (void **)&M.Allgather},     {"MPI_Bcast", (void **)&M.Bcast},
        {"MPI_Barrier", (void **)&M.Barrier},         {"MPI_Abort", (void **)&M.Abort},
        {"MPI_Error_string", (void **)&M.Error_string},
        /* the predefined handles: these objects' addresses are the handles */
        {"ompi_mpi_comm_world", &M.world},            {"ompi_mpi_float", &M.f32},
        {"ompi_mpi_byte", &M.byte},                   {"ompi_mpi_op_sum", &M.sum},
    };
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        *syms[i].dst = dlsym(M.lib, syms[i].name);
        if (!*syms[i].dst) {
            dlclose(M.lib);
            M.lib = NULL;
            return cli_fail(cmd, "%s has no %s: selfmm-cli runs under Open MPI only (libmpi.so.40)", path,
                            syms[i].name);
        }
    }
    return EXIT_OK;
}

int cli_mpi_start(const char *cmd, int *argc, char ***argv)
{
    const char *why, *force = getenv("SELFMM_MPI");
    int how = launched(&why);
    if (force && !strcmp(force, "0")) {
        if (launcher_size() > 1)
            return cli_fail(cmd, "SELFMM_MPI=0, but the launcher started %d processes: they would all "
                                 "write the same files",
                            launcher_size());
        return EXIT_OK;
    }
    if (force && !strcmp(force, "1") && how == 0) how = 1, why = "SELFMM_MPI=1";
    if (how == 0) return EXIT_OK; /* a plain start: nothing is loaded */
    if (how < 0)
        return cli_fail(cmd, "started by another MPI's launcher (%s is set, OMPI_COMM_WORLD_SIZE is not): "
                             "selfmm-cli runs under Open MPI's mpirun only",
                        why);
    /* A rank whose launcher dies (kill -9 of mpirun) dies too, instead of waiting in
     * a collective for peers that are gone. */
    pid_t parent = getppid();
    if (how == 1 && strcmp(why, "SELFMM_MPI=1") != 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(EXIT_FAIL); /* it died before the prctl */
    }
    if (load(cmd) != EXIT_OK) return EXIT_FAIL;
    int provided = 0, rc = M.Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return cli_fail(cmd, "MPI_Init_thread failed (code %d)", rc);
    M.on = 1;
    world_ctx.comm = M.world;
    fill(&world_table, &world_ctx);
    M.rank = world_table.rank, M.size = world_table.size;
    const int announced = launcher_size();
    if (announced > 1 && M.size == 1)
        return cli_fail(cmd, "the launcher announced %d processes (%s) but Open MPI sees 1: start selfmm-cli "
                             "with Open MPI's mpirun",
                        announced, why);
    if (M.size > 1) {
        char host[256] = "?";
        gethostname(host, sizeof host - 1);
        snprintf(M.tag, sizeof M.tag, "rank %d (%s): ", M.rank, host);
    }
    return EXIT_OK;
}

int cli_mpi_refuse(const char *cmd)
{
    if (launcher_size() > 1 && !(getenv("SELFMM_MPI") && !strcmp(getenv("SELFMM_MPI"), "0")))
        return cli_usage_error(cmd, "runs as one process: start it without mpirun or with -np 1 (only train "
                                    "and bench run under mpirun with more)");
    return EXIT_OK;
}

/* ---- the job ------------------------------------------------------------------------ */

const selfmm_collectives *cli_mpi_world(void) { return M.on && M.size > 1 ? &world_table : NULL; }
int cli_mpi_rank(void) { return M.rank; }
int cli_mpi_size(void) { return M.size; }
int cli_mpi_is_writer(void) { return M.rank == 0; }
const char *cli_mpi_tag(void) { return M.tag; }
void cli_mpi_quiet(void) { M.quiet = 1; }

int cli_mpi_split(int color, selfmm_collectives *out)
{
    memset(out, 0, sizeof *out);
    out->version = SELFMM_COLLECTIVES_VERSION;
    out->size = 1;
    if (!M.on || M.size == 1) return EXIT_OK;
    MPI_Comm sub;
    int rc = M.Comm_split(M.world, color, M.rank, &sub);
    if (rc != MPI_SUCCESS) return cli_fail("train", "MPI_Comm_split failed (code %d)", rc);
    group_ctx.comm = sub;
    fill(out, &group_ctx);
    return EXIT_OK;
}

int cli_mpi_default_threads(void)
{
    if (!M.on) return 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int local = env_int("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (local < 1) local = 1;
    long t = cpus > 0 ? cpus / local : 1;
    return t < 1 ? 1 : (int)t;
}

int cli_mpi_finish(int rc)
{
    if (!M.on) return rc;
    fflush(stdout);
    fflush(stderr);
    if (rc != 0 && M.size > 1) {
        /* the rank that reports this failure ends the job; should it not, end it here */
        if (M.quiet) sleep(10);
        M.Abort(M.world, rc);
    }
    M.Finalize();
    M.on = 0;
    return rc;
}
