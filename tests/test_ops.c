/* test_ops.c -- properties of the op kernels that neither PyTorch nor finite
 * differences pin down: accuracy of the vectorised exp / normal CDF over their whole
 * range, and the dropout masks (equal to core/rng.c's numbers, reproducible,
 * independent of the thread count, of the right density). */
#include "harness.h"

#include "core/rng.h"
#include "nn/ops.h"
#include "nn/simd_math.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

TEST(expf_accuracy)
{
    double worst = 0;
    for (double x = -87.0; x <= 88.0; x += 0.001) {
        float xf = (float)x;
        double want = exp((double)xf), got = sm_expf(xf);
        worst = fmax(worst, fabs(got - want) / want);
    }
    printf("# sm_expf worst relative error %.3g\n", worst);
    CHECK(worst < 2e-7);
    CHECK(sm_expf(-100.0f) == 0.0f);
    CHECK(sm_expf(-10000.0f) == 0.0f); /* masked attention keys */
    CHECK(sm_expf(0.0f) == 1.0f);
}

TEST(phi_accuracy)
{
    /* Phi(x) = 0.5 erfc(-x / sqrt 2) and the density, relative to double values,
     * from far in the left tail (Phi ~ 1e-33) to where Phi rounds to 1 */
    double w_phi = 0, w_pdf = 0;
    for (double x = -12.0; x <= 12.0; x += 0.0007) {
        float xf = (float)x;
        double want = 0.5 * erfc(-(double)xf / sqrt(2.0));
        w_phi = fmax(w_phi, fabs(sm_phi(xf) - want) / want);
        double wp = exp(-0.5 * (double)xf * xf) / sqrt(2 * M_PI);
        w_pdf = fmax(w_pdf, fabs(sm_normal_pdf(xf) - wp) / wp);
    }
    printf("# sm_phi worst relative error %.3g, sm_normal_pdf %.3g\n", w_phi, w_pdf);
    CHECK(w_phi < 5e-7);
    CHECK(w_pdf < 3e-7);
    CHECK(sm_phi(40.0f) == 1.0f);
    CHECK(sm_phi(-40.0f) == 0.0f);
}

TEST(phi_pdf16_accuracy)
{
    /* bf16 mode's Phi and density: relative error in the left tail and in the
     * density, absolute in Phi, far below bf16's 2^-9 */
    double w_rel = 0, w_abs = 0, w_pdf = 0;
    for (double x = -12.0; x <= 12.0; x += 0.0007) {
        float xf = (float)x, pdf;
        double want = 0.5 * erfc(-(double)xf / sqrt(2.0));
        double got = sm_phi_pdf16(xf, &pdf);
        if (xf <= 0) w_rel = fmax(w_rel, fabs(got - want) / want);
        w_abs = fmax(w_abs, fabs(got - want));
        double wp = exp(-0.5 * (double)xf * xf) / sqrt(2 * M_PI);
        w_pdf = fmax(w_pdf, fabs(pdf - wp) / wp);
    }
    printf("# sm_phi_pdf16 worst relative error %.3g (x <= 0), absolute %.3g, density %.3g\n", w_rel, w_abs, w_pdf);
    CHECK(w_rel < 3e-5);
    CHECK(w_abs < 2e-5);
    CHECK(w_pdf < 3e-7);
    float pdf;
    CHECK(sm_phi_pdf16(40.0f, &pdf) == 1.0f && pdf == 0.0f);
    CHECK(sm_phi_pdf16(-40.0f, &pdf) == 0.0f);
    volatile float nan_ = NAN;
    CHECK(isnan(sm_phi_pdf16(nan_, &pdf)) && isnan(pdf));
}

TEST(dropout_mask_is_the_rng)
{
    const int B = 3;
    const int64_t per = 1003; /* not a multiple of 4: the scalar tail too */
    const float p = 0.3f;
    uint8_t *m = malloc((size_t)B * per);
    sm_dropout_mask(m, B, per, p, 77, 12, 41);
    int64_t kept = 0;
    for (int b = 0; b < B; b++) {
        sm_rng_key k = sm_rng_make(77, SM_RNG_DROPOUT, 12, (41u << 16) | (uint32_t)b);
        for (int64_t j = 0; j < per; j++) {
            int want = sm_rng_uniform(&k, (uint64_t)j) < 1.0f - p;
            if (m[b * per + j] != want) {
                h_failf(__FILE__, __LINE__, "sample %d element %lld: mask %d, rng says %d", b, (long long)j,
                        m[b * per + j], want);
                b = B;
                break;
            }
            kept += want;
        }
    }
    free(m);
    CHECK(kept > 0);
}

TEST(dropout_mask_reproducible_and_thread_independent)
{
    const int B = 16;
    const int64_t per = 39 * 768, n = B * per;
    uint8_t *a = malloc((size_t)n), *b = malloc((size_t)n), *c = malloc((size_t)n);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    sm_dropout_mask(a, B, per, 0.1f, 1111, 5, 7);
    omp_set_num_threads(2);
    sm_dropout_mask(b, B, per, 0.1f, 1111, 5, 7);
    omp_set_num_threads(saved);
    CHECK(memcmp(a, b, (size_t)n) == 0);
    /* a sample's mask does not depend on the batch it sits in */
    sm_dropout_mask(c, 1, per, 0.1f, 1111, 5, 7);
    CHECK(memcmp(a, c, (size_t)per) == 0);
    /* another step, site or seed gives another mask */
    sm_dropout_mask(c, B, per, 0.1f, 1111, 6, 7);
    CHECK(memcmp(a, c, (size_t)n) != 0);
    sm_dropout_mask(c, B, per, 0.1f, 1111, 5, 8);
    CHECK(memcmp(a, c, (size_t)n) != 0);
    sm_dropout_mask(c, B, per, 0.1f, 1112, 5, 7);
    CHECK(memcmp(a, c, (size_t)n) != 0);
    /* density: keep probability 0.9 within 5 standard deviations */
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) kept += a[i];
    double frac = (double)kept / (double)n, sd = sqrt(0.9 * 0.1 / (double)n);
    CHECK_MSG(fabs(frac - 0.9) < 5 * sd, "kept fraction %.5f", frac);
    free(a), free(b), free(c);
}

TEST(dropout_apply_semantics)
{
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8], d[8] = {0};
    uint8_t m[8] = {1, 0, 1, 1, 0, 1, 1, 1};
    float s = sm_dropout_scale(0.2f);
    CHECK(s == 1.0f / (1.0f - 0.2f));
    sm_dropout_forward(y, x, m, 0.2f, 8);
    for (int i = 0; i < 8; i++) CHECK(y[i] == (m[i] ? x[i] * s : 0.0f));
    sm_dropout_backward(d, x, m, 0.2f, 8);
    for (int i = 0; i < 8; i++) CHECK(d[i] == (m[i] ? x[i] * s : 0.0f));
    /* p = 0: identity, no mask */
    sm_dropout_forward(y, x, NULL, 0.0f, 8);
    CHECK(memcmp(x, y, sizeof x) == 0);
}

/* A diverged activation must come out as NaN, not through undefined behaviour:
 * the exponent was once built by converting a float to int, undefined for NaN
 * (make ubsan stops on it). volatile keeps the compiler from folding the calls. */
TEST(nan_in_nan_out)
{
    volatile float nan_ = NAN, inf_ = INFINITY;
    CHECK(isnan(sm_expf(nan_)));
    CHECK(isnan(sm_phi(nan_)));
    CHECK(isnan(sm_normal_pdf(nan_)));
    CHECK(isnan(sm_phi(inf_)));
    CHECK(isnan(sm_phi(-inf_)));
    CHECK(sm_expf(-inf_) == 0.0f);
    float x[4] = {0.5f, NAN, -1.0f, 2.0f}, y[4], p[4];
    sm_gelu_forward(y, x, 4);
    sm_softmax_forward(p, x, 1, 4);
    CHECK(isnan(y[1]) && !isnan(y[0]) && !isnan(y[3]));
    CHECK(isnan(p[0]) && isnan(p[3]));
}

int main(void)
{
    RUN(expf_accuracy);
    RUN(phi_accuracy);
    RUN(phi_pdf16_accuracy);
    RUN(nan_in_nan_out);
    RUN(dropout_mask_is_the_rng);
    RUN(dropout_mask_reproducible_and_thread_independent);
    RUN(dropout_apply_semantics);
    return h_finish();
}
