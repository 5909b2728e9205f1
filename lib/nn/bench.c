/* bench.c -- the GEMM yardstick of `selfmm-cli bench`: what one BLAS GEMM of a
 * BERT-sized shape achieves on this machine right now, so that BERT's own rate can
 * be reported as a ratio measured under the same load. */
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/threads.h"
#include "nn/bf16.h"
#include "nn/dnnl_ctx.h"

#include <cblas.h>
#include <stdlib.h>

/* The median seconds of reps cblas_sgemm calls (row-major, no transposes) after one
 * untimed call; -1 when memory runs out. */
static double sgemm_seconds(int m, int n, int k, int reps)
{
    float *a = sm_alloc((size_t)m * k, sizeof(float));
    float *b = sm_alloc((size_t)k * n, sizeof(float));
    float *c = sm_calloc((size_t)m * n, sizeof(float));
    double *t = malloc((size_t)reps * sizeof *t);
    double med = -1;
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
        med = sm_median(t, reps);
    }
    sm_free(a), sm_free(b), sm_free(c);
    free(t);
    return med;
}

/* The same with a oneDNN matmul on bf16 inputs and an f32 output (the GEMM kind of
 * precision=bf16); -1 when memory runs out, -2 on a oneDNN failure (in err). */
static double bf16_seconds(int m, int n, int k, int reps, selfmm_error *err)
{
    sm_bf16 *a = sm_alloc((size_t)m * k, sizeof(sm_bf16));
    sm_bf16 *b = sm_alloc((size_t)k * n, sizeof(sm_bf16));
    float *c = sm_calloc((size_t)m * n, sizeof(float));
    double *t = malloc((size_t)reps * sizeof *t);
    double med = -1;
    sm_dnnl d;
    int have_dnnl = 0;
    if (a && b && c && t) {
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = sm_f2bf_scalar((float)(i % 13) * 0.01f);
        for (size_t i = 0; i < (size_t)k * n; i++) b[i] = sm_f2bf_scalar((float)(i % 7) * 0.01f);
        med = -2;
        const sm_mm_desc desc = sm_mm_2d(m, n, k, 0, 0, dnnl_bf16, dnnl_bf16, dnnl_f32);
        selfmm_status st = sm_dnnl_init(&d, err);
        have_dnnl = st == SELFMM_OK;
        /* one untimed call: primitive creation, thread pool start-up and page faults */
        if (st == SELFMM_OK) st = sm_dnnl_matmul(&d, &desc, a, b, NULL, c, err);
        for (int i = 0; i < reps && st == SELFMM_OK; i++) {
            double t0 = sm_now();
            st = sm_dnnl_matmul(&d, &desc, a, b, NULL, c, err);
            t[i] = sm_now() - t0;
        }
        if (st == SELFMM_OK) med = sm_median(t, reps);
    }
    if (have_dnnl) sm_dnnl_destroy(&d);
    sm_free(a), sm_free(b), sm_free(c);
    free(t);
    return med;
}

SELFMM_API selfmm_status selfmm_bench_gemm(selfmm_precision precision, int m, int n, int k, int reps,
                                           double *gflops, selfmm_error *err)
{
    if (!gflops) return sm_error(err, SELFMM_ERR_INVALID_ARG, "bench gemm: NULL gflops");
    if (precision != SELFMM_PRECISION_FP32 && precision != SELFMM_PRECISION_BF16)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "bench gemm: bad precision %d", (int)precision);
    if (m < 1 || n < 1 || k < 1 || reps < 1 || reps > 10000)
        return sm_error(err, SELFMM_ERR_RANGE, "bench gemm: %d x %d x %d, %d repetitions (sizes >= 1, "
                        "repetitions in [1, 10000])", m, n, k, reps);
    if (precision == SELFMM_PRECISION_BF16) SM_TRY(sm_bf16_check(err));
    sm_threads_apply();
    const double med = precision == SELFMM_PRECISION_BF16 ? bf16_seconds(m, n, k, reps, err)
                                                          : sgemm_seconds(m, n, k, reps);
    if (med == -2) return err ? err->status : SELFMM_ERR_BACKEND;
    if (med < 0) return sm_error(err, SELFMM_ERR_NOMEM, "bench gemm: out of memory for %d x %d x %d", m, n, k);
    if (med == 0) return sm_error(err, SELFMM_ERR_RANGE, "bench gemm: %d x %d x %d is too small to time", m, n, k);
    *gflops = 2.0 * m * n * k / med * 1e-9;
    return SELFMM_OK;
}
