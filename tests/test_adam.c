/* test_adam.c -- Adam with the reference trainer's five groups (tools/gen_adam_fixture.py
 * takes them from the reference's do_train through the harness): the default config
 * against torch.optim.Adam (torch 1.13, the form of every torch >= 1.3: the reference as
 * run today), and the named variant adam_legacy = 1 against torch 1.2's step (pinned in
 * the reference's requirements.txt; restated, since torch 1.2 cannot run here):
 * bit-exact over three steps, zero-gradient tensors moved by weight decay, the pooler
 * (group NONE) untouched, moments, resume from saved state, thread independence, bad
 * input. */
#include "harness.h"

#include "model/model.h"
#include "support/fixture.h"
#include "train/adam.h"

#define FIXTURE "tests/fixtures/train/adam.smfx"
#define CONFIG "tests/fixtures/train/adam_config.json"

static fx_file fx;

/* The fixture's model config over the defaults; legacy: adam_legacy set to 1 by name,
 * as a user does; otherwise the default form, whichever that is. */
static int make_model(int legacy, selfmm_model **m)
{
    selfmm_config c;
    selfmm_error e = {0};
    selfmm_config_default(&c);
    if (selfmm_config_load_json(&c, CONFIG, &e) != SELFMM_OK ||
        (legacy && selfmm_config_set(&c, "adam_legacy", "1", &e) != SELFMM_OK)) {
        printf("# %s\n", e.message);
        return 0;
    }
    if (selfmm_model_create(&c, m, &e) != SELFMM_OK) {
        printf("# %s\n", e.message);
        return 0;
    }
    return 1;
}

static const fx_tensor *tensor(const char *prefix, const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    return fx_get(&fx, key);
}

/* Copy "init.<name>" into every parameter; 0 when one is missing or mis-sized. */
static int load_init(selfmm_model *m)
{
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        const fx_tensor *t = tensor("init.", p.name);
        if (!t || t->numel != p.numel) {
            printf("# fixture lacks init.%s or its size differs\n", p.name);
            return 0;
        }
        memcpy(p.data, t->f32, (size_t)p.numel * sizeof(float));
    }
    return 1;
}

/* Gradients of step s; tensors without one in the fixture (the pooler, group NONE)
 * get garbage, which the optimizer must ignore. */
static void load_grads(selfmm_model *m, int s)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "grad.%d.", s);
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        const fx_tensor *t = tensor(prefix, p.name);
        if (t && t->numel == p.numel) memcpy(p.grad, t->f32, (size_t)p.numel * sizeof(float));
        else for (int64_t j = 0; j < p.numel; j++) p.grad[j] = 1000.0f;
    }
}

/* Every parameter equal (==) to "<prefix><name>"; returns the number of differing
 * elements and reports the first tensor that differs. */
static long compare_params(selfmm_model *m, const char *prefix)
{
    long bad = 0;
    int reported = 0;
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        const fx_tensor *t = tensor(prefix, p.name);
        if (!t || t->numel != p.numel) {
            printf("# fixture lacks %s%s\n", prefix, p.name);
            return -1;
        }
        for (int64_t j = 0; j < p.numel; j++) {
            if (p.data[j] != t->f32[j]) {
                if (!reported++)
                    printf("# %s%s[%lld]: got %.9g, torch %.9g\n", prefix, p.name, (long long)j,
                           (double)p.data[j], (double)t->f32[j]);
                bad++;
            }
        }
    }
    return bad;
}

static void run_form(int legacy)
{
    const char *form = legacy ? "adam_legacy" : "default";
    selfmm_model *m = NULL;
    selfmm_optim *o = NULL;
    selfmm_error e = {0};
    REQUIRE(make_model(legacy, &m));
    REQUIRE(load_init(m));
    REQUIRE_OK(selfmm_optim_create(m, NULL, &o, &e), e.message);
    char prefix[64];
    for (int s = 1; s <= 3; s++) {
        load_grads(m, s);
        REQUIRE_OK(selfmm_optim_step(o), selfmm_optim_errmsg(o));
        if (s == 1 || s == 3) {
            snprintf(prefix, sizeof prefix, "%s.%d.", form, s);
            long bad = compare_params(m, prefix);
            CHECK_MSG(bad == 0, "%s step %d: %ld elements differ from torch", form, s, bad);
        }
    }
    CHECK_INT(sm_optim_get_step(o), 3);
    /* moments: exact, and zero for group NONE */
    sm_state_tensor st[2];
    sm_optim_state(o, st);
    long bad = 0, checked = 0;
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        const int64_t off = p.data - m->net.params;
        for (int k = 0; k < 2; k++) {
            snprintf(prefix, sizeof prefix, "%s.%s.", form, k ? "exp_avg_sq" : "exp_avg");
            const fx_tensor *t = tensor(prefix, p.name);
            for (int64_t j = 0; j < p.numel; j++, checked++) {
                float want = p.group == SELFMM_GROUP_NONE ? 0.0f : t ? t->f32[j] : NAN;
                bad += st[k].data[off + j] != want;
            }
        }
    }
    CHECK_MSG(bad == 0, "%s: %ld of %ld moments differ", form, bad, checked);
    selfmm_optim_free(o);
    selfmm_model_free(m);
}

/* The default: torch >= 1.3's form, the reference as run today; also in every preset. */
TEST(default_is_torch_13_form)
{
    selfmm_config c;
    selfmm_error e = {0};
    selfmm_config_default(&c);
    CHECK_INT(c.adam_legacy, 0);
    static const char *const presets[] = {"sims", "mosi", "mosei", "mmsa-sims", "mmsa-mosi", "mmsa-mosei"};
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++) {
        REQUIRE_OK(selfmm_config_preset(&c, presets[i], &e), e.message);
        CHECK_MSG(c.adam_legacy == 0, "preset %s: adam_legacy %d", presets[i], c.adam_legacy);
    }
    REQUIRE_OK(selfmm_config_load_json(&c, CONFIG, &e), e.message);
    CHECK_INT(c.adam_legacy, 0);
}

TEST(default_matches_torch_13_adam) { run_form(0); }
TEST(adam_legacy_matches_torch_12_adam) { run_form(1); }

/* The two forms really differ on this fixture (small gradients, weight decay only). */
TEST(the_forms_differ_here)
{
    long differ = 0;
    for (int i = 0; i < fx.n; i++) {
        if (strncmp(fx.t[i].name, "default.3.", 10) != 0) continue;
        char key[256];
        snprintf(key, sizeof key, "adam_legacy.3.%s", fx.t[i].name + 10);
        const fx_tensor *l = fx_get(&fx, key);
        REQUIRE(l && l->numel == fx.t[i].numel);
        for (int64_t j = 0; j < l->numel; j++) differ += l->f32[j] != fx.t[i].f32[j];
    }
    CHECK(differ > 0);
}

/* docs/MODEL.md §3.6: a zero gradient still moves a tensor (weight decay); the pooler never
 * moves. Also proves the fixture exercises both. */
TEST(zero_gradients_move_none_group_does_not)
{
    selfmm_model *m = NULL;
    selfmm_optim *o = NULL;
    selfmm_error e = {0};
    REQUIRE(make_model(0, &m));
    REQUIRE(load_init(m));
    REQUIRE_OK(selfmm_optim_create(m, NULL, &o, &e), e.message);
    load_grads(m, 1);
    selfmm_param_info text, pool;
    REQUIRE_OK(selfmm_model_find_param(m, "Model.post_text_layer_1.weight", &text), "");
    REQUIRE_OK(selfmm_model_find_param(m, "Model.text_model.model.pooler.dense.weight", &pool), "");
    CHECK_INT(pool.group, SELFMM_GROUP_NONE);
    int zero = 1;
    for (int64_t j = 0; j < text.numel; j++) zero = zero && text.grad[j] == 0.0f;
    CHECK(zero);
    REQUIRE_OK(selfmm_optim_step(o), "");
    const fx_tensor *t0 = tensor("init.", text.name), *p0 = tensor("init.", pool.name);
    REQUIRE(t0 && p0);
    long moved = 0, pooler_moved = 0;
    for (int64_t j = 0; j < text.numel; j++) moved += text.data[j] != t0->f32[j];
    for (int64_t j = 0; j < pool.numel; j++) pooler_moved += pool.data[j] != p0->f32[j];
    CHECK_MSG(moved == text.numel, "only %ld of %lld zero-gradient weights moved", moved,
              (long long)text.numel);
    CHECK_INT(pooler_moved, 0);
    selfmm_optim_free(o);
    selfmm_model_free(m);
}

/* Two steps, save, restore into a fresh optimizer on a copy of the model, step:
 * identical bits to running straight through (and to torch). */
TEST(resume_is_bit_identical)
{
    selfmm_model *a = NULL, *b = NULL;
    selfmm_optim *oa = NULL, *ob = NULL;
    selfmm_error e = {0};
    REQUIRE(make_model(0, &a) && make_model(0, &b));
    REQUIRE(load_init(a));
    REQUIRE_OK(selfmm_optim_create(a, NULL, &oa, &e), e.message);
    REQUIRE_OK(selfmm_optim_create(b, NULL, &ob, &e), e.message);
    for (int s = 1; s <= 2; s++) {
        load_grads(a, s);
        REQUIRE_OK(selfmm_optim_step(oa), "");
    }
    /* the checkpoint: parameters, moments, step count (copies, as a file would hold) */
    memcpy(b->net.params, a->net.params, (size_t)a->net.table.total * sizeof(float));
    sm_state_tensor st[2];
    sm_optim_state(oa, st);
    float *copy = malloc((size_t)(st[0].numel + st[1].numel) * sizeof(float));
    REQUIRE(copy);
    memcpy(copy, st[0].data, (size_t)st[0].numel * sizeof(float));
    memcpy(copy + st[0].numel, st[1].data, (size_t)st[1].numel * sizeof(float));
    sm_state_tensor saved[2] = {{"adam.exp_avg_sq", copy + st[0].numel, st[1].numel},
                                {"adam.exp_avg", copy, st[0].numel}}; /* any order */
    CHECK_OK(sm_optim_restore(ob, saved, 2, sm_optim_get_step(oa)), selfmm_optim_errmsg(ob));
    load_grads(a, 3);
    load_grads(b, 3);
    REQUIRE_OK(selfmm_optim_step(oa), "");
    REQUIRE_OK(selfmm_optim_step(ob), "");
    CHECK(memcmp(a->net.params, b->net.params, (size_t)a->net.table.total * sizeof(float)) == 0);
    CHECK(compare_params(b, "default.3.") == 0);
    free(copy);
    selfmm_optim_free(oa);
    selfmm_optim_free(ob);
    selfmm_model_free(a);
    selfmm_model_free(b);
}

TEST(restore_rejects_bad_state)
{
    selfmm_model *m = NULL;
    selfmm_optim *o = NULL;
    selfmm_error e = {0};
    REQUIRE(make_model(0, &m));
    REQUIRE_OK(selfmm_optim_create(m, NULL, &o, &e), e.message);
    const int64_t n = m->net.table.total;
    float *mm = calloc((size_t)n, sizeof(float)), *vv = calloc((size_t)n, sizeof(float));
    REQUIRE(mm && vv);
    selfmm_param_info w, pool;
    REQUIRE_OK(selfmm_model_find_param(m, "Model.post_fusion_layer_2.weight", &w), "");
    REQUIRE_OK(selfmm_model_find_param(m, "Model.text_model.model.pooler.dense.bias", &pool), "");
    const int64_t wo = w.data - m->net.params, po = pool.data - m->net.params;
    for (int64_t j = 0; j < w.numel; j++) mm[wo + j] = 0.5f, vv[wo + j] = 0.25f;
    sm_state_tensor t[2] = {{"adam.exp_avg", mm, n}, {"adam.exp_avg_sq", vv, n}};

    CHECK_STATUS(sm_optim_restore(o, t, 1, 1), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(selfmm_optim_errmsg(o), "adam.exp_avg_sq");
    t[1].numel = n - 1;
    CHECK_STATUS(sm_optim_restore(o, t, 2, 1), SELFMM_ERR_SHAPE);
    t[1].numel = n;
    sm_state_tensor dup[3] = {t[0], t[1], t[0]};
    CHECK_STATUS(sm_optim_restore(o, dup, 3, 1), SELFMM_ERR_FORMAT);
    CHECK_STATUS(sm_optim_restore(o, t, 2, -1), SELFMM_ERR_RANGE);
    vv[wo + 3] = -1.0f;
    CHECK_STATUS(sm_optim_restore(o, t, 2, 1), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_optim_errmsg(o), "Model.post_fusion_layer_2.weight element 3");
    vv[wo + 3] = NAN;
    CHECK_STATUS(sm_optim_restore(o, t, 2, 1), SELFMM_ERR_DATA);
    vv[wo + 3] = 0.25f;
    mm[po] = 1.0f; /* the pooler is never optimized: its moments must be 0 */
    CHECK_STATUS(sm_optim_restore(o, t, 2, 1), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_optim_errmsg(o), "pooler.dense.bias");
    mm[po] = 0.0f;
    /* ... and so must the padding between tensors be (and the end of the arena) */
    int64_t pad = -1;
    for (int i = 0; i < selfmm_model_num_params(m) && pad < 0; i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        if (p.numel % 16) pad = (p.data - m->net.params) + p.numel;
    }
    REQUIRE(pad >= 0);
    vv[pad] = 1.0f;
    CHECK_STATUS(sm_optim_restore(o, t, 2, 1), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_optim_errmsg(o), "(padding)");
    vv[pad] = 0.0f;
    mm[n - 1] = NAN;
    CHECK_STATUS(sm_optim_restore(o, t, 2, 1), SELFMM_ERR_DATA);
    mm[n - 1] = 0.0f;
    mm[po] = 1.0f;
    /* nothing was taken over by the failures */
    CHECK_INT(sm_optim_get_step(o), 0);
    sm_state_tensor cur[2];
    sm_optim_state(o, cur);
    int clean = 1;
    for (int64_t j = 0; j < n; j++) clean = clean && cur[0].data[j] == 0.0f && cur[1].data[j] == 0.0f;
    CHECK(clean);
    mm[po] = 0.0f;
    CHECK_OK(sm_optim_restore(o, t, 2, 5), selfmm_optim_errmsg(o));
    CHECK_INT(sm_optim_get_step(o), 5);
    CHECK(cur[0].data[wo] == 0.5f);
    free(mm);
    free(vv);
    selfmm_optim_free(o);
    selfmm_model_free(m);
}

static void thread_count_does_not_matter_for(int legacy)
{
    selfmm_model *m[2] = {NULL, NULL};
    selfmm_error e = {0};
    for (int r = 0; r < 2; r++) {
        REQUIRE(make_model(legacy, &m[r]));
        REQUIRE(load_init(m[r]));
        selfmm_optim *o = NULL;
        REQUIRE_OK(selfmm_optim_create(m[r], NULL, &o, &e), e.message);
        selfmm_set_threads(r ? 2 : 1, NULL);
        for (int s = 1; s <= 3; s++) {
            load_grads(m[r], s);
            REQUIRE_OK(selfmm_optim_step(o), "");
        }
        selfmm_optim_free(o);
    }
    selfmm_set_threads(0, NULL);
    CHECK(memcmp(m[0]->net.params, m[1]->net.params, (size_t)m[0]->net.table.total * sizeof(float)) == 0);
    selfmm_model_free(m[0]);
    selfmm_model_free(m[1]);
}

TEST(thread_count_does_not_matter)
{
    thread_count_does_not_matter_for(0);
    thread_count_does_not_matter_for(1);
}

TEST(bad_arguments)
{
    selfmm_model *m = NULL;
    selfmm_optim *o = NULL;
    selfmm_error e = {0};
    REQUIRE(make_model(0, &m));
    CHECK_STATUS(selfmm_optim_create(NULL, NULL, &o, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_optim_create(m, NULL, NULL, &e), SELFMM_ERR_INVALID_ARG);
    selfmm_config c;
    selfmm_model_get_config(m, &c);
    c.learning_rate_other = -1.0;
    CHECK_STATUS(selfmm_optim_create(m, &c, &o, &e), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(e.message, "learning_rate_other");
    CHECK_STATUS(selfmm_optim_step(NULL), SELFMM_ERR_INVALID_ARG);
    CHECK_STR(selfmm_optim_errmsg(NULL), "NULL optimizer");
    selfmm_optim_free(NULL);
    selfmm_model_free(m);
}

int main(void)
{
    if (fx_load(FIXTURE, &fx) != 0) return 1;
    RUN(default_is_torch_13_form);
    RUN(default_matches_torch_13_adam);
    RUN(adam_legacy_matches_torch_12_adam);
    RUN(the_forms_differ_here);
    RUN(zero_gradients_move_none_group_does_not);
    RUN(resume_is_bit_identical);
    RUN(restore_rejects_bad_state);
    RUN(thread_count_does_not_matter);
    RUN(bad_arguments);
    fx_free(&fx);
    return h_finish();
}
