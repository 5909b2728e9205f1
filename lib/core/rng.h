/* rng.h -- counter-based random numbers (Philox4x32-10).
 *
 * Every random number is a pure function of (seed, purpose, step, stream, index),
 * so results never depend on the thread count or on the order work is done in:
 * dropout masks are keyed by (seed, training step, tensor), initialisation by
 * (seed, tensor), shuffling by (seed, epoch). */
#ifndef SM_CORE_RNG_H
#define SM_CORE_RNG_H

#include <stdint.h>

/* Philox4x32-10's multipliers and Weyl key increments (Salmon et al., SC'11); the
 * vectorised dropout mask generator (nn/dropout.c) restates sm_rng_block with them. */
#define SM_PHILOX_M0 0xD2511F53u
#define SM_PHILOX_M1 0xCD9E8D57u
#define SM_PHILOX_W0 0x9E3779B9u
#define SM_PHILOX_W1 0xBB67AE85u

typedef enum sm_rng_purpose {
    SM_RNG_INIT = 1,     /* parameter initialisation: step 0, stream = tensor index */
    SM_RNG_DROPOUT = 2,  /* dropout: step = training step, stream = dropout site */
    SM_RNG_SHUFFLE = 3,  /* shuffling: step = epoch, stream 0 */
    SM_RNG_DATA = 4,     /* synthetic data (demo, tests) */
    SM_RNG_TUNE = 5      /* selfmm-cli tune's draws: step = trial, stream = attempt */
} sm_rng_purpose;

typedef struct sm_rng_key {
    uint32_t key[2];     /* the seed */
    uint32_t ctr[3];     /* stream, step low, step high | purpose << 28 */
} sm_rng_key;

sm_rng_key sm_rng_make(uint64_t seed, sm_rng_purpose purpose, uint64_t step, uint32_t stream);
/* Four 32-bit random words for block `block` of the key's sequence. */
void sm_rng_block(const sm_rng_key *k, uint32_t block, uint32_t out[4]);

/* Uniform in [0, 1) with 24 random bits, for element i (block i/4, word i%4). */
float sm_rng_uniform(const sm_rng_key *k, uint64_t i);
/* Fill n uniforms [0, 1) starting at element 0. */
void sm_rng_uniform_fill(const sm_rng_key *k, float *out, int64_t n);
/* n draws of normal(mean, std) (Box-Muller, double internally). */
void sm_rng_normal_fill(const sm_rng_key *k, float *out, int64_t n, double mean, double std);
/* n draws of uniform(lo, hi). */
void sm_rng_range_fill(const sm_rng_key *k, float *out, int64_t n, double lo, double hi);
/* A uniformly random permutation of 0..n-1 (Fisher-Yates driven by the key). */
void sm_rng_permutation(const sm_rng_key *k, int *perm, int n);

#endif
