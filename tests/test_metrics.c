/* test_metrics.c -- the metrics of SPEC 3 against hand-checked cases and against
 * NumPy + scikit-learn (tools/gen_metrics_fixture.py), for both reference variants. */
#include "harness.h"

#include "support/fixture.h"

static double get(const selfmm_metrics *m, const char *name)
{
    double v = -12345.0;
    if (selfmm_metrics_get(m, name, &v) != SELFMM_OK) printf("# metric %s missing\n", name);
    return v;
}

TEST(names_and_order)
{
    const float p[3] = {0.1f, -0.5f, 0.9f}, t[3] = {0.2f, -0.4f, 0.3f};
    selfmm_metrics m;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p, t, 3, &m, &e), e.message);
    const char *sims[] = {"Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr"};
    CHECK_INT(m.count, 6);
    for (int i = 0; i < 6 && i < m.count; i++) CHECK_STR(m.name[i], sims[i]);
    const char *mosi[] = {"Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score",
                          "Mult_acc_5", "Mult_acc_7", "MAE", "Corr"};
    for (int kind = SELFMM_DATASET_MOSI; kind <= SELFMM_DATASET_MOSEI; kind++) {
        REQUIRE_OK(selfmm_metrics_compute((selfmm_dataset_kind)kind, p, t, 3, &m, &e), e.message);
        CHECK_INT(m.count, 8);
        for (int i = 0; i < 8 && i < m.count; i++) CHECK_STR(m.name[i], mosi[i]);
    }
    double v;
    CHECK_OK(selfmm_metrics_get(&m, "MAE", &v), "");
    CHECK_CLOSE(v, (0.1 + 0.1 + 0.6) / 3, 1e-6, 0);
    CHECK_STATUS(selfmm_metrics_get(&m, "Acc", &v), SELFMM_ERR_NOT_FOUND);
    CHECK_STATUS(selfmm_metrics_get(NULL, "MAE", &v), SELFMM_ERR_INVALID_ARG);
}

/* np.round is half to even: round(0.5) = 0, round(1.5) = 2, round(-0.5) = -0 = 0,
 * round(2.5) = 2. Rounding half away from zero would match 1 of the 4. */
TEST(half_to_even_rounding)
{
    const float p[4] = {0.5f, 1.5f, -0.5f, 2.5f}, t[4] = {0.0f, 2.0f, 0.0f, 2.0f};
    selfmm_metrics m;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_MOSI, p, t, 4, &m, &e), e.message);
    CHECK(get(&m, "Mult_acc_7") == 1.0);
    CHECK(get(&m, "Mult_acc_5") == 1.0);
    /* clip before rounding: 3.5 -> 3 (acc_7) and -> 2 (acc_5); -2.6 -> -2 / -3 */
    const float p2[2] = {3.5f, -2.6f}, t2[2] = {3.0f, -3.0f};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_MOSEI, p2, t2, 2, &m, &e), e.message);
    CHECK(get(&m, "Mult_acc_7") == 1.0);
    CHECK(get(&m, "Mult_acc_5") == 1.0); /* both clip to 2 and -2 */
}

/* SIMS bins compare in float32: 0.1f is in (-0.1, 0.1], the next float up is not;
 * 0 is in the negative class [-1, 0]; -0.7f closes (-1, -0.7]. */
TEST(sims_bin_edges)
{
    const float up = nextafterf(0.1f, 1.0f);
    selfmm_metrics m;
    selfmm_error e = {0};
    const float p1[1] = {up}, t1[1] = {0.1f};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p1, t1, 1, &m, &e), e.message);
    CHECK(get(&m, "Mult_acc_2") == 1.0);
    CHECK(get(&m, "Mult_acc_3") == 0.0);
    CHECK(get(&m, "Mult_acc_5") == 0.0);
    CHECK(get(&m, "MAE") == (double)(up - 0.1f));
    CHECK(isnan(get(&m, "Corr"))); /* n = 1 */
    const float p2[1] = {0.0f}, t2[1] = {-0.3f};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p2, t2, 1, &m, &e), e.message);
    CHECK(get(&m, "Mult_acc_2") == 1.0); /* 0 is negative for SIMS */
    CHECK(get(&m, "Mult_acc_3") == 0.0);
    const float p3[2] = {-0.7f, nextafterf(-0.7f, 0.0f)}, t3[2] = {-1.0f, -0.5f};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p3, t3, 2, &m, &e), e.message);
    CHECK(get(&m, "Mult_acc_5") == 1.0);
    /* values beyond [-1, 1] are clipped first: MAE of 3 vs 1 is 0 */
    const float p4[2] = {3.0f, -7.0f}, t4[2] = {1.0f, -1.0f};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p4, t4, 2, &m, &e), e.message);
    CHECK(get(&m, "MAE") == 0.0);
    CHECK(get(&m, "Mult_acc_5") == 1.0);
    CHECK_CLOSE(get(&m, "Corr"), 1.0, 1e-15, 0);
}

/* All predictions in one class. truth >= 0 is [T, F, T, F], pred all T.
 * Self-MM f1_score(pred, truth): class T has p = 2/2, r = 2/4, F1 2/3, weight 4
 * (its count in pred); class F weight 0 -> 2/3. MMSA f1_score(truth, pred): class T
 * p = 2/4, r = 1, F1 2/3, weight 2; class F F1 0, weight 2 -> 1/3. */
TEST(one_class_predictions_and_f1_weights)
{
    const float p[4] = {1.0f, 2.0f, 3.0f, 0.5f}, t[4] = {1.0f, -1.0f, 2.0f, -2.0f};
    selfmm_metrics m;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_MOSI, p, t, 4, &m, &e), e.message);
    CHECK(get(&m, "Has0_acc_2") == 0.5);
    CHECK_CLOSE(get(&m, "Has0_F1_score"), 2.0 / 3.0, 1e-15, 0);
    CHECK_CLOSE(get(&m, "Non0_F1_score"), 2.0 / 3.0, 1e-15, 0);
    REQUIRE_OK(selfmm_metrics_compute_ex(SELFMM_DATASET_MOSI, 1, p, t, 4, &m, &e), e.message);
    CHECK(get(&m, "Has0_acc_2") == 0.5);
    CHECK_CLOSE(get(&m, "Has0_F1_score"), 1.0 / 3.0, 1e-15, 0);
    /* everything right in one class: F1 1 in both variants */
    const float q[3] = {0.2f, 0.4f, 0.9f};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, q, q, 3, &m, &e), e.message);
    CHECK(get(&m, "F1_score") == 1.0);
    CHECK(get(&m, "Mult_acc_2") == 1.0);
}

TEST(constant_inputs_give_nan_corr)
{
    const float p[5] = {0.3f, 0.3f, 0.3f, 0.3f, 0.3f}, t[5] = {0.1f, -0.2f, 0.5f, 0.9f, -1.0f};
    selfmm_metrics m;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p, t, 5, &m, &e), e.message);
    CHECK(isnan(get(&m, "Corr")));
    CHECK(!isnan(get(&m, "MAE")));
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_MOSI, t, p, 5, &m, &e), e.message);
    CHECK(isnan(get(&m, "Corr")));
    /* all truths 0: the non-zero subset is empty (the reference crashes) */
    const float z[3] = {0.0f, -0.0f, 0.0f}, q[3] = {1.0f, -1.0f, 0.0f};
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_MOSEI, q, z, 3, &m, &e), e.message);
    CHECK(isnan(get(&m, "Non0_acc_2")));
    CHECK(isnan(get(&m, "Non0_F1_score")));
    CHECK_CLOSE(get(&m, "Has0_acc_2"), 2.0 / 3.0, 1e-15, 0); /* -1 < 0 is the only miss */
}

TEST(bad_input)
{
    float p[3] = {0.1f, 0.2f, NAN}, t[3] = {0.0f, 0.0f, 0.0f};
    selfmm_metrics m;
    selfmm_error e = {0};
    CHECK_STATUS(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p, t, 3, &m, &e), SELFMM_ERR_DATA);
    CHECK_CONTAINS(e.message, "prediction 2");
    p[2] = 0.0f, t[1] = INFINITY;
    CHECK_STATUS(selfmm_metrics_compute(SELFMM_DATASET_MOSI, p, t, 3, &m, &e), SELFMM_ERR_DATA);
    CHECK_CONTAINS(e.message, "truth 1");
    CHECK_STATUS(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p, t, 0, &m, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_metrics_compute((selfmm_dataset_kind)7, p, t, 3, &m, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_metrics_compute(SELFMM_DATASET_SIMS, NULL, t, 3, &m, NULL), SELFMM_ERR_INVALID_ARG);
}

/* Same value: equal, or both NaN. Corr goes through BLAS in NumPy (another
 * summation order): within 1e-12. Everything else must be identical. */
static double h_corr_max;
static int same(double got, double want, int is_corr)
{
    if (isnan(want)) return isnan(got);
    if (is_corr && fabs(got - want) > h_corr_max) h_corr_max = fabs(got - want);
    return is_corr ? fabs(got - want) <= 1e-12 : got == want;
}

TEST(against_numpy_sklearn)
{
    fx_file f;
    REQUIRE(fx_load("tests/fixtures/train/metrics.smfx", &f) == 0);
    int ncases = 0, nvalues = 0;
    for (int c = 0;; c++) {
        char key[64];
        snprintf(key, sizeof key, "%d.kind", c);
        const fx_tensor *kind = fx_get(&f, key);
        if (!kind) break;
        snprintf(key, sizeof key, "%d.pred", c);
        const fx_tensor *pred = fx_get(&f, key);
        snprintf(key, sizeof key, "%d.truth", c);
        const fx_tensor *truth = fx_get(&f, key);
        REQUIRE(pred && truth && pred->numel == truth->numel);
        selfmm_dataset_kind k = kind->f64[0] == 0 ? SELFMM_DATASET_SIMS : SELFMM_DATASET_MOSI;
        for (int variant = 0; variant < 2; variant++) {
            snprintf(key, sizeof key, "%d.%s", c, variant ? "mmsa" : "selfmm");
            const fx_tensor *want = fx_get(&f, key);
            REQUIRE(want);
            selfmm_metrics m;
            selfmm_error e = {0};
            REQUIRE_OK(selfmm_metrics_compute_ex(k, variant, pred->f32, truth->f32, (int)pred->numel, &m, &e),
                       e.message);
            REQUIRE(m.count == want->numel);
            for (int i = 0; i < m.count; i++, nvalues++) {
                int corr = strcmp(m.name[i], "Corr") == 0;
                CHECK_MSG(same(m.value[i], want->f64[i], corr),
                          "case %d (%s, n %lld, %s): %s = %.17g, reference %.17g", c,
                          k == SELFMM_DATASET_SIMS ? "sims" : "mosi", (long long)pred->numel,
                          variant ? "mmsa" : "selfmm", m.name[i], m.value[i], want->f64[i]);
            }
        }
        ncases++;
    }
    CHECK(ncases >= 20);
    printf("# %d cases, %d values compared; largest Corr difference %.3g\n", ncases, nvalues, h_corr_max);
    fx_free(&f);
}

int main(void)
{
    RUN(names_and_order);
    RUN(half_to_even_rounding);
    RUN(sims_bin_edges);
    RUN(one_class_predictions_and_f1_weights);
    RUN(constant_inputs_give_nan_corr);
    RUN(bad_input);
    RUN(against_numpy_sklearn);
    return h_finish();
}
