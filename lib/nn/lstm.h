/* lstm.h -- the one-layer, one-direction LSTM of AuViSubNet (docs/MODEL.md §2.2) on
 * oneDNN's RNN primitives, with PyTorch's gate order (i, f, g, o) and weight layout.
 *
 * Forward runs the batch at its longest real length T = max(len) over a time-major
 * copy of the input whose steps at or after each sample's length are zeroed, and
 * returns h at step len_b - 1 per sample: exactly PyTorch's packed-sequence final
 * state. Backward injects dh at those steps only, so steps after a sample's length
 * never influence its result or any gradient, forward or backward (and NaN or Inf
 * in the padding cannot leak in).
 *
 * Primitives are created once per (T, B) and kept in a small LRU cache; the input
 * copy, the outputs and the workspace of the last forward are kept for backward. */
#ifndef SM_NN_LSTM_H
#define SM_NN_LSTM_H

#include "nn/dnnl_ctx.h"

#include <stdint.h>

typedef struct sm_lstm sm_lstm;

/* An LSTM with input width C and hidden size H on d's engine (d must outlive it). */
selfmm_status sm_lstm_create(sm_lstm **out, sm_dnnl *d, int C, int H, selfmm_error *err);
void sm_lstm_free(sm_lstm *s);

/* h (B, H) = the hidden state at step len[b] - 1 of sample b, for x (B, Tpad, C)
 * and 1 <= len[b] <= Tpad (checked by the caller). Weights as PyTorch:
 * w_ih (4H, C), w_hh (4H, H), b_ih and b_hh (4H). */
selfmm_status sm_lstm_forward(sm_lstm *s, float *h, const float *x, const int32_t *len,
                              const float *w_ih, const float *w_hh, const float *b_ih,
                              const float *b_hh, int B, int Tpad, selfmm_error *err);
/* Backward of the last forward from dh (B, H): adds into dw_ih, dw_hh, db_ih and
 * db_hh (both biases get the same gradient: only their sum enters the math) and,
 * when dx is not NULL, into dx (B, Tpad, C) (zero at steps >= len). */
selfmm_status sm_lstm_backward(sm_lstm *s, float *dx, float *dw_ih, float *dw_hh, float *db_ih,
                               float *db_hh, const float *dh, const float *w_ih,
                               const float *w_hh, selfmm_error *err);
/* The time steps the last forward ran (max length), for timing reports. */
int sm_lstm_last_steps(const sm_lstm *s);

#endif
