/* bench.c -- the sgemm yardstick of `selfmm-cli bench`: what one cblas_sgemm of a
 * BERT-sized shape achieves on this machine right now, so that BERT's own rate can
 * be reported as a ratio measured under the same load. */
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/threads.h"

#include <cblas.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

SELFMM_API double selfmm_bench_sgemm_gflops(int m, int n, int k, int reps)
{
    if (m < 1 || n < 1 || k < 1 || reps < 1 || reps > 10000) return -1.0;
    sm_threads_apply();
    float *a = sm_alloc((size_t)m * k, sizeof(float));
    float *b = sm_alloc((size_t)k * n, sizeof(float));
    float *c = sm_calloc((size_t)m * n, sizeof(float));
    double *t = malloc((size_t)reps * sizeof *t);
    double r = -1.0;
    if (a && b && c && t) {
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)(i % 13) * 0.01f;
        for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)(i % 7) * 0.01f;
        /* one untimed call: thread pool start-up and page faults */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        for (int i = 0; i < reps; i++) {
            double t0 = sm_now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
            t[i] = sm_now() - t0;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp_double);
        double med = t[reps / 2];
        r = med > 0 ? 2.0 * m * n * k / med * 1e-9 : -1.0;
    }
    sm_free(a), sm_free(b), sm_free(c);
    free(t);
    return r;
}
