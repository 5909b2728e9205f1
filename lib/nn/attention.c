/* attention.c -- see attention.h. The four layouts involved, as strided 4-D views
 * over (sample, head, row, col):
 *   token view of a (B, L, H) tensor as (B, nh, L, hd):  (L*H, hd, H, 1)
 *   its transpose (B, nh, hd, L):                       (L*H, hd, 1, H)
 *   a (B, nh, Lq, Lk) score tensor:                      (nh*Lq*Lk, Lq*Lk, Lk, 1)
 *   its transpose:                                        (nh*Lq*Lk, Lq*Lk, 1, Lk)  */
#include "nn/attention.h"

#include "nn/ops.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static void set4(int64_t s[4], int64_t a, int64_t b, int64_t c, int64_t d)
{
    s[0] = a, s[1] = b, s[2] = c, s[3] = d;
}

/* C (M x N) [+]= A (M x K) . B (K x N) per (sample, head). */
static sm_mm_desc mm(int B, int nh, int64_t M, int64_t N, int64_t K, int accumulate)
{
    sm_mm_desc m;
    memset(&m, 0, sizeof m);
    m.b0 = B, m.b1 = nh, m.M = M, m.N = N, m.K = K, m.accumulate = accumulate;
    return m;
}

/* The three products of attention as views (the layouts above), per (sample,
 * head), accumulating when acc; both precisions use them. */
typedef struct att_dims {
    int B, nh;
    int64_t Lq, Lk, hd;
} att_dims;

static void att_strides(const att_dims *t, int64_t *QH, int64_t *KH, int64_t *S)
{
    *QH = t->Lq * t->nh * t->hd, *KH = t->Lk * t->nh * t->hd, *S = t->Lq * t->Lk;
}

/* scores (Lq x Lk) = A (Lq rows, token view) . B^T (Lk rows, token view) */
static sm_mm_desc scores_of(const att_dims *t, int acc)
{
    int64_t QH, KH, S, H = (int64_t)t->nh * t->hd;
    att_strides(t, &QH, &KH, &S);
    sm_mm_desc m = mm(t->B, t->nh, t->Lq, t->Lk, t->hd, acc);
    set4(m.sa, QH, t->hd, H, 1);
    set4(m.sb, KH, t->hd, 1, H);
    set4(m.sc, t->nh * S, S, t->Lk, 1);
    return m;
}

/* Lq token rows = scores . B (Lk rows, token view) */
static sm_mm_desc scores_times(const att_dims *t, int acc)
{
    int64_t QH, KH, S, H = (int64_t)t->nh * t->hd;
    att_strides(t, &QH, &KH, &S);
    sm_mm_desc m = mm(t->B, t->nh, t->Lq, t->hd, t->Lk, acc);
    set4(m.sa, t->nh * S, S, t->Lk, 1);
    set4(m.sb, KH, t->hd, H, 1);
    set4(m.sc, QH, t->hd, H, 1);
    return m;
}

/* Lk token rows = scores^T . B (Lq rows, token view) */
static sm_mm_desc scores_t_times(const att_dims *t, int acc)
{
    int64_t QH, KH, S, H = (int64_t)t->nh * t->hd;
    att_strides(t, &QH, &KH, &S);
    sm_mm_desc m = mm(t->B, t->nh, t->Lk, t->hd, t->Lq, acc);
    set4(m.sa, t->nh * S, S, 1, t->Lk);
    set4(m.sb, QH, t->hd, H, 1);
    set4(m.sc, KH, t->hd, H, 1);
    return m;
}

/* sqrt(head size) as BertSelfAttention divides by math.sqrt(attention_head_size). */
static float head_div(int hd) { return (float)sqrt((double)hd); }

selfmm_status sm_attention_forward(sm_dnnl *d, float *ctx, float *probs, float *probs_d,
                                   const float *q, const float *k, const float *v,
                                   const float *maskbias, const uint8_t *mask, float p, int B,
                                   int Lq, int Lk, int nh, int hd, selfmm_error *err)
{
    const att_dims t = {B, nh, Lq, Lk, hd};
    const int64_t S = (int64_t)Lq * Lk; /* scores per (sample, head) */
    /* scores = q . k^T, written into probs */
    sm_mm_desc s = scores_of(&t, 0);
    SM_TRY(sm_dnnl_matmul(d, &s, q, k, NULL, probs, err));
    /* probs = softmax(scores / sqrt(hd) + maskbias), in place */
    sm_scale_mask_softmax_forward(probs, probs, maskbias, head_div(hd), B, nh * Lq, Lk);
    if (mask) sm_dropout_forward(probs_d, probs, mask, p, (int64_t)B * nh * S);
    else probs_d = probs;
    /* ctx = probs_d . v, straight into the token layout */
    sm_mm_desc c = scores_times(&t, 0);
    return sm_dnnl_matmul(d, &c, probs_d, v, NULL, ctx, err);
}

/* dprobs_d (in g, rows x Lk) through the dropout (mask, scale) and the softmax
 * (probs) to dscores, divided by div, in place: the one loop of both precisions. */
static void scores_backward(float *scratch, const float *probs, const uint8_t *mask, int64_t rows, int Lk,
                            float div, float scale)
{
#pragma omp parallel for schedule(static) if (rows * Lk > SM_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *g = scratch + (size_t)r * Lk;
        const float *pr = probs + (size_t)r * Lk;
        if (mask) {
            const uint8_t *mk = mask + (size_t)r * Lk;
#pragma omp simd
            for (int c = 0; c < Lk; c++) g[c] *= mk[c] ? scale : 0.0f;
        }
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int c = 0; c < Lk; c++) s += g[c] * pr[c];
#pragma omp simd
        for (int c = 0; c < Lk; c++) g[c] = pr[c] * (g[c] - s) / div;
    }
}


selfmm_status sm_attention_backward(sm_dnnl *d, float *dq, float *dk, float *dv, float *scratch,
                                    const float *dctx, const float *q, const float *k,
                                    const float *v, const float *probs, const float *probs_d,
                                    const uint8_t *mask, float p, int B, int Lq, int Lk, int nh,
                                    int hd, selfmm_error *err)
{
    const att_dims t = {B, nh, Lq, Lk, hd};
    if (!mask) probs_d = probs;
    /* ctx = probs_d . v  =>  dprobs_d = dctx . v^T (into scratch) */
    sm_mm_desc a = scores_of(&t, 0);
    SM_TRY(sm_dnnl_matmul(d, &a, dctx, v, NULL, scratch, err));
    /*                     =>  dv += probs_d^T . dctx */
    sm_mm_desc b = scores_t_times(&t, 1);
    SM_TRY(sm_dnnl_matmul(d, &b, probs_d, dctx, NULL, dv, err));
    /* probs_d = dropout(probs); probs = softmax(scores / div + maskbias):
     * dscores = probs * (dprobs - sum(dprobs * probs)) / div, in place in scratch */
    const int64_t rows = (int64_t)B * nh * Lq;
    scores_backward(scratch, probs, mask, rows, Lk, head_div(hd), mask ? sm_dropout_scale(p) : 1.0f);
    /* scores = q . k^T  =>  dq += dscores . k, dk += dscores^T . q */
    sm_mm_desc e = scores_times(&t, 1);
    SM_TRY(sm_dnnl_matmul(d, &e, scratch, k, NULL, dq, err));
    sm_mm_desc f = scores_t_times(&t, 1);
    return sm_dnnl_matmul(d, &f, scratch, q, NULL, dk, err);
}

/* ---- bf16 (docs/MODEL.md §8): the same views, typed ---------------------------------- */
static void typed(sm_mm_desc *m, int64_t ta, int64_t tb, int64_t tc)
{
    m->ta = ta, m->tb = tb, m->tc = tc;
}

selfmm_status sm_attention_forward_bf16(sm_dnnl *d, sm_bf16 *ctx, float *probs, sm_bf16 *probs_d,
                                        const sm_bf16 *q, const sm_bf16 *k, const sm_bf16 *v,
                                        const float *maskbias, const uint8_t *mask, float p, int B, int Lq,
                                        int Lk, int nh, int hd, selfmm_error *err)
{
    const att_dims t = {B, nh, Lq, Lk, hd};
    const int64_t S = (int64_t)Lq * Lk;
    sm_mm_desc s = scores_of(&t, 0);
    typed(&s, dnnl_bf16, dnnl_bf16, dnnl_f32);
    SM_TRY(sm_dnnl_matmul(d, &s, q, k, NULL, probs, err));
    sm_scale_mask_softmax_forward(probs, probs, maskbias, head_div(hd), B, nh * Lq, Lk);
    /* probs_d = bf16(dropout(probs)), rounded as sm_bf16_pack rounds */
    const int64_t n = (int64_t)B * nh * S;
    if (mask) {
        const float scale = sm_dropout_scale(p);
#pragma omp parallel for schedule(static) if (n > SM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) probs_d[i] = sm_f2bf_scalar(mask[i] ? probs[i] * scale : 0.0f);
    } else {
        sm_bf16_pack(probs_d, probs, n);
    }
    sm_mm_desc c = scores_times(&t, 0);
    typed(&c, dnnl_bf16, dnnl_bf16, dnnl_bf16);
    return sm_dnnl_matmul(d, &c, probs_d, v, NULL, ctx, err);
}

selfmm_status sm_attention_backward_bf16(sm_dnnl *d, float *dq, float *dk, float *dv, float *scratch,
                                         sm_bf16 *scratch16, const sm_bf16 *dctx, const sm_bf16 *q,
                                         const sm_bf16 *k, const sm_bf16 *v, const float *probs,
                                         const sm_bf16 *probs_d, const uint8_t *mask, float p, int B, int Lq,
                                         int Lk, int nh, int hd, selfmm_error *err)
{
    const att_dims t = {B, nh, Lq, Lk, hd};
    /* ctx = probs_d . v  =>  dprobs_d = dctx . v^T (f32, into scratch) */
    sm_mm_desc a = scores_of(&t, 0);
    typed(&a, dnnl_bf16, dnnl_bf16, dnnl_f32);
    SM_TRY(sm_dnnl_matmul(d, &a, dctx, v, NULL, scratch, err));
    /*                     =>  dv = probs_d^T . dctx */
    sm_mm_desc b = scores_t_times(&t, 0);
    typed(&b, dnnl_bf16, dnnl_bf16, dnnl_f32);
    SM_TRY(sm_dnnl_matmul(d, &b, probs_d, dctx, NULL, dv, err));
    /* dscores as the f32 backward computes them, then rounded once for both GEMMs */
    const int64_t rows = (int64_t)B * nh * Lq;
    scores_backward(scratch, probs, mask, rows, Lk, head_div(hd), mask ? sm_dropout_scale(p) : 1.0f);
    sm_bf16_pack(scratch16, scratch, rows * Lk);
    /* scores = q . k^T  =>  dq = dscores . k, dk = dscores^T . q */
    sm_mm_desc e = scores_times(&t, 0);
    typed(&e, dnnl_bf16, dnnl_bf16, dnnl_f32);
    SM_TRY(sm_dnnl_matmul(d, &e, scratch16, k, NULL, dq, err));
    sm_mm_desc f = scores_t_times(&t, 0);
    typed(&f, dnnl_bf16, dnnl_bf16, dnnl_f32);
    return sm_dnnl_matmul(d, &f, scratch16, q, NULL, dk, err);
}
