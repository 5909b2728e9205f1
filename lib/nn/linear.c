/* linear.c -- nn.Linear forward and backward on OpenBLAS.
 *
 * Weights stay in PyTorch's (out, in) layout and the GEMMs are called transposed:
 * no copy or reorder of BERT's 85M weight floats, ever. BERT's backward uses these
 * (cblas was as fast or faster than oneDNN matmul on its NN and TN shapes); its
 * forward dense layers use sm_dnnl_dense (faster on NT, see bert.c). */
#include "nn/ops.h"

#include <cblas.h>
#include <stddef.h>

void sm_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N,
                       int C, int OC)
{
    /* out = inp . weight^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C, 0.0f,
                out, OC);
    if (!bias) return;
#pragma omp parallel for schedule(static) if ((int64_t)N * OC > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        float *o = out + (size_t)i * OC;
#pragma omp simd
        for (int c = 0; c < OC; c++) o[c] += bias[c];
    }
}

/* dbias (C) += sum over rows of d (N, C): threads split the columns, so the sum
 * order (row by row) never depends on the thread count. */
static void column_sums_add(float *dbias, const float *d, int N, int C)
{
    const int blk = 256;
    int nblk = (C + blk - 1) / blk;
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int jb = 0; jb < nblk; jb++) {
        int c0 = jb * blk, c1 = c0 + blk < C ? c0 + blk : C;
        for (int i = 0; i < N; i++) {
            const float *row = d + (size_t)i * C;
#pragma omp simd
            for (int c = c0; c < c1; c++) dbias[c] += row[c];
        }
    }
}

void sm_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int N, int C, int OC)
{
    /* out = inp . weight^T  =>  dinp += dout . weight, dweight += dout^T . inp */
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C,
                    1.0f, dinp, C);
    if (dweight)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f,
                    dweight, C);
    if (dbias) column_sums_add(dbias, dout, N, OC);
}
