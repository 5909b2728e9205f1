/* threads.c -- process-wide thread count for OpenBLAS + OpenMP (oneDNN): one count for
 * both, which share libgomp's pool (docs/PLATFORM.md §2). */
#include "core/threads.h"

#include "core/error.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

static int g_threads;           /* 0 = not set yet: use all online CPUs */
static _Thread_local int t_applied; /* the count this thread last applied */

int sm_threads_online(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

static int resolved(void) { return g_threads > 0 ? g_threads : sm_threads_online(); }

SELFMM_API selfmm_status selfmm_set_threads(int n, selfmm_error *err)
{
    if (n < 0 || n > 1024) return sm_error(err, SELFMM_ERR_RANGE, "thread count %d outside [0, 1024]", n);
    g_threads = n;
    t_applied = 0;
    sm_threads_apply();
    return SELFMM_OK;
}

SELFMM_API int selfmm_get_threads(void) { return resolved(); }

void sm_threads_apply(void)
{
    int n = resolved();
    if (t_applied == n) return;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    t_applied = n;
}
