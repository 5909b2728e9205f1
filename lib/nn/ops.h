/* ops.h -- the model's CPU layers as forward/backward pairs (llm.c style).
 *
 * Rules every pair follows:
 * - Arguments are mirrored: forward takes (outputs, saved statistics, inputs, weights,
 *   sizes); backward takes (input gradients, weight gradients, output gradient, what
 *   forward read or saved, sizes).
 * - Backward ADDS into every gradient it writes (+=); zeroing is the caller's job. A
 *   NULL gradient pointer means "not wanted" where the doc says so.
 * - Tensors are row-major float32; N is a number of rows (tokens or samples).
 * - Work is split over rows or columns with OpenMP so that every result is the same
 *   whatever the thread count (no reductions across threads); a loop over fewer
 *   than SM_PAR_MIN elements stays on one thread (waking the pool costs more).
 *
 * The oneDNN-backed layers (attention, LSTM) live in attention.h and lstm.h. */
#ifndef SM_NN_OPS_H
#define SM_NN_OPS_H

#include "nn/bf16.h"

#include <stdint.h>

/* Elements below which an elementwise or row loop does not go parallel. */
#define SM_PAR_MIN 4096

/* Column sums over (N, C) rows, the way every weight-gradient reduction here runs:
 * fn(ctx, c0, c1) adds rows 0..N-1 of columns [c0, c1), in row order; blocks of
 * columns go to the threads (when N * C > SM_PAR_MIN), so the order in which a
 * column is summed never depends on the thread count. (linear.c) */
void sm_column_blocks(int N, int C, void (*fn)(void *ctx, int c0, int c1), void *ctx);

/* ---- linear (PyTorch nn.Linear: weight is (OC, C)) ------------------------------ */
/* out (N, OC) = inp (N, C) . weight^T + bias; bias (OC) may be NULL. */
void sm_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N,
                       int C, int OC);
/* dinp (N, C) += dout . weight; dweight (OC, C) += dout^T . inp; dbias (OC) += column
 * sums of dout. dinp, dweight and dbias may each be NULL. */
void sm_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int N, int C, int OC);

/* ---- layer normalisation over the last axis (biased variance, eps inside sqrt) ---- */
/* out = (inp - mean) * rstd * weight + bias; mean, rstd (N) saved for backward. */
void sm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *weight, const float *bias, int N, int C, float eps);
void sm_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight, const float *mean,
                           const float *rstd, int N, int C);

/* ---- BERT's sublayer tail, fused: out = LayerNorm(res + dropout(inp + bias)) ------
 * inp is a dense layer's output without its bias; mask (N*C, or NULL when p = 0) is
 * the dropout mask and scale = 1 / (1 - p). sum (N, C) keeps the LayerNorm input for
 * backward. The backward gives dinp (the gradient of the dense output, bias
 * included: sm_linear_backward turns it into the bias gradient), dres (the residual
 * path) and the LayerNorm parameter gradients. */
void sm_residual_layernorm_forward(float *out, float *sum, float *mean, float *rstd,
                                   const float *inp, const float *bias, const uint8_t *mask,
                                   float scale, const float *res, const float *weight,
                                   const float *lnbias, int N, int C, float eps);
/* The same, also writing out16 = bf16(out) (precision bf16: the next GEMM's input). */
void sm_residual_layernorm_forward16(float *out, sm_bf16 *out16, float *sum, float *mean, float *rstd,
                                     const float *inp, const float *bias, const uint8_t *mask, float scale,
                                     const float *res, const float *weight, const float *lnbias, int N, int C,
                                     float eps);
void sm_residual_layernorm_backward(float *dinp, float *dres, float *dweight, float *dlnbias,
                                    const float *dout, const float *sum, const uint8_t *mask,
                                    float scale, const float *weight, const float *mean,
                                    const float *rstd, int N, int C);
/* The same, writing dinp (=) rather than adding to it, and dres too if set_res (bf16
 * mode: no zeroed buffers to add to). */
void sm_residual_layernorm_backward_set(float *dinp, float *dres, float *dweight, float *dlnbias,
                                        const float *dout, const float *sum, const uint8_t *mask,
                                        float scale, const float *weight, const float *mean,
                                        const float *rstd, int N, int C, int set_res);

/* ---- GELU, exact erf form: x * Phi(x) -------------------------------------------- */
void sm_gelu_forward(float *out, const float *inp, int64_t n);
void sm_gelu_backward(float *dinp, const float *dout, const float *inp, int64_t n);
/* Fused: pre (N, C) += bias in place, then out = gelu(pre). */
void sm_bias_gelu_forward(float *out, float *pre, const float *bias, int N, int C);
/* dpre += dout * gelu'(pre). out, when not NULL, receives gelu(pre) again: the
 * backward recomputes the GELU output for the next weight-gradient GEMM instead of
 * keeping it from the forward (saves N*C floats per layer at almost no cost, since
 * gelu' needs the same erfc). */
void sm_bias_gelu_backward(float *dpre, float *out, const float *dout, const float *pre, int N,
                           int C);

/* bf16 mode (docs/MODEL.md §8), math in f32: pre16 (N, C) holds the intermediate
 * dense output with its bias, as the GEMM rounded it to bf16 (kept for the backward);
 * g16 = bf16(gelu(pre16)) (the next GEMM's input). */
void sm_gelu_forward_bf16(sm_bf16 *g16, const sm_bf16 *pre16, int N, int C);
/* dpre (N, C) = dout * gelu'(x) (written, not added; f32 for the bias gradient),
 * dpre16 = bf16(dpre) (the input of the two GEMMs) and g16 = bf16(gelu(x)), for
 * x = pre16. */
void sm_gelu_backward_bf16(float *dpre, sm_bf16 *dpre16, sm_bf16 *g16, const float *dout, const sm_bf16 *pre16,
                           int N, int C);

/* ---- softmax over rows ------------------------------------------------------------ */
void sm_softmax_forward(float *probs, const float *inp, int N, int C);
void sm_softmax_backward(float *dinp, const float *dprobs, const float *probs, int N, int C);
/* Attention's fused version: for sample b (rows_per_b rows each),
 * probs[r, :] = softmax(scores[r, :] / div + maskbias[b, :]) where
 * maskbias = (1 - mask) * -10000 (BERT's extended attention mask). */
void sm_scale_mask_softmax_forward(float *probs, const float *scores, const float *maskbias,
                                   float div, int B, int rows_per_b, int C);
void sm_scale_mask_softmax_backward(float *dscores, const float *dprobs, const float *probs,
                                    float div, int B, int rows_per_b, int C);

/* ---- dropout (PyTorch semantics: keep with probability 1 - p, scale by 1/(1 - p)) --
 * Masks come from Philox keyed by (seed, step, stream = site << 16 | sample):
 * element j of sample b keeps iff uniform24(j) < (float)(1 - p), where
 * uniform24(j) = (word j of the stream >> 8) * 2^-24 -- the same numbers as
 * sm_rng_uniform(&key, j). So a mask depends on the seed, the training step, the
 * site and the sample, never on the thread count or the batch's other samples.
 * Streams repeat after 2^34 elements per sample (the 32-bit block counter). Site and
 * sample share the 32-bit stream id: sites up to SM_DROPOUT_MAX_SITE, batches of
 * at most SM_DROPOUT_MAX_BATCH samples (selfmm_model_forward refuses larger ones). */
#define SM_DROPOUT_MAX_SITE 0xFFFFu
#define SM_DROPOUT_MAX_BATCH 65536
void sm_dropout_mask(uint8_t *mask, int B, int64_t per_sample, float p, uint64_t seed,
                     uint64_t step, uint32_t site);
/* The masks of samples first .. first + B - 1 of a larger batch (a data-parallel
 * shard): local sample b draws the stream of sample first + b, so a sample's mask
 * does not depend on which process computes it. first + B <= SM_DROPOUT_MAX_BATCH. */
void sm_dropout_mask_at(uint8_t *mask, int B, int first, int64_t per_sample, float p, uint64_t seed,
                        uint64_t step, uint32_t site);
/* 1 / (1 - p) as PyTorch applies it (float). */
float sm_dropout_scale(float p);
/* out = inp * mask * scale; mask NULL means p = 0 (a copy, or nothing when in place). */
void sm_dropout_forward(float *out, const float *inp, const uint8_t *mask, float p, int64_t n);
void sm_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, float p, int64_t n);

/* ---- ReLU -------------------------------------------------------------------------- */
void sm_relu_forward(float *out, const float *inp, int64_t n);
/* dinp += dout where out > 0 (PyTorch's threshold_backward on the result). */
void sm_relu_backward(float *dinp, const float *dout, const float *out, int64_t n);

/* ---- BERT embeddings: word[id] + position[t] + token_type[seg] -------------------- */
/* out (B*L, H); ids and segs are (B, ld) with ld >= L (the batch's padded width);
 * segs NULL means all 0. Ids are trusted (validated by the caller). */
void sm_embedding_forward(float *out, const int32_t *ids, const int32_t *segs, const float *word,
                          const float *pos, const float *type, int B, int L, int ld, int H);
/* Scatter-adds dout into the three tables; word row 0 (the padding index) gets no
 * gradient, as nn.Embedding(padding_idx=0). Any table gradient may be NULL. */
void sm_embedding_backward(float *dword, float *dpos, float *dtype, const float *dout,
                           const int32_t *ids, const int32_t *segs, int B, int L, int ld, int H);

/* ---- weighted L1 (docs/MODEL.md §3.3): mean_b w_b * |pred_b - y_b| ---------------- */
/* w NULL means all 1 (the fusion head). */
void sm_weighted_l1_forward(double *loss, const float *pred, const float *y, const float *w,
                            int B);
/* dpred += dloss * w_b * sign(pred_b - y_b) / B, with sign(0) = 0 as torch.abs. */
void sm_weighted_l1_backward(float *dpred, float dloss, const float *pred, const float *y,
                             const float *w, int B);
/* The same for B samples that are a share of a mean over denom samples (a data-parallel
 * shard): loss = sum_b w_b |pred_b - y_b| / denom, dpred += dloss / denom * w_b * sign.
 * Each sample's gradient is the one of the whole batch bit for bit. */
void sm_weighted_l1_forward_d(double *loss, const float *pred, const float *y, const float *w,
                              int B, int denom);
void sm_weighted_l1_backward_d(float *dpred, float dloss, const float *pred, const float *y,
                               const float *w, int B, int denom);
/* The reference trainer's loss of one batch: its weighted_loss for the heads M, T, A, V
 * (k as SELFMM_FUSION...), w = 1 for the fusion head and tanh(|y_k - y_fusion|) for the
 * others. part[k] gets each term; dpred[k] (when dpred is not NULL) is overwritten with
 * d(sum of the terms)/d pred[k]. w: (B) scratch. Each term is a mean over denom
 * samples (denom = B, or the global batch of which these B are a share). */
void sm_selfmm_loss_forward(double part[4], float *const *dpred, const float *const pred[4],
                            const float *const y[4], float *w, int B, int denom);

#endif
