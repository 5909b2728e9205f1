/* dropout.c -- dropout masks from the counter-based generator, and their use.
 *
 * The mask generator is a vectorisable restatement of core/rng.c's Philox4x32-10
 * (sm_rng_block): same key, counters and word order, so mask element j of sample b
 * is exactly `sm_rng_uniform(&key_b, j) < 1 - p` (tests/test_ops.c checks this).
 * Doing it one scalar block at a time cost ~5 ms per BERT-sized mask; gcc turns the
 * loop below into AVX-512 code (vpmuludq for the 32x32->64 products). */
#include "nn/ops.h"

#include "core/rng.h"

#include <math.h>
#include <stddef.h>


float sm_dropout_scale(float p) { return 1.0f / (1.0f - p); }

/* One Philox round with round key (k0, k1), as sm_rng_block. */
#define PHILOX_ROUND(k0, k1)                                  \
    do {                                                      \
        uint64_t p0_ = (uint64_t)SM_PHILOX_M0 * c0;              \
        uint64_t p1_ = (uint64_t)SM_PHILOX_M1 * c2;              \
        uint32_t n0_ = (uint32_t)(p1_ >> 32) ^ c1 ^ (k0);     \
        uint32_t n2_ = (uint32_t)(p0_ >> 32) ^ c3 ^ (k1);     \
        c1 = (uint32_t)p1_;                                   \
        c3 = (uint32_t)p0_;                                   \
        c0 = n0_;                                             \
        c2 = n2_;                                             \
    } while (0)

/* Keep decisions for blocks [0, nblk) of one stream: 4 mask bytes per block. */
static void philox_keep(uint8_t *restrict mask, const sm_rng_key *k, uint32_t nblk, uint32_t thr)
{
    uint32_t k0[10], k1[10];
    k0[0] = k->key[0], k1[0] = k->key[1];
    for (int r = 1; r < 10; r++) k0[r] = k0[r - 1] + SM_PHILOX_W0, k1[r] = k1[r - 1] + SM_PHILOX_W1;
    const uint32_t s1 = k->ctr[0], s2 = k->ctr[1], s3 = k->ctr[2];
    const uint32_t a0 = k0[0], a1 = k0[1], a2 = k0[2], a3 = k0[3], a4 = k0[4], a5 = k0[5],
                   a6 = k0[6], a7 = k0[7], a8 = k0[8], a9 = k0[9];
    const uint32_t b0 = k1[0], b1 = k1[1], b2 = k1[2], b3 = k1[3], b4 = k1[4], b5 = k1[5],
                   b6 = k1[6], b7 = k1[7], b8 = k1[8], b9 = k1[9];
#pragma omp simd
    for (uint32_t b = 0; b < nblk; b++) {
        uint32_t c0 = b, c1 = s1, c2 = s2, c3 = s3;
        PHILOX_ROUND(a0, b0); PHILOX_ROUND(a1, b1); PHILOX_ROUND(a2, b2); PHILOX_ROUND(a3, b3);
        PHILOX_ROUND(a4, b4); PHILOX_ROUND(a5, b5); PHILOX_ROUND(a6, b6); PHILOX_ROUND(a7, b7);
        PHILOX_ROUND(a8, b8); PHILOX_ROUND(a9, b9);
        mask[4 * (size_t)b + 0] = (c0 >> 8) < thr;
        mask[4 * (size_t)b + 1] = (c1 >> 8) < thr;
        mask[4 * (size_t)b + 2] = (c2 >> 8) < thr;
        mask[4 * (size_t)b + 3] = (c3 >> 8) < thr;
    }
}

void sm_dropout_mask(uint8_t *mask, int B, int64_t per_sample, float p, uint64_t seed,
                     uint64_t step, uint32_t site)
{
    sm_dropout_mask_at(mask, B, 0, per_sample, p, seed, step, site);
}

void sm_dropout_mask_at(uint8_t *mask, int B, int first, int64_t per_sample, float p, uint64_t seed,
                        uint64_t step, uint32_t site)
{
    /* keep iff (w >> 8) * 2^-24 < q with q = 1 - p in float; (w >> 8) and q * 2^24
     * are exact, so this is (w >> 8) < ceil(q * 2^24). */
    float q = 1.0f - p;
    uint32_t thr = (uint32_t)ceilf(q * 16777216.0f);
    int64_t nfull = per_sample / 4;
#pragma omp parallel for schedule(static) if ((int64_t)B * per_sample > SM_PAR_MIN)
    for (int b = 0; b < B; b++) {
        sm_rng_key k = sm_rng_make(seed, SM_RNG_DROPOUT, step, (site << 16) | (uint32_t)(first + b));
        uint8_t *m = mask + (size_t)b * (size_t)per_sample;
        philox_keep(m, &k, (uint32_t)nfull, thr);
        if (per_sample % 4) {
            uint32_t w[4];
            sm_rng_block(&k, (uint32_t)nfull, w);
            for (int64_t j = nfull * 4; j < per_sample; j++) m[j] = (w[j & 3] >> 8) < thr;
        }
    }
}

void sm_dropout_forward(float *out, const float *inp, const uint8_t *mask, float p, int64_t n)
{
    if (!mask) {
        if (out != inp)
#pragma omp parallel for simd schedule(static) if (n > SM_PAR_MIN)
            for (int64_t i = 0; i < n; i++) out[i] = inp[i];
        return;
    }
    float scale = sm_dropout_scale(p);
#pragma omp parallel for simd schedule(static) if (n > SM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = inp[i] * (mask[i] ? scale : 0.0f);
}

void sm_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, float p, int64_t n)
{
    float scale = mask ? sm_dropout_scale(p) : 1.0f;
#pragma omp parallel for simd schedule(static) if (n > SM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dinp[i] += dout[i] * (!mask || mask[i] ? scale : 0.0f);
}
