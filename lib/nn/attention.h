/* attention.h -- BERT's multi-head scaled dot-product attention, forward and backward.
 *
 * q and ctx are (B, Lq, H), k and v (B, Lk, H), token-major exactly as the linear
 * layers produce and consume them; head h of a token is the slice [h*hd, (h+1)*hd)
 * of its row. Lq = Lk is self-attention over all tokens; Lq = 1 is the last layer,
 * where only [CLS] queries are needed. The batched GEMMs run in oneDNN matmul on
 * strided views (no permute copies):
 *   scores = q k^T (per sample and head), probs = softmax(scores / sqrt(hd) + maskbias),
 *   probs_d = dropout(probs), ctx = probs_d v.
 * maskbias (B, Lk) is BERT's extended mask (1 - mask) * -10000 on key positions. */
#ifndef SM_NN_ATTENTION_H
#define SM_NN_ATTENTION_H

#include "nn/bf16.h"
#include "nn/dnnl_ctx.h"

#include <stdint.h>

/* probs and probs_d are (B, nh, Lq, Lk). mask is the dropout mask of the
 * probabilities (B * nh * Lq * Lk bytes) or NULL when p = 0, in which case probs_d
 * may equal probs (and is then not written). */
selfmm_status sm_attention_forward(sm_dnnl *d, float *ctx, float *probs, float *probs_d,
                                   const float *q, const float *k, const float *v,
                                   const float *maskbias, const uint8_t *mask, float p, int B,
                                   int Lq, int Lk, int nh, int hd, selfmm_error *err);
/* dq (B, Lq, H), dk and dv (B, Lk, H) += the gradients from dctx. scratch holds
 * B * nh * Lq * Lk floats (overwritten). */
selfmm_status sm_attention_backward(sm_dnnl *d, float *dq, float *dk, float *dv, float *scratch,
                                    const float *dctx, const float *q, const float *k,
                                    const float *v, const float *probs, const float *probs_d,
                                    const uint8_t *mask, float p, int B, int Lq, int Lk, int nh,
                                    int hd, selfmm_error *err);

/* bf16 mode (docs/MODEL.md §8): the same with q, k, v, ctx and probs_d in bf16 (the
 * matmuls read bf16 and accumulate in f32; scores, softmax and probs stay f32).
 * probs_d is always written (the bf16 input of ctx = probs_d v). */
selfmm_status sm_attention_forward_bf16(sm_dnnl *d, sm_bf16 *ctx, float *probs, sm_bf16 *probs_d,
                                        const sm_bf16 *q, const sm_bf16 *k, const sm_bf16 *v,
                                        const float *maskbias, const uint8_t *mask, float p, int B, int Lq,
                                        int Lk, int nh, int hd, selfmm_error *err);
/* dq (B, Lq, H), dk and dv (B, Lk, H) f32 are written (=), not added. scratch holds
 * B * nh * Lq * Lk floats and scratch16 as many bf16 values (both overwritten). */
selfmm_status sm_attention_backward_bf16(sm_dnnl *d, float *dq, float *dk, float *dv, float *scratch,
                                         sm_bf16 *scratch16, const sm_bf16 *dctx, const sm_bf16 *q,
                                         const sm_bf16 *k, const sm_bf16 *v, const float *probs,
                                         const sm_bf16 *probs_d, const uint8_t *mask, float p, int B, int Lq,
                                         int Lk, int nh, int hd, selfmm_error *err);

#endif
