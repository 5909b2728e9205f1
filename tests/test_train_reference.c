/* test_train_reference.c -- three epochs of Self-MM training through the public API,
 * step by step as the reference trainer runs them, against the reference run of
 * tools/gen_train_reference.py (tiny model, tiny MMSA pickle, dropout off, no
 * shuffling, torch 1.2's Adam, fixed initial weights), and the same run through
 * `selfmm-cli train --init`. The tolerances below allow for float32 with another
 * summation order (PyTorch vs oneDNN/OpenBLAS); the worst errors seen are printed
 * at the end -- tighten rather than loosen where the numbers allow.
 *
 * Per batch it checks the four outputs and the loss parts; per epoch the labels of
 * the label generator and the validation Loss (mean over batches of the batch mean
 * |M - y|, in order, eval mode); at the end every weight. The schedule (zero_grad at
 * a window's start, step at its end, the final partial window discarded) is written
 * out here as the fit layer runs it. */
#include "harness.h"

#include "support/fixture.h"

#include "io/tensors.h"

#include <cJSON.h>
#include <unistd.h>

#define DIR "tests/fixtures/train/"

/* Tolerances: |got - want| <= ATOL + RTOL * |want|. */
#define OUT_RTOL 1e-4
#define OUT_ATOL 1e-5
#define LOSS_RTOL 1e-4
#define LOSS_ATOL 1e-6
#define LABEL_ATOL 1e-4
#define WEIGHT_RTOL 1e-3
#define WEIGHT_ATOL 2e-5

static fx_file fx;
static selfmm_config cfg;

static const fx_tensor *need(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const fx_tensor *need(const char *fmt, ...)
{
    char key[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    const fx_tensor *t = fx_get(&fx, key);
    if (!t) printf("# fixture lacks %s\n", key);
    return t;
}

static int setup_model(selfmm_model **m)
{
    selfmm_error e = {0};
    if (selfmm_model_create(&cfg, m, &e) != SELFMM_OK) {
        printf("# %s\n", e.message);
        return 0;
    }
    for (int i = 0; i < selfmm_model_num_params(*m); i++) {
        selfmm_param_info p;
        selfmm_model_param(*m, i, &p);
        const fx_tensor *t = need("init.%s", p.name);
        if (!t || t->numel != p.numel) return 0;
        memcpy(p.data, t->f32, (size_t)p.numel * sizeof(float));
    }
    return 1;
}

TEST(dataset_matches_the_pickle)
{
    selfmm_dataset *d = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_dataset_load(DIR "train_ref_data.pkl", NULL, &d, &e), e.message);
    const char *names[3] = {"train", "valid", "test"};
    for (int s = 0; s < 3; s++) {
        selfmm_split_view v;
        REQUIRE_OK(selfmm_dataset_split(d, (selfmm_split)s, &v), selfmm_dataset_errmsg(d));
        const fx_tensor *tb = need("%s.text_bert", names[s]), *au = need("%s.audio", names[s]),
                        *vi = need("%s.vision", names[s]), *al = need("%s.audio_lengths", names[s]),
                        *vl = need("%s.vision_lengths", names[s]), *y = need("%s.labels", names[s]);
        REQUIRE(tb && au && vi && al && vl && y);
        CHECK_INT(v.n, y->numel);
        CHECK_INT(v.text_len, tb->dims[2]);
        CHECK_INT(v.audio_len, au->dims[1]);
        CHECK_INT(v.audio_dim, au->dims[2]);
        CHECK_INT(v.vision_len, vi->dims[1]);
        CHECK_INT(v.vision_dim, vi->dims[2]);
        long bad = 0;
        for (int64_t i = 0; i < tb->numel; i++) bad += v.text_bert[i] != (int32_t)tb->f64[i];
        for (int64_t i = 0; i < au->numel; i++) /* -inf becomes 0, as the reference's loader does */
            bad += v.audio[i] != (isinf(au->f32[i]) && au->f32[i] < 0 ? 0.0f : au->f32[i]);
        for (int64_t i = 0; i < vi->numel; i++) bad += v.vision[i] != vi->f32[i];
        for (int i = 0; i < v.n; i++)
            bad += v.audio_lengths[i] != (int32_t)al->f64[i] || v.vision_lengths[i] != (int32_t)vl->f64[i] ||
                   v.labels[i] != y->f32[i];
        for (int k = 1; k < 4; k++) {
            const fx_tensor *u = need("%s.labels_%c", names[s], "MTAV"[k]);
            REQUIRE(u && v.labels_unimodal[k]);
            for (int i = 0; i < v.n; i++) bad += v.labels_unimodal[k][i] != u->f32[i];
        }
        CHECK_MSG(bad == 0, "%s: %ld values differ from the pickle", names[s], bad);
        if (v.ids) CHECK_STR(v.ids[0], "video0$_$0");
        if (v.raw_text) CHECK_CONTAINS(v.raw_text[0], names[s]);
    }
    selfmm_dataset_free(d);
}

/* The worst errors seen per kind of value, printed at the end (for the record). */
static double worst_abs[4], worst_rel[4];
static const char *const kind_name[4] = {"outputs", "losses", "labels", "weights"};
static int cur_kind;

/* Relative error of a whole vector, ||got - want|| / ||want||: the issue's
 * "relative error <= 1e-4" for labels and weights, where single values near zero
 * make elementwise ratios meaningless (Adam moves a parameter with a ~0 gradient by
 * about lr whichever sign the rounding noise gives it). */
#define NORM_RTOL 1e-4
static double worst_norm[4];

static int norm_close(const char *what, const float *got, const float *want, int64_t n)
{
    double d2 = 0, w2 = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        d2 += d * d, w2 += (double)want[i] * want[i];
    }
    double rel = w2 > 0 ? sqrt(d2 / w2) : sqrt(d2);
    if (rel > worst_norm[cur_kind]) worst_norm[cur_kind] = rel;
    if (!(rel <= NORM_RTOL)) printf("# %s: relative error %.3g of the whole vector\n", what, rel);
    return rel <= NORM_RTOL;
}

static long compare(const char *what, const float *got, const float *want, int64_t n, double rtol,
                    double atol)
{
    long bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - (double)want[i]);
        if (diff > worst_abs[cur_kind]) worst_abs[cur_kind] = diff;
        if (want[i] != 0 && diff / fabs((double)want[i]) > worst_rel[cur_kind])
            worst_rel[cur_kind] = diff / fabs((double)want[i]);
        if (!(diff <= atol + rtol * fabs((double)want[i]))) {
            if (!bad)
                printf("# %s[%lld]: got %.9g, reference %.9g\n", what, (long long)i, (double)got[i],
                       (double)want[i]);
            bad++;
        }
    }
    return bad;
}

TEST(three_epochs_like_the_reference)
{
    selfmm_model *m = NULL;
    selfmm_dataset *d = NULL;
    selfmm_optim *opt = NULL;
    selfmm_ulgm *u = NULL;
    selfmm_error e = {0};
    REQUIRE(setup_model(&m));
    REQUIRE_OK(selfmm_dataset_load(DIR "train_ref_data.pkl", NULL, &d, &e), e.message);
    selfmm_split_view train, valid;
    REQUIRE_OK(selfmm_dataset_split(d, SELFMM_SPLIT_TRAIN, &train), selfmm_dataset_errmsg(d));
    REQUIRE_OK(selfmm_dataset_split(d, SELFMM_SPLIT_VALID, &valid), selfmm_dataset_errmsg(d));
    const int dims[4] = {cfg.post_fusion_dim, cfg.post_text_dim, cfg.post_audio_dim, cfg.post_video_dim};
    REQUIRE_OK(selfmm_ulgm_create(&cfg, train.n, train.labels, dims, &u, &e), e.message);
    REQUIRE_OK(selfmm_optim_create(m, &cfg, &opt, &e), e.message);
    const int B = cfg.batch_size;
    int *idx = malloc((size_t)B * sizeof *idx);
    float *lab = malloc((size_t)4 * B * sizeof *lab), *got = malloc((size_t)4 * B * sizeof *got);
    REQUIRE(idx && lab && got);
    float *const labels[4] = {lab, lab + B, lab + 2 * B, lab + 3 * B};
    const fx_tensor *vloss = need("valid_loss"), *spe = need("steps_per_epoch");
    REQUIRE(vloss && spe);
    int steps = 0;
    char what[96];
    for (int epoch = 1; epoch <= cfg.max_epochs; epoch++) {
        const fx_tensor *loss = need("loss.%d", epoch), *outs = need("out.%d", epoch);
        REQUIRE(loss && outs);
        int window = 0, nb = 0;
        for (int lo = 0; lo < train.n; lo += B, nb++) {
            const int b = train.n - lo < B ? train.n - lo : B;
            if (window == 0) selfmm_model_zero_grad(m);
            for (int i = 0; i < b; i++) idx[i] = lo + i;
            selfmm_batch batch;
            REQUIRE_OK(selfmm_dataset_batch(d, SELFMM_SPLIT_TRAIN, idx, b, &batch, NULL),
                       selfmm_dataset_errmsg(d));
            selfmm_outputs out;
            REQUIRE_OK(selfmm_model_forward(m, &batch, SELFMM_MODE_TRAIN, &out), selfmm_model_errmsg(m));
            /* outputs M, T, A, V against out.<epoch> rows lo .. lo + b */
            const float *heads[4] = {out.M, out.T, out.A, out.V};
            for (int k = 0; k < 4; k++) {
                for (int i = 0; i < b; i++) got[i] = heads[k][i], lab[i] = outs->f32[(lo + i) * 4 + k];
                snprintf(what, sizeof what, "epoch %d batch %d output %c", epoch, nb, "MTAV"[k]);
                cur_kind = 0;
                CHECK(compare(what, got, lab, b, OUT_RTOL, OUT_ATOL) == 0);
            }
            REQUIRE_OK(selfmm_ulgm_gather(u, idx, b, labels), selfmm_ulgm_errmsg(u));
            selfmm_loss l;
            REQUIRE_OK(selfmm_model_loss(m, (const float *const *)labels, &l), selfmm_model_errmsg(m));
            const double *want = loss->f64 + nb * 5;
            float lgot[5] = {(float)l.total, (float)l.part[0], (float)l.part[1], (float)l.part[2],
                             (float)l.part[3]}, lwant[5];
            for (int k = 0; k < 5; k++) lwant[k] = (float)want[k];
            snprintf(what, sizeof what, "epoch %d batch %d loss (total, M, T, A, V)", epoch, nb);
            cur_kind = 1;
            CHECK(compare(what, lgot, lwant, 5, LOSS_RTOL, LOSS_ATOL) == 0);
            REQUIRE_OK(selfmm_model_backward(m, NULL), selfmm_model_errmsg(m));
            REQUIRE_OK(selfmm_ulgm_update(u, idx, b, &out, epoch), selfmm_ulgm_errmsg(u));
            if (++window == cfg.update_epochs) {
                REQUIRE_OK(selfmm_optim_step(opt), selfmm_optim_errmsg(opt));
                window = 0, steps++;
            }
        }
        /* a partial window left here is discarded: the next epoch zeroes the gradients */
        for (int k = 0; k < 4; k++) {
            const char *mode[4] = {"fusion", "text", "audio", "vision"};
            const fx_tensor *y = need("labels.%d.%s", epoch, mode[k]);
            REQUIRE(y && y->numel == train.n);
            snprintf(what, sizeof what, "epoch %d %s labels", epoch, mode[k]);
            cur_kind = 2;
            CHECK(compare(what, selfmm_ulgm_labels(u, k), y->f32, train.n, 0, LABEL_ATOL) == 0);
            CHECK(norm_close(what, selfmm_ulgm_labels(u, k), y->f32, train.n));
        }
        /* validation: eval mode, in order, Loss = mean of the batch means of |M - y| */
        const fx_tensor *vp = need("valid_pred.%d", epoch);
        REQUIRE(vp && vp->numel == valid.n);
        double sum = 0;
        int nvb = 0;
        for (int lo = 0; lo < valid.n; lo += B, nvb++) {
            const int b = valid.n - lo < B ? valid.n - lo : B;
            for (int i = 0; i < b; i++) idx[i] = lo + i;
            selfmm_batch batch;
            const float *y;
            REQUIRE_OK(selfmm_dataset_batch(d, SELFMM_SPLIT_VALID, idx, b, &batch, &y), selfmm_dataset_errmsg(d));
            selfmm_outputs out;
            REQUIRE_OK(selfmm_model_forward(m, &batch, SELFMM_MODE_EVAL, &out), selfmm_model_errmsg(m));
            float mean = 0; /* torch.mean in float32 of a handful of values: plain order */
            for (int i = 0; i < b; i++) mean += fabsf(out.M[i] - y[i]);
            sum += (double)(mean / (float)b);
            snprintf(what, sizeof what, "epoch %d valid M", epoch);
            cur_kind = 0;
            CHECK(compare(what, out.M, vp->f32 + lo, b, OUT_RTOL, OUT_ATOL) == 0);
        }
        CHECK_CLOSE(sum / nvb, vloss->f64[epoch - 1], LOSS_RTOL, LOSS_ATOL);
    }
    CHECK_INT(steps, cfg.max_epochs * (int)spe->f64[0]);
    long bad = 0;
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        const fx_tensor *t = need("final.%s", p.name);
        REQUIRE(t && t->numel == p.numel);
        cur_kind = 3;
        bad += compare(p.name, p.data, t->f32, p.numel, WEIGHT_RTOL, WEIGHT_ATOL);
        /* attention.self.key.bias gets a gradient of exactly 0 in exact arithmetic (a
         * softmax ignores what it adds to all of a query's scores): in float32 both
         * sides move it by rounding noise amplified by Adam, so only the absolute
         * bound above applies to it. */
        if (!strstr(p.name, "attention.self.key.bias")) bad += !norm_close(p.name, p.data, t->f32, p.numel);
    }
    CHECK_MSG(bad == 0, "%ld final weights differ from the reference", bad);
    free(idx), free(lab), free(got);
    selfmm_optim_free(opt);
    selfmm_ulgm_free(u);
    selfmm_dataset_free(d);
    selfmm_model_free(m);
}


/* The same run through the command line, as a user would start it: the initial
 * weights as a native model file given to `selfmm-cli train --init`, then the files
 * the run leaves (labels.jsonl, train_log.jsonl, the last checkpoint) against the
 * reference. */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) free(buf), buf = NULL;
    if (buf) buf[n] = '\0';
    fclose(fp);
    return buf;
}

TEST(cli_train_init_like_the_reference)
{
    char tmp[] = "/tmp/selfmm_test_trainref_XXXXXX";
    REQUIRE(mkdtemp(tmp));
    selfmm_model *m = NULL;
    REQUIRE(setup_model(&m));
    char init[128], out[128], cmd[1024], path[256], cli[256];
    snprintf(init, sizeof init, "%s/init.safetensors", tmp);
    snprintf(out, sizeof out, "%s/run", tmp);
    REQUIRE_OK(selfmm_model_save(m, init), selfmm_model_errmsg(m));
    selfmm_model_free(m);
    h_build_path(cli, sizeof cli, "selfmm-cli");
    snprintf(cmd, sizeof cmd,
             "%s train --config " DIR "train_ref_config.json --data " DIR "train_ref_data.pkl "
             "--init %s --out %s --no-shuffle --max-epochs 3 --save-labels --quiet --threads 1 "
             ">%s/stdout 2>%s/stderr",
             cli, init, out, tmp, tmp);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(path, sizeof path, "%s/stderr", tmp);
        char *e = slurp(path);
        printf("# %s\n# %s\n", cmd, e ? e : "");
        free(e);
    }
    REQUIRE(rc == 0);
    char sdir[200];
    snprintf(sdir, sizeof sdir, "%s/seed-%lld", out, (long long)cfg.seed);

    /* labels after each epoch */
    snprintf(path, sizeof path, "%s/labels.jsonl", out);
    char *text = slurp(path);
    REQUIRE(text);
    int epochs = 0;
    static const char *const mode[4] = {"fusion", "text", "audio", "vision"};
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), epochs++) {
        cJSON *o = cJSON_Parse(line);
        REQUIRE(o);
        int e = cJSON_GetObjectItem(o, "epoch")->valueint;
        for (int k = 0; k < 4; k++) {
            const cJSON *arr = cJSON_GetObjectItem(o, mode[k]);
            const fx_tensor *y = need("labels.%d.%s", e, mode[k]);
            REQUIRE(y && cJSON_GetArraySize(arr) == y->numel);
            float *got = malloc((size_t)y->numel * sizeof *got);
            for (int i = 0; i < y->numel; i++) got[i] = (float)cJSON_GetArrayItem(arr, i)->valuedouble;
            char what[64];
            snprintf(what, sizeof what, "cli epoch %d %s labels", e, mode[k]);
            cur_kind = 2;
            CHECK(compare(what, got, y->f32, y->numel, 0, LABEL_ATOL) == 0);
            CHECK(norm_close(what, got, y->f32, y->numel));
            free(got);
        }
        cJSON_Delete(o);
    }
    CHECK_INT(epochs, 3);
    free(text);

    /* per-batch losses */
    snprintf(path, sizeof path, "%s/train_log.jsonl", out);
    text = slurp(path);
    REQUIRE(text);
    int batches = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        REQUIRE(o);
        if (!strcmp(cJSON_GetObjectItem(o, "type")->valuestring, "batch")) {
            int e = cJSON_GetObjectItem(o, "epoch")->valueint, b = cJSON_GetObjectItem(o, "batch")->valueint;
            const fx_tensor *loss = need("loss.%d", e);
            REQUIRE(loss);
            static const char *const keys[5] = {"loss", "loss_M", "loss_T", "loss_A", "loss_V"};
            float got[5], want[5];
            for (int k = 0; k < 5; k++) {
                got[k] = (float)cJSON_GetObjectItem(o, keys[k])->valuedouble;
                want[k] = (float)loss->f64[(b - 1) * 5 + k];
            }
            cur_kind = 1;
            CHECK(compare("cli batch loss", got, want, 5, LOSS_RTOL, LOSS_ATOL) == 0);
            batches++;
        }
        cJSON_Delete(o);
    }
    CHECK_INT(batches, 3 * 7); /* 26 samples in batches of 4 */
    free(text);

    /* the weights after the third epoch: the last checkpoint holds them */
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", sdir);
    sm_tensor_list l;
    selfmm_error err = {0};
    REQUIRE_OK(sm_read_checkpoint(path, &l, &err), err.message);
    long bad = 0;
    int checked = 0;
    for (int i = 0; i < fx.n; i++) {
        if (strncmp(fx.t[i].name, "final.", 6) != 0) continue;
        const char *name = fx.t[i].name + 6;
        const sm_tensor *t = sm_tensors_find(&l, name);
        REQUIRE(t && t->numel == fx.t[i].numel);
        float *got = malloc((size_t)t->numel * sizeof *got);
        memcpy(got, t->data, (size_t)t->numel * sizeof *got);
        cur_kind = 3;
        bad += compare(name, got, fx.t[i].f32, t->numel, WEIGHT_RTOL, WEIGHT_ATOL);
        if (!strstr(name, "attention.self.key.bias")) bad += !norm_close(name, got, fx.t[i].f32, t->numel);
        free(got);
        checked++;
    }
    CHECK_MSG(bad == 0, "%ld final weights differ from the reference", bad);
    CHECK(checked > 50);
    sm_tensors_free(&l);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    selfmm_error e = {0};
    selfmm_config_default(&cfg);
    if (selfmm_config_load_json(&cfg, DIR "train_ref_config.json", &e) != SELFMM_OK) {
        printf("# %s\nnot ok - config\n", e.message);
        return 1;
    }
    if (fx_load(DIR "train_reference.smfx", &fx) != 0) return 1;
    RUN(dataset_matches_the_pickle);
    RUN(three_epochs_like_the_reference);
    RUN(cli_train_init_like_the_reference);
    for (int k = 0; k < 4; k++)
        printf("# worst %s error: absolute %.3g, elementwise relative %.3g, vector relative %.3g\n",
               kind_name[k], worst_abs[k], worst_rel[k], worst_norm[k]);
    fx_free(&fx);
    return h_finish();
}
