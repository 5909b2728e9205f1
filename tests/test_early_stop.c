/* test_early_stop.c -- selfmm_early_stop_update against the decisions of the reference
 * trainer's own do_train (tools/gen_reference_early_stop.py): in which epochs it saved
 * the model and after how many epochs it returned, for scripted validation Losses (ties,
 * differences around 1e-6, the 1e8 start, NaN, plateaus, several early_stop values). */
#include "harness.h"

#include "support/fixture.h"

static const fx_tensor *get(const fx_file *f, const char *fmt, int i)
{
    char key[64];
    snprintf(key, sizeof key, fmt, i);
    return fx_get(f, key);
}

TEST(reference_decisions)
{
    fx_file f;
    REQUIRE(fx_load("tests/fixtures/train/early_stop.smfx", &f) == 0);
    selfmm_config cfg;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_config_preset(&cfg, "sims", &e), e.message); /* valid_min_delta 1e-6 */
    int cases = 0, epochs = 0, saves = 0;
    for (int c = 0;; c++, cases++) {
        const fx_tensor *es = get(&f, "e%d.early_stop", c);
        if (!es) break;
        const fx_tensor *loss = get(&f, "e%d.loss", c), *saved = get(&f, "e%d.saved", c);
        const fx_tensor *ran = get(&f, "e%d.epochs", c);
        REQUIRE(loss && saved && ran && loss->numel == saved->numel && loss->numel == (int64_t)ran->f64[0]);
        cfg.early_stop = (int)es->f64[0];
        selfmm_early_stop s;
        selfmm_early_stop_init(&s);
        CHECK(s.epoch == 0 && s.best_epoch == 0 && s.best == 1e8);
        int stop = 0, n = 0, last_best = 0;
        double best = 1e8;
        while (!stop && n < loss->numel) {
            const int better = selfmm_early_stop_update(&s, &cfg, loss->f64[n], &stop);
            CHECK_MSG(better == (int)saved->f64[n], "case %d (early_stop %d), epoch %d: Loss %.17g %s, the reference %s",
                      c, cfg.early_stop, n + 1, loss->f64[n], better ? "improves" : "does not improve",
                      saved->f64[n] ? "saved the model" : "did not");
            if (better) last_best = n + 1, best = loss->f64[n];
            n++;
            CHECK(s.epoch == n && s.best_epoch == last_best && s.best == best);
            saves += better;
        }
        CHECK_MSG(stop && n == loss->numel, "case %d (early_stop %d): stopped after %d epochs (stop %d), the reference "
                  "after %lld", c, cfg.early_stop, n, stop, (long long)loss->numel);
        epochs += n;
    }
    CHECK(cases >= 40);
    printf("# %d cases, %d epochs, %d new bests: the reference's decisions\n", cases, epochs, saves);
    fx_free(&f);
}

/* The margin is the config's: 0 counts ties as improvements; stop may be NULL. */
TEST(margin_and_null)
{
    selfmm_config cfg;
    selfmm_config_default(&cfg);
    cfg.early_stop = 2;
    cfg.valid_min_delta = 0;
    selfmm_early_stop s;
    selfmm_early_stop_init(&s);
    CHECK(selfmm_early_stop_update(&s, &cfg, 0.5, NULL) == 1);
    CHECK(selfmm_early_stop_update(&s, &cfg, 0.5, NULL) == 1); /* a tie is enough with margin 0 */
    int stop = -1;
    CHECK(selfmm_early_stop_update(&s, &cfg, 0.6, &stop) == 0 && stop == 0);
    CHECK(selfmm_early_stop_update(&s, &cfg, 0.6, &stop) == 0 && stop == 1);
    CHECK(s.epoch == 4 && s.best_epoch == 2 && s.best == 0.5);
    CHECK(selfmm_early_stop_update(NULL, &cfg, 0.1, &stop) == 0 && stop == 1);
    selfmm_early_stop_init(NULL); /* harmless */
}

int main(void)
{
    RUN(reference_decisions);
    RUN(margin_and_null);
    return h_finish();
}
