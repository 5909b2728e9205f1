/* simd_math.h -- exp and the normal CDF in a form gcc vectorises inside
 * `#pragma omp simd` loops (glibc's expf/erff are only vectorised under -ffast-math,
 * and a scalar erff call per element made GELU a tenth of a BERT step).
 *
 * Accuracy (checked in tests/test_ops.c against double references):
 *   sm_expf   ~2 ulp on [-87.3, 88]; 0 below -87.33 (no subnormals); arguments above
 *             88 are clamped to 88 (our callers pass x <= 0: softmax, GELU, erfc).
 *   sm_phi    relative error < 5e-7 everywhere (Numerical Recipes' erfc fit, 1.2e-7
 *             fractional, evaluated in float). We compute GELU as x * Phi(x) with
 *             Phi(x) = 0.5 * erfc(-x / sqrt 2): unlike 0.5 * (1 + erf(x / sqrt 2)) in
 *             float, this keeps full relative precision for negative x. */
#ifndef SM_NN_SIMD_MATH_H
#define SM_NN_SIMD_MATH_H

#include <math.h>
#include <stdint.h>

static inline float sm_expf(float x)
{
    /* exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln2 / 2, Cody-Waite split. */
    const float lo = -87.33654475f, hi = 88.0f;
    int under = x < lo;
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    /* round to nearest by the 1.5 * 2^23 trick (floorf does not vectorise) */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;         /* ln 2 high part (exact in float) */
    r = r - n * -2.12194440e-4f;            /* ln 2 low part */
    /* minimax polynomial for exp(r) on [-ln2/2, ln2/2] (cephes expf) */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale; /* 2^n built in the exponent bits */
    scale.i = ((int32_t)n + 127) << 23;
    float y = p * scale.f;
    return under ? 0.0f : y;
}

/* erfc(z) for z >= 0 (Numerical Recipes erfcc, fractional error < 1.2e-7). */
static inline float sm_erfc_pos(float z)
{
    float t = 1.0f / (1.0f + 0.5f * z);
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
    return t * sm_expf(p - z * z);
}

/* Phi(x) = P(N(0,1) <= x) = 0.5 * erfc(-x / sqrt 2). */
static inline float sm_phi(float x)
{
    float z = x * -0.70710678118654752f;
    float e = sm_erfc_pos(fabsf(z));
    return z >= 0.0f ? 0.5f * e : 1.0f - 0.5f * e;
}

/* phi(x) = exp(-x^2 / 2) / sqrt(2 pi), the normal density. */
static inline float sm_normal_pdf(float x)
{
    return 0.39894228040143268f * sm_expf(-0.5f * x * x);
}

#endif
