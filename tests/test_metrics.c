/* test_metrics.c -- the metrics (docs/MODEL.md §4) against hand-checked cases and
 * against the reference's own utils/metricsTop.py (tools/gen_reference_metrics.py):
 * thuiar/Self-MM today, before its 2021-04 F1 fix, and MMSA; the roundings it
 * applies; run.py's seeds summary; and metricsTop.py on the CSV `selfmm-cli predict`
 * wrote for trained models. */
#include "harness.h"

#include "core/round.h"
#include "support/fixture.h"
#include "support/testfile.h"

#include <cJSON.h>

/* Unrounded and unchanged: the metric values themselves (F1 order explicit). */
#define RAW_PRED_WEIGHTED 0, -1
#define RAW_TRUTH_WEIGHTED SELFMM_METRICS_F1_TRUTH_WEIGHTED, -1

static double get(const selfmm_metrics *m, const char *name)
{
    double v = -12345.0;
    if (selfmm_metrics_get(m, name, &v, NULL) != SELFMM_OK) printf("# metric %s missing\n", name);
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
    CHECK_OK(selfmm_metrics_get(&m, "MAE", &v, &e), e.message);
    /* MOSEI: rounded to 4 decimals, and Self-MM's MAE is a float32 (np.mean of float32
     * arrays) rounded as one: the float32 nearest 0.2667 ... */
    CHECK(v == (double)0.2667f);
    CHECK_CLOSE(m.raw[6], (0.1 + 0.1 + 0.6) / 3, 1e-6, 0); /* ... raw[] is not */
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_SIMS, p, t, 3, &m, &e), e.message);
    for (int i = 0; i < m.count; i++) /* SIMS: not rounded */
        CHECK_MSG(memcmp(&m.value[i], &m.raw[i], sizeof(double)) == 0, "%s rounded", m.name[i]);
    CHECK_STATUS(selfmm_metrics_get(&m, "Acc", &v, &e), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(e.message, "Acc");
    CHECK_STATUS(selfmm_metrics_get(NULL, "MAE", &v, NULL), SELFMM_ERR_INVALID_ARG);
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
    REQUIRE_OK(selfmm_metrics_compute_ex(SELFMM_DATASET_MOSI, RAW_PRED_WEIGHTED, p, t, 4, &m, &e), e.message);
    CHECK(get(&m, "Has0_acc_2") == 0.5);
    CHECK_CLOSE(get(&m, "Has0_F1_score"), 2.0 / 3.0, 1e-15, 0);
    CHECK_CLOSE(get(&m, "Non0_F1_score"), 2.0 / 3.0, 1e-15, 0);
    REQUIRE_OK(selfmm_metrics_compute_ex(SELFMM_DATASET_MOSI, RAW_TRUTH_WEIGHTED, p, t, 4, &m, &e), e.message);
    CHECK(get(&m, "Has0_acc_2") == 0.5);
    CHECK_CLOSE(get(&m, "Has0_F1_score"), 1.0 / 3.0, 1e-15, 0);
    /* the default is today's metricsTop.py: truth-weighted, MOSI rounded to 4 decimals */
    REQUIRE_OK(selfmm_metrics_compute(SELFMM_DATASET_MOSI, p, t, 4, &m, &e), e.message);
    CHECK(get(&m, "Has0_F1_score") == 0.3333);
    CHECK_CLOSE(m.raw[1], 1.0 / 3.0, 1e-15, 0);
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
    CHECK(get(&m, "Has0_acc_2") == 0.6667); /* -1 < 0 is the only miss */
    CHECK_CLOSE(m.raw[0], 2.0 / 3.0, 1e-15, 0);
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
    t[1] = 0.0f;
    CHECK_STATUS(selfmm_metrics_compute_ex(SELFMM_DATASET_SIMS, 0, 16, p, t, 3, &m, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_metrics_compute_ex(SELFMM_DATASET_SIMS, 0, -2, p, t, 3, &m, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_metrics_compute_ex(SELFMM_DATASET_SIMS, 4, -1, p, t, 3, &m, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_OK(selfmm_metrics_compute_ex(SELFMM_DATASET_SIMS, 3, 15, p, t, 3, &m, &e), e.message);
}

/* Same value: equal bits, or both NaN. Corr goes through BLAS in NumPy (another
 * summation order): its raw value within 1e-12 (measured: ~1e-16). Everything else
 * must be identical, and every reported (rounded) value exactly the reference's. */
static double h_corr_max;
static int same(double got, double want, int is_corr_raw)
{
    if (isnan(want)) return isnan(got);
    if (is_corr_raw) {
        if (fabs(got - want) > h_corr_max) h_corr_max = fabs(got - want);
        return fabs(got - want) <= 1e-12;
    }
    return got == want && signbit(got) == signbit(want);
}

static fx_file fx;

static const fx_tensor *fxget(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const fx_tensor *fxget(const char *fmt, ...)
{
    char key[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    return fx_get(&fx, key);
}

/* The three metricsTop.py variants of the fixture: name, variant bits, decimals. */
typedef struct ref_variant {
    const char *name;
    int bits;
    int decimals_sims, decimals_mosi;
} ref_variant;
static const ref_variant variants[3] = {
    {"selfmm", SELFMM_METRICS_F1_TRUTH_WEIGHTED, -1, 4},      /* thuiar/Self-MM HEAD */
    {"selfmm_old", 0, -1, 4},                                 /* before c4525c1 (2021-04-28) */
    {"mmsa", SELFMM_METRICS_F1_TRUTH_WEIGHTED | SELFMM_METRICS_MAE_FLOAT64, 4, 4},
};

static const char *kind_name(int k) { return k == 0 ? "sims" : k == 1 ? "mosi" : "mosei"; }

TEST(against_reference_metricstop)
{
    int ncases = 0, nvalues = 0, nrounded = 0;
    for (int c = 0;; c++) {
        const fx_tensor *kind = fxget("m%d.kind", c);
        if (!kind) break;
        const fx_tensor *pred = fxget("m%d.pred", c), *truth = fxget("m%d.truth", c);
        REQUIRE(pred && truth && pred->numel == truth->numel && pred->dtype == 0 && truth->dtype == 0);
        const int k = (int)kind->f64[0];
        for (int v = 0; v < 3; v++) {
            const ref_variant *rv = &variants[v];
            const fx_tensor *want = fxget("m%d.%s.value", c, rv->name), *raw = fxget("m%d.%s.raw", c, rv->name);
            REQUIRE(want && raw);
            selfmm_metrics m;
            selfmm_error e = {0};
            const int decimals = k == 0 ? rv->decimals_sims : rv->decimals_mosi;
            REQUIRE_OK(selfmm_metrics_compute_ex((selfmm_dataset_kind)k, rv->bits, decimals,
                                                 (const float *)pred->data, (const float *)truth->data,
                                                 (int)pred->numel, &m, &e),
                       e.message);
            REQUIRE(m.count == want->numel && m.count == raw->numel);
            for (int i = 0; i < m.count; i++, nvalues++) {
                const int corr = strcmp(m.name[i], "Corr") == 0;
                CHECK_MSG(same(m.raw[i], raw->f64[i], corr), "case %d (%s, n %lld, %s): raw %s = %.17g, reference %.17g",
                          c, kind_name(k), (long long)pred->numel, rv->name, m.name[i], m.raw[i], raw->f64[i]);
                /* exactly after the reference's rounding; unrounded Corr as raw */
                CHECK_MSG(same(m.value[i], want->f64[i], corr && decimals < 0),
                          "case %d (%s, n %lld, %s): reported %s = %.17g, reference %.17g", c, kind_name(k),
                          (long long)pred->numel, rv->name, m.name[i], m.value[i], want->f64[i]);
                nrounded += !isnan(want->f64[i]) && want->f64[i] != raw->f64[i];
            }
            if (v == 0) { /* selfmm_metrics_compute is today's Self-MM */
                selfmm_metrics d;
                REQUIRE_OK(selfmm_metrics_compute((selfmm_dataset_kind)k, (const float *)pred->data,
                                                  (const float *)truth->data, (int)pred->numel, &d, &e),
                           e.message);
                CHECK(memcmp(d.value, m.value, sizeof d.value) == 0 && memcmp(d.raw, m.raw, sizeof d.raw) == 0);
            }
        }
        ncases++;
    }
    CHECK(ncases >= 100);
    CHECK(nrounded > 500);
    printf("# %d cases x 3 variants, %d values (%d rounded by the reference) compared; largest raw Corr "
           "difference %.3g\n", ncases, nvalues, nrounded, h_corr_max);
}

/* selfmm_pearson is np.corrcoef: the reference's unclipped Corr (MOSI, MOSEI cases)
 * within 1e-12 like the metrics' own, and the metrics' Corr bit for bit. */
TEST(pearson_is_np_corrcoef)
{
    int n_cases = 0;
    for (int c = 0;; c++) {
        const fx_tensor *kind = fxget("m%d.kind", c);
        if (!kind) break;
        if ((int)kind->f64[0] == 0) continue; /* SIMS clips before its Corr */
        const fx_tensor *pred = fxget("m%d.pred", c), *truth = fxget("m%d.truth", c);
        const fx_tensor *raw = fxget("m%d.selfmm.raw", c);
        REQUIRE(pred && truth && raw);
        const float *p = (const float *)pred->data, *t = (const float *)truth->data;
        const int n = (int)pred->numel;
        double r = 0.0;
        selfmm_error e = {0};
        REQUIRE_OK(selfmm_pearson(p, t, n, &r, &e), e.message);
        CHECK_MSG(same(r, raw->f64[raw->numel - 1], 1), "case %d: r %.17g, reference %.17g", c, r,
                  raw->f64[raw->numel - 1]);
        selfmm_metrics m;
        REQUIRE_OK(selfmm_metrics_compute_ex((selfmm_dataset_kind)(int)kind->f64[0], SELFMM_METRICS_F1_TRUTH_WEIGHTED,
                                             -1, p, t, n, &m, &e),
                   e.message); /* not rounded */
        double corr = NAN;
        REQUIRE_OK(selfmm_metrics_get(&m, "Corr", &corr, &e), e.message);
        CHECK(memcmp(&r, &corr, sizeof r) == 0 || (isnan(r) && isnan(corr)));
        n_cases++;
    }
    CHECK(n_cases >= 50);
    const float a[3] = {1, 2, 3}, up[3] = {2, 4, 6}, down[3] = {3, 2, 1}, flat[3] = {5, 5, 5};
    const float bad[3] = {1, NAN, 3};
    double r = 0.0;
    selfmm_error e = {0};
    CHECK_OK(selfmm_pearson(a, up, 3, &r, &e), e.message);
    CHECK(r == 1.0);
    CHECK_OK(selfmm_pearson(a, down, 3, &r, &e), e.message);
    CHECK(r == -1.0);
    CHECK_OK(selfmm_pearson(a, flat, 3, &r, &e), e.message);
    CHECK(isnan(r));
    CHECK_OK(selfmm_pearson(a, bad, 3, &r, &e), e.message);
    CHECK(isnan(r));
    CHECK_OK(selfmm_pearson(a, up, 1, &r, &e), e.message);
    CHECK(isnan(r));
    CHECK_STATUS(selfmm_pearson(a, up, 0, &r, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_pearson(NULL, up, 3, &r, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_pearson(a, up, 3, NULL, NULL), SELFMM_ERR_INVALID_ARG);
}

/* The roundings themselves, next to ties: Python's round(float), round(np.float64),
 * round(np.float32). */
TEST(roundings)
{
    const fx_tensor *x = fxget("round.x"), *d = fxget("round.d"), *py = fxget("round.py");
    const fx_tensor *np64 = fxget("round.np64"), *x32 = fxget("round.x32"), *np32 = fxget("round.np32");
    REQUIRE(x && d && py && np64 && x32 && np32 && x32->dtype == 0 && np32->dtype == 0);
    int bad_py = 0, bad64 = 0, bad32 = 0, differ = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        const int dd = (int)d->f64[i];
        const double a = sm_round_py(x->f64[i], dd), b = sm_round_np_f64(x->f64[i], dd);
        const float c = sm_round_np_f32(((const float *)x32->data)[i], dd);
        if (!same(a, py->f64[i], 0) && bad_py++ < 5) printf("# round(%.17g, %d) = %.17g, Python %.17g\n", x->f64[i], dd, a, py->f64[i]);
        if (!same(b, np64->f64[i], 0) && bad64++ < 5) printf("# np64 round(%.17g, %d) = %.17g, NumPy %.17g\n", x->f64[i], dd, b, np64->f64[i]);
        if (!same(c, ((const float *)np32->data)[i], 0) && bad32++ < 5)
            printf("# np32 round(%.9g, %d) = %.9g, NumPy %.9g\n", (double)((const float *)x32->data)[i], dd, (double)c,
                   (double)((const float *)np32->data)[i]);
        differ += py->f64[i] != np64->f64[i];
        CHECK(selfmm_round(x->f64[i], dd) == a);
    }
    CHECK_INT(bad_py, 0);
    CHECK_INT(bad64, 0);
    CHECK_INT(bad32, 0);
    CHECK(differ > 100); /* the fixture does tell Python's round from NumPy's */
    CHECK(selfmm_round(2.675, 2) == 2.67 && sm_round_np_f64(2.675, 2) == 2.68);
    CHECK(selfmm_round(0.123456, -1) == 0.123456);
    CHECK(isnan(selfmm_round(NAN, 4)));
    printf("# %lld roundings, Python's and NumPy's differ on %d\n", (long long)x->numel, differ);
}

/* run.py run_normal's summary, from each seed's metrics computed here, against the
 * CSV the reference's own function wrote. */
TEST(seeds_summary_as_run_normal)
{
    int ncases = 0, nvalues = 0;
    for (int c = 0;; c++) {
        const fx_tensor *kind = fxget("s%d.kind", c);
        if (!kind) break;
        const int k = (int)kind->f64[0], bits = (int)fxget("s%d.variant", c)->f64[0];
        const int n = (int)fxget("s%d.seeds", c)->f64[0];
        const fx_tensor *loss = fxget("s%d.loss", c), *mean = fxget("s%d.mean", c), *std = fxget("s%d.std", c);
        REQUIRE(loss && mean && std && n >= 1 && n <= 16);
        const ref_variant *rv = &variants[bits ? 2 : 0];
        selfmm_metrics runs[16];
        for (int s = 0; s < n; s++) {
            const fx_tensor *p = fxget("s%d.%d.pred", c, s), *t = fxget("s%d.%d.truth", c, s);
            REQUIRE(p && t);
            selfmm_error e = {0};
            REQUIRE_OK(selfmm_metrics_compute_ex((selfmm_dataset_kind)k, rv->bits,
                                                 k == 0 ? rv->decimals_sims : rv->decimals_mosi,
                                                 (const float *)p->data, (const float *)t->data, (int)p->numel,
                                                 &runs[s], &e),
                       e.message);
            /* do_test's Loss goes last (the fixture holds it as the reference reported it) */
            runs[s].name[runs[s].count] = "Loss";
            runs[s].value[runs[s].count] = runs[s].raw[runs[s].count] = loss->f64[s];
            runs[s].count++;
        }
        selfmm_metrics mo, so;
        selfmm_error e = {0};
        REQUIRE_OK(selfmm_metrics_summary(runs, n, rv->bits, &mo, &so, &e), e.message);
        REQUIRE(mo.count == mean->numel && so.count == std->numel);
        for (int i = 0; i < mo.count; i++, nvalues++) {
            CHECK_MSG(same(mo.value[i], mean->f64[i], 0), "summary %d (%s, %s, %d seeds): mean %s = %.17g, run.py %.17g",
                      c, kind_name(k), rv->name, n, mo.name[i], mo.value[i], mean->f64[i]);
            CHECK_MSG(same(so.value[i], std->f64[i], 0), "summary %d (%s, %s, %d seeds): std %s = %.17g, run.py %.17g",
                      c, kind_name(k), rv->name, n, so.name[i], so.value[i], std->f64[i]);
        }
        ncases++;
    }
    CHECK(ncases >= 40);
    printf("# %d summaries, %d means and stds compared\n", ncases, 2 * nvalues);
    /* names must agree across runs */
    selfmm_metrics a = {.count = 1, .name = {"MAE"}, .value = {0.5}}, b = {.count = 1, .name = {"Corr"}, .value = {0.5}};
    selfmm_metrics two[2] = {a, b}, mo, so;
    selfmm_error e = {0};
    CHECK_STATUS(selfmm_metrics_summary(two, 2, 0, &mo, &so, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_metrics_summary(two, 0, 0, &mo, &so, &e), SELFMM_ERR_INVALID_ARG);
}

/* The acceptance property of the command line: metricsTop.py (run_thuiar.py metrics)
 * on the M and label columns of `selfmm-cli predict --data` gives what `selfmm-cli
 * test` reports. tools/check_predict_metrics.sh ran both for a trained model of each
 * dataset kind and kept the CSV, the reference's JSON and test's JSON; here the
 * library computes the metrics from the CSV as `test` does (the model's config). */
static cJSON *load_json_file(const char *path)
{
    size_t size = 0;
    uint8_t *text = tf_read(path, &size);
    cJSON *j = text ? cJSON_Parse((const char *)text) : NULL;
    free(text);
    return j;
}

TEST(predict_csv_through_metricstop)
{
    static const char *const kinds[3] = {"sims", "mosi", "mosei"};
    int checked = 0;
    for (int k = 0; k < 3; k++) {
        char path[256];
        snprintf(path, sizeof path, "tests/fixtures/train/predict_check/%s_pred.csv", kinds[k]);
        size_t csv_size = 0;
        uint8_t *csv = tf_read(path, &csv_size);
        snprintf(path, sizeof path, "tests/fixtures/train/predict_check/%s_reference.json", kinds[k]);
        cJSON *ref = load_json_file(path);
        snprintf(path, sizeof path, "tests/fixtures/train/predict_check/%s_test.json", kinds[k]);
        cJSON *test = load_json_file(path);
        snprintf(path, sizeof path, "tests/fixtures/train/predict_check/%s_config.json", kinds[k]);
        selfmm_config cfg;
        selfmm_error e = {0};
        selfmm_config_default(&cfg);
        int ok = csv && ref && test && selfmm_config_load_json(&cfg, path, &e) == SELFMM_OK;
        CHECK_MSG(ok, "%s: fixture files missing (%s)", kinds[k], e.message);
        float *pred = NULL, *truth = NULL;
        int n = 0;
        if (ok) { /* id,M,T,A,V,label; ids have no commas here */
            pred = malloc(4096 * sizeof(float)), truth = malloc(4096 * sizeof(float));
            char *line = strchr((char *)csv, '\n');
            ok = pred && truth && line && strncmp((char *)csv, "id,M,T,A,V,label\n", 17) == 0;
            while (ok && line && line[1] && n < 4096) {
                char *f = strchr(line + 1, ',');
                char *end;
                ok = f != NULL;
                if (!ok) break;
                pred[n] = strtof(f + 1, &end);
                for (int col = 0; col < 3 && end; col++) end = strchr(end + 1, ','); /* T, A, V */
                ok = end != NULL;
                if (!ok) break;
                truth[n++] = strtof(end + 1, NULL);
                line = strchr(line + 1, '\n');
            }
            CHECK_MSG(ok && n > 10, "%s: bad CSV (%d rows)", kinds[k], n);
        }
        if (ok && n > 10) {
            selfmm_metrics m;
            const int bits = (cfg.f1_truth_weighted ? SELFMM_METRICS_F1_TRUTH_WEIGHTED : 0) |
                             (cfg.metrics_mae_float64 ? SELFMM_METRICS_MAE_FLOAT64 : 0);
            CHECK_OK(selfmm_metrics_compute_ex((selfmm_dataset_kind)cfg.dataset, bits, cfg.metrics_decimals, pred,
                                               truth, n, &m, &e),
                     e.message);
            CHECK_INT(cfg.dataset, k);
            CHECK_INT(m.count, cJSON_GetArraySize(ref));
            for (int i = 0; i < m.count; i++) {
                const cJSON *r = cJSON_GetObjectItemCaseSensitive(ref, m.name[i]);
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(test, m.name[i]);
                /* exact; an unrounded Corr (SIMS) within 1e-12 as above */
                const int corr = strcmp(m.name[i], "Corr") == 0 && cfg.metrics_decimals < 0;
                CHECK_MSG(cJSON_IsNumber(r) && same(m.value[i], r->valuedouble, corr),
                          "%s %s: %.17g, metricsTop.py %.17g", kinds[k], m.name[i], m.value[i],
                          cJSON_IsNumber(r) ? r->valuedouble : NAN);
                CHECK_MSG(cJSON_IsNumber(t) && same(m.value[i], t->valuedouble, 0), "%s %s: %.17g, selfmm-cli test %.17g",
                          kinds[k], m.name[i], m.value[i], cJSON_IsNumber(t) ? t->valuedouble : NAN);
            }
            printf("# %s: %d predictions, %d metrics as metricsTop.py and selfmm-cli test gave them\n", kinds[k], n,
                   m.count);
            checked++;
        }
        free(pred), free(truth), free(csv);
        cJSON_Delete(ref), cJSON_Delete(test);
    }
    CHECK_INT(checked, 3);
}

int main(void)
{
    RUN(names_and_order);
    RUN(half_to_even_rounding);
    RUN(sims_bin_edges);
    RUN(one_class_predictions_and_f1_weights);
    RUN(constant_inputs_give_nan_corr);
    RUN(bad_input);
    if (fx_load("tests/fixtures/train/metrics_ref.smfx", &fx) != 0) {
        printf("not ok - fixture tests/fixtures/train/metrics_ref.smfx\n");
        return 1;
    }
    RUN(against_reference_metricstop);
    RUN(pearson_is_np_corrcoef);
    RUN(roundings);
    RUN(seeds_summary_as_run_normal);
    fx_free(&fx);
    RUN(predict_csv_through_metricstop);
    return h_finish();
}
