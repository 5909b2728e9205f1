/* test_model_ref.c -- the whole model against the reference model itself
 * (tools/gen_model_reference.py runs thuiar/Self-MM's models/AMIO.py and its trainer's
 * weighted_loss through the reference harness, in float64): forward outputs, features,
 * the weighted L1 loss and every parameter gradient, for batches with padding, varied
 * text/audio/vision lengths, batch size 1 (which the reference runs as the sample
 * twice: its squeeze() breaks at 1), a batch whose longest text is shorter than its
 * padding, and a config with every dropout site on (the reference model's nn.Dropout
 * modules apply the masks libselfmm draws, restated in tools/philox_ref.py).
 *
 * Tolerance, for every element of every compared tensor:
 *     |ours - reference| <= 1e-4 * |reference| + 1e-5 * max|reference over the tensor|
 * (relative 1e-4, with an absolute floor at 1e-5 of the tensor's scale for elements
 * that are near zero by cancellation). One tensor per layer is exactly zero in exact
 * arithmetic: the key bias gets no gradient (it adds the same q.b_k to every score
 * of a softmax row). The float64 reference shows ~1e-18 there, float32 ~1e-8; for a
 * reference tensor below 1e-12 everywhere we require |ours| <= 1e-6 * the largest
 * gradient element of the case instead. The worst ratio error / bound is printed. */
#include "harness.h"
#include "support/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-4
#define ATOL_SCALE 1e-5

static double g_worst;      /* largest |err| / bound seen in the current test */
static double g_zero_floor; /* the bound for tensors that are zero in exact arithmetic */

/* Compare n floats with the tolerance above; 1 when all pass. */
static int close_to(const char *what, const float *got, const fx_tensor *want, int64_t n)
{
    if (!want) {
        h_failf(__FILE__, __LINE__, "%s: missing in the fixture", what);
        return 0;
    }
    if (want->numel != n) {
        h_failf(__FILE__, __LINE__, "%s: fixture has %lld values, we have %lld", what,
                (long long)want->numel, (long long)n);
        return 0;
    }
    double scale = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(want->f64[i]));
    const int exact_zero = scale < 1e-12 && g_zero_floor > 0;
    int64_t bad = 0, worst = 0;
    double wr = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want->f64[i]);
        double bound = exact_zero ? g_zero_floor : RTOL * fabs(want->f64[i]) + ATOL_SCALE * scale;
        double r = bound > 0 ? d / bound : (d > 0 ? INFINITY : 0);
        if (!(r <= 1.0)) bad++;
        if (!(r <= wr)) wr = r, worst = i;
    }
    if (wr > g_worst) g_worst = wr;
    if (bad) {
        h_failf(__FILE__, __LINE__, "%s: %lld of %lld values out of tolerance; worst [%lld] %.9g vs %.9g", what,
                (long long)bad, (long long)n, (long long)worst, (double)got[worst], want->f64[worst]);
        return 0;
    }
    return 1;
}

static selfmm_model *load_model(const char *config_json, const fx_file *fx)
{
    selfmm_config cfg;
    selfmm_error e = {0};
    selfmm_config_default(&cfg);
    if (selfmm_config_load_json(&cfg, config_json, &e) != SELFMM_OK) {
        h_failf(__FILE__, __LINE__, "config %s: %s", config_json, e.message);
        return NULL;
    }
    selfmm_model *m = NULL;
    if (selfmm_model_create(&cfg, &m, &e) != SELFMM_OK) {
        h_failf(__FILE__, __LINE__, "model create: %s", e.message);
        return NULL;
    }
    /* every tensor of our table by name from the reference's state_dict */
    int n = selfmm_model_num_params(m), loaded = 0;
    for (int i = 0; i < n; i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        char key[160];
        snprintf(key, sizeof key, "w.%s", p.name);
        const fx_tensor *t = fx_get(fx, key);
        if (!t || t->numel != p.numel) {
            h_failf(__FILE__, __LINE__, "weight %s missing or of the wrong size", p.name);
            continue;
        }
        selfmm_param_info q;
        if (selfmm_model_find_param(m, p.name, &q) != SELFMM_OK) continue;
        memcpy(q.data, t->f32, (size_t)t->numel * sizeof(float));
        loaded++;
    }
    CHECK_INT(loaded, n);
    /* and nothing in the reference that we lack */
    int weights = 0;
    for (int i = 0; i < fx->n; i++) weights += strncmp(fx->t[i].name, "w.", 2) == 0;
    CHECK_INT(weights, n);
    return m;
}

typedef struct case_data {
    selfmm_batch bt;
    int32_t *ids, *mask, *seg, *alen, *vlen;
} case_data;

static int32_t *ints(const fx_tensor *t)
{
    int32_t *v = malloc((size_t)t->numel * sizeof *v);
    for (int64_t i = 0; i < t->numel; i++) v[i] = (int32_t)t->f64[i];
    return v;
}

static const fx_tensor *need(const fx_file *fx, const char *prefix, const char *name)
{
    char key[320];
    snprintf(key, sizeof key, "%s.%s", prefix, name);
    const fx_tensor *t = fx_get(fx, key);
    if (!t) h_failf(__FILE__, __LINE__, "fixture lacks %s", key);
    return t;
}

static int load_case(case_data *c, const fx_file *fx, const char *prefix)
{
    memset(c, 0, sizeof *c);
    const fx_tensor *ids = need(fx, prefix, "text_ids"), *mask = need(fx, prefix, "text_mask");
    const fx_tensor *seg = need(fx, prefix, "text_segment"), *a = need(fx, prefix, "audio");
    const fx_tensor *al = need(fx, prefix, "audio_lengths"), *v = need(fx, prefix, "vision");
    const fx_tensor *vl = need(fx, prefix, "vision_lengths");
    if (!ids || !mask || !seg || !a || !al || !v || !vl) return 0;
    c->ids = ints(ids), c->mask = ints(mask), c->seg = ints(seg), c->alen = ints(al), c->vlen = ints(vl);
    selfmm_batch *b = &c->bt;
    b->batch = (int)ids->dims[0], b->text_len = (int)ids->dims[1];
    b->text_ids = c->ids, b->text_mask = c->mask, b->text_segment = c->seg;
    b->audio_len = (int)a->dims[1], b->audio_dim = (int)a->dims[2], b->audio = a->f32, b->audio_lengths = c->alen;
    b->vision_len = (int)v->dims[1], b->vision_dim = (int)v->dims[2], b->vision = v->f32;
    b->vision_lengths = c->vlen;
    return 1;
}

static void free_case(case_data *c)
{
    free(c->ids), free(c->mask), free(c->seg), free(c->alen), free(c->vlen);
}

/* Forward (train), loss, backward of one case and every comparison. */
static void run_case(selfmm_model *m, const fx_file *fx, const char *prefix)
{
    case_data c;
    if (!load_case(&c, fx, prefix)) return;
    const fx_tensor *labels = need(fx, prefix, "labels"), *step = need(fx, prefix, "step");
    const fx_tensor *loss = need(fx, prefix, "loss");
    if (!labels || !step || !loss) {
        free_case(&c);
        return;
    }
    const int B = c.bt.batch;
    char what[200];
    selfmm_model_zero_grad(m);
    selfmm_model_set_step(m, (uint64_t)step->f64[0]);
    selfmm_outputs out;
    selfmm_status st = selfmm_model_forward(m, &c.bt, SELFMM_MODE_TRAIN, &out);
    CHECK_OK(st, selfmm_model_errmsg(m));
    if (st != SELFMM_OK) {
        free_case(&c);
        return;
    }
    CHECK_INT(selfmm_model_get_step(m), (uint64_t)step->f64[0] + 1);
    const float *heads[4] = {out.M, out.T, out.A, out.V};
    const char *hn[4] = {"M", "T", "A", "V"}, *fn[4] = {"feature_f", "feature_t", "feature_a", "feature_v"};
    for (int k = 0; k < 4; k++) {
        snprintf(what, sizeof what, "%s output %s", prefix, hn[k]);
        close_to(what, heads[k], need(fx, prefix, hn[k]), B);
        snprintf(what, sizeof what, "%s %s", prefix, fn[k]);
        close_to(what, out.feature[k], need(fx, prefix, fn[k]), (int64_t)B * out.dim[k]);
    }
    const float *lab[4] = {labels->f32, labels->f32 + B, labels->f32 + 2 * B, labels->f32 + 3 * B};
    selfmm_loss l;
    CHECK_OK(selfmm_model_loss(m, lab, &l), selfmm_model_errmsg(m));
    float lv[5] = {(float)l.total, (float)l.part[0], (float)l.part[1], (float)l.part[2], (float)l.part[3]};
    snprintf(what, sizeof what, "%s loss (total, M, T, A, V)", prefix);
    close_to(what, lv, loss, 5);
    /* the unimodal weights are non-trivial: the parts differ from plain L1 */
    CHECK(loss->f64[2] > 0 && loss->f64[3] > 0 && loss->f64[4] > 0);
    CHECK_OK(selfmm_model_backward(m, NULL), selfmm_model_errmsg(m));
    int n = selfmm_model_num_params(m), compared = 0;
    double gmax = 0;
    for (int i = 0; i < fx->n; i++) {
        size_t pl = strlen(prefix);
        if (strncmp(fx->t[i].name, prefix, pl) == 0 && strncmp(fx->t[i].name + pl, ".g.", 3) == 0)
            for (int64_t j = 0; j < fx->t[i].numel; j++) gmax = fmax(gmax, fabs(fx->t[i].f64[j]));
    }
    CHECK(gmax > 0);
    g_zero_floor = 1e-6 * gmax;
    for (int i = 0; i < n; i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        char key[200];
        snprintf(key, sizeof key, "g.%s", p.name);
        snprintf(what, sizeof what, "%s grad %s", prefix, p.name);
        compared += close_to(what, p.grad, need(fx, prefix, key), p.numel);
    }
    g_zero_floor = 0;
    CHECK_INT(compared, n);
    free_case(&c);
}

static void ref_test(const char *smfx, const char *json, const char *const *cases, int ncases)
{
    fx_file fx;
    REQUIRE(fx_load(smfx, &fx) == 0);
    selfmm_model *m = load_model(json, &fx);
    if (m) {
        g_worst = 0;
        for (int i = 0; i < ncases; i++) run_case(m, &fx, cases[i]);
        printf("# %s: worst error / tolerance = %.4f\n", smfx, g_worst);
    }
    selfmm_model_free(m);
    fx_free(&fx);
}

TEST(reference_no_dropout)
{
    static const char *const cases[] = {"b4", "b1", "short", "holes"};
    ref_test("tests/fixtures/model_ref.smfx", "tests/fixtures/model_ref.config.json", cases, 4);
}

TEST(reference_every_dropout_site)
{
    static const char *const cases[] = {"drop", "dholes"};
    ref_test("tests/fixtures/model_ref_dropout.smfx", "tests/fixtures/model_ref_dropout.config.json", cases, 2);
}

/* Our table lists the tensors in the reference's state_dict order. */
TEST(parameter_order_matches_state_dict)
{
    selfmm_config cfg;
    selfmm_error e = {0};
    selfmm_config_default(&cfg);
    REQUIRE_OK(selfmm_config_load_json(&cfg, "tests/fixtures/model_ref.config.json", &e), e.message);
    selfmm_model *m = NULL;
    REQUIRE_OK(selfmm_model_create(&cfg, &m, &e), e.message);
    FILE *fp = fopen("tests/fixtures/model_ref.names.txt", "r");
    REQUIRE(fp);
    char line[256];
    int i = 0, n = selfmm_model_num_params(m);
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        selfmm_param_info p;
        if (i >= n) {
            h_failf(__FILE__, __LINE__, "reference has more tensors than our %d", n);
            break;
        }
        selfmm_model_param(m, i, &p);
        CHECK_STR(p.name, line);
        i++;
    }
    CHECK_INT(i, n);
    fclose(fp);
    selfmm_model_free(m);
}

int main(void)
{
    selfmm_set_threads(2, NULL);
    RUN(parameter_order_matches_state_dict);
    RUN(reference_no_dropout);
    RUN(reference_every_dropout_site);
    return h_finish();
}
