/* softmax.c -- softmax over rows, and attention's fused scale + mask + softmax. */
#include "nn/ops.h"
#include "nn/simd_math.h"

#include <stddef.h>

/* p = softmax(x) for one row; x and p may alias. */
static inline void softmax_row(float *p, const float *x, int C)
{
    float mx = x[0];
    for (int c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
#pragma omp simd
    for (int c = 0; c < C; c++) p[c] = sm_expf(x[c] - mx);
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < C; c++) s += p[c];
    float inv = 1.0f / s;
#pragma omp simd
    for (int c = 0; c < C; c++) p[c] *= inv;
}

/* dx += (p * (dp - sum(dp * p))) * k for one row. */
static inline void softmax_back_row(float *dx, const float *dp, const float *p, float k, int C)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < C; c++) s += dp[c] * p[c];
#pragma omp simd
    for (int c = 0; c < C; c++) dx[c] += p[c] * (dp[c] - s) * k;
}

void sm_softmax_forward(float *probs, const float *inp, int N, int C)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++) softmax_row(probs + (size_t)i * C, inp + (size_t)i * C, C);
}

void sm_softmax_backward(float *dinp, const float *dprobs, const float *probs, int N, int C)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++)
        softmax_back_row(dinp + (size_t)i * C, dprobs + (size_t)i * C, probs + (size_t)i * C, 1.0f, C);
}

void sm_scale_mask_softmax_forward(float *probs, const float *scores, const float *maskbias,
                                   float div, int B, int rows_per_b, int C)
{
    int64_t rows = (int64_t)B * rows_per_b;
#pragma omp parallel for schedule(static) if (rows * C > SM_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *s = scores + (size_t)r * C, *mb = maskbias + (size_t)(r / rows_per_b) * C;
        float *p = probs + (size_t)r * C;
        /* scores / sqrt(head size) + extended mask, as BertSelfAttention: divide, then add */
#pragma omp simd
        for (int c = 0; c < C; c++) p[c] = s[c] / div + mb[c];
        softmax_row(p, p, C);
    }
}

void sm_scale_mask_softmax_backward(float *dscores, const float *dprobs, const float *probs,
                                    float div, int B, int rows_per_b, int C)
{
    /* the mask is a constant; the division scales the gradient by 1/div */
    int64_t rows = (int64_t)B * rows_per_b;
    float k = 1.0f / div;
#pragma omp parallel for schedule(static) if (rows * C > SM_PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        softmax_back_row(dscores + (size_t)r * C, dprobs + (size_t)r * C, probs + (size_t)r * C, k, C);
}
