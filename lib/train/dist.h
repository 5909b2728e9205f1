/* dist.h -- several processes for the fit layer (fit.c, fit_resume.c, evaluate.c):
 * the caller's collectives with the library's error messages, agreement on a
 * status, and one global batch run as shares and gathered. Like those files it is
 * written only on the public API (nothing of the library but selfmm.h); see
 * "Several processes" in selfmm.h and docs/ARCHITECTURE.md, "Data-parallel runs". */
#ifndef SM_TRAIN_DIST_H
#define SM_TRAIN_DIST_H

#include "selfmm.h"

/* The group a run works in. One process: c NULL, rank 0, size 1, and every call
 * below is a no-op (or the plain one-process computation). */
typedef struct sm_dist {
    const selfmm_collectives *c; /* NULL for one process */
    int rank, size;
    int broken;                  /* a collective failed: the group is unusable, and no
                                    further collective is attempted */
} sm_dist;

/* From a caller's table (NULL or size 1: one process); checks it. */
selfmm_status sm_dist_init(sm_dist *d, const selfmm_collectives *c, selfmm_error *err);

/* 1 when the run spans several processes. */
static inline int sm_dist_active(const sm_dist *d) { return d->size > 1; }
/* The one process that reads and writes the run's files: rank 0. Every file access
 * of the fit layer asks this predicate. */
static inline int sm_dist_writer(const sm_dist *d) { return d->rank == 0; }

/* The caller's operations; a failure is SELFMM_ERR_COLLECTIVE naming `what` and the
 * callback's code and text, and marks the group broken. No-ops for one process
 * (allgather copies send to recv). */
selfmm_status sm_dist_allgather(sm_dist *d, const void *send, size_t bytes, void *recv, const char *what,
                                selfmm_error *err);
selfmm_status sm_dist_broadcast(sm_dist *d, void *buf, size_t bytes, int root, const char *what,
                                selfmm_error *err);
selfmm_status sm_dist_allreduce(sm_dist *d, float *buf, int64_t n, const char *what, selfmm_error *err);

/* Every rank passes its status (its message in err when st != SELFMM_OK; err may be
 * NULL); every rank returns the status of the lowest failing rank and, in err, that
 * rank's message as "rank R: message". SELFMM_OK only when every rank passed it.
 * One process, or a broken group: returns st unchanged. */
selfmm_status sm_dist_agree(sm_dist *d, selfmm_status st, selfmm_error *err);

/* The same check on one value: SELFMM_ERR_COLLECTIVE "<what> differs: rank R has
 * X, rank 0 Y" when the ranks' values differ. */
selfmm_status sm_dist_same(sm_dist *d, uint64_t value, const char *what, selfmm_error *err);

/* A 64-bit hash of n bytes continuing h (start with 0): equal inputs, equal hashes. */
uint64_t sm_dist_hash(uint64_t h, const void *p, size_t n);
/* A hash of everything in the three splits (sizes, text, features, lengths, labels):
 * the ranks check they loaded the same dataset. Reads it all at memory speed. */
uint64_t sm_dist_dataset_hash(selfmm_dataset *data);

/* Buffers for gathering the outputs of global batches of up to cap samples: the
 * four outputs always, the four feature vectors when feats (training: every rank
 * runs the label update on the whole batch). */
typedef struct sm_dist_batch {
    int cap, feats, dims[4], per_sample; /* floats per sample in a block */
    size_t head;                 /* bytes of a block's header */
    unsigned char *send, *recv;  /* one block; size blocks */
    float *out[4];               /* (cap) M, T, A, V of the global batch */
    float *feat[4];              /* (cap, dims[k]) its features (feats) */
} sm_dist_batch;

selfmm_status sm_dist_batch_init(sm_dist_batch *g, const sm_dist *d, int cap, const int dims[4], int feats,
                                 selfmm_error *err);
void sm_dist_batch_free(sm_dist_batch *g);

/* Samples idx[0..nb) of a split as one global batch. One process: selfmm_dataset_batch,
 * selfmm_model_forward in mode and, in training, selfmm_model_loss against labels
 * (nb values each) and selfmm_model_backward; *out = the model's outputs. Several:
 * each rank does the same for its share (selfmm_shard; the model told its place in
 * the global batch by selfmm_model_set_shard), a rank without samples only advances
 * the dropout step counter, then the shares are gathered: *out = the whole batch's
 * outputs (and features) in g, *loss = the sum of the ranks' parts, in rank order.
 * A failure on any rank is every rank's ("rank R: what: message"), at the same
 * batch. loss may be NULL in evaluation. */
selfmm_status sm_dist_step(sm_dist *d, sm_dist_batch *g, selfmm_model *model, selfmm_dataset *data,
                           selfmm_split split, const int *idx, int nb, selfmm_mode mode,
                           const float *const labels[4], selfmm_loss *loss, selfmm_outputs *out,
                           selfmm_error *err);

#endif
