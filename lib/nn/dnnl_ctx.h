/* dnnl_ctx.h -- what the model shares of oneDNN 2.6: one engine and one stream per
 * model (a stream is not thread-safe, and a model is used by one thread at a time),
 * error translation, and batched strided matmuls with a small primitive cache.
 *
 * We use the v2 API only (dnnl_*_desc_init + dnnl_primitive_desc_create). */
#ifndef SM_NN_DNNL_CTX_H
#define SM_NN_DNNL_CTX_H

#include "core/error.h"

#include <dnnl.h>
#include <stdint.h>

#if DNNL_VERSION_MAJOR != 2
#error "libselfmm needs oneDNN 2.x (Debian libdnnl-dev 2.6)"
#endif

/* C (b0, b1, M, N) [+]= A (b0, b1, M, K) . B (b0, b1, K, N), every operand a strided
 * view: strides are in elements of the operand's type over (b0, b1, rows, cols).
 * Attention uses it to read Q, K, V and write the context straight in the (batch,
 * token, hidden) layout of the linear layers, heads and transposes included, without
 * copies. Each operand has its type (f32 or bf16; 0 means f32); the accumulation is
 * f32 whatever the types. Every view must be a permutation of a dense tensor: oneDNN
 * 2.6 runs a "slice" (a row stride larger than the row) on a slow generic kernel
 * (docs/ARCHITECTURE.md, Compute, "bf16"). */
typedef struct sm_mm_desc {
    int64_t b0, b1, M, N, K;
    int64_t sa[4], sb[4], sc[4];
    int64_t accumulate;           /* 1: C += A.B (a sum post-op) */
    int64_t bias;                 /* 1: + bias[n] (f32) on every row (forward dense layers) */
    int64_t ta, tb, tc;           /* dnnl_data_type_t of A, B, C; 0: dnnl_f32 */
    int64_t gelu;                 /* 1: C = gelu_erf(A.B + bias), an eltwise post-op */
} sm_mm_desc;

#define SM_MM_CACHE 96

typedef struct sm_mm_entry {
    sm_mm_desc key;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c, bias;  /* handles re-pointed at each call */
    uint64_t used;                /* LRU stamp; 0 = empty slot */
} sm_mm_entry;

typedef struct sm_dnnl {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    sm_mm_entry mm[SM_MM_CACHE];
    uint64_t tick;
} sm_dnnl;

selfmm_status sm_dnnl_init(sm_dnnl *d, selfmm_error *err);
void sm_dnnl_destroy(sm_dnnl *d);
/* SELFMM_OK, or SELFMM_ERR_BACKEND with "oneDNN: <what>: <status>" in err. */
selfmm_status sm_dnnl_check(dnnl_status_t s, const char *what, selfmm_error *err);
#define SM_DNNL(call, what, err) SM_TRY(sm_dnnl_check((call), (what), (err)))

/* Run (creating or reusing from the cache) the matmul described by desc; bias (N
 * floats) only when desc->bias. a, b, c of the desc's types. */
selfmm_status sm_dnnl_matmul(sm_dnnl *d, const sm_mm_desc *desc, const void *a, const void *b,
                             const float *bias, void *c, selfmm_error *err);

/* A 2-D matmul C (M, N) = A . B, dense row-major operands: A stored (M, K), or (K, M)
 * read transposed when trans_a; B stored (K, N), or (N, K) when trans_b; C (M, N).
 * Types as in sm_mm_desc (0: f32); no bias, no post-op. */
sm_mm_desc sm_mm_2d(int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, int64_t ta, int64_t tb,
                    int64_t tc);

/* out (N, OC) = inp (N, C) . weight^T + bias (bias may be NULL), weight in PyTorch's
 * (OC, C) layout read as a transposed view: the forward of BERT's dense layers. */
selfmm_status sm_dnnl_dense(sm_dnnl *d, float *out, const float *inp, const float *weight,
                            const float *bias, int N, int C, int OC, selfmm_error *err);

#endif
