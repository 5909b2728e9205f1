/* simd_math.h -- exp and the normal CDF in a form gcc vectorises inside
 * `#pragma omp simd` loops (glibc's expf/erff are only vectorised under -ffast-math,
 * and a scalar erff call per element made GELU a tenth of a BERT step).
 *
 * Accuracy (checked in tests/test_ops.c against double references, whole range):
 *   sm_expf        relative 1e-7 on [-87.3, 88]; 0 below -87.33 (no subnormals);
 *                  arguments above 88 are clamped to 88 (our callers pass x <= 0:
 *                  softmax, GELU).
 *   sm_phi         relative 5e-7 everywhere: Numerical Recipes' erfc fit (1.2e-7
 *                  fractional) with the exponent -x^2/2 carried exactly (FMA). We
 *                  compute GELU as x * Phi(x) with Phi(x) = 0.5 * erfc(-x / sqrt 2):
 *                  unlike 0.5 * (1 + erf(x / sqrt 2)) in float, which is 0 below
 *                  x ~ -5.4, this keeps its relative precision for negative x.
 *   sm_normal_pdf  relative 3e-7 everywhere.
 * A NaN argument gives NaN (with no undefined behaviour on the way), and so does an
 * infinite one for sm_phi and sm_normal_pdf (its x^2 error term is inf - inf). */
#ifndef SM_NN_SIMD_MATH_H
#define SM_NN_SIMD_MATH_H

#include <math.h>
#include <stdint.h>

/* Inlined always: a call inside a simd loop stops the vectoriser. */
#define SM_SIMD_INLINE static inline __attribute__((always_inline))

/* exp(hi + lo), where lo carries bits that hi + lo would round away: callers that
 * form an argument as a large exact part plus a small correction (GELU's -x^2/2 with
 * its FMA rounding error) keep full precision. */
SM_SIMD_INLINE float sm_expf2(float hi, float lo)
{
    /* exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln2 / 2, Cody-Waite split. */
    const float lim_lo = -87.33654475f, lim_hi = 88.0f;
    float x = hi + lo;
    int under = x < lim_lo;
    int over = x > lim_hi;
    hi = under ? lim_lo : over ? lim_hi : hi;
    lo = under || over ? 0.0f : lo;
    x = hi + lo;
    /* round to nearest by the 1.5 * 2^23 trick (floorf does not vectorise): t's low
     * mantissa bits hold n + 2^22, so n is also read from t's bits below -- no
     * float-to-int conversion, which is undefined for NaN. */
    union { float f; uint32_t u; } t;
    t.f = x * 1.44269504088896341f + 12582912.0f;
    float n = t.f - 12582912.0f;
    float r = hi - n * 0.693359375f;        /* ln 2 high part: n * it is exact */
    r = r + lo;
    r = r - n * -2.12194440e-4f;            /* ln 2 low part */
    /* minimax polynomial for exp(r) on [-ln2/2, ln2/2] (cephes expf) */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^n built in the exponent bits: n + 127 = t's bits - bits(1.5 * 2^23) + 127,
     * in unsigned arithmetic (for a NaN x the bits are garbage, p is NaN anyway) */
    union { uint32_t u; float f; } scale;
    scale.u = (t.u - 0x4B400000u + 127u) << 23;
    float y = p * scale.f;
    return under ? 0.0f : y;
}

SM_SIMD_INLINE float sm_expf(float x) { return sm_expf2(x, 0.0f); }

/* Phi(x) = P(N(0,1) <= x) = 0.5 * erfc(-x / sqrt 2), with erfc(z) for z >= 0 from
 * Numerical Recipes' erfcc (fractional error < 1.2e-7): t * exp(P(t) - z^2),
 * t = 1 / (1 + z/2). z^2 = x^2 / 2 is taken from x exactly (FMA error term). */
SM_SIMD_INLINE float sm_phi(float x)
{
    float z = x * -0.70710678118654752f;
    float az = fabsf(z);
    float t = 1.0f / (1.0f + 0.5f * az);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    float xx = x * x, xe = fmaf(x, x, -xx); /* x^2 = xx + xe exactly */
    float e = t * sm_expf2(-0.5f * xx, p - 0.5f * xe);
    return z >= 0.0f ? 0.5f * e : 1.0f - 0.5f * e;
}

/* phi(x) = exp(-x^2 / 2) / sqrt(2 pi), the normal density. */
SM_SIMD_INLINE float sm_normal_pdf(float x)
{
    float xx = x * x, xe = fmaf(x, x, -xx);
    return 0.39894228040143268f * sm_expf2(-0.5f * xx, -0.5f * xe);
}

/* Phi(x) and phi(x) together, for bf16 mode only (the fp32 path keeps sm_phi): one
 * exp, E = exp(-x^2 / 2) (FMA error term as above), shared by both. With z = |x| / sqrt 2
 * and t = 1 / (1 + z/2), 0.5 * erfc(z) = 0.5 * t * R(t) * E, R(t) = erfc(z) exp(z^2) / t
 * a degree-7 polynomial fitted for relative error on t in (0, 1]: relative error
 * 1.5e-5 in the tail and in phi, absolute 1e-5 in Phi (checked in tests/test_ops.c),
 * against bf16's 2^-9 rounding. */
SM_SIMD_INLINE float sm_phi_pdf16(float x, float *pdf)
{
    float xx = x * x, xe = fmaf(x, x, -xx);
    float E = sm_expf2(-0.5f * xx, -0.5f * xe);
    float t = 1.0f / (1.0f + 0.35355339059327376f * fabsf(x));
    float r = 0.05885142832994461f;
    r = r * t - 0.13384239375591278f;
    r = r * t - 0.01466595008969307f;
    r = r * t + 0.11186008900403976f;
    r = r * t + 0.16501769423484802f;
    r = r * t + 0.2487305998802185f;
    r = r * t + 0.28196653723716736f;
    r = r * t + 0.2820970416069031f;
    float h = 0.5f * t * r * E; /* 0.5 erfc(|x| / sqrt 2) */
    *pdf = 0.39894228040143268f * E;
    return x <= 0.0f ? h : 1.0f - h;
}

#endif
