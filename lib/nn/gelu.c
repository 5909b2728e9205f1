/* gelu.c -- GELU in its exact erf form, gelu(x) = x * Phi(x), and the fused
 * "bias + GELU" of BERT's intermediate layer. */
#include "nn/ops.h"
#include "nn/simd_math.h"

#include <stddef.h>

void sm_gelu_forward(float *out, const float *inp, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n > SM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = inp[i] * sm_phi(inp[i]);
}

void sm_gelu_backward(float *dinp, const float *dout, const float *inp, int64_t n)
{
    /* d/dx x * Phi(x) = Phi(x) + x * phi(x) */
#pragma omp parallel for simd schedule(static) if (n > SM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float x = inp[i];
        dinp[i] += dout[i] * (sm_phi(x) + x * sm_normal_pdf(x));
    }
}

void sm_bias_gelu_forward(float *out, float *pre, const float *bias, int N, int C)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        float *u = pre + (size_t)i * C, *g = out + (size_t)i * C;
#pragma omp simd
        for (int c = 0; c < C; c++) {
            float x = u[c] + bias[c];
            u[c] = x;
            g[c] = x * sm_phi(x);
        }
    }
}

/* bf16 rows are converted through a fixed-size f32 block on the stack (L1-resident):
 * no (N, C) f32 scratch is written and read back. */
#define GELU16_BLOCK 512
/* 512-bit vectors here (gcc's -march=native picks 256 on recent Xeons): these loops
 * are pure arithmetic on L1-resident blocks. bf16 mode runs only on AVX-512 CPUs. */
#define GELU16_TARGET __attribute__((target("prefer-vector-width=512")))

GELU16_TARGET void sm_gelu_forward_bf16(sm_bf16 *g16, const sm_bf16 *pre16, int N, int C)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        float u[GELU16_BLOCK];
        for (int c0 = 0; c0 < C; c0 += GELU16_BLOCK) {
            const int n = C - c0 < GELU16_BLOCK ? C - c0 : GELU16_BLOCK;
            const size_t o = (size_t)i * C + (size_t)c0;
            sm_bf16_unpack_row(u, pre16 + o, n);
#pragma omp simd
            for (int c = 0; c < n; c++) {
                float pdf;
                u[c] = u[c] * sm_phi_pdf16(u[c], &pdf);
            }
            sm_bf16_pack_row(g16 + o, u, n);
        }
    }
}

GELU16_TARGET void sm_gelu_backward_bf16(float *dpre, sm_bf16 *dpre16, sm_bf16 *g16, const float *dout, const sm_bf16 *pre16,
                           int N, int C)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        float u[GELU16_BLOCK];
        for (int c0 = 0; c0 < C; c0 += GELU16_BLOCK) {
            const int n = C - c0 < GELU16_BLOCK ? C - c0 : GELU16_BLOCK;
            const size_t o = (size_t)i * C + (size_t)c0;
            float *du = dpre + o;
            const float *d = dout + o;
            sm_bf16_unpack_row(u, pre16 + o, n);
#pragma omp simd
            for (int c = 0; c < n; c++) {
                float x = u[c], pdf, P = sm_phi_pdf16(x, &pdf);
                du[c] = d[c] * (P + x * pdf);
                u[c] = x * P;
            }
            sm_bf16_pack_row(g16 + o, u, n);
            sm_bf16_pack_row(dpre16 + o, du, n);
        }
    }
}

void sm_bias_gelu_backward(float *dpre, float *out, const float *dout, const float *pre, int N,
                           int C)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *u = pre + (size_t)i * C, *d = dout + (size_t)i * C;
        float *du = dpre + (size_t)i * C;
        if (out) {
            float *g = out + (size_t)i * C;
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float x = u[c], P = sm_phi(x);
                g[c] = x * P;
                du[c] += d[c] * (P + x * sm_normal_pdf(x));
            }
        } else {
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float x = u[c];
                du[c] += d[c] * (sm_phi(x) + x * sm_normal_pdf(x));
            }
        }
    }
}
