/* test_train_reference.c -- training runs against the reference's own runs.
 *
 * tools/gen_reference_train.py ran thuiar/Self-MM's trainer (its SELF_MM.do_train,
 * through ../shared/reference/harness/run_thuiar.py: batches in dataset order, every
 * dropout 0) on small SIMS- and MOSI-shaped pickles with a tiny BERT, and kept what the
 * reference computed (tests/fixtures/reference/train/, see its README.md): per-batch
 * and per-epoch losses and the validation Loss (PREFIX_trace.json), the four label
 * maps after every epoch (PREFIX_labels.npz), the epochs after which it saved a new
 * best model and the epoch it stopped after (PREFIX_run.json), and best models.
 *
 * Each case runs the command a user would:
 *   selfmm-cli train --preset sims --init sims_init.pth --no-shuffle --set batch_size=8
 *       --set <every dropout>=0 ... --save-labels --max-epochs 3 --data sims.pkl
 *       --bert bert --out DIR
 * with the reference run's other --set options and --max-epochs read from its
 * PREFIX_run.json, and compares train_log.jsonl, labels.jsonl and the best model with
 * the reference's. The MOSI case is also replayed step by step on the public API.
 *
 * Tolerances (docs/ARCHITECTURE.md, "Training runs"): losses 1e-5 relative; label maps
 * 1e-4 relative as a whole vector (||got - want|| / ||want||) and 1e-3 absolute per
 * sample (a label is delta_s / delta_f times the fusion label: ill-conditioned where
 * delta_f is near 0); best and stopping epochs identical; weights 1e-4 relative per
 * tensor and 2e-5 absolute. The worst errors seen are printed per case. */
#include "harness.h"

#include "support/fixture.h"

#include "io/tensors.h"

#include <cJSON.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR "tests/fixtures/reference/train/"

#define LOSS_RTOL 1e-5
#define LABEL_VEC_RTOL 1e-4
#define LABEL_ATOL 1e-3
#define WEIGHT_VEC_RTOL 1e-4
#define WEIGHT_ATOL 2e-5

/* Every dropout of the model, set to 0 as the harness's --no-dropout does
 * (nn.Dropout p = 0 everywhere, BERT's included: the BERT folder's config.json says 0.1). */
#define NO_DROPOUT                                                                                    \
    "--set post_fusion_dropout=0 --set post_text_dropout=0 --set post_audio_dropout=0 "               \
    "--set post_video_dropout=0 --set a_lstm_dropout=0 --set v_lstm_dropout=0 "                       \
    "--set hidden_dropout_prob=0 --set attention_probs_dropout_prob=0"

typedef struct ref_case {
    const char *name;     /* fixture prefix */
    const char *init;     /* the initial weights (the reference's AMIO, seed 1111) */
    const char *best_pth; /* the reference's best model of this run, if committed */
} ref_case;

/* sims_lr0 / mosi_lr0: every learning rate 0, so the weights never move and the best
 * model the reference saved (after epoch 1) is the initial one: *_init.pth. */
static const ref_case cases[] = {
    {"sims", "sims_init.pth", NULL},
    {"mosi", "mosi_init.pth", "mosi_best.pth"},
    {"sims_lr0", "sims_init.pth", "sims_init.pth"},
    {"mosi_lr0", "mosi_init.pth", "mosi_init.pth"},
    {"sims_es", "sims_init.pth", NULL},
    {"mosi_es", "mosi_init.pth", NULL},
    {"mosi_aligned", "mosi_init.pth", NULL},
};

/* ---- small helpers ---- */

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) free(buf), buf = NULL;
    if (buf) buf[n] = '\0';
    fclose(fp);
    return buf;
}

static cJSON *load_json(const char *path)
{
    char *text = slurp(path);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    if (!o) printf("# %s: cannot read as JSON\n", path);
    free(text);
    return o;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double rel_err(double got, double want) { return fabs(got - want) / fabs(want); }

/* ||got - want|| / ||want|| (want == 0 everywhere: ||got - want||), and the largest
 * elementwise difference. */
static double vec_rel(const float *got, const float *want, int64_t n, double *max_abs)
{
    double d2 = 0, w2 = 0, ma = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        d2 += d * d, w2 += (double)want[i] * want[i];
        if (!(fabs(d) <= ma)) ma = fabs(d);
    }
    *max_abs = ma;
    return w2 > 0 ? sqrt(d2 / w2) : sqrt(d2);
}

/* The worst errors of one case, printed at its end (the record of agreement). */
typedef struct worst {
    double batch_loss, epoch_loss, valid_loss; /* relative */
    double label_vec, label_abs;
    double weight_vec, weight_abs;
} worst;

static void keep_max(double *w, double v)
{
    if (!(v <= *w)) *w = v;
}

/* Weights of `got` (our model file) against the reference's state_dict `ref_path`:
 * every tensor of the reference, by name. Returns the number of failing tensors.
 * attention.self.key.bias gets a gradient of exactly 0 in exact arithmetic (a
 * softmax ignores what is added to all scores of a query): both sides move it by
 * rounding noise amplified by Adam, so only the absolute bound applies to it. */
static int compare_weights(const char *what, const char *got_path, const char *ref_path, worst *w)
{
    sm_tensor_list a, b;
    selfmm_error e = {0};
    if (sm_read_checkpoint(got_path, &a, &e) != SELFMM_OK) {
        printf("# %s: %s\n", what, e.message);
        return 1;
    }
    if (sm_read_checkpoint(ref_path, &b, &e) != SELFMM_OK) {
        printf("# %s: %s\n", what, e.message);
        sm_tensors_free(&a);
        return 1;
    }
    int bad = 0;
    for (int i = 0; i < b.n; i++) {
        const sm_tensor *r = &b.t[i], *g = sm_tensors_find(&a, r->name);
        if (!g || g->numel != r->numel) {
            printf("# %s: %s missing or of another size in %s\n", what, r->name, got_path);
            bad++;
            continue;
        }
        float *x = malloc((size_t)g->numel * sizeof *x + 1), *y = malloc((size_t)r->numel * sizeof *y + 1);
        if (!x || !y) {
            free(x), free(y), bad++;
            continue;
        }
        sm_tensor_to_f32(g, x);
        sm_tensor_to_f32(r, y);
        double ma, rel = vec_rel(x, y, g->numel, &ma);
        const int noise_only = strstr(r->name, "attention.self.key.bias") != NULL;
        keep_max(&w->weight_abs, ma);
        if (!noise_only) keep_max(&w->weight_vec, rel);
        if (!(ma <= WEIGHT_ATOL) || (!noise_only && !(rel <= WEIGHT_VEC_RTOL))) {
            printf("# %s: %s differs from the reference: relative %.3g, max abs %.3g\n", what, r->name, rel, ma);
            bad++;
        }
        free(x), free(y);
    }
    if (a.n != b.n) {
        printf("# %s: %d tensors, the reference's state_dict %d\n", what, a.n, b.n);
        bad++;
    }
    sm_tensors_free(&a);
    sm_tensors_free(&b);
    return bad;
}

/* The four label maps of epoch e (a labels.jsonl row or the replay's state) against
 * the reference's label_map after epoch e. Both are indexed by the sample's position
 * in the train split (the reference's batch 'index'; our labels.jsonl writes labels
 * in training-set order, whatever the batch order). Returns failures. */
static int compare_labels(const char *what, const fx_file *ref, int e, const float *const got[4], int n, worst *w)
{
    static const char *const mode[4] = {"fusion", "text", "audio", "vision"};
    int bad = 0;
    for (int k = 0; k < 4; k++) {
        char key[32];
        snprintf(key, sizeof key, "%s_%d", mode[k], e);
        const fx_tensor *y = fx_get(ref, key);
        if (!y || y->numel != n) {
            printf("# %s: the reference has no %s of %d samples\n", what, key, n);
            bad++;
            continue;
        }
        double ma, rel = vec_rel(got[k], y->f32, n, &ma);
        keep_max(&w->label_vec, rel);
        keep_max(&w->label_abs, ma);
        if (!(rel <= LABEL_VEC_RTOL) || !(ma <= LABEL_ATOL)) {
            printf("# %s: epoch %d %s labels: relative %.3g, max abs %.3g\n", what, e, mode[k], rel, ma);
            bad++;
        }
    }
    return bad;
}

/* The reference run's own settings from PREFIX_run.json: its --set options (as
 * " --set k=v" ...), --max-epochs and data file. */
static int run_settings(const cJSON *run, char *sets, size_t cap, int *max_epochs, char *data, size_t dcap)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(run, "harness");
    int n = cJSON_GetArraySize(h), found = 0;
    size_t len = 0;
    sets[0] = '\0';
    for (int i = 0; i + 1 < n; i++) {
        const char *k = cJSON_GetArrayItem(h, i)->valuestring, *v = cJSON_GetArrayItem(h, i + 1)->valuestring;
        if (!k || !v) return 0;
        if (!strcmp(k, "--set")) len += (size_t)snprintf(sets + len, len < cap ? cap - len : 0, " --set %s", v);
        else if (!strcmp(k, "--max-epochs")) *max_epochs = atoi(v), found |= 1;
        else if (!strcmp(k, "--data")) snprintf(data, dcap, "%s", v), found |= 2;
    }
    return found == 3 && len < cap;
}

/* ---- one case through selfmm-cli train ---- */

static void run_case(const ref_case *c)
{
    char path[512], what[64];
    snprintf(what, sizeof what, "%s", c->name);
    snprintf(path, sizeof path, DIR "%s_run.json", c->name);
    cJSON *run = load_json(path);
    snprintf(path, sizeof path, DIR "%s_trace.json", c->name);
    cJSON *trace = load_json(path);
    fx_file labels = {0};
    snprintf(path, sizeof path, DIR "%s_labels.npz", c->name);
    int have_labels = fx_load_npz(path, &labels) == 0;
    char sets[1024], data[128], tmp[] = "/tmp/selfmm_test_trainref_XXXXXX", cli[256], cmd[4096];
    int max_epochs = 0;
    REQUIRE(run && trace && have_labels && run_settings(run, sets, sizeof sets, &max_epochs, data, sizeof data));
    const char *dataset = strncmp(c->name, "sims", 4) == 0 ? "sims" : "mosi";
    REQUIRE(mkdtemp(tmp));
    h_build_path(cli, sizeof cli, "selfmm-cli");
    snprintf(cmd, sizeof cmd,
             "%s train --preset %s --init " DIR "%s --no-shuffle%s " NO_DROPOUT " --save-labels "
             "--max-epochs %d --data " DIR "%s --bert " DIR "bert --out %s/run >%s/stdout 2>%s/stderr",
             cli, dataset, c->init, sets, max_epochs, data, tmp, tmp, tmp);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(path, sizeof path, "%s/stderr", tmp);
        char *e = slurp(path);
        printf("# %s\n# %s\n", cmd, e ? e : "");
        free(e);
    }
    CHECK(rc == 0);
    worst w = {0};

    /* train_log.jsonl: batches, then epochs */
    snprintf(path, sizeof path, "%s/run/train_log.jsonl", tmp);
    char *text = rc == 0 ? slurp(path) : NULL;
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(trace, "batches"),
                *te = cJSON_GetObjectItemCaseSensitive(trace, "epochs"),
                *saved = cJSON_GetObjectItemCaseSensitive(run, "saved_best_after");
    int nb = 0, ne = 0, last_best = -1, bad = 0;
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        if (!o || !cJSON_IsString(type)) {
            bad++;
            cJSON_Delete(o);
            continue;
        }
        if (!strcmp(type->valuestring, "batch")) {
            const cJSON *r = cJSON_GetArrayItem(tb, nb++);
            double got = num(o, "loss"), want = num(r, "loss");
            if (!r || num(o, "epoch") != num(r, "epoch") || num(o, "batch") != num(r, "batch")) {
                printf("# %s: batch %d of the log is not the reference's\n", what, nb);
                bad++;
            } else {
                keep_max(&w.batch_loss, rel_err(got, want));
                if (!(rel_err(got, want) <= LOSS_RTOL)) {
                    printf("# %s: epoch %g batch %g loss %.9g, reference %.9g\n", what, num(r, "epoch"),
                           num(r, "batch"), got, want);
                    bad++;
                }
            }
        } else if (!strcmp(type->valuestring, "epoch")) {
            const cJSON *r = cJSON_GetArrayItem(te, ne++);
            const cJSON *valid = cJSON_GetObjectItemCaseSensitive(o, "valid"),
                        *rvalid = cJSON_GetObjectItemCaseSensitive(r, "valid");
            double tl = rel_err(num(o, "train_loss"), num(r, "train_loss")),
                   vl = rel_err(num(valid, "Loss"), num(rvalid, "Loss"));
            keep_max(&w.epoch_loss, tl);
            keep_max(&w.valid_loss, vl);
            if (!r || num(o, "epoch") != num(r, "epoch") || !(tl <= LOSS_RTOL) || !(vl <= LOSS_RTOL)) {
                printf("# %s: epoch %d: train loss %.9g (reference %.9g), valid Loss %.9g (reference %.9g)\n",
                       what, ne, num(o, "train_loss"), num(r, "train_loss"), num(valid, "Loss"),
                       num(rvalid, "Loss"));
                bad++;
            }
            /* a new best exactly where the reference saved one */
            int ref_improved = 0;
            for (int i = 0; i < cJSON_GetArraySize(saved); i++)
                ref_improved |= cJSON_GetArrayItem(saved, i)->valueint == ne;
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "improved")) != ref_improved) {
                printf("# %s: epoch %d: improved %d, the reference %s a new best\n", what, ne,
                       !ref_improved, ref_improved ? "saved" : "did not save");
                bad++;
            }
            last_best = (int)num(o, "best_epoch");
        }
        cJSON_Delete(o);
    }
    free(text);
    CHECK_MSG(bad == 0, "%s: %d log rows differ from the reference", what, bad);
    CHECK_INT(nb, cJSON_GetArraySize(tb));
    CHECK_INT(ne, (int)num(run, "epochs")); /* the epoch it stopped after */
    CHECK_INT(last_best, (int)num(run, "best_epoch"));

    /* labels.jsonl: the four maps after every epoch */
    snprintf(path, sizeof path, "%s/run/labels.jsonl", tmp);
    text = rc == 0 ? slurp(path) : NULL;
    int nl = 0;
    bad = 0;
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        static const char *const mode[4] = {"fusion", "text", "audio", "vision"};
        const int e = (int)num(o, "epoch"), n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "fusion"));
        float *buf = malloc((size_t)4 * (n > 0 ? n : 1) * sizeof *buf);
        if (!buf || e != ++nl) {
            printf("# %s: labels.jsonl row %d is not epoch %d's\n", what, nl, e);
            bad++;
        } else {
            const float *got[4];
            for (int k = 0; k < 4; k++) {
                const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, mode[k]);
                for (int i = 0; i < n; i++) {
                    const cJSON *v = cJSON_GetArrayItem(arr, i);
                    buf[k * n + i] = cJSON_IsNumber(v) ? (float)v->valuedouble : NAN;
                }
                got[k] = buf + k * n;
            }
            bad += compare_labels(what, &labels, e, got, n, &w);
        }
        free(buf);
        cJSON_Delete(o);
    }
    free(text);
    CHECK_MSG(bad == 0, "%s: label maps differ from the reference's", what);
    CHECK_INT(nl, (int)num(run, "epochs"));

    /* the best model: model.safetensors of the seed and of the study */
    if (c->best_pth && rc == 0) {
        char got[300], ref[300];
        snprintf(got, sizeof got, "%s/run/seed-1111/model.safetensors", tmp);
        snprintf(ref, sizeof ref, DIR "%s", c->best_pth);
        CHECK_MSG(compare_weights(what, got, ref, &w) == 0, "%s: the best model differs from %s", what, ref);
        snprintf(got, sizeof got, "%s/run/model.safetensors", tmp);
        CHECK(compare_weights(what, got, ref, &w) == 0);
    }
    printf("# %s: %d epochs, best %d; worst relative errors: batch losses %.2g, epoch losses %.2g, "
           "valid Loss %.2g; labels %.2g (vector), %.2g (absolute)",
           what, ne, last_best, w.batch_loss, w.epoch_loss, w.valid_loss, w.label_vec, w.label_abs);
    if (c->best_pth) printf("; best weights %.2g (vector), %.2g (absolute)", w.weight_vec, w.weight_abs);
    printf("\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
    fx_free(&labels);
    cJSON_Delete(run);
    cJSON_Delete(trace);
}

TEST(sims_three_epochs) { run_case(&cases[0]); }
TEST(mosi_three_epochs) { run_case(&cases[1]); }
TEST(sims_early_stop_constant_loss) { run_case(&cases[2]); }
TEST(mosi_early_stop_constant_loss) { run_case(&cases[3]); }
TEST(sims_early_stop_moving_loss) { run_case(&cases[4]); }
TEST(mosi_early_stop_after_a_late_best) { run_case(&cases[5]); }
TEST(mosi_aligned_three_epochs) { run_case(&cases[6]); }

/* --set wins over the BERT folder's config.json: its dropouts are 0.1, the runs
 * above need 0 (and matched the reference only with 0). */
TEST(set_overrides_bert_config)
{
    selfmm_config from_bert, set;
    selfmm_error e = {0};
    selfmm_config_default(&from_bert);
    REQUIRE_OK(selfmm_config_load_bert_json(&from_bert, DIR "bert", &e), e.message);
    CHECK(from_bert.hidden_dropout_prob == 0.1 && from_bert.attention_probs_dropout_prob == 0.1);
    char tmp[] = "/tmp/selfmm_test_trainref_XXXXXX", cli[256], cmd[1024], path[300];
    REQUIRE(mkdtemp(tmp));
    h_build_path(cli, sizeof cli, "selfmm-cli");
    static const char *const variants[2] = {"", " --set hidden_dropout_prob=0 --set attention_probs_dropout_prob=0"};
    for (int v = 0; v < 2; v++) {
        snprintf(path, sizeof path, "%s/config%d.json", tmp, v);
        snprintf(cmd, sizeof cmd, "%s config --preset sims --bert " DIR "bert%s >%s", cli, variants[v], path);
        REQUIRE(system(cmd) == 0);
        selfmm_config_default(&set);
        REQUIRE_OK(selfmm_config_load_json(&set, path, &e), e.message);
        CHECK_INT(set.hidden_size, 16); /* the folder's */
        CHECK(set.hidden_dropout_prob == (v ? 0.0 : 0.1));
        CHECK(set.attention_probs_dropout_prob == (v ? 0.0 : 0.1));
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
}

/* --init takes the data's feature widths as a fresh model does (the preset's are the
 * real dataset's: 33 and 709 for SIMS, which the runs above do not have), and a model
 * made for other widths is refused when its weights are loaded: mosi_init.pth has
 * vision width 7, sims.pkl 6. */
TEST(init_for_other_widths_is_refused)
{
    char tmp[] = "/tmp/selfmm_test_trainref_XXXXXX", cli[256], cmd[1024], path[300];
    REQUIRE(mkdtemp(tmp));
    h_build_path(cli, sizeof cli, "selfmm-cli");
    snprintf(cmd, sizeof cmd,
             "%s train --preset mosi --init " DIR "mosi_init.pth --data " DIR "sims.pkl --bert " DIR
             "bert --max-epochs 1 --out %s/run >%s/stdout 2>%s/stderr",
             cli, tmp, tmp, tmp);
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(path, sizeof path, "%s/stderr", tmp);
    char *e = slurp(path);
    CHECK_CONTAINS(e, "feature widths from the data: audio_dim 5, video_dim 6");
    CHECK_CONTAINS(e, "Model.video_model.rnn.weight_ih_l0");
    CHECK_CONTAINS(e, "video_dim");
    free(e);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
}

/* ---- the MOSI case step by step on the public API ---- */

/* The schedule of the reference trainer as selfmm_fit runs it: zero_grad when a
 * window of update_epochs batches opens, forward (train), loss against the labels
 * before the batch, backward, label update / features / centers, Adam step when the
 * window closes; the final partial window is discarded. Then validation in order,
 * Loss = mean of the batch means of |M - y|. The reference's best epoch is its last
 * (mosi_run.json), so the weights at the end are its best.pth. */
TEST(mosi_step_by_step)
{
    selfmm_config cfg;
    selfmm_error e = {0};
    selfmm_model *m = NULL;
    selfmm_dataset *d = NULL;
    selfmm_optim *opt = NULL;
    selfmm_ulgm *u = NULL;
    cJSON *run = load_json(DIR "mosi_run.json"), *trace = load_json(DIR "mosi_trace.json");
    fx_file labels = {0};
    REQUIRE(run && trace && fx_load_npz(DIR "mosi_labels.npz", &labels) == 0);
    const int epochs = (int)num(run, "epochs");
    REQUIRE(epochs == 3 && (int)num(run, "best_epoch") == epochs);
    REQUIRE_OK(selfmm_config_preset(&cfg, "mosi", &e), e.message);
    REQUIRE_OK(selfmm_config_load_bert_json(&cfg, DIR "bert", &e), e.message);
    static const char *const sets[][2] = {
        {"batch_size", "8"},          {"post_fusion_dropout", "0"}, {"post_text_dropout", "0"},
        {"post_audio_dropout", "0"},  {"post_video_dropout", "0"},  {"a_lstm_dropout", "0"},
        {"v_lstm_dropout", "0"},      {"hidden_dropout_prob", "0"}, {"attention_probs_dropout_prob", "0"},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        REQUIRE_OK(selfmm_config_set(&cfg, sets[i][0], sets[i][1], &e), e.message);
    REQUIRE_OK(selfmm_config_check_pth(&cfg, DIR "mosi_init.pth", &e), e.message);
    REQUIRE_OK(selfmm_model_create(&cfg, &m, &e), e.message);
    REQUIRE_OK(selfmm_model_import_pth(m, DIR "mosi_init.pth"), selfmm_model_errmsg(m));
    REQUIRE_OK(selfmm_dataset_load(DIR "mosi.pkl", NULL, &d, &e), e.message);
    selfmm_split_view train, valid;
    REQUIRE_OK(selfmm_dataset_split(d, SELFMM_SPLIT_TRAIN, &train), selfmm_dataset_errmsg(d));
    REQUIRE_OK(selfmm_dataset_split(d, SELFMM_SPLIT_VALID, &valid), selfmm_dataset_errmsg(d));
    const int dims[4] = {cfg.post_fusion_dim, cfg.post_text_dim, cfg.post_audio_dim, cfg.post_video_dim};
    REQUIRE_OK(selfmm_ulgm_create(&cfg, train.n, train.labels, dims, &u, &e), e.message);
    REQUIRE_OK(selfmm_optim_create(m, &cfg, &opt, &e), e.message);
    const int B = cfg.batch_size;
    int *idx = malloc((size_t)B * sizeof *idx);
    float *lab = malloc((size_t)4 * B * sizeof *lab);
    REQUIRE(idx && lab);
    float *const lab4[4] = {lab, lab + B, lab + 2 * B, lab + 3 * B};
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(trace, "batches"),
                *te = cJSON_GetObjectItemCaseSensitive(trace, "epochs");
    worst w = {0};
    int row = 0, steps = 0, bad = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        int window = 0;
        for (int lo = 0; lo < train.n; lo += B) {
            const int b = train.n - lo < B ? train.n - lo : B;
            if (window == 0) selfmm_model_zero_grad(m);
            for (int i = 0; i < b; i++) idx[i] = lo + i;
            selfmm_batch batch;
            selfmm_outputs out;
            selfmm_loss l;
            REQUIRE_OK(selfmm_dataset_batch(d, SELFMM_SPLIT_TRAIN, idx, b, &batch, NULL), selfmm_dataset_errmsg(d));
            REQUIRE_OK(selfmm_model_forward(m, &batch, SELFMM_MODE_TRAIN, &out), selfmm_model_errmsg(m));
            REQUIRE_OK(selfmm_ulgm_gather(u, idx, b, lab4), selfmm_ulgm_errmsg(u));
            REQUIRE_OK(selfmm_model_loss(m, (const float *const *)lab4, &l), selfmm_model_errmsg(m));
            const cJSON *r = cJSON_GetArrayItem(tb, row++);
            double re = rel_err(l.total, num(r, "loss"));
            keep_max(&w.batch_loss, re);
            if (!r || num(r, "epoch") != epoch || !(re <= LOSS_RTOL)) {
                printf("# step by step: epoch %d batch %d loss %.9g, reference %.9g\n", epoch, row, l.total,
                       num(r, "loss"));
                bad++;
            }
            REQUIRE_OK(selfmm_model_backward(m, NULL), selfmm_model_errmsg(m));
            REQUIRE_OK(selfmm_ulgm_update(u, idx, b, &out, epoch), selfmm_ulgm_errmsg(u));
            if (++window == cfg.update_epochs) {
                REQUIRE_OK(selfmm_optim_step(opt), selfmm_optim_errmsg(opt));
                window = 0, steps++;
            }
        }
        const float *got[4];
        for (int k = 0; k < 4; k++) got[k] = selfmm_ulgm_labels(u, k);
        bad += compare_labels("step by step", &labels, epoch, got, train.n, &w);
        double sum = 0;
        int nvb = 0;
        for (int lo = 0; lo < valid.n; lo += B, nvb++) {
            const int b = valid.n - lo < B ? valid.n - lo : B;
            for (int i = 0; i < b; i++) idx[i] = lo + i;
            selfmm_batch batch;
            selfmm_outputs out;
            const float *y;
            REQUIRE_OK(selfmm_dataset_batch(d, SELFMM_SPLIT_VALID, idx, b, &batch, &y), selfmm_dataset_errmsg(d));
            REQUIRE_OK(selfmm_model_forward(m, &batch, SELFMM_MODE_EVAL, &out), selfmm_model_errmsg(m));
            float mean = 0; /* torch.mean in float32 of a handful of values */
            for (int i = 0; i < b; i++) mean += fabsf(out.M[i] - y[i]);
            sum += (double)(mean / (float)b);
        }
        const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(te, epoch - 1), "valid");
        double re = rel_err(sum / nvb, num(rv, "Loss"));
        keep_max(&w.valid_loss, re);
        CHECK_CLOSE(sum / nvb, num(rv, "Loss"), LOSS_RTOL, 0);
    }
    CHECK_MSG(bad == 0, "%d losses or label maps differ from the reference's", bad);
    CHECK_INT(row, cJSON_GetArraySize(tb));
    CHECK_INT(steps, epochs); /* 6 batches a epoch: one window of 4, a partial one dropped */
    char tmp[] = "/tmp/selfmm_test_trainref_XXXXXX", path[300];
    REQUIRE(mkdtemp(tmp));
    snprintf(path, sizeof path, "%s/final.safetensors", tmp);
    REQUIRE_OK(selfmm_model_save(m, path), selfmm_model_errmsg(m));
    CHECK_MSG(compare_weights("step by step", path, DIR "mosi_best.pth", &w) == 0,
              "the weights after epoch %d differ from the reference's best.pth", epochs);
    printf("# step by step: worst relative errors: batch losses %.2g, valid Loss %.2g; labels %.2g "
           "(vector), %.2g (absolute); weights %.2g (vector), %.2g (absolute)\n",
           w.batch_loss, w.valid_loss, w.label_vec, w.label_abs, w.weight_vec, w.weight_abs);
    unlink(path);
    rmdir(tmp);
    free(idx), free(lab);
    fx_free(&labels);
    cJSON_Delete(run);
    cJSON_Delete(trace);
    selfmm_optim_free(opt);
    selfmm_ulgm_free(u);
    selfmm_dataset_free(d);
    selfmm_model_free(m);
}

int main(void)
{
    RUN(sims_three_epochs);
    RUN(mosi_three_epochs);
    RUN(sims_early_stop_constant_loss);
    RUN(mosi_early_stop_constant_loss);
    RUN(sims_early_stop_moving_loss);
    RUN(mosi_early_stop_after_a_late_best);
    RUN(mosi_aligned_three_epochs);
    RUN(set_overrides_bert_config);
    RUN(init_for_other_widths_is_refused);
    RUN(mosi_step_by_step);
    return h_finish();
}
