/* buffers.h -- one table of activation buffers per layer, grown and freed by one
 * helper (the way llm.c sizes its activations in one place).
 *
 * A layer keeps its buffers as plain typed pointers in its struct (float *, int32_t *,
 * uint8_t * masks, and later bf16 copies) and lists each of them ONCE, in a table
 * built by one function of the layer:
 *
 *     static void head_table(sm_head *h, sm_bufs *t)
 *     {
 *         SM_BUFS(t, SM_BUF(h->in_d, 0, h->in),   // (B, in)
 *                    SM_BUF(h->h1, 0, h->dim),    // (B, dim)
 *                    SM_BUF(h->y, 0, 1));         // (B)
 *     }
 *
 * An entry says where the pointer lives, its element size (sizeof *p, taken from the
 * pointer's type: 4 for float and int32, 2 for a bf16 type, 1 for a byte mask) and
 * its element count as a function of the sizes that vary from call to call: count =
 * sizes[dim] x width, where the sizes are the layer's own (the batch B for the heads,
 * tokens B*L and attention elements B*nh*L*L for BERT, time x batch and batch for the
 * LSTM; up to SM_BUF_DIMS of them) and the width a constant of the model (hidden
 * size, head width, ...). dim = SM_BUF_FIXED makes count = width (no varying size).
 *
 * Optional buffers: SM_BUF_IF(on, p, dim, width) is allocated only while `on` holds
 * (a dropout mask only when the dropout is not 0, a bf16 copy only in bf16 mode); an
 * entry that is off is freed and its pointer left NULL. SM_BUF_ZEROED is filled with
 * zeros when allocated (a buffer that is only ever read, like an initial state).
 *
 * Policy (grow-only, all or nothing): a layer keeps its capacity (sm_bufsize: the
 * largest sizes seen). sm_bufs_grow(t, &cap, need) does nothing when need fits in
 * cap; otherwise it frees every buffer of the table, takes cap = max(cap, need) per
 * size, and allocates every entry that is on at that capacity. So a step of the same
 * shape allocates nothing, and a larger one frees before allocating (the peak is the
 * new total, never old + new). It also allocates an entry that is on but NULL and
 * frees one that is off, so a flag that changes between calls takes effect. On
 * failure every buffer of the table is freed, cap is zeroed and SELFMM_ERR_NOMEM
 * returned without a message (the layer writes its own, naming itself): the next call
 * starts again from nothing. Buffers are 64-byte aligned (sm_alloc) and not cleared
 * (except SM_BUF_ZEROED ones); a buffer of count 0 still gets a valid pointer.
 *
 * Tables are rebuilt on every call (a handful of stores), so they never hold a
 * pointer that a realloc of the owner (BERT's per-layer array) has moved. */
#ifndef SM_NN_BUFFERS_H
#define SM_NN_BUFFERS_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

#define SM_BUF_DIMS 4    /* sizes a table's counts may depend on */
#define SM_BUF_MAX 32    /* entries per table */
#define SM_BUF_FIXED (-1) /* dim of a buffer whose count is its width */

enum {
    SM_BUF_OFF = 1u,     /* an optional buffer that is not wanted now: freed, NULL */
    SM_BUF_ZERO = 2u     /* zero-filled when allocated */
};

/* One buffer: the address of the layer's pointer (any T **), sizeof(T), and its count
 * sizes[dim] x width. The pointer is read and written with memcpy, so it may have any
 * object pointer type. */
typedef struct sm_buf {
    void *slot;
    size_t elem;
    int dim;
    int64_t width;
    unsigned flags;
} sm_buf;

/* A layer's table: its entries, in any order (allocation follows it). */
typedef struct sm_bufs {
    int n;
    sm_buf e[SM_BUF_MAX];
} sm_bufs;

/* The sizes a table is allocated for (its capacity) or asked for (a need). */
typedef struct sm_bufsize {
    int64_t n[SM_BUF_DIMS];
} sm_bufsize;

#define SM_BUF_ENTRY(p, dim, width, flags) \
    ((sm_buf){(void *)&(p), sizeof *(p), (dim), (int64_t)(width), (flags)})
#define SM_BUF(p, dim, width) SM_BUF_ENTRY(p, dim, width, 0u)
#define SM_BUF_IF(on, p, dim, width) SM_BUF_ENTRY(p, dim, width, (on) ? 0u : (unsigned)SM_BUF_OFF)
#define SM_BUF_ZEROED(p, dim, width) SM_BUF_ENTRY(p, dim, width, (unsigned)SM_BUF_ZERO)

/* Fill table t with the entries given; more than SM_BUF_MAX does not compile. */
#define SM_BUFS(t, ...) sm_bufs_set((t), (const sm_buf[]){__VA_ARGS__}, SM_BUFS_COUNT_(__VA_ARGS__))
#define SM_BUFS_COUNT_(...)                                                                     \
    ((int)(sizeof((const sm_buf[]){__VA_ARGS__}) / sizeof(sm_buf)) +                            \
     0 * (int)sizeof(char[sizeof((const sm_buf[]){__VA_ARGS__}) <= SM_BUF_MAX * sizeof(sm_buf) ? 1 : -1]))
void sm_bufs_set(sm_bufs *t, const sm_buf *entries, int n);

/* Grow-only: see the policy above. cap is the layer's capacity (zero at first). */
selfmm_status sm_bufs_grow(const sm_bufs *t, sm_bufsize *cap, const sm_bufsize *need);
/* Make every entry that is on and NULL hold its count at the sizes `at` (and free the
 * entries that are off); entries already allocated are kept as they are. For a table
 * that shares a capacity kept elsewhere (BERT's per-layer activations, sized by the
 * encoder's). On failure every buffer of t is freed and SELFMM_ERR_NOMEM returned. */
selfmm_status sm_bufs_alloc(const sm_bufs *t, const sm_bufsize *at);
/* Free every buffer of t and set its pointers to NULL (a capacity kept with the table
 * is the caller's to reset). */
void sm_bufs_free(const sm_bufs *t);
/* Bytes the table holds at the sizes `at` (entries that are on), for reports and tests;
 * -1 on overflow. */
int64_t sm_bufs_bytes(const sm_bufs *t, const sm_bufsize *at);

#endif
