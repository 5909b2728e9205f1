/* linear.c -- nn.Linear forward and backward on OpenBLAS.
 *
 * Weights stay in PyTorch's (out, in) layout and the GEMMs are called transposed:
 * no copy or reorder of BERT's 85M weight floats, ever. BERT's backward uses these
 * (cblas was as fast or faster than oneDNN matmul on its NN and TN shapes); its
 * forward dense layers use sm_dnnl_dense (faster on NT, see bert.c). */
#include "nn/ops.h"

#include "core/clock.h"
#include "nn/gemm_clock.h"

#include <cblas.h>
#include <stddef.h>

void sm_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N,
                       int C, int OC)
{
    /* out = inp . weight^T */
    const double t0 = sm_now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C, 0.0f,
                out, OC);
    sm_gemm_seconds += sm_now() - t0;
    if (!bias) return;
#pragma omp parallel for schedule(static) if ((int64_t)N * OC > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        float *o = out + (size_t)i * OC;
#pragma omp simd
        for (int c = 0; c < OC; c++) o[c] += bias[c];
    }
}

void sm_column_blocks(int N, int C, void (*fn)(void *ctx, int c0, int c1), void *ctx)
{
    const int blk = 256;
    int nblk = (C + blk - 1) / blk;
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int jb = 0; jb < nblk; jb++) fn(ctx, jb * blk, jb * blk + blk < C ? jb * blk + blk : C);
}

typedef struct column_sums {
    float *dbias;
    const float *d;
    int N, C;
} column_sums;

static void column_sums_block(void *ctx, int c0, int c1)
{
    const column_sums *s = ctx;
    for (int i = 0; i < s->N; i++) {
        const float *row = s->d + (size_t)i * s->C;
        float *dbias = s->dbias;
#pragma omp simd
        for (int c = c0; c < c1; c++) dbias[c] += row[c];
    }
}

/* dbias (C) += sum over rows of d (N, C), row by row. */
static void column_sums_add(float *dbias, const float *d, int N, int C)
{
    column_sums s = {dbias, d, N, C};
    sm_column_blocks(N, C, column_sums_block, &s);
}

void sm_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int N, int C, int OC)
{
    /* out = inp . weight^T  =>  dinp += dout . weight, dweight += dout^T . inp */
    const double t0 = sm_now();
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C,
                    1.0f, dinp, C);
    if (dweight)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f,
                    dweight, C);
    sm_gemm_seconds += sm_now() - t0;
    if (dbias) column_sums_add(dbias, dout, N, OC);
}
