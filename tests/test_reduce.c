/* test_reduce.c -- the reference libraries' summation orders (lib/train/reduce.c)
 * against torch 1.13 and NumPy 1.24 results (tools/gen_reduce_fixture.py): equal bits. */
#include "harness.h"

#include "support/fixture.h"
#include "train/reduce.h"

static fx_file fx;

static const fx_tensor *get(const char *fmt, int i)
{
    char key[64];
    snprintf(key, sizeof key, fmt, i);
    return fx_get(&fx, key);
}

TEST(torch_column_sums)
{
    int cases = 0;
    for (int i = 0;; i++, cases++) {
        const fx_tensor *x = get("red.colsum.%d.x", i), *rows = get("red.colsum.%d.rows", i),
                        *want = get("red.colsum.%d.out", i);
        if (!x) break;
        REQUIRE(rows && want && x->ndim == 2);
        const int64_t d = x->dims[1], k = rows->numel;
        int *r = malloc((size_t)k * sizeof *r);
        float *out = malloc((size_t)d * sizeof *out), *out2 = malloc((size_t)d * sizeof *out2);
        float *gathered = malloc((size_t)(k * d) * sizeof *gathered);
        float *scratch = malloc((size_t)SM_COLSUM_SCRATCH(d, k) * sizeof *scratch);
        REQUIRE(r && out && out2 && gathered && scratch);
        for (int64_t j = 0; j < k; j++) {
            r[j] = (int)rows->f64[j];
            memcpy(gathered + j * d, x->f32 + (int64_t)r[j] * d, (size_t)d * sizeof(float));
        }
        sm_torch_colsum_f32(x->f32, d, r, k, out, scratch);
        sm_torch_colsum_f32(gathered, d, NULL, k, out2, scratch); /* rows = NULL: the same */
        long bad = 0;
        for (int64_t c = 0; c < d; c++) bad += out[c] != want->f32[c] || out2[c] != out[c];
        CHECK_MSG(bad == 0, "case %d (%lld of %lld rows, %lld columns): %ld sums differ", i,
                  (long long)k, (long long)x->dims[0], (long long)d, bad);
        free(r), free(out), free(out2), free(gathered), free(scratch);
    }
    CHECK(cases >= 10);
}

TEST(torch_norms)
{
    int cases = 0;
    for (int i = 0;; i++, cases++) {
        const fx_tensor *x = get("red.norm.%d.x", i), *want = get("red.norm.%d.out", i);
        if (!x) break;
        REQUIRE(want && x->ndim == 2);
        for (int64_t b = 0; b < x->dims[0]; b++) {
            float got = sm_torch_norm2_f32(x->f32 + b * x->dims[1], x->dims[1]);
            CHECK_MSG(got == want->f32[b], "norm of %lld values: %.9g, torch %.9g", (long long)x->dims[1],
                      (double)got, (double)want->f32[b]);
        }
    }
    CHECK(cases >= 20);
}

TEST(numpy_sums_and_means)
{
    int cases = 0;
    for (int i = 0;; i++, cases++) {
        const fx_tensor *x = get("red.npsum.%d.x", i), *s = get("red.npsum.%d.sum", i),
                        *m = get("red.npsum.%d.mean", i);
        if (!x) break;
        REQUIRE(s && m);
        float gs = sm_np_sum_f32(x->f32, x->numel), gm = sm_np_mean_f32(x->f32, x->numel);
        CHECK_MSG(gs == s->f32[0], "np.sum of %lld: %.9g, numpy %.9g", (long long)x->numel, (double)gs,
                  (double)s->f32[0]);
        CHECK_MSG(gm == m->f32[0], "np.mean of %lld: %.9g, numpy %.9g", (long long)x->numel, (double)gm,
                  (double)m->f32[0]);
    }
    CHECK(cases >= 10);
    /* float64 version: small integers are exact in any order */
    double ones[20000];
    for (int i = 0; i < 20000; i++) ones[i] = (double)(i % 7);
    double want = 0;
    for (int i = 0; i < 20000; i++) want += ones[i];
    CHECK(sm_np_sum_f64(ones, 20000) == want);
    CHECK(sm_np_sum_f32(NULL, 0) == 0.0f);
}

int main(void)
{
    if (fx_load("tests/fixtures/train/reduce.smfx", &fx) != 0) return 1;
    RUN(torch_column_sums);
    RUN(torch_norms);
    RUN(numpy_sums_and_means);
    fx_free(&fx);
    return h_finish();
}
