/* test_dist.c -- data-parallel training without MPI: the library's collectives run
 * over threads of this process (support/thread_ranks.c), each "rank" with its own
 * model and its own copy of the demo data, as MPI processes would.
 *
 * - The shard rule, and the check of a collectives table.
 * - A batch computed as shares (selfmm_model_set_shard) equals the whole batch:
 *   dropout masks, outputs, features, the loss parts' sum and the gradients' sum;
 *   without the global text run length the attention masks differ.
 * - selfmm_evaluate_dist equals selfmm_evaluate.
 * - selfmm_fit: a one-rank table is the plain run bit for bit; 2 and 3 ranks (a
 *   tail batch smaller than the ranks, tail_step off and on) agree with one process
 *   within the tolerances of docs/SCALING.md, with dropout on; every rank ends with
 *   the same weights and result; an interrupted 2-rank run resumed on 2 ranks is
 *   the uninterrupted one bit for bit, and resumed on 3 or 1 within tolerance.
 * - Failures: different data or config on one rank, one rank's failing forward, one
 *   rank's callback asking to stop: every rank returns, with the same status and the
 *   failing rank named. */
#include "harness.h"

#include "support/run_compare.h"
#include "support/testfile.h"
#include "support/thread_ranks.h"

#include <sys/stat.h>
#include <unistd.h>

#define MAXR 16

/* The demo's config with every dropout on (the demo leaves post_fusion, post_video
 * and the LSTM outputs' at 0, as the SIMS preset): every mask site is exercised. */
static void config(selfmm_config *cfg)
{
    selfmm_demo_config(cfg);
    cfg->post_fusion_dropout = cfg->post_video_dropout = 0.1;
    cfg->a_lstm_dropout = cfg->v_lstm_dropout = 0.1;
}

/* ---- the shard rule and the table -------------------------------------------- */

TEST(shard_rule)
{
    for (int size = 1; size <= 5; size++)
        for (int b = 0; b <= 13; b++) {
            int next = 0;
            for (int r = 0; r < size; r++) {
                int first, count;
                selfmm_shard(b, r, size, &first, &count);
                CHECK_MSG(first == next, "b %d size %d rank %d: first %d, expected %d", b, size, r, first, next);
                CHECK_MSG(count == b / size || count == b / size + 1, "b %d size %d rank %d: count %d", b, size, r,
                          count);
                if (r > 0) { /* larger shares first */
                    int f0, c0;
                    selfmm_shard(b, r - 1, size, &f0, &c0);
                    CHECK(c0 >= count);
                }
                next = first + count;
            }
            CHECK_MSG(next == b, "b %d size %d: shares cover %d", b, size, next);
        }
    int first = -1, count = -1;
    selfmm_shard(2, 2, 3, &first, &count); /* the idle rank of a tail of 2 on 3 ranks */
    CHECK_INT(count, 0);
    CHECK_INT(first, 2);
    selfmm_shard(5, 3, 3, &first, &count); /* rank out of range */
    CHECK_INT(count, 0);
}

static int never(void *user)
{
    (void)user;
    return 0;
}

TEST(collectives_check)
{
    selfmm_error err = {0};
    CHECK_OK(selfmm_collectives_check(NULL, &err), err.message);
    selfmm_collectives c = {SELFMM_COLLECTIVES_VERSION, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL};
    CHECK_OK(selfmm_collectives_check(&c, &err), err.message); /* one process: no callbacks needed */
    c.size = 2;
    CHECK_STATUS(selfmm_collectives_check(&c, &err), SELFMM_ERR_INVALID_ARG);
    CHECK_CONTAINS(err.message, "allreduce_sum_f32");
    c.barrier = never;
    c.version = 99;
    CHECK_STATUS(selfmm_collectives_check(&c, &err), SELFMM_ERR_INVALID_ARG);
    CHECK_CONTAINS(err.message, "version");
    c.version = SELFMM_COLLECTIVES_VERSION, c.rank = 2;
    CHECK_STATUS(selfmm_collectives_check(&c, &err), SELFMM_ERR_INVALID_ARG);
    CHECK_CONTAINS(err.message, "rank 2 of 2");
    /* fit refuses a bad table before it does anything */
    selfmm_config cfg;
    config(&cfg);
    selfmm_model *m = NULL;
    selfmm_dataset *d = NULL;
    REQUIRE_OK(selfmm_model_create(&cfg, &m, &err), err.message);
    REQUIRE_OK(selfmm_demo_dataset((uint64_t)cfg.seed, &d, &err), err.message);
    selfmm_fit_options fo = {.collectives = &c};
    CHECK_STATUS(selfmm_fit(m, d, &fo, NULL, &err), SELFMM_ERR_INVALID_ARG);
    selfmm_model_free(m);
    selfmm_dataset_free(d);
}

/* ---- shares of a batch ------------------------------------------------------------ */

typedef struct pass {
    float out[4][64], feat[4][64 * 128];
    int dims[4];
    double part[4];
    float *grads;
} pass;

/* Forward (training), loss and backward of samples idx[0..nb) of the demo's train
 * split on model m, as `size` shares (size 1: the whole batch, no shard), from
 * dropout step `step`; the outputs, features, loss parts and gradients into p. */
static int run_pass(selfmm_model *m, selfmm_dataset *d, const int *idx, int nb, int size, int run_len,
                    uint64_t step, const float *const labels[4], pass *p)
{
    selfmm_arena a;
    if (selfmm_model_arena(m, &a) != SELFMM_OK) return 0;
    selfmm_model_zero_grad(m);
    memset(p->part, 0, sizeof p->part);
    for (int r = 0; r < size; r++) {
        int first, cnt;
        selfmm_shard(nb, r, size, &first, &cnt);
        if (!cnt) continue;
        selfmm_shard_info si = {first, nb, run_len};
        selfmm_batch bt;
        selfmm_outputs out;
        selfmm_loss l;
        const float *lab[4] = {labels[0] + first, labels[1] + first, labels[2] + first, labels[3] + first};
        selfmm_model_set_step(m, step);
        if (selfmm_model_set_shard(m, size > 1 ? &si : NULL) != SELFMM_OK ||
            selfmm_dataset_batch(d, SELFMM_SPLIT_TRAIN, idx + first, cnt, &bt, NULL) != SELFMM_OK ||
            selfmm_model_forward(m, &bt, SELFMM_MODE_TRAIN, &out) != SELFMM_OK ||
            selfmm_model_loss(m, lab, &l) != SELFMM_OK || selfmm_model_backward(m, NULL) != SELFMM_OK) {
            printf("# pass: %s\n", selfmm_model_errmsg(m));
            return 0;
        }
        const float *heads[4] = {out.M, out.T, out.A, out.V};
        for (int k = 0; k < 4; k++) {
            p->dims[k] = out.dim[k];
            memcpy(p->out[k] + first, heads[k], (size_t)cnt * sizeof(float));
            memcpy(p->feat[k] + (size_t)first * out.dim[k], out.feature[k],
                   (size_t)cnt * (size_t)out.dim[k] * sizeof(float));
            p->part[k] += l.part[k];
        }
    }
    selfmm_model_set_shard(m, NULL);
    p->grads = malloc((size_t)a.count * sizeof(float));
    if (p->grads) memcpy(p->grads, a.grads, (size_t)a.count * sizeof(float));
    return p->grads != NULL;
}

/* The largest |a - b| over the largest |b| (at least 1e-3): relative to the scale. */
static double worst_abs(const float *a, const float *b, int64_t n)
{
    double w = 0, scale = 1e-3;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= w)) w = d;
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return w / scale;
}

TEST(shares_equal_the_whole_batch)
{
    selfmm_error err = {0};
    selfmm_config cfg;
    config(&cfg);
    selfmm_model *m = NULL;
    selfmm_dataset *d = NULL;
    REQUIRE_OK(selfmm_model_create(&cfg, &m, &err), err.message);
    REQUIRE_OK(selfmm_demo_dataset((uint64_t)cfg.seed, &d, &err), err.message);
    REQUIRE(cfg.attention_probs_dropout_prob > 0 && cfg.hidden_dropout_prob > 0 && cfg.post_text_dropout > 0);
    const int nb = 30;
    int idx[64], run = 0;
    REQUIRE_OK(selfmm_permutation(5, 1, idx, nb, &err), err.message); /* 30 of the first 30 train samples */
    for (int i = 0; i < nb; i++) idx[i] = idx[i] * 7 % 512;
    REQUIRE_OK(selfmm_dataset_text_run_len(d, SELFMM_SPLIT_TRAIN, idx, nb, &run), selfmm_dataset_errmsg(d));
    static float lab[4][64];
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < nb; i++) lab[k][i] = (float)((i * 37 + k * 11) % 21 - 10) / 10.0f;
    const float *labels[4] = {lab[0], lab[1], lab[2], lab[3]};
    selfmm_arena a;
    REQUIRE_OK(selfmm_model_arena(m, &a), selfmm_model_errmsg(m));
    static pass whole, part;
    REQUIRE(run_pass(m, d, idx, nb, 1, 0, 3, labels, &whole));
    for (int size = 2; size <= 4; size++) {
        REQUIRE(run_pass(m, d, idx, nb, size, run, 3, labels, &part));
        /* Each sample is computed alone, with its own masks: outputs and features are
         * the whole batch's but for the heads' GEMMs, which may pick other kernels for
         * fewer rows (a last-bit difference; BERT's and the LSTMs' are identical). */
        double wo = 0, wf = 0;
        for (int k = 0; k < 4; k++) {
            double o = worst_abs(part.out[k], whole.out[k], nb);
            double f = worst_abs(part.feat[k], whole.feat[k], (int64_t)nb * whole.dims[k]);
            wo = o > wo ? o : wo, wf = f > wf ? f : wf;
        }
        CHECK_MSG(wo <= 1e-6 && wf <= 1e-6, "%d shares: outputs %.3g, features %.3g", size, wo, wf);
        for (int k = 0; k < 4; k++) CHECK_CLOSE(part.part[k], whole.part[k], 1e-6, 0);
        /* the gradients: the same terms summed in another order */
        double d2 = 0, w2 = 0;
        for (int64_t i = 0; i < a.count; i++) {
            double x = (double)part.grads[i] - whole.grads[i];
            d2 += x * x, w2 += (double)whole.grads[i] * whole.grads[i];
        }
        CHECK_MSG(w2 > 0 && sqrt(d2 / w2) <= 1e-6, "%d shares: gradients differ by %.3g (relative norm)", size,
                  sqrt(d2 / w2));
        printf("# %d shares: outputs %.2g, features %.2g (largest difference over the largest value), "
               "gradients %.2g (relative norm)\n", size, wo, wf, sqrt(d2 / w2));
        free(part.grads);
    }
    /* Without the global run length a share with shorter texts draws other attention
     * masks: the test would notice a missing run length. */
    int shorter = 0;
    for (int r = 0; r < 3; r++) {
        int first, cnt, local = 0;
        selfmm_shard(nb, r, 3, &first, &cnt);
        selfmm_dataset_text_run_len(d, SELFMM_SPLIT_TRAIN, idx + first, cnt, &local);
        shorter |= local < run;
    }
    REQUIRE(shorter);
    REQUIRE(run_pass(m, d, idx, nb, 3, 0, 3, labels, &part));
    CHECK(worst_abs(part.out[0], whole.out[0], nb) > 1e-3);
    free(part.grads);
    free(whole.grads);
    /* the shard's own checks */
    selfmm_shard_info bad = {5, 4, 0};
    CHECK_STATUS(selfmm_model_set_shard(m, &bad), SELFMM_ERR_RANGE);
    selfmm_shard_info big = {0, 8, 99};
    REQUIRE_OK(selfmm_model_set_shard(m, &big), selfmm_model_errmsg(m));
    selfmm_batch bt;
    REQUIRE_OK(selfmm_dataset_batch(d, SELFMM_SPLIT_TRAIN, idx, 4, &bt, NULL), selfmm_dataset_errmsg(d));
    CHECK_STATUS(selfmm_model_forward(m, &bt, SELFMM_MODE_EVAL, NULL), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "run length 99");
    selfmm_shard_info over = {6, 8, 0};
    REQUIRE_OK(selfmm_model_set_shard(m, &over), selfmm_model_errmsg(m));
    CHECK_STATUS(selfmm_model_forward(m, &bt, SELFMM_MODE_EVAL, NULL), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "global batch of 8");
    selfmm_model_set_shard(m, NULL);
    CHECK_OK(selfmm_model_forward(m, &bt, SELFMM_MODE_EVAL, NULL), selfmm_model_errmsg(m));
    selfmm_model_free(m);
    selfmm_dataset_free(d);
}

/* ---- evaluation ------------------------------------------------------------------ */

typedef struct eval_job {
    int batch_size;
    int bad_rank;                /* this rank's model has another video_dim (-1: none) */
    selfmm_metrics m[MAXR];
    double loss[MAXR];
    float *preds[MAXR];
    char msg[MAXR][SELFMM_ERROR_MESSAGE_SIZE];
} eval_job;

static selfmm_status eval_rank(const selfmm_collectives *c, void *arg)
{
    eval_job *j = arg;
    selfmm_error err = {0};
    selfmm_config cfg;
    config(&cfg);
    selfmm_model *m = NULL;
    selfmm_dataset *d = NULL;
    selfmm_status st = selfmm_demo_dataset((uint64_t)cfg.seed, &d, &err);
    if (c->rank == j->bad_rank) cfg.video_dim += 1;
    if (st == SELFMM_OK) st = selfmm_model_create(&cfg, &m, &err);
    if (st == SELFMM_OK)
        st = selfmm_evaluate_dist(m, d, SELFMM_SPLIT_VALID, j->batch_size, c, &j->m[c->rank], &j->loss[c->rank],
                                  j->preds[c->rank], &err);
    if (st != SELFMM_OK) snprintf(j->msg[c->rank], sizeof j->msg[0], "%s", err.message);
    selfmm_model_free(m);
    selfmm_dataset_free(d);
    return st;
}

TEST(evaluate_dist_equals_evaluate)
{
    static eval_job one, many;
    selfmm_status st[MAXR];
    one.batch_size = many.batch_size = 30, one.bad_rank = many.bad_rank = -1;
    one.preds[0] = malloc(128 * 4 * sizeof(float));
    REQUIRE(tr_run(1, eval_rank, &one, st) == 0);
    REQUIRE_OK(st[0], one.msg[0]);
    for (int size = 2; size <= 3; size++) {
        for (int r = 0; r < size; r++) many.preds[r] = malloc(128 * 4 * sizeof(float));
        REQUIRE(tr_run(size, eval_rank, &many, st) == 0);
        for (int r = 0; r < size; r++) {
            CHECK_OK(st[r], many.msg[r]);
            CHECK_CLOSE(many.loss[r], one.loss[0], 1e-6, 0);
            CHECK_CLOSE_F32("preds", many.preds[r], one.preds[0], 128 * 4, 1e-6, 1e-9);
            for (int k = 0; k < one.m[0].count; k++) CHECK_CLOSE(many.m[r].raw[k], one.m[0].raw[k], 1e-5, 1e-9);
            CHECK(!memcmp(many.preds[r], many.preds[0], 128 * 4 * sizeof(float))); /* the same on every rank */
            CHECK(!memcmp(&many.m[r], &many.m[0], sizeof many.m[0]));
        }
        for (int r = 0; r < size; r++) free(many.preds[r]);
    }
    /* one rank fails its forward: every rank returns its failure, naming it */
    many.bad_rank = 1;
    for (int r = 0; r < 3; r++) many.preds[r] = NULL;
    REQUIRE(tr_run(3, eval_rank, &many, st) == 0);
    for (int r = 0; r < 3; r++) {
        CHECK_STATUS(st[r], SELFMM_ERR_SHAPE);
        CHECK_CONTAINS(many.msg[r], "rank 1: forward: ");
    }
    free(one.preds[0]);
}

/* ---- fit ------------------------------------------------------------------------- */

typedef struct fit_job {
    const char *out;             /* out_dir (NULL: none) */
    int resume, max_epochs, batch_size, tail_step;
    int stop_rank, stop_epoch, stop_batch; /* that rank's callback stops there (stop_epoch 0: never) */
    int other_seed_rank;         /* this rank's config has another seed (-1: none) */
    int other_data_rank;         /* this rank's data is another seed's (-1: none) */
    selfmm_fit_result res[MAXR];
    uint64_t hash[MAXR];
    char msg[MAXR][SELFMM_ERROR_MESSAGE_SIZE];
} fit_job;

static int stop_cb(const selfmm_fit_event *ev, void *user)
{
    const fit_job *j = user;
    return ev->kind == SELFMM_EVENT_BATCH && ev->rank == j->stop_rank && ev->epoch == j->stop_epoch &&
           ev->batch == j->stop_batch;
}

static selfmm_status fit_rank(const selfmm_collectives *c, void *arg)
{
    fit_job *j = arg;
    const int r = c ? c->rank : 0;
    selfmm_error err = {0};
    selfmm_config cfg;
    config(&cfg);
    cfg.max_epochs = j->max_epochs;
    if (j->batch_size) cfg.batch_size = j->batch_size;
    cfg.tail_step = j->tail_step;
    selfmm_model *m = NULL;
    selfmm_dataset *d = NULL;
    selfmm_status st = selfmm_demo_dataset((uint64_t)cfg.seed + (r == j->other_data_rank), &d, &err);
    if (r == j->other_seed_rank) cfg.seed += 1;
    if (st == SELFMM_OK) st = selfmm_model_create(&cfg, &m, &err);
    selfmm_fit_options fo = {.out_dir = j->out, .resume = j->resume, .save_labels = 1, .callback = stop_cb,
                             .user = j, .collectives = c};
    if (st == SELFMM_OK) st = selfmm_fit(m, d, &fo, &j->res[r], &err);
    if (st != SELFMM_OK) snprintf(j->msg[r], sizeof j->msg[0], "%s", err.message);
    j->hash[r] = selfmm_model_hash(m);
    selfmm_model_free(m);
    selfmm_dataset_free(d);
    return st;
}

static void job_init(fit_job *j, const char *out, int max_epochs, int batch_size, int tail_step)
{
    memset(j, 0, sizeof *j);
    j->out = out, j->max_epochs = max_epochs, j->batch_size = batch_size, j->tail_step = tail_step;
    j->stop_rank = j->other_seed_rank = j->other_data_rank = -1;
}

/* out_dir under the scratch directory, emptied. */
static const char *fresh_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tf_scratch("dist"), name);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", buf);
    if (system(cmd) != 0) printf("# cannot empty %s\n", buf);
    return buf;
}

/* The plain run (no table) of a job's settings, into dir. */
static int plain_run(fit_job *j)
{
    selfmm_status st = fit_rank(NULL, j);
    if (st != SELFMM_OK) printf("# plain run: %s\n", j->msg[0]);
    return st == SELFMM_OK;
}

/* size ranks; every one must succeed and end alike (weights, result). */
static int ranks_run(int size, fit_job *j)
{
    selfmm_status st[MAXR];
    if (tr_run(size, fit_rank, j, st) != 0) return 0;
    int ok = 1;
    for (int r = 0; r < size; r++) {
        if (st[r] != SELFMM_OK) printf("# rank %d: %s: %s\n", r, selfmm_strerror(st[r]), j->msg[r]), ok = 0;
        if (j->hash[r] != j->hash[0]) printf("# rank %d ends with other weights than rank 0\n", r), ok = 0;
        if (memcmp(&j->res[r], &j->res[0], sizeof j->res[0]) != 0) printf("# rank %d has another result\n", r), ok = 0;
    }
    return ok;
}

/* The test results of a against b: epochs, best epoch, Loss and every metric
 * (unrounded) within rtol, relative to at least 0.1 as in support/run_compare.c;
 * prints the worst relative difference. */
static int same_test(const selfmm_fit_result *a, const selfmm_fit_result *b, double rtol)
{
    int ok = a->epochs == b->epochs && a->best_epoch == b->best_epoch && a->test.count == b->test.count;
    double worst = fabs(a->test_loss - b->test_loss) / fabs(b->test_loss);
    for (int k = 0; k < a->test.count && ok; k++) {
        double x = a->test.raw[k], y = b->test.raw[k];
        double d = x == y || (isnan(x) && isnan(y)) ? 0 : fabs(x - y) / fmax(fabs(y), 0.1);
        if (!(d <= worst)) worst = d;
    }
    printf("# test Loss and metrics: %.2g (worst relative difference)\n", worst);
    ok = ok && worst <= rtol;
    if (!ok) printf("# test results differ\n");
    return ok;
}

TEST(one_rank_table_is_the_plain_run)
{
    char a[1024], b[1024];
    fit_job plain, one;
    job_init(&plain, fresh_dir(a, sizeof a, "plain"), 2, 0, 0);
    job_init(&one, fresh_dir(b, sizeof b, "one"), 2, 0, 0);
    REQUIRE(plain_run(&plain));
    REQUIRE(ranks_run(1, &one));
    rc_report rep;
    CHECK_INT(rc_compare(b, a, 1, &rep), 0);
    char ma[1100], mb[1100];
    snprintf(ma, sizeof ma, "%s/model.safetensors", a);
    snprintf(mb, sizeof mb, "%s/model.safetensors", b);
    CHECK(tf_same(ma, mb));
    CHECK(!memcmp(&one.res[0], &plain.res[0], sizeof plain.res[0]));
}

/* size ranks against one process, both from scratch, with the job's settings. */
static void against_plain(int size, int batch_size, int tail_step, const char *name)
{
    char a[1024], b[1024], tag[64];
    fit_job plain, dist;
    snprintf(tag, sizeof tag, "%s-plain", name);
    job_init(&plain, fresh_dir(a, sizeof a, tag), 2, batch_size, tail_step);
    job_init(&dist, fresh_dir(b, sizeof b, name), 2, batch_size, tail_step);
    REQUIRE(plain_run(&plain));
    REQUIRE(ranks_run(size, &dist));
    rc_report rep;
    CHECK_INT(rc_compare(b, a, 0, &rep), 0);
    CHECK(same_test(&dist.res[0], &plain.res[0], 1e-5));
    char what[96];
    snprintf(what, sizeof what, "%d ranks, batch %d, tail_step %d", size, batch_size, tail_step);
    rc_print(what, &rep);
}

TEST(two_ranks_agree_with_one_process) { against_plain(2, 32, 0, "np2"); }

/* 512 samples in batches of 30: a tail batch of 2, so rank 2 has no sample in it */
TEST(three_ranks_with_an_idle_rank) { against_plain(3, 30, 0, "np3"); }
TEST(three_ranks_with_an_idle_rank_tail_step) { against_plain(3, 30, 1, "np3-tail"); }

TEST(resume_on_the_same_and_other_rank_counts)
{
    char full[1024], cut[1024];
    fit_job j;
    /* the uninterrupted 2-rank run of 2 epochs */
    job_init(&j, fresh_dir(full, sizeof full, "full2"), 2, 0, 0);
    REQUIRE(ranks_run(2, &j));
    fit_job whole = j;
    static const int resume_sizes[3] = {2, 3, 1};
    for (int t = 0; t < 3; t++) {
        char name[32];
        snprintf(name, sizeof name, "cut2-%d", resume_sizes[t]);
        /* rank 1's callback stops the run in epoch 2: every rank stops there */
        job_init(&j, fresh_dir(cut, sizeof cut, name), 2, 0, 0);
        j.stop_rank = 1, j.stop_epoch = 2, j.stop_batch = 6;
        selfmm_status st[MAXR];
        REQUIRE(tr_run(2, fit_rank, &j, st) == 0);
        for (int r = 0; r < 2; r++) {
            CHECK_STATUS(st[r], SELFMM_ERR_INTERRUPTED);
            CHECK_CONTAINS(j.msg[r], "rank 1: stopped by the callback at epoch 2, batch 6");
        }
        job_init(&j, cut, 2, 0, 0);
        j.resume = 1;
        const int n = resume_sizes[t];
        REQUIRE(n == 1 ? plain_run(&j) : ranks_run(n, &j));
        rc_report rep;
        if (n == 2) { /* the same summation order: the same bits */
            CHECK_INT(rc_compare(cut, full, 1, &rep), 0);
            CHECK(j.hash[0] == whole.hash[0]);
            CHECK(!memcmp(&j.res[0], &whole.res[0], sizeof j.res[0]));
        } else {
            CHECK_INT(rc_compare(cut, full, 0, &rep), 0);
            CHECK(same_test(&j.res[0], &whole.res[0], 1e-5));
        }
        char what[64];
        snprintf(what, sizeof what, "2 ranks resumed on %d", n);
        rc_print(what, &rep);
    }
}

TEST(ranks_that_disagree_stop_together)
{
    fit_job j;
    selfmm_status st[MAXR];
    /* another dataset on rank 2 */
    job_init(&j, NULL, 1, 0, 0);
    j.other_data_rank = 2;
    REQUIRE(tr_run(3, fit_rank, &j, st) == 0);
    for (int r = 0; r < 3; r++) {
        CHECK_STATUS(st[r], SELFMM_ERR_COLLECTIVE);
        CHECK_CONTAINS(j.msg[r], "the dataset differs between the ranks: rank 2");
    }
    /* another config (seed) on rank 1 */
    job_init(&j, NULL, 1, 0, 0);
    j.other_seed_rank = 1;
    REQUIRE(tr_run(2, fit_rank, &j, st) == 0);
    for (int r = 0; r < 2; r++) {
        CHECK_STATUS(st[r], SELFMM_ERR_COLLECTIVE);
        CHECK_CONTAINS(j.msg[r], "the config differs");
    }
    /* rank 0's out_dir cannot be created: every rank fails, naming rank 0 */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/a-file", tf_scratch("dist"));
    REQUIRE(tf_write(dir, "x", 1) == 0);
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/run", dir);
    job_init(&j, sub, 1, 0, 0);
    REQUIRE(tr_run(2, fit_rank, &j, st) == 0);
    for (int r = 0; r < 2; r++) {
        CHECK_STATUS(st[r], SELFMM_ERR_IO);
        CHECK_CONTAINS(j.msg[r], "rank 0: ");
    }
}

/* The broadcasts refuse handles of other sizes instead of running past them. */
static selfmm_status broadcast_rank(const selfmm_collectives *c, void *arg)
{
    char(*msg)[SELFMM_ERROR_MESSAGE_SIZE] = arg;
    selfmm_error err = {0};
    selfmm_config cfg;
    config(&cfg);
    if (c->rank == 1) cfg.post_fusion_dim += 1;
    selfmm_model *m = NULL;
    selfmm_status st = selfmm_model_create(&cfg, &m, &err);
    if (st == SELFMM_OK) st = selfmm_model_broadcast(m, 0, c, &err);
    if (st != SELFMM_OK) snprintf(msg[c->rank], SELFMM_ERROR_MESSAGE_SIZE, "%s", err.message);
    selfmm_model_free(m);
    return st;
}

TEST(broadcast_checks_the_sizes)
{
    static char msg[2][SELFMM_ERROR_MESSAGE_SIZE];
    selfmm_status st[MAXR];
    REQUIRE(tr_run(2, broadcast_rank, msg, st) == 0);
    for (int r = 0; r < 2; r++) {
        CHECK_STATUS(st[r], SELFMM_ERR_COLLECTIVE);
        CHECK_CONTAINS(msg[r], "the parameter count differs between the ranks: rank 1");
    }
}

int main(void)
{
    selfmm_error err = {0};
    if (selfmm_set_threads(1, &err) != SELFMM_OK) return 1; /* one thread per rank, as under mpirun */
    RUN(shard_rule);
    RUN(collectives_check);
    RUN(shares_equal_the_whole_batch);
    RUN(evaluate_dist_equals_evaluate);
    RUN(one_rank_table_is_the_plain_run);
    RUN(two_ranks_agree_with_one_process);
    RUN(three_ranks_with_an_idle_rank);
    RUN(three_ranks_with_an_idle_rank_tail_step);
    RUN(resume_on_the_same_and_other_rank_counts);
    RUN(ranks_that_disagree_stop_together);
    RUN(broadcast_checks_the_sizes);
    return h_finish();
}
