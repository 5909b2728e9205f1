/* thread_ranks.h -- several "ranks" in one test process: a selfmm_collectives table
 * over threads (shared buffers and a barrier), so that the data-parallel code of the
 * library is tested without MPI. Each rank runs on its own thread with its own
 * handles, as each MPI process would. The allreduce sums in rank order on every
 * rank: bit-identical results everywhere, as the library requires. */
#ifndef SELFMM_TEST_THREAD_RANKS_H
#define SELFMM_TEST_THREAD_RANKS_H

#include "selfmm.h"

/* What every rank's thread runs: its table (rank, size, callbacks) and the test's
 * argument; returns a status the caller collects. */
typedef selfmm_status (*tr_fn)(const selfmm_collectives *c, void *arg);

/* Run fn on size threads (size in [1, 16]) and wait for all; st[r] receives rank r's
 * return value. 0 on success, -1 when the threads could not be started. */
int tr_run(int size, tr_fn fn, void *arg, selfmm_status *st);

#endif
