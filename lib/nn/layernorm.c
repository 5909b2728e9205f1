/* layernorm.c -- LayerNorm over the last axis, plain and fused with BERT's
 * "dropout(dense + bias) + residual" tail.
 *
 * Rows are split across threads for everything per row; the weight and bias
 * gradients are column sums done in a second pass with threads split over columns,
 * so results never depend on the thread count. Statistics are float, two-pass
 * (mean, then centred variance) as PyTorch's CPU kernel keeps them in float. */
#include "nn/ops.h"

#include <math.h>
#include <stddef.h>

/* Normalise one row: mean and rstd out, y = xhat * w + b. */
static inline void ln_row(float *y, float *mean_out, float *rstd_out, const float *x,
                          const float *w, const float *b, int C, float eps)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < C; c++) s += x[c];
    float m = s / (float)C;
    float v = 0.0f;
#pragma omp simd reduction(+ : v)
    for (int c = 0; c < C; c++) {
        float d = x[c] - m;
        v += d * d;
    }
    v /= (float)C;
    float rs = 1.0f / sqrtf(v + eps);
#pragma omp simd
    for (int c = 0; c < C; c++) y[c] = (x[c] - m) * rs * w[c] + b[c];
    *mean_out = m;
    *rstd_out = rs;
}

/* The two row means of the backward: mean(dout * w) and mean(dout * w * xhat). */
static inline void ln_back_means(float *mdn, float *mdnx, const float *dout, const float *x,
                                 const float *w, float m, float rs, int C)
{
    float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
    for (int c = 0; c < C; c++) {
        float dn = dout[c] * w[c];
        a += dn;
        b += dn * (x[c] - m) * rs;
    }
    *mdn = a / (float)C;
    *mdnx = b / (float)C;
}

typedef struct ln_grads {
    float *dweight, *dbias;
    const float *dout, *x, *mean, *rstd;
    int N, C;
} ln_grads;

static void ln_grads_block(void *ctx, int c0, int c1)
{
    const ln_grads *g = ctx;
    float *dweight = g->dweight, *dbias = g->dbias;
    for (int i = 0; i < g->N; i++) {
        const float *d = g->dout + (size_t)i * g->C, *xr = g->x + (size_t)i * g->C;
        float m = g->mean[i], rs = g->rstd[i];
        if (dweight) {
#pragma omp simd
            for (int c = c0; c < c1; c++) dweight[c] += d[c] * ((xr[c] - m) * rs);
        }
        if (dbias) {
#pragma omp simd
            for (int c = c0; c < c1; c++) dbias[c] += d[c];
        }
    }
}

/* dweight += sum_i dout * xhat, dbias += sum_i dout, threads over column blocks. */
static void ln_param_grads(float *dweight, float *dbias, const float *dout, const float *x,
                           const float *mean, const float *rstd, int N, int C)
{
    if (!dweight && !dbias) return;
    ln_grads g = {dweight, dbias, dout, x, mean, rstd, N, C};
    sm_column_blocks(N, C, ln_grads_block, &g);
}

void sm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *weight, const float *bias, int N, int C, float eps)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++)
        ln_row(out + (size_t)i * C, &mean[i], &rstd[i], inp + (size_t)i * C, weight, bias, C, eps);
}

void sm_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight, const float *mean,
                           const float *rstd, int N, int C)
{
    /* y = xhat * w + b, xhat = (x - mean) * rstd:
     * dx = rstd * (dy*w - mean(dy*w) - xhat * mean(dy*w*xhat)) */
    if (dinp) {
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
        for (int i = 0; i < N; i++) {
            const float *d = dout + (size_t)i * C, *x = inp + (size_t)i * C;
            float *dx = dinp + (size_t)i * C;
            float m = mean[i], rs = rstd[i], mdn, mdnx;
            ln_back_means(&mdn, &mdnx, d, x, weight, m, rs, C);
#pragma omp simd
            for (int c = 0; c < C; c++)
                dx[c] += (d[c] * weight[c] - mdn - (x[c] - m) * rs * mdnx) * rs;
        }
    }
    ln_param_grads(dweight, dbias, dout, inp, mean, rstd, N, C);
}

/* out16: a bf16 copy of out as well, made from each row while it is in cache (NULL:
 * none); constant at each entry point below. */
static inline __attribute__((always_inline)) void
residual_layernorm_forward(float *out, sm_bf16 *out16, float *sum, float *mean, float *rstd, const float *inp,
                           const float *bias, const uint8_t *mask, float scale, const float *res,
                           const float *weight, const float *lnbias, int N, int C, float eps)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *a = inp + (size_t)i * C, *r = res + (size_t)i * C;
        float *s = sum + (size_t)i * C;
        /* sum = res + dropout(inp + bias) */
        if (mask) {
            const uint8_t *mk = mask + (size_t)i * C;
#pragma omp simd
            for (int c = 0; c < C; c++) s[c] = r[c] + (a[c] + bias[c]) * (mk[c] ? scale : 0.0f);
        } else {
#pragma omp simd
            for (int c = 0; c < C; c++) s[c] = r[c] + (a[c] + bias[c]);
        }
        ln_row(out + (size_t)i * C, &mean[i], &rstd[i], s, weight, lnbias, C, eps);
        if (out16) sm_bf16_pack_row(out16 + (size_t)i * C, out + (size_t)i * C, C);
    }
}

void sm_residual_layernorm_forward(float *out, float *sum, float *mean, float *rstd,
                                   const float *inp, const float *bias, const uint8_t *mask,
                                   float scale, const float *res, const float *weight,
                                   const float *lnbias, int N, int C, float eps)
{
    residual_layernorm_forward(out, NULL, sum, mean, rstd, inp, bias, mask, scale, res, weight, lnbias, N, C, eps);
}

void sm_residual_layernorm_forward16(float *out, sm_bf16 *out16, float *sum, float *mean, float *rstd,
                                     const float *inp, const float *bias, const uint8_t *mask, float scale,
                                     const float *res, const float *weight, const float *lnbias, int N, int C,
                                     float eps)
{
    residual_layernorm_forward(out, out16, sum, mean, rstd, inp, bias, mask, scale, res, weight, lnbias, N, C,
                               eps);
}

/* set_inp / set_res: write dinp / dres (=) instead of adding to them; constant at
 * each call site below, so each entry point compiles to its own loops. */
static inline __attribute__((always_inline)) void
residual_layernorm_backward(float *dinp, float *dres, float *dweight, float *dlnbias, const float *dout,
                            const float *sum, const uint8_t *mask, float scale, const float *weight,
                            const float *mean, const float *rstd, int N, int C, const int set_inp,
                            const int set_res)
{
#pragma omp parallel for schedule(static) if ((int64_t)N * C > SM_PAR_MIN)
    for (int i = 0; i < N; i++) {
        const float *d = dout + (size_t)i * C, *x = sum + (size_t)i * C;
        float *di = dinp + (size_t)i * C, *dr = dres + (size_t)i * C;
        float m = mean[i], rs = rstd[i], mdn, mdnx;
        ln_back_means(&mdn, &mdnx, d, x, weight, m, rs, C);
        /* dsum = LayerNorm backward; sum = res + inp' * keep * scale */
        if (mask) {
            const uint8_t *mk = mask + (size_t)i * C;
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float ds = (d[c] * weight[c] - mdn - (x[c] - m) * rs * mdnx) * rs;
                dr[c] = set_res ? ds : dr[c] + ds;
                di[c] = set_inp ? ds * (mk[c] ? scale : 0.0f) : di[c] + ds * (mk[c] ? scale : 0.0f);
            }
        } else {
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float ds = (d[c] * weight[c] - mdn - (x[c] - m) * rs * mdnx) * rs;
                dr[c] = set_res ? ds : dr[c] + ds;
                di[c] = set_inp ? ds : di[c] + ds;
            }
        }
    }
    ln_param_grads(dweight, dlnbias, dout, sum, mean, rstd, N, C);
}

void sm_residual_layernorm_backward(float *dinp, float *dres, float *dweight, float *dlnbias,
                                    const float *dout, const float *sum, const uint8_t *mask,
                                    float scale, const float *weight, const float *mean,
                                    const float *rstd, int N, int C)
{
    residual_layernorm_backward(dinp, dres, dweight, dlnbias, dout, sum, mask, scale, weight, mean, rstd, N, C, 0,
                                0);
}

void sm_residual_layernorm_backward_set(float *dinp, float *dres, float *dweight, float *dlnbias,
                                        const float *dout, const float *sum, const uint8_t *mask,
                                        float scale, const float *weight, const float *mean,
                                        const float *rstd, int N, int C, int set_res)
{
    if (set_res)
        residual_layernorm_backward(dinp, dres, dweight, dlnbias, dout, sum, mask, scale, weight, mean, rstd, N, C,
                                    1, 1);
    else
        residual_layernorm_backward(dinp, dres, dweight, dlnbias, dout, sum, mask, scale, weight, mean, rstd, N, C,
                                    1, 0);
}
