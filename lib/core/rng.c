/* rng.c -- Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC'11) and the few distributions the library draws from. */
#include "core/rng.h"

#include "core/error.h"

#include <math.h>

sm_rng_key sm_rng_make(uint64_t seed, sm_rng_purpose purpose, uint64_t step, uint32_t stream)
{
    sm_rng_key k;
    k.key[0] = (uint32_t)seed;
    k.key[1] = (uint32_t)(seed >> 32);
    k.ctr[0] = stream;
    k.ctr[1] = (uint32_t)step;
    k.ctr[2] = ((uint32_t)(step >> 32) & 0x0FFFFFFFu) | ((uint32_t)purpose << 28);
    return k;
}

void sm_rng_block(const sm_rng_key *k, uint32_t block, uint32_t out[4])
{
    uint32_t c0 = block, c1 = k->ctr[0], c2 = k->ctr[1], c3 = k->ctr[2];
    uint32_t k0 = k->key[0], k1 = k->key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)SM_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)SM_PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += SM_PHILOX_W0;
        k1 += SM_PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

static inline float u32_to_unit(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

float sm_rng_uniform(const sm_rng_key *k, uint64_t i)
{
    uint32_t w[4];
    sm_rng_block(k, (uint32_t)(i >> 2), w);
    return u32_to_unit(w[i & 3]);
}

void sm_rng_uniform_fill(const sm_rng_key *k, float *out, int64_t n)
{
    uint32_t w[4];
    for (int64_t i = 0; i < n; i += 4) {
        sm_rng_block(k, (uint32_t)(i >> 2), w);
        for (int j = 0; j < 4 && i + j < n; j++) out[i + j] = u32_to_unit(w[j]);
    }
}

void sm_rng_normal_fill(const sm_rng_key *k, float *out, int64_t n, double mean, double std)
{
    uint32_t w[4];
    for (int64_t i = 0; i < n; i += 2) {
        sm_rng_block(k, (uint32_t)(i >> 1), w);
        /* 53-bit uniforms from two words each; u1 in (0, 1] keeps log finite. */
        double u1 = ((double)(((uint64_t)w[0] << 21) ^ (w[1] >> 11)) + 1.0) / 9007199254740992.0;
        double u2 = (double)(((uint64_t)w[2] << 21) ^ (w[3] >> 11)) / 9007199254740992.0;
        double r = sqrt(-2.0 * log(u1));
        out[i] = (float)(mean + std * r * cos(2.0 * M_PI * u2));
        if (i + 1 < n) out[i + 1] = (float)(mean + std * r * sin(2.0 * M_PI * u2));
    }
}

void sm_rng_range_fill(const sm_rng_key *k, float *out, int64_t n, double lo, double hi)
{
    uint32_t w[4];
    for (int64_t i = 0; i < n; i += 4) {
        sm_rng_block(k, (uint32_t)(i >> 2), w);
        for (int j = 0; j < 4 && i + j < n; j++)
            out[i + j] = (float)(lo + (hi - lo) * ((double)w[j] / 4294967296.0));
    }
}

void sm_rng_permutation(const sm_rng_key *k, int *perm, int n)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    uint32_t w[4];
    for (int i = n - 1; i > 0; i--) {
        sm_rng_block(k, (uint32_t)i, w);
        uint64_t r = ((uint64_t)w[0] << 32) | w[1];
        int j = (int)(r % (uint64_t)(i + 1)); /* bias < 2^-32 for n < 2^31 */
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

#include "selfmm.h"

SELFMM_API selfmm_status selfmm_permutation(uint64_t seed, uint64_t epoch, int *perm, int n,
                                            selfmm_error *err)
{
    if (!perm || n < 0)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "permutation: %s", !perm ? "NULL array" : "negative size");
    sm_rng_key k = sm_rng_make(seed, SM_RNG_SHUFFLE, epoch, 0);
    sm_rng_permutation(&k, perm, n);
    return SELFMM_OK;
}
