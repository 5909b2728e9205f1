/* gemm_clock.h -- the seconds this thread has spent inside GEMM calls (oneDNN
 * matmuls and OpenBLAS sgemm), so that a caller can split a span of work into its
 * GEMMs and the rest: selfmm_timings' bert_*_gemm_s are its growth across BERT's
 * forward and backward. Thread-local: a model is used by one thread at a time, and
 * every GEMM call returns on the thread that made it. Defined in dnnl_ctx.c. */
#ifndef SM_NN_GEMM_CLOCK_H
#define SM_NN_GEMM_CLOCK_H

extern _Thread_local double sm_gemm_seconds;

#endif
