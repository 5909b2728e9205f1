/* crc32.c -- see crc32.h.
 *
 * Folding with carry-less multiplication (Gopal et al., "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction", Intel, 2009): the running
 * remainder is kept in 128-bit lanes; moving a lane D bits further along the
 * message multiplies its two 64-bit halves by x^(D+32) and x^(D-32) mod P (the
 * constants below, bit-reflected as the CRC is), after which it is XORed with the
 * data found there. At the end the lanes are folded into one, reduced to 64 bits
 * and then to 32 by Barrett reduction. Lengths below one block and the tail past
 * the last 16 bytes go through zlib. tests/test_core.c compares with zlib's
 * crc32 over every length up to a few blocks, at every alignment. */
#include "core/crc32.h"

#include <zlib.h>

#if defined(__PCLMUL__) && defined(__SSE4_1__)
#include <immintrin.h>
#define SM_CRC_CLMUL 1
#endif

static uint32_t crc_zlib(uint32_t crc, const unsigned char *p, size_t n)
{
    return (uint32_t)crc32_z((uLong)crc, p, (z_size_t)n);
}

#ifdef SM_CRC_CLMUL
/* x^(D+32) and x^(D-32) mod P for D = 512 (4 lanes of 128) and 128 (one lane). */
#define K544 0x154442bd4ull
#define K480 0x1c6e41596ull
#define K160 0x1751997d0ull
#define K96 0x0ccaa009eull
#define K64 0x163cd6124ull     /* x^64 mod P: 128 -> 64 bits */
#define P_REFL 0x1db710641ull  /* P, bit-reflected */
#define MU_REFL 0x1f7011641ull /* floor(x^64 / P), bit-reflected */

/* a lane moved D bits on, then XORed with the data there */
static inline __m128i fold128(__m128i x, __m128i k, __m128i data)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)),
                         data);
}

#if defined(__VPCLMULQDQ__) && defined(__AVX512F__)
/* x^(D+32) and x^(D-32) mod P for D = 2048 (four registers of four lanes). */
#define K2080 0x11542778aull
#define K2016 0x1322d1430ull

static inline __m512i fold512(__m512i x, __m512i k, __m512i data)
{
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                     _mm512_clmulepi64_epi128(x, k, 0x11), data, 0x96);
}

/* 256 bytes or more: four 64-byte registers folded over the message, then into
 * one, which leaves four 128-bit lanes for the code below. */
static const unsigned char *wide(const unsigned char *p, size_t *n, uint32_t crc, __m128i x[4])
{
    __m512i z0 = _mm512_loadu_si512((const void *)p), z1 = _mm512_loadu_si512((const void *)(p + 64));
    __m512i z2 = _mm512_loadu_si512((const void *)(p + 128)), z3 = _mm512_loadu_si512((const void *)(p + 192));
    z0 = _mm512_xor_si512(z0, _mm512_castsi128_si512(_mm_cvtsi32_si128((int)crc)));
    p += 256, *n -= 256;
    const __m512i k4 = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)K2016, (long long)K2080));
    for (; *n >= 256; p += 256, *n -= 256) {
        z0 = fold512(z0, k4, _mm512_loadu_si512((const void *)p));
        z1 = fold512(z1, k4, _mm512_loadu_si512((const void *)(p + 64)));
        z2 = fold512(z2, k4, _mm512_loadu_si512((const void *)(p + 128)));
        z3 = fold512(z3, k4, _mm512_loadu_si512((const void *)(p + 192)));
    }
    const __m512i k1 = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)K480, (long long)K544));
    z0 = fold512(z0, k1, z1);
    z0 = fold512(z0, k1, z2);
    z0 = fold512(z0, k1, z3);
    for (; *n >= 64; p += 64, *n -= 64) z0 = fold512(z0, k1, _mm512_loadu_si512((const void *)p));
    x[0] = _mm512_extracti32x4_epi32(z0, 0), x[1] = _mm512_extracti32x4_epi32(z0, 1);
    x[2] = _mm512_extracti32x4_epi32(z0, 2), x[3] = _mm512_extracti32x4_epi32(z0, 3);
    return p;
}
#endif

/* n >= 64 bytes, a multiple of 16; crc and the result are the raw (not inverted)
 * remainder. */
static uint32_t crc_clmul(uint32_t crc, const unsigned char *p, size_t n)
{
    __m128i x[4];
#if defined(__VPCLMULQDQ__) && defined(__AVX512F__)
    if (n >= 256) {
        p = wide(p, &n, crc, x);
    } else
#endif
    {
        for (int i = 0; i < 4; i++) x[i] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        x[0] = _mm_xor_si128(x[0], _mm_cvtsi32_si128((int)crc));
        p += 64, n -= 64;
        const __m128i k4 = _mm_set_epi64x((long long)K480, (long long)K544);
        for (; n >= 64; p += 64, n -= 64)
            for (int i = 0; i < 4; i++)
                x[i] = fold128(x[i], k4, _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)));
    }
    const __m128i k1 = _mm_set_epi64x((long long)K96, (long long)K160);
    __m128i a = fold128(x[0], k1, x[1]);
    a = fold128(a, k1, x[2]);
    a = fold128(a, k1, x[3]);
    for (; n >= 16; p += 16, n -= 16) a = fold128(a, k1, _mm_loadu_si128((const __m128i *)(const void *)p));
    /* 128 -> 64 bits */
    const __m128i lo32 = _mm_setr_epi32(~0, 0, ~0, 0);
    a = _mm_xor_si128(_mm_srli_si128(a, 8), _mm_clmulepi64_si128(a, k1, 0x10));
    a = _mm_xor_si128(_mm_srli_si128(a, 4),
                      _mm_clmulepi64_si128(_mm_and_si128(a, lo32), _mm_set_epi64x(0, (long long)K64), 0x00));
    /* Barrett reduction to 32 bits */
    const __m128i pm = _mm_set_epi64x((long long)MU_REFL, (long long)P_REFL);
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(a, lo32), pm, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, lo32), pm, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(a, t), 1);
}
#endif

uint32_t sm_crc32(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
#ifdef SM_CRC_CLMUL
    if (n >= 64) {
        size_t body = n & ~(size_t)15;
        crc = ~crc_clmul(~crc, p, body);
        p += body, n -= body;
    }
#endif
    return n ? crc_zlib(crc, p, n) : crc;
}

uint32_t sm_crc32_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b)
{
    return (uint32_t)crc32_combine((uLong)crc_a, (uLong)crc_b, (z_off_t)len_b);
}
