/* test_ulgm.c -- unimodal label generation against the reference trainer itself
 * (tools/gen_ulgm_fixture.py runs thuiar/Self-MM's SELF_MM.init_labels, update_labels,
 * update_features, update_centers and weighted_loss through the reference harness):
 * labels and centers equal bit for bit after every epoch, exclude_zero both ways, H 1
 * and 3, labels and delta_f near zero; each batch's loss terms within float32
 * summation error; the empty-center error; checkpoint state; bad input. */
#include "harness.h"

#include "support/fixture.h"
#include "nn/ops.h"
#include "train/ulgm.h"

#include <math.h>

static fx_file fx;
static const char *const modes[4] = {"fusion", "text", "audio", "vision"};

static const fx_tensor *get(const char *fmt, int s, int e, const char *m)
{
    char key[96];
    if (m) snprintf(key, sizeof key, fmt, s, e, m);
    else snprintf(key, sizeof key, fmt, s, e);
    const fx_tensor *t = fx_get(&fx, key);
    if (!t) printf("# fixture lacks %s\n", key);
    return t;
}

typedef struct scen {
    int n, batch, epochs, dims[4];
    selfmm_config cfg;
    const float *labels0;
} scen;

static int load_scenario(int s, scen *sc)
{
    const fx_tensor *dims = get("%d.dims", s, 0, NULL), *n = get("%d.n", s, 0, NULL),
                    *b = get("%d.batch", s, 0, NULL), *H = get("%d.H", s, 0, NULL),
                    *ez = get("%d.exclude_zero", s, 0, NULL), *l0 = get("%d.labels0", s, 0, NULL),
                    *ep = get("%d.epochs", s, 0, NULL);
    if (!dims || !n || !b || !H || !ez || !l0 || !ep) return 0;
    sc->n = (int)n->f64[0], sc->batch = (int)b->f64[0], sc->epochs = (int)ep->f64[0];
    for (int m = 0; m < 4; m++) sc->dims[m] = (int)dims->f64[m];
    selfmm_config_default(&sc->cfg);
    sc->cfg.H = H->f64[0];
    sc->cfg.exclude_zero = (int)ez->f64[0];
    sc->labels0 = l0->f32;
    return 1;
}

static double g_loss_err; /* worst |loss - reference| / bound over the batches checked */
static double g_loss_rel; /* worst |loss - reference| / |reference| */

/* The loss of one batch (the labels of idx before the batch's update, the fixture's
 * scripted outputs) against the reference trainer's weighted_loss terms and their sum.
 * The reference sums each term's b <= 32 products in float32 (torch.mean), we in
 * double: with non-negative products its rounding error is below (b - 1) * 2^-24
 * relative, tanhf and torch's tanh may differ in the last bit (2^-23 relative per
 * weight) and the total adds three float32 roundings: bound (b + 4) * 2^-24 relative. */
static long check_loss(selfmm_ulgm *u, const int *idx, int b, const fx_tensor *pred,
                       const fx_tensor *loss, int lo, int batch_no)
{
    float y[4][64], p[4][64], w[64];
    if (b > 64 || !pred || !loss || loss->ndim != 2 || loss->dims[1] != 5 || batch_no >= loss->dims[0]) return 1;
    float *const ys[4] = {y[0], y[1], y[2], y[3]};
    if (selfmm_ulgm_gather(u, idx, b, ys) != SELFMM_OK) return 1;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < b; i++) p[k][i] = pred->f32[(size_t)(lo + i) * 4 + (size_t)k];
    const float *const pk[4] = {p[0], p[1], p[2], p[3]}, *const yk[4] = {y[0], y[1], y[2], y[3]};
    double part[5] = {0};
    sm_selfmm_loss_forward(part + 1, NULL, pk, yk, w, b, b);
    for (int k = 1; k < 5; k++) part[0] += part[k];
    long bad = 0;
    for (int k = 0; k < 5; k++) {
        const double want = loss->f64[(size_t)batch_no * 5 + (size_t)k];
        const double bound = (b + 4) * 0x1p-24 * fabs(want);
        const double d = fabs(part[k] - want);
        const double r = d == 0.0 ? 0.0 : d / bound; /* epoch 1: y_m = y_f, weights and terms 0 */
        if (r > g_loss_err) g_loss_err = r;
        if (d > 0.0 && d / fabs(want) > g_loss_rel) g_loss_rel = d / fabs(want);
        if (!(r <= 1.0) && bad++ < 3)
            printf("# batch %d loss term %d = %.9g, reference %.9g\n", batch_no, k, part[k], want);
    }
    return bad;
}

/* One epoch of scenario s: every batch in the fixture's order; with check_losses, each
 * batch's loss is compared with the reference's first. */
static selfmm_status run_epoch_ex(selfmm_ulgm *u, const scen *sc, int s, int e, long *loss_bad)
{
    const fx_tensor *perm = get("%d.perm.%d", s, e, NULL);
    const fx_tensor *feat[4];
    for (int m = 0; m < 4; m++) feat[m] = get("%d.feat.%d.%s", s, e, modes[m]);
    if (!perm || !feat[0] || !feat[1] || !feat[2] || !feat[3]) return SELFMM_ERR_MISSING;
    const fx_tensor *pred = loss_bad ? get("%d.pred.%d", s, e, NULL) : NULL;
    const fx_tensor *loss = loss_bad ? get("%d.loss.%d", s, e, NULL) : NULL;
    int *idx = malloc((size_t)sc->batch * sizeof *idx);
    selfmm_status st = SELFMM_OK;
    for (int lo = 0; lo < sc->n && st == SELFMM_OK; lo += sc->batch) {
        int b = sc->n - lo < sc->batch ? sc->n - lo : sc->batch;
        for (int i = 0; i < b; i++) idx[i] = (int)perm->f64[lo + i];
        if (loss_bad) *loss_bad += check_loss(u, idx, b, pred, loss, lo, lo / sc->batch);
        selfmm_outputs o = {0};
        o.batch = b;
        for (int m = 0; m < 4; m++) o.feature[m] = feat[m]->f32 + (size_t)lo * sc->dims[m], o.dim[m] = sc->dims[m];
        st = selfmm_ulgm_update(u, idx, b, &o, e);
    }
    free(idx);
    return st;
}

static selfmm_status run_epoch(selfmm_ulgm *u, const scen *sc, int s, int e)
{
    return run_epoch_ex(u, sc, s, e, NULL);
}

/* Labels and centers after epoch e equal the fixture's; returns differing values. */
static long compare_epoch(const selfmm_ulgm *u, const scen *sc, int s, int e)
{
    long bad = 0;
    sm_state_tensor st[SM_ULGM_STATE_COUNT];
    sm_ulgm_state(u, st);
    for (int m = 0; m < 4; m++) {
        const fx_tensor *y = get("%d.labels.%d.%s", s, e, modes[m]);
        const fx_tensor *c = get("%d.center.%d.%s", s, e, modes[m]);
        if (!y || !c || y->numel != sc->n || c->numel != 2 * sc->dims[m]) return -1;
        const float *got = selfmm_ulgm_labels(u, m);
        for (int i = 0; i < sc->n; i++) {
            if (got[i] != y->f32[i] && bad++ < 3)
                printf("# scenario %d epoch %d: %s label %d = %.9g, torch %.9g\n", s, e, modes[m], i,
                       (double)got[i], (double)y->f32[i]);
        }
        for (int j = 0; j < 2 * sc->dims[m]; j++) {
            if (st[8 + m].data[j] != c->f32[j] && bad++ < 3)
                printf("# scenario %d epoch %d: %s center[%d] = %.9g, torch %.9g\n", s, e, modes[m], j,
                       (double)st[8 + m].data[j], (double)c->f32[j]);
        }
    }
    return bad;
}

static void replay(int s)
{
    scen sc;
    REQUIRE(load_scenario(s, &sc));
    selfmm_ulgm *u = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_ulgm_create(&sc.cfg, sc.n, sc.labels0, sc.dims, &u, &e), e.message);
    g_loss_err = 0, g_loss_rel = 0;
    for (int ep = 1; ep <= sc.epochs; ep++) {
        long loss_bad = 0;
        REQUIRE_OK(run_epoch_ex(u, &sc, s, ep, &loss_bad), selfmm_ulgm_errmsg(u));
        CHECK_MSG(loss_bad == 0, "scenario %d epoch %d: %ld loss terms out of tolerance", s, ep, loss_bad);
        long bad = compare_epoch(u, &sc, s, ep);
        CHECK_MSG(bad == 0, "scenario %d epoch %d: %ld values differ from the reference", s, ep, bad);
    }
    printf("# scenario %d: loss terms within %.3f of their bound (relative error %.2g)\n", s, g_loss_err,
           g_loss_rel);
    /* the unimodal terms are not all zero in epoch 3 (a label moves in its own batch of
     * epoch 2, after that batch's loss: epoch 2's unimodal terms are all 0) */
    const fx_tensor *l2 = get("%d.loss.%d", s, 3, NULL);
    REQUIRE(l2);
    double uni = 0;
    for (int64_t i = 0; i < l2->numel; i++) uni += (i % 5 >= 2) * l2->f64[i];
    CHECK(uni > 0);
    /* the fusion labels never change; the others did */
    const float *yf = selfmm_ulgm_labels(u, SELFMM_FUSION), *yt = selfmm_ulgm_labels(u, SELFMM_TEXT);
    int same_f = 1, same_t = 1;
    for (int i = 0; i < sc.n; i++) same_f = same_f && yf[i] == sc.labels0[i], same_t = same_t && yt[i] == sc.labels0[i];
    CHECK(same_f);
    CHECK(!same_t);
    selfmm_ulgm_free(u);
}

TEST(matches_torch_exclude_zero_off) { replay(0); }
TEST(matches_torch_exclude_zero_on) { replay(1); }
TEST(matches_torch_wide_features_300_samples) { replay(2); }

/* The two switch settings really lead to different labels on this data. */
TEST(exclude_zero_matters_here)
{
    const fx_tensor *a = get("%d.labels.%d.%s", 0, 3, "text"), *b = get("%d.labels.%d.%s", 1, 3, "text");
    REQUIRE(a && b && a->numel == b->numel);
    int differ = 0;
    for (int64_t i = 0; i < a->numel; i++) differ += a->f32[i] != b->f32[i];
    CHECK(differ > 0);
    const fx_tensor *l0 = get("%d.labels0", 0, 0, NULL);
    int zeros = 0;
    for (int64_t i = 0; i < l0->numel; i++) zeros += l0->f32[i] == 0.0f;
    CHECK(zeros > 0);
}

TEST(gather)
{
    scen sc;
    REQUIRE(load_scenario(0, &sc));
    selfmm_ulgm *u = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_ulgm_create(&sc.cfg, sc.n, sc.labels0, sc.dims, &u, &e), e.message);
    REQUIRE_OK(run_epoch(u, &sc, 0, 1), selfmm_ulgm_errmsg(u));
    REQUIRE_OK(run_epoch(u, &sc, 0, 2), selfmm_ulgm_errmsg(u));
    int idx[3] = {5, 0, 36};
    float y[4][3];
    float *const out[4] = {y[0], y[1], y[2], NULL}; /* a NULL modality is skipped */
    REQUIRE_OK(selfmm_ulgm_gather(u, idx, 3, out), selfmm_ulgm_errmsg(u));
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < 3; i++) CHECK(y[m][i] == selfmm_ulgm_labels(u, m)[idx[i]]);
    int far[2] = {4, 37}, neg[1] = {-1};
    CHECK_STATUS(selfmm_ulgm_gather(u, far, 2, out), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(selfmm_ulgm_errmsg(u), "sample 37");
    CHECK_STATUS(selfmm_ulgm_gather(u, neg, 1, out), SELFMM_ERR_RANGE);
    CHECK(selfmm_ulgm_labels(u, 4) == NULL);
    selfmm_ulgm_free(u);
}

/* No training sample has a negative label: the negative fusion center is the mean
 * of nothing (NaN in the reference). Epoch 1 does not use centers; the first
 * label update in epoch 2 must fail, naming modality and side, changing nothing. */
TEST(empty_center_is_an_error)
{
    const int dims[4] = {3, 2, 2, 2};
    const float labels[4] = {0.2f, 0.0f, 0.6f, 1.0f};
    float f[4][4 * 3];
    for (int m = 0; m < 4; m++)
        for (int j = 0; j < 12; j++) f[m][j] = (float)((j * 7 + m) % 5) * 0.25f;
    for (int ez = 0; ez < 2; ez++) {
        selfmm_config cfg;
        selfmm_config_default(&cfg);
        cfg.exclude_zero = ez;
        selfmm_ulgm *u = NULL;
        selfmm_error e = {0};
        const float *lab = labels;
        float neg[4] = {-0.2f, 0.0f, -0.6f, -1.0f};
        if (ez) lab = neg; /* with exclude_zero, 0 is not positive: no positive sample */
        REQUIRE_OK(selfmm_ulgm_create(&cfg, 4, lab, dims, &u, &e), e.message);
        int idx[4] = {0, 1, 2, 3};
        selfmm_outputs o = {0};
        o.batch = 4;
        for (int m = 0; m < 4; m++) o.feature[m] = f[m], o.dim[m] = dims[m];
        CHECK_OK(selfmm_ulgm_update(u, idx, 4, &o, 1), selfmm_ulgm_errmsg(u));
        sm_state_tensor st[SM_ULGM_STATE_COUNT];
        sm_ulgm_state(u, st);
        float before[4][4];
        for (int m = 0; m < 4; m++) memcpy(before[m], selfmm_ulgm_labels(u, m), sizeof before[m]);
        CHECK(st[12].data[ez ? 0 : 1] == 1.0f); /* fusion positive / negative set empty */
        f[1][0] = 9.0f;
        CHECK_STATUS(selfmm_ulgm_update(u, idx, 4, &o, 2), SELFMM_ERR_NUMERIC);
        CHECK_CONTAINS(selfmm_ulgm_errmsg(u), ez ? "positive center of the fusion" : "negative center of the fusion");
        CHECK_CONTAINS(selfmm_ulgm_errmsg(u), ez ? "> 0" : "< 0");
        for (int m = 0; m < 4; m++) CHECK(memcmp(before[m], selfmm_ulgm_labels(u, m), sizeof before[m]) == 0);
        CHECK(st[5].data[0] != 9.0f); /* features not stored either */
        f[1][0] = 0.0f;
        selfmm_ulgm_free(u);
    }
}

/* Save after epoch 2, restore into a fresh state, run epoch 3: torch's epoch-3 result. */
TEST(state_restore_resumes_exactly)
{
    scen sc;
    REQUIRE(load_scenario(0, &sc));
    selfmm_ulgm *a = NULL, *b = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_ulgm_create(&sc.cfg, sc.n, sc.labels0, sc.dims, &a, &e), e.message);
    REQUIRE_OK(selfmm_ulgm_create(&sc.cfg, sc.n, sc.labels0, sc.dims, &b, &e), e.message);
    REQUIRE_OK(run_epoch(a, &sc, 0, 1), selfmm_ulgm_errmsg(a));
    REQUIRE_OK(run_epoch(a, &sc, 0, 2), selfmm_ulgm_errmsg(a));
    sm_state_tensor st[SM_ULGM_STATE_COUNT], saved[SM_ULGM_STATE_COUNT];
    sm_ulgm_state(a, st);
    float *copies[SM_ULGM_STATE_COUNT];
    for (int i = 0; i < SM_ULGM_STATE_COUNT; i++) {
        copies[i] = malloc((size_t)st[i].numel * sizeof(float));
        REQUIRE(copies[i]);
        memcpy(copies[i], st[i].data, (size_t)st[i].numel * sizeof(float));
        saved[SM_ULGM_STATE_COUNT - 1 - i] = (sm_state_tensor){st[i].name, copies[i], st[i].numel};
    }
    /* bad checkpoints first: each refused, nothing taken over */
    CHECK_STATUS(sm_ulgm_restore(b, saved, SM_ULGM_STATE_COUNT - 1), SELFMM_ERR_MISSING);
    saved[3].numel--;
    CHECK_STATUS(sm_ulgm_restore(b, saved, SM_ULGM_STATE_COUNT), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_ulgm_errmsg(b), saved[3].name);
    saved[3].numel++;
    float keep = copies[12][0];
    copies[12][0] = 0.5f; /* center_empty must be 0 or 1 */
    CHECK_STATUS(sm_ulgm_restore(b, saved, SM_ULGM_STATE_COUNT), SELFMM_ERR_DATA);
    copies[12][0] = keep;
    keep = copies[5][7];
    copies[5][7] = NAN;
    CHECK_STATUS(sm_ulgm_restore(b, saved, SM_ULGM_STATE_COUNT), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_ulgm_errmsg(b), "ulgm.features.text");
    copies[5][7] = keep;
    CHECK(memcmp(selfmm_ulgm_labels(b, SELFMM_TEXT), sc.labels0, (size_t)sc.n * sizeof(float)) == 0);
    /* the good one */
    REQUIRE_OK(sm_ulgm_restore(b, saved, SM_ULGM_STATE_COUNT), selfmm_ulgm_errmsg(b));
    REQUIRE_OK(run_epoch(b, &sc, 0, 3), selfmm_ulgm_errmsg(b));
    CHECK(compare_epoch(b, &sc, 0, 3) == 0);
    for (int i = 0; i < SM_ULGM_STATE_COUNT; i++) free(copies[i]);
    selfmm_ulgm_free(a);
    selfmm_ulgm_free(b);
}

TEST(bad_input)
{
    selfmm_config cfg;
    selfmm_config_default(&cfg);
    const int dims[4] = {2, 2, 2, 2};
    float labels[3] = {0.5f, -0.5f, 0.0f};
    selfmm_ulgm *u = NULL;
    selfmm_error e = {0};
    CHECK_STATUS(selfmm_ulgm_create(&cfg, 0, labels, dims, &u, &e), SELFMM_ERR_INVALID_ARG);
    const int bad_dims[4] = {2, 0, 2, 2};
    CHECK_STATUS(selfmm_ulgm_create(&cfg, 3, labels, bad_dims, &u, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_CONTAINS(e.message, "text");
    labels[1] = NAN;
    CHECK_STATUS(selfmm_ulgm_create(&cfg, 3, labels, dims, &u, &e), SELFMM_ERR_DATA);
    CHECK_CONTAINS(e.message, "sample 1");
    labels[1] = -0.5f;
    cfg.H = 0;
    CHECK_STATUS(selfmm_ulgm_create(&cfg, 3, labels, dims, &u, &e), SELFMM_ERR_RANGE);
    cfg.H = 1;
    REQUIRE_OK(selfmm_ulgm_create(&cfg, 3, labels, dims, &u, &e), e.message);
    float f[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
    selfmm_outputs o = {0};
    o.batch = 3;
    for (int m = 0; m < 4; m++) o.feature[m] = f, o.dim[m] = 2;
    int idx[3] = {0, 1, 2};
    o.batch = 2;
    CHECK_STATUS(selfmm_ulgm_update(u, idx, 3, &o, 1), SELFMM_ERR_SHAPE);
    o.batch = 3;
    o.dim[2] = 3;
    CHECK_STATUS(selfmm_ulgm_update(u, idx, 3, &o, 1), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_ulgm_errmsg(u), "audio");
    o.dim[2] = 2;
    CHECK_STATUS(selfmm_ulgm_update(u, idx, 3, &o, 0), SELFMM_ERR_RANGE);
    int dup[3] = {0, 2, 2};
    CHECK_STATUS(selfmm_ulgm_update(u, dup, 3, &o, 1), SELFMM_ERR_INVALID_ARG);
    CHECK_CONTAINS(selfmm_ulgm_errmsg(u), "sample 2 appears twice");
    int far[3] = {0, 1, 3};
    CHECK_STATUS(selfmm_ulgm_update(u, far, 3, &o, 1), SELFMM_ERR_RANGE);
    float g[6] = {0.1f, 0.2f, INFINITY, 0.4f, 0.5f, 0.6f};
    o.feature[3] = g;
    CHECK_STATUS(selfmm_ulgm_update(u, idx, 3, &o, 1), SELFMM_ERR_NUMERIC);
    CHECK_CONTAINS(selfmm_ulgm_errmsg(u), "vision feature 0 of sample 1");
    o.feature[3] = NULL;
    CHECK_STATUS(selfmm_ulgm_update(u, idx, 3, &o, 1), SELFMM_ERR_INVALID_ARG);
    o.feature[3] = f;
    CHECK_OK(selfmm_ulgm_update(u, idx, 3, &o, 1), selfmm_ulgm_errmsg(u));
    CHECK_STATUS(selfmm_ulgm_update(NULL, idx, 3, &o, 1), SELFMM_ERR_INVALID_ARG);
    CHECK_STR(selfmm_ulgm_errmsg(NULL), "NULL label state");
    selfmm_ulgm_free(u);
    selfmm_ulgm_free(NULL);
}

int main(void)
{
    if (fx_load("tests/fixtures/train/ulgm.smfx", &fx) != 0) return 1;
    RUN(matches_torch_exclude_zero_off);
    RUN(matches_torch_exclude_zero_on);
    RUN(matches_torch_wide_features_300_samples);
    RUN(exclude_zero_matters_here);
    RUN(gather);
    RUN(empty_center_is_an_error);
    RUN(state_restore_resumes_exactly);
    RUN(bad_input);
    fx_free(&fx);
    return h_finish();
}
