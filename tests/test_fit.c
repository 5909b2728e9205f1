/* test_fit.c -- the fit layer: reproducibility, resume equals an uninterrupted run
 * (weights, labels, logs), the logs written from the very events a callback gets,
 * the tail-window switch, divergence and empty-center errors leaving the last
 * checkpoint usable, dataset creation checks, and the demo. */
#include "harness.h"
#include "support/run_compare.h"

#include "model/model.h"
#include "train/adam.h"
#include "train/fit_internal.h"
#include "train/ulgm.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

/* A small random dataset with the SIMS structure. */
typedef struct tiny {
    int n[3];
    int32_t *text[3], *alen[3], *vlen[3];
    float *audio[3], *vision[3], *label[3];
} tiny;

enum { TL = 8, TA = 6, DA = 3, TV = 5, DV = 4 };

static uint64_t rs;
static double urand(void)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static void tiny_make(tiny *t, int ntrain, float label_lo)
{
    const int n[3] = {ntrain, 12, 10};
    rs = 42;
    for (int s = 0; s < 3; s++) {
        t->n[s] = n[s];
        t->text[s] = calloc((size_t)n[s] * 3 * TL, sizeof(int32_t));
        t->audio[s] = calloc((size_t)n[s] * TA * DA, sizeof(float));
        t->vision[s] = calloc((size_t)n[s] * TV * DV, sizeof(float));
        t->alen[s] = calloc((size_t)n[s], sizeof(int32_t));
        t->vlen[s] = calloc((size_t)n[s], sizeof(int32_t));
        t->label[s] = calloc((size_t)n[s], sizeof(float));
        for (int i = 0; i < n[s]; i++) {
            double y = label_lo + (1.0 - label_lo) * urand();
            t->label[s][i] = (float)y;
            int len = 3 + (int)(urand() * (TL - 3));
            int32_t *ids = t->text[s] + (size_t)i * 3 * TL;
            for (int k = 0; k < len; k++) ids[k] = 1 + (int)(urand() * 20), ids[TL + k] = 1;
            t->alen[s][i] = 1 + (int)(urand() * TA);
            t->vlen[s][i] = 1 + (int)(urand() * TV);
            for (int k = 0; k < TA * DA; k++) t->audio[s][(size_t)i * TA * DA + k] = (float)(urand() - 0.5 + y);
            for (int k = 0; k < TV * DV; k++) t->vision[s][(size_t)i * TV * DV + k] = (float)(urand() - 0.5 - y);
        }
    }
}

static void tiny_views(const tiny *t, selfmm_split_view v[3])
{
    for (int s = 0; s < 3; s++)
        v[s] = (selfmm_split_view){.n = t->n[s], .text_len = TL, .text_bert = t->text[s],
                                   .audio_len = TA, .audio_dim = DA, .audio = t->audio[s],
                                   .audio_lengths = t->alen[s], .vision_len = TV, .vision_dim = DV,
                                   .vision = t->vision[s], .vision_lengths = t->vlen[s],
                                   .labels = t->label[s]};
}

static void tiny_free(tiny *t)
{
    for (int s = 0; s < 3; s++)
        free(t->text[s]), free(t->audio[s]), free(t->vision[s]), free(t->alen[s]), free(t->vlen[s]),
            free(t->label[s]);
}

static selfmm_dataset *tiny_dataset(int ntrain, float label_lo)
{
    tiny t;
    selfmm_split_view v[3];
    tiny_make(&t, ntrain, label_lo);
    tiny_views(&t, v);
    selfmm_dataset *d = NULL;
    selfmm_error e = {0};
    if (selfmm_dataset_create(v, NULL, &d, &e) != SELFMM_OK) printf("# dataset: %s\n", e.message);
    tiny_free(&t);
    return d;
}

static void tiny_config(selfmm_config *c)
{
    selfmm_config_default(c);
    c->vocab_size = 24, c->hidden_size = 8, c->num_hidden_layers = 1, c->num_attention_heads = 2;
    c->intermediate_size = 12, c->max_position_embeddings = 16;
    c->audio_dim = DA, c->video_dim = DV;
    c->a_lstm_hidden_size = 4, c->v_lstm_hidden_size = 5, c->audio_out = 3, c->video_out = 4;
    c->post_fusion_dim = 6, c->post_text_dim = 5, c->post_audio_dim = 4, c->post_video_dim = 3;
    c->batch_size = 8, c->update_epochs = 2;
    c->learning_rate_bert = 1e-3;
    c->max_epochs = 4;
    c->early_stop = 100;
    c->hidden_dropout_prob = 0.1, c->post_text_dropout = 0.2; /* dropout on: exercises the RNG */
}

static char tmp[128];

static const char *tpath(const char *name)
{
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, name);
    return buf[k];
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) eq = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return eq;
}

/* A whole file, NULL when unreadable (free it). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap + 1);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += k) == cap) buf = realloc(buf, (cap *= 2) + 1);
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

static int params_equal(selfmm_model *a, selfmm_model *b)
{
    for (int i = 0; i < selfmm_model_num_params(a); i++) {
        selfmm_param_info p, q;
        selfmm_model_param(a, i, &p);
        selfmm_model_param(b, i, &q);
        if (memcmp(p.data, q.data, (size_t)p.numel * sizeof(float)) != 0) {
            printf("# %s differs\n", p.name);
            return 0;
        }
    }
    return 1;
}

static selfmm_status run(const selfmm_config *c, selfmm_dataset *d, const char *out, int resume,
                         selfmm_fit_callback cb, selfmm_model **mout, selfmm_fit_result *res,
                         selfmm_error *e)
{
    selfmm_model *m = NULL;
    selfmm_status st = selfmm_model_create(c, &m, e);
    if (st != SELFMM_OK) return st;
    selfmm_fit_options o = {.out_dir = out, .resume = resume, .save_labels = 1, .callback = cb};
    st = selfmm_fit(m, d, &o, res, e);
    if (mout) *mout = m;
    else selfmm_model_free(m);
    return st;
}

TEST(same_seed_same_bits)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_model *a = NULL, *b = NULL, *x = NULL;
    selfmm_fit_result ra, rb, rx;
    selfmm_error e = {0};
    CHECK_OK(run(&c, d, NULL, 0, NULL, &a, &ra, &e), e.message);
    CHECK_OK(run(&c, d, NULL, 0, NULL, &b, &rb, &e), e.message);
    c.seed = 7;
    CHECK_OK(run(&c, d, NULL, 0, NULL, &x, &rx, &e), e.message);
    REQUIRE(a && b && x);
    CHECK(params_equal(a, b));
    CHECK_INT(ra.epochs, 4);
    CHECK(ra.test_loss == rb.test_loss);
    CHECK(ra.best_valid_loss == rb.best_valid_loss);
    CHECK(rx.test_loss != ra.test_loss);
    CHECK_INT(ra.test.count, 6);
    selfmm_model_free(a), selfmm_model_free(b), selfmm_model_free(x);
    selfmm_dataset_free(d);
}

static int stop_epoch, stop_batch, steps_seen;

static int stopper(const selfmm_fit_event *ev, void *user)
{
    (void)user;
    if (ev->kind == SELFMM_EVENT_STEP) steps_seen++;
    if (stop_batch && ev->kind == SELFMM_EVENT_BATCH && ev->epoch == stop_epoch && ev->batch == stop_batch)
        return 1;
    if (!stop_batch && ev->kind == SELFMM_EVENT_EPOCH && ev->epoch == stop_epoch) return 1;
    return 0;
}

TEST(resume_equals_uninterrupted)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_error e = {0};
    selfmm_model *full = NULL;
    selfmm_fit_result rf;
    mkdir(tpath("full"), 0777);
    REQUIRE_OK(run(&c, d, tpath("full"), 0, NULL, &full, &rf, &e), e.message);
    /* the best epoch's checkpoint is gone once model.safetensors holds its weights */
    char best[300];
    snprintf(best, sizeof best, "%s/checkpoint-best.safetensors", tpath("full"));
    CHECK(access(best, F_OK) != 0);
    /* interrupted at an epoch end, then in the middle of a later epoch; then at an
     * epoch end with the best weights where earlier versions kept them (in
     * model.safetensors, no checkpoint-best.safetensors) */
    for (int mode = 0; mode < 3; mode++) {
        static const char *const name[3] = {"cut_end", "cut_mid", "cut_old"};
        const char *dir = tpath(name[mode]);
        stop_epoch = mode == 1 ? 3 : 2, stop_batch = mode == 1 ? 2 : 0;
        selfmm_fit_result r;
        CHECK_STATUS(run(&c, d, dir, 0, stopper, NULL, &r, &e), SELFMM_ERR_INTERRUPTED);
        stop_epoch = stop_batch = 0;
        sm_fit_files files;
        snprintf(files.best, sizeof files.best, "%s/checkpoint-best.safetensors", dir);
        snprintf(files.model, sizeof files.model, "%s/model.safetensors", dir);
        CHECK_MSG(access(files.best, F_OK) == 0 && access(files.model, F_OK) != 0,
                  "during a run, the best weights are in the best epoch's checkpoint (%s)", dir);
        if (mode == 2) { /* the old layout, as sm_fit_best_restore leaves it */
            selfmm_model *m = NULL;
            REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
            REQUIRE_OK(selfmm_model_adopt_dataset(m, d), selfmm_model_errmsg(m)); /* as selfmm_fit */
            REQUIRE_OK(sm_fit_best_restore(&files, m, 0, &e), e.message);
            CHECK(access(files.best, F_OK) != 0 && access(files.model, F_OK) == 0);
            selfmm_model_free(m);
        }
        selfmm_model *m = NULL;
        CHECK_OK(run(&c, d, dir, 1, NULL, &m, &r, &e), e.message);
        REQUIRE(m);
        CHECK(params_equal(full, m));
        CHECK(r.test_loss == rf.test_loss);
        CHECK_INT(r.best_epoch, rf.best_epoch);
        char a[300], b[300];
        snprintf(a, sizeof a, "%s/train_log.jsonl", tpath("full"));
        snprintf(b, sizeof b, "%s/train_log.jsonl", dir);
        CHECK_MSG(rc_logs_equal(a, b), "train_log.jsonl differs after resume (%s)", dir);
        snprintf(a, sizeof a, "%s/labels.jsonl", tpath("full"));
        snprintf(b, sizeof b, "%s/labels.jsonl", dir);
        CHECK_MSG(files_equal(a, b), "labels.jsonl differs after resume (%s)", dir);
        snprintf(a, sizeof a, "%s/model.safetensors", tpath("full"));
        snprintf(b, sizeof b, "%s/model.safetensors", dir);
        CHECK_MSG(files_equal(a, b), "model.safetensors differs after resume (%s)", dir);
        selfmm_model_free(m);
    }
    selfmm_model_free(full);
    selfmm_dataset_free(d);
}

/* The end of a run: the best epoch's weights come from its checkpoint (the weights
 * only), unless the model holds them (the last epoch was the best), when that file is
 * not read at all; either way model.safetensors gets them and the checkpoint goes. */
TEST(best_restore_reads_only_what_it_needs)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_error e = {0};
    selfmm_model *m = NULL, *back = NULL;
    selfmm_optim *o = NULL;
    selfmm_ulgm *u = NULL;
    selfmm_split_view v;
    const int dims[4] = {c.post_fusion_dim, c.post_text_dim, c.post_audio_dim, c.post_video_dim};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    REQUIRE_OK(selfmm_model_create(&c, &back, &e), e.message);
    REQUIRE_OK(selfmm_dataset_split(d, SELFMM_SPLIT_TRAIN, &v), "split");
    REQUIRE_OK(selfmm_optim_create(m, &c, &o, &e), e.message);
    REQUIRE_OK(selfmm_ulgm_create(&c, v.n, v.labels, dims, &u, &e), e.message);
    const char *dir = tpath("restore");
    mkdir(dir, 0777);
    sm_fit_files files;
    snprintf(files.best, sizeof files.best, "%s/checkpoint-best.safetensors", dir);
    snprintf(files.model, sizeof files.model, "%s/model.safetensors", dir);
    selfmm_param_info p;
    REQUIRE_OK(selfmm_model_param(m, 0, &p), "param");
    const float saved = p.data[0];
    for (int holds = 0; holds < 2; holds++) {
        p.data[0] = saved;
        REQUIRE_OK(selfmm_checkpoint_save(m, o, u, "{}", files.best, &e), e.message);
        p.data[0] = saved + 1.0f; /* the model now differs from the best epoch's weights */
        if (holds) { /* a file that cannot be read as a checkpoint: never opened */
            FILE *f = fopen(files.best, "w");
            REQUIRE(f);
            fclose(f);
        }
        CHECK_OK(sm_fit_best_restore(&files, m, holds, &e), e.message);
        CHECK_MSG(p.data[0] == (holds ? saved + 1.0f : saved), "holds_best %d: weight %g", holds,
                  (double)p.data[0]);
        CHECK(access(files.best, F_OK) != 0);
        CHECK_OK(selfmm_model_load_weights(back, files.model), selfmm_model_errmsg(back));
        CHECK(params_equal(m, back));
    }
    /* not holding them, with an unreadable best checkpoint: an error naming it */
    FILE *f = fopen(files.best, "w");
    REQUIRE(f);
    fclose(f);
    CHECK_STATUS(sm_fit_best_restore(&files, m, 0, &e), SELFMM_ERR_FORMAT);
    CHECK_MSG(strstr(e.message, "checkpoint-best.safetensors") != NULL, "message: %s", e.message);
    selfmm_optim_free(o), selfmm_ulgm_free(u), selfmm_model_free(m), selfmm_model_free(back);
    selfmm_dataset_free(d);
}

/* A callback that writes the logs itself, with the writer's formatting, from the
 * events it is given; it also counts them. */
typedef struct own_logs {
    FILE *log, *labels;
    int count[3];
    int human;              /* epoch events carrying the human unimodal labels */
    int stop_epoch;         /* stop after this epoch's event (0: never) */
} own_logs;

static int log_myself(const selfmm_fit_event *ev, void *user)
{
    own_logs *o = user;
    sm_fit_log_lines(o->log, o->labels, ev);
    o->count[ev->kind]++;
    if (ev->kind == SELFMM_EVENT_EPOCH) {
        const float *const *h = ev->labels_human;
        o->human += h && h[0] && h[1] && h[2] && h[3];
    }
    return ev->kind == SELFMM_EVENT_EPOCH && ev->epoch == o->stop_epoch;
}

static int count_lines(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    static char line[1 << 16];
    int n = 0;
    while (fgets(line, sizeof line, fp)) n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

/* train_log.jsonl and labels.jsonl are a function of the events a callback gets:
 * formatting those events gives the same bytes, also across an interruption at an
 * epoch end and the resume (the callback sees the epoch once its checkpoint is
 * written). SIMS-like data with human unimodal labels, so label_corr is written. */
TEST(logs_are_the_callbacks_events)
{
    selfmm_config c;
    tiny_config(&c);
    tiny t;
    selfmm_split_view v[3];
    tiny_make(&t, 30, -1);
    tiny_views(&t, v);
    float *human[3][4] = {{0}};
    for (int s = 0; s < 3; s++)
        for (int k = 1; k < 4; k++) {
            human[s][k] = malloc((size_t)t.n[s] * sizeof(float));
            REQUIRE(human[s][k]);
            for (int i = 0; i < t.n[s]; i++)
                human[s][k][i] = t.label[s][i] * (float)(0.5 + 0.1 * k) + (float)(urand() - 0.5) * 0.2f;
            v[s].labels_unimodal[k] = human[s][k];
        }
    selfmm_dataset *d = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_dataset_create(v, NULL, &d, &e), e.message);
    tiny_free(&t);
    for (int s = 0; s < 3; s++)
        for (int k = 1; k < 4; k++) free(human[s][k]);
    for (int mode = 0; mode < 2; mode++) { /* straight through; stopped after epoch 2 and resumed */
        const char *dir = tpath(mode ? "events_resumed" : "events");
        char mine[2][300], theirs[2][300];
        snprintf(mine[0], sizeof mine[0], "%s.train_log.jsonl", dir);
        snprintf(mine[1], sizeof mine[1], "%s.labels.jsonl", dir);
        snprintf(theirs[0], sizeof theirs[0], "%s/train_log.jsonl", dir);
        snprintf(theirs[1], sizeof theirs[1], "%s/labels.jsonl", dir);
        own_logs o = {.log = fopen(mine[0], "w"), .labels = fopen(mine[1], "w"), .stop_epoch = mode ? 2 : 0};
        REQUIRE(o.log && o.labels);
        selfmm_model *m = NULL;
        REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
        selfmm_fit_options opt = {.out_dir = dir, .save_labels = 1, .callback = log_myself, .user = &o};
        selfmm_fit_result r;
        if (mode) {
            CHECK_STATUS(selfmm_fit(m, d, &opt, &r, &e), SELFMM_ERR_INTERRUPTED);
            selfmm_model_free(m);
            m = NULL;
            REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
            o.stop_epoch = 0, opt.resume = 1;
        }
        CHECK_OK(selfmm_fit(m, d, &opt, &r, &e), e.message);
        selfmm_model_free(m);
        fclose(o.log), fclose(o.labels);
        CHECK_INT(r.epochs, 4);
        CHECK_INT(o.count[SELFMM_EVENT_EPOCH], 4);
        CHECK_INT(o.count[SELFMM_EVENT_BATCH], 4 * 4); /* 30 samples in batches of 8 */
        CHECK_INT(o.count[SELFMM_EVENT_STEP], 4 * 2);
        CHECK_INT(o.human, 4);
        CHECK_INT(count_lines(theirs[0], "\"label_corr\":{\"T\""), 4);
        CHECK_INT(count_lines(theirs[1], "\"label_corr\":{\"T\""), 4);
        CHECK_INT(count_lines(theirs[0], "\"type\":\"batch\""), 16);
        CHECK_MSG(files_equal(mine[0], theirs[0]), "train_log.jsonl: not the callback's events (mode %d)",
                  mode);
        CHECK_MSG(files_equal(mine[1], theirs[1]), "labels.jsonl: not the callback's events (mode %d)", mode);
    }
    selfmm_dataset_free(d);
}

/* Each EPOCH event says where the time since the previous one went: every part
 * measured, none larger than the whole, the checkpoint of an epoch counted in the
 * next event (none before the first), and the log line carries the same numbers. */
typedef struct epoch_times {
    int epochs, bad;
    double checkpoint[8], epoch[8];
} epoch_times;

static int check_times(const selfmm_fit_event *ev, void *user)
{
    epoch_times *t = user;
    if (ev->kind != SELFMM_EVENT_EPOCH) return 0;
    const double parts = ev->train_steps_s + ev->optim_s + ev->labels_s + ev->valid_s + ev->files_s;
    int ok = ev->epoch_s > 0 && ev->train_steps_s > 0 && ev->optim_s > 0 && ev->labels_s > 0 &&
             ev->valid_s > 0 && ev->files_s > 0 && parts <= ev->epoch_s && ev->checkpoint_s <= ev->files_s &&
             (ev->epoch == 1) == (ev->checkpoint_s == 0);
    if (!ok)
        printf("# epoch %d: epoch %g steps %g optim %g labels %g valid %g files %g checkpoint %g\n", ev->epoch,
               ev->epoch_s, ev->train_steps_s, ev->optim_s, ev->labels_s, ev->valid_s, ev->files_s,
               ev->checkpoint_s);
    t->bad += !ok;
    if (ev->epoch <= 8) t->checkpoint[ev->epoch - 1] = ev->checkpoint_s, t->epoch[ev->epoch - 1] = ev->epoch_s;
    t->epochs++;
    return 0;
}

TEST(epoch_times_add_up)
{
    selfmm_config c;
    tiny_config(&c);
    c.max_epochs = 3;
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    epoch_times t = {0};
    const char *dir = tpath("times");
    selfmm_fit_options o = {.out_dir = dir, .callback = check_times, .user = &t};
    selfmm_fit_result r;
    CHECK_OK(selfmm_fit(m, d, &o, &r, &e), e.message);
    CHECK_INT(t.epochs, 3);
    CHECK_INT(t.bad, 0);
    /* the log's epoch lines: the same seconds, to the millisecond */
    char path[300], want[128];
    snprintf(path, sizeof path, "%s/train_log.jsonl", dir);
    char *all = slurp(path), *log = all;
    REQUIRE(all);
    for (int i = 0; i < 3; i++) {
        char *line = strstr(log, "{\"type\":\"epoch\"");
        REQUIRE(line);
        char *time = strstr(line, ",\"time\":{\"epoch\":");
        REQUIRE(time && time < strchr(line, '\n'));
        snprintf(want, sizeof want, ",\"time\":{\"epoch\":%.3f,", t.epoch[i]);
        CHECK_MSG(strncmp(time, want, strlen(want)) == 0, "epoch %d: %.60s, want %s", i + 1, time, want);
        snprintf(want, sizeof want, "\"checkpoint\":%.3f ", t.checkpoint[i]);
        const char *ck = strstr(time, "\"checkpoint\":");
        CHECK_MSG(ck && strncmp(ck, want, strlen(want)) == 0, "epoch %d: %.200s", i + 1, time);
        /* padded: the object's length does not depend on the times (the checkpoint
         * records the log's length) */
        const char *end = strstr(time, "}}\n");
        REQUIRE(end);
        CHECK_INT(end - time, (long)strlen(",\"time\":{\"epoch\":99999.999,\"train_steps\":99999.999,"
                                          "\"optimizer\":99999.999,\"labels\":99999.999,\"valid\":99999.999,"
                                          "\"files\":99999.999,\"checkpoint\":99999.999"));
        log = strchr(line, '\n');
    }
    free(all);
    selfmm_model_free(m);
    selfmm_dataset_free(d);
}

TEST(tail_window_switch)
{
    selfmm_config c;
    tiny_config(&c);
    c.max_epochs = 2;
    selfmm_dataset *d = tiny_dataset(20, -1); /* 3 batches of 8, 8, 4: windows of 2 -> one partial */
    REQUIRE(d);
    selfmm_error e = {0};
    selfmm_fit_result r;
    steps_seen = 0;
    CHECK_OK(run(&c, d, NULL, 0, stopper, NULL, &r, &e), e.message);
    CHECK_INT(steps_seen, 2); /* one step per epoch: the partial window is discarded */
    c.tail_step = 1;
    steps_seen = 0;
    CHECK_OK(run(&c, d, NULL, 0, stopper, NULL, &r, &e), e.message);
    CHECK_INT(steps_seen, 4);
    selfmm_dataset_free(d);
}

static int poison(const selfmm_fit_event *ev, void *user)
{
    selfmm_model *m = user;
    if (ev->kind == SELFMM_EVENT_EPOCH && ev->epoch == 1) {
        selfmm_param_info p;
        selfmm_model_find_param(m, "Model.post_fusion_layer_3.bias", &p);
        p.data[0] = NAN;
    }
    return 0;
}

TEST(resume_refuses_other_hyper_parameters)
{
    selfmm_config c;
    tiny_config(&c);
    c.max_epochs = 1;
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_error e = {0};
    selfmm_fit_result r;
    REQUIRE_OK(run(&c, d, tpath("other"), 0, NULL, NULL, &r, &e), e.message);
    c.max_epochs = 2;         /* a run setting: may change */
    c.learning_rate_other = 0.5; /* a hyper-parameter: may not */
    CHECK_STATUS(run(&c, d, tpath("other"), 1, NULL, NULL, &r, &e), SELFMM_ERR_STATE);
    CHECK_CONTAINS(e.message, "learning_rate_other");
    c.learning_rate_other = 1e-3;
    CHECK_OK(run(&c, d, tpath("other"), 1, NULL, NULL, &r, &e), e.message);
    CHECK_INT(r.epochs, 2);
    selfmm_dataset_free(d);
}

TEST(divergence_stops_with_last_checkpoint_intact)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_error e = {0};
    selfmm_model *m = NULL;
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    selfmm_fit_options o = {.out_dir = tpath("nan"), .callback = poison, .user = m};
    selfmm_fit_result r;
    CHECK_STATUS(selfmm_fit(m, d, &o, &r, &e), SELFMM_ERR_NUMERIC);
    CHECK_CONTAINS(e.message, "epoch 2");
    CHECK_CONTAINS(e.message, "checkpoint");
    selfmm_model_free(m);
    /* the epoch-1 checkpoint still resumes (and the poison is not in it) */
    m = NULL;
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    o.callback = NULL, o.resume = 1;
    CHECK_OK(selfmm_fit(m, d, &o, &r, &e), e.message);
    CHECK_INT(r.epochs, 4);
    selfmm_model_free(m);
    selfmm_dataset_free(d);
}

TEST(empty_center_set_is_an_error)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_dataset *d = tiny_dataset(30, 0.0f); /* every label >= 0: no negative center */
    REQUIRE(d);
    selfmm_error e = {0};
    selfmm_fit_result r;
    CHECK_STATUS(run(&c, d, NULL, 0, NULL, NULL, &r, &e), SELFMM_ERR_NUMERIC);
    CHECK_CONTAINS(e.message, "epoch 2");
    selfmm_dataset_free(d);
}

/* A checkpoint's run state (the JSON fit stores with it) is checked on resume: a
 * negative log length would have emptied train_log.jsonl, a fractional or huge epoch
 * been cast to int. Each bad state is SELFMM_ERR_FORMAT and the log is kept. */
TEST(resume_checks_the_run_state)
{
    selfmm_config c;
    tiny_config(&c);
    c.max_epochs = 1;
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_error e = {0};
    selfmm_fit_result r;
    const char *dir = tpath("badstate");
    REQUIRE_OK(run(&c, d, dir, 0, NULL, NULL, &r, &e), e.message);
    char ckpt[300], log[300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
    snprintf(log, sizeof log, "%s/train_log.jsonl", dir);
    struct stat before;
    REQUIRE(stat(log, &before) == 0 && before.st_size > 0);
    /* handles of the right sizes, to write checkpoints with a chosen run state */
    selfmm_model *m = NULL;
    selfmm_optim *o = NULL;
    selfmm_ulgm *u = NULL;
    selfmm_split_view tr;
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    REQUIRE_OK(selfmm_optim_create(m, NULL, &o, &e), e.message);
    REQUIRE_OK(selfmm_dataset_split(d, SELFMM_SPLIT_TRAIN, &tr), "");
    const int dims[4] = {c.post_fusion_dim, c.post_text_dim, c.post_audio_dim, c.post_video_dim};
    REQUIRE_OK(selfmm_ulgm_create(&c, tr.n, tr.labels, dims, &u, &e), e.message);
    static const char *const bad[] = {
        "{\"epoch\":1,\"best_epoch\":1,\"best_valid\":0.5,\"log_bytes\":-7,\"labels_bytes\":-1}",
        "{\"epoch\":1.5,\"best_epoch\":1,\"best_valid\":0.5,\"log_bytes\":0,\"labels_bytes\":-1}",
        "{\"epoch\":1e300,\"best_epoch\":1,\"best_valid\":0.5,\"log_bytes\":0,\"labels_bytes\":-1}",
        "{\"epoch\":1,\"best_epoch\":2,\"best_valid\":0.5,\"log_bytes\":0,\"labels_bytes\":-1}",
        "{\"epoch\":1,\"best_epoch\":1,\"best_valid\":0.5,\"log_bytes\":0}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        REQUIRE_OK(selfmm_checkpoint_save(m, o, u, bad[i], ckpt, &e), e.message);
        CHECK_STATUS(run(&c, d, dir, 1, NULL, NULL, &r, &e), SELFMM_ERR_FORMAT);
        CHECK_CONTAINS(e.message, "run state");
        struct stat after;
        CHECK(stat(log, &after) == 0 && after.st_size == before.st_size);
    }
    selfmm_ulgm_free(u);
    selfmm_optim_free(o);
    selfmm_model_free(m);
    selfmm_dataset_free(d);
}

/* selfmm_checkpoint_load checks everything before changing anything: a bad
 * optimizer state leaves the label state untouched and the other way round. */
TEST(checkpoint_load_is_all_or_nothing)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    selfmm_split_view tr;
    REQUIRE_OK(selfmm_dataset_split(d, SELFMM_SPLIT_TRAIN, &tr), "");
    const int dims[4] = {c.post_fusion_dim, c.post_text_dim, c.post_audio_dim, c.post_video_dim};
    selfmm_model *m[2] = {NULL, NULL};
    selfmm_optim *o[2] = {NULL, NULL};
    selfmm_ulgm *u[2] = {NULL, NULL};
    selfmm_error e = {0};
    for (int k = 0; k < 2; k++) {
        REQUIRE_OK(selfmm_model_create(&c, &m[k], &e), e.message);
        REQUIRE_OK(selfmm_optim_create(m[k], NULL, &o[k], &e), e.message);
        REQUIRE_OK(selfmm_ulgm_create(&c, tr.n, tr.labels, dims, &u[k], &e), e.message);
    }
    /* the source's state (written through the views: a test may) */
    sm_state_tensor os[2], us[SM_ULGM_STATE_COUNT];
    sm_optim_state(o[0], os);
    sm_ulgm_state(u[0], us);
    selfmm_param_info w;
    REQUIRE_OK(selfmm_model_find_param(m[0], "Model.post_fusion_layer_1.weight", &w), "");
    const int64_t at = w.data - m[0]->net.params;
    float *exp_avg = (float *)os[0].data, *exp_avg_sq = (float *)os[1].data, *feat = (float *)us[5].data;
    exp_avg[at] = 0.5f, exp_avg_sq[at] = 0.25f, feat[0] = 0.75f, w.data[0] += 1.0f;
    const char *path = tpath("all_or_nothing.safetensors");
    sm_state_tensor ot[2], ut[SM_ULGM_STATE_COUNT];
    sm_optim_state(o[1], ot);
    sm_ulgm_state(u[1], ut);

    exp_avg_sq[at] = -1.0f; /* a bad optimizer state: the labels stay */
    REQUIRE_OK(selfmm_checkpoint_save(m[0], o[0], u[0], "{}", path, &e), e.message);
    CHECK_STATUS(selfmm_checkpoint_load(m[1], o[1], u[1], path, NULL, &e), SELFMM_ERR_DATA);
    CHECK_CONTAINS(e.message, "post_fusion_layer_1.weight");
    CHECK(ut[5].data[0] == 0.0f && ot[0].data[at] == 0.0f && !params_equal(m[0], m[1]));

    exp_avg_sq[at] = 0.25f, feat[0] = NAN; /* a bad label state: the optimizer stays */
    REQUIRE_OK(selfmm_checkpoint_save(m[0], o[0], u[0], "{}", path, &e), e.message);
    CHECK_STATUS(selfmm_checkpoint_load(m[1], o[1], u[1], path, NULL, &e), SELFMM_ERR_DATA);
    CHECK_CONTAINS(e.message, "ulgm.features.text");
    CHECK(ut[5].data[0] == 0.0f && ot[0].data[at] == 0.0f && !params_equal(m[0], m[1]));

    feat[0] = 0.75f; /* a good one: everything taken over */
    REQUIRE_OK(selfmm_checkpoint_save(m[0], o[0], u[0], "{}", path, &e), e.message);
    CHECK_OK(selfmm_checkpoint_load(m[1], o[1], u[1], path, NULL, &e), e.message);
    CHECK(ut[5].data[0] == 0.75f && ot[0].data[at] == 0.5f && ot[1].data[at] == 0.25f);
    CHECK(params_equal(m[0], m[1]));
    for (int k = 0; k < 2; k++) selfmm_ulgm_free(u[k]), selfmm_optim_free(o[k]), selfmm_model_free(m[k]);
    selfmm_dataset_free(d);
}

/* The run's files must fit in SELFMM_PATH_MAX: a longer out_dir is refused before
 * anything is trained or written (no file under a cut name, no epoch wasted). */
TEST(out_dir_too_long)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_dataset *d = tiny_dataset(30, -1);
    REQUIRE(d);
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", tmp);
    while (strlen(dir) < 1045) { /* existing directories, each name within NAME_MAX */
        size_t n = strlen(dir);
        snprintf(dir + n, sizeof dir - n, "/%.*s", (int)(1045 - n < 200 ? 1045 - n : 200),
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        REQUIRE(mkdir(dir, 0777) == 0);
    }
    selfmm_error e = {0};
    selfmm_fit_result r;
    CHECK_STATUS(run(&c, d, dir, 0, NULL, NULL, &r, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_CONTAINS(e.message, "out_dir is too long for train_log.jsonl");
    DIR *dd = opendir(dir);
    REQUIRE(dd);
    int entries = 0;
    for (struct dirent *de; (de = readdir(dd));) entries += de->d_name[0] != '.';
    closedir(dd);
    CHECK_INT(entries, 0);
    selfmm_dataset_free(d);
}

TEST(dataset_create_checks)
{
    tiny t;
    selfmm_split_view v[3];
    tiny_make(&t, 10, -1);
    tiny_views(&t, v);
    selfmm_dataset *d = NULL;
    selfmm_error e = {0};
    t.alen[1][3] = TA + 1;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &d, &e), SELFMM_ERR_DATA);
    CHECK_CONTAINS(e.message, "valid");
    selfmm_data_options clamp = {.clamp_lengths = 1};
    CHECK_OK(selfmm_dataset_create(v, &clamp, &d, &e), e.message);
    selfmm_split_view got;
    CHECK_OK(selfmm_dataset_split(d, SELFMM_SPLIT_VALID, &got), "");
    CHECK_INT(got.audio_lengths[3], TA);
    selfmm_dataset_free(d);
    t.alen[1][3] = 2;
    t.vision[2][7] = NAN;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &d, &e), SELFMM_ERR_DATA);
    t.vision[2][7] = 0;
    t.audio[0][1] = -INFINITY; /* the reference sets -inf audio to 0 */
    REQUIRE_OK(selfmm_dataset_create(v, NULL, &d, &e), e.message);
    CHECK_OK(selfmm_dataset_split(d, SELFMM_SPLIT_TRAIN, &got), "");
    CHECK(got.audio[1] == 0.0f);
    selfmm_dataset_free(d);
    v[2].vision_dim = DV + 1;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &d, &e), SELFMM_ERR_SHAPE);
    v[2].vision_dim = DV;
    v[0].labels = NULL;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &d, &e), SELFMM_ERR_MISSING);
    tiny_free(&t);
}

TEST(demo_dataset_and_config)
{
    selfmm_config c;
    selfmm_dataset *d = NULL;
    selfmm_error e = {0};
    selfmm_demo_config(&c);
    CHECK_OK(selfmm_config_validate(&c, &e), e.message);
    REQUIRE_OK(selfmm_demo_dataset(1111, &d, &e), e.message);
    selfmm_split_view v;
    CHECK_OK(selfmm_dataset_split(d, SELFMM_SPLIT_TRAIN, &v), "");
    CHECK_INT(v.audio_dim, c.audio_dim);
    CHECK_INT(v.vision_dim, c.video_dim);
    CHECK(v.labels_unimodal[1] && v.labels_unimodal[2] && v.labels_unimodal[3]);
    /* the signal is spread: the label correlates with every modality's latent */
    for (int k = 1; k < 4; k++) {
        double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < v.n; i++) {
            double x = v.labels_unimodal[k][i], y = v.labels[i];
            sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
        }
        double r = (sxy - sx * sy / v.n) / sqrt((sxx - sx * sx / v.n) * (syy - sy * sy / v.n));
        CHECK_MSG(r > 0.2, "modality %d: correlation %g", k, r);
    }
    selfmm_dataset *d2 = NULL;
    REQUIRE_OK(selfmm_demo_dataset(1111, &d2, &e), e.message);
    selfmm_split_view v2;
    selfmm_dataset_split(d2, SELFMM_SPLIT_TRAIN, &v2);
    CHECK(memcmp(v.audio, v2.audio, (size_t)v.n * v.audio_len * v.audio_dim * sizeof(float)) == 0);
    selfmm_dataset_free(d2);
    selfmm_dataset_free(d);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/selfmm_test_fit_XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    selfmm_set_threads(2, NULL);
    RUN(same_seed_same_bits);
    RUN(resume_equals_uninterrupted);
    RUN(best_restore_reads_only_what_it_needs);
    RUN(logs_are_the_callbacks_events);
    RUN(epoch_times_add_up);
    RUN(tail_window_switch);
    RUN(resume_refuses_other_hyper_parameters);
    RUN(divergence_stops_with_last_checkpoint_intact);
    RUN(empty_center_set_is_an_error);
    RUN(out_dir_too_long);
    RUN(resume_checks_the_run_state);
    RUN(checkpoint_load_is_all_or_nothing);
    RUN(dataset_create_checks);
    RUN(demo_dataset_and_config);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) return 1;
    return h_finish();
}
