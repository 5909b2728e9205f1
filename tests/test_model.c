/* test_model.c -- the compute API's contract (selfmm_model_forward / _loss /
 * _backward / _timings): bad input named by sample, call order, the dropout step
 * counter, padding that must not matter, batch size 1, grow-only buffers and caches,
 * gradient accumulation. Numbers against PyTorch are in test_model_ref.c. */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

static void tiny(selfmm_config *c, double dropout)
{
    selfmm_config_default(c);
    c->vocab_size = 30, c->hidden_size = 8, c->num_hidden_layers = 2, c->num_attention_heads = 2;
    c->intermediate_size = 12, c->max_position_embeddings = 16, c->type_vocab_size = 2;
    c->audio_dim = 3, c->video_dim = 4, c->a_lstm_hidden_size = 5, c->v_lstm_hidden_size = 6;
    c->audio_out = 3, c->video_out = 4;
    c->post_fusion_dim = 7, c->post_text_dim = 5, c->post_audio_dim = 4, c->post_video_dim = 3;
    c->hidden_dropout_prob = c->attention_probs_dropout_prob = dropout;
    c->post_fusion_dropout = c->post_text_dropout = c->post_audio_dropout = c->post_video_dropout = dropout;
    c->a_lstm_dropout = c->v_lstm_dropout = dropout;
    c->seed = 99;
}

static selfmm_model *make(double dropout)
{
    selfmm_config c;
    tiny(&c, dropout);
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    if (selfmm_model_create(&c, &m, &e) != SELFMM_OK) h_failf(__FILE__, __LINE__, "create: %s", e.message);
    return m;
}

/* A batch with its own storage: B samples padded to L / Ta / Tv, real lengths from
 * tl / al / vl; the padding holds garbage (ids, features) that must not matter. */
typedef struct tbatch {
    selfmm_batch b;
    int32_t ids[8 * 16], mask[8 * 16], seg[8 * 16], alen[8], vlen[8];
    float audio[8 * 12 * 3], vision[8 * 10 * 4];
} tbatch;

static void fill(tbatch *t, int B, int L, int Ta, int Tv, const int *tl, const int *al, const int *vl, int garbage)
{
    memset(t, 0, sizeof *t);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < L; i++) {
            int real = i < tl[b];
            t->ids[b * L + i] = real ? 1 + (b * 7 + i * 3) % 29 : (garbage ? 1 + (i * 5 + b) % 29 : 0);
            t->mask[b * L + i] = real;
            t->seg[b * L + i] = real && i >= tl[b] / 2;
        }
        t->alen[b] = al[b], t->vlen[b] = vl[b];
        for (int s = 0; s < Ta; s++)
            for (int d = 0; d < 3; d++)
                t->audio[(b * Ta + s) * 3 + d] = s < al[b] ? 0.1f * (float)((b + 2 * s + 3 * d) % 11) - 0.5f
                                                           : (garbage ? 99.0f : 0.0f);
        for (int s = 0; s < Tv; s++)
            for (int d = 0; d < 4; d++)
                t->vision[(b * Tv + s) * 4 + d] = s < vl[b] ? 0.07f * (float)((3 * b + s + 5 * d) % 13) - 0.4f
                                                            : (garbage ? -42.0f : 0.0f);
    }
    selfmm_batch *x = &t->b;
    x->batch = B, x->text_len = L, x->text_ids = t->ids, x->text_mask = t->mask, x->text_segment = t->seg;
    x->audio_len = Ta, x->audio_dim = 3, x->audio = t->audio, x->audio_lengths = t->alen;
    x->vision_len = Tv, x->vision_dim = 4, x->vision = t->vision, x->vision_lengths = t->vlen;
}

static const int TL[4] = {6, 3, 5, 2}, AL[4] = {4, 7, 1, 6}, VL[4] = {5, 2, 3, 5};

static void std_batch(tbatch *t) { fill(t, 4, 6, 7, 5, TL, AL, VL, 0); }

/* labels for up to 8 samples */
static const float LY[4][8] = {{0.5f, -0.2f, 0.9f, -1.0f, 0.3f, 0.0f, -0.7f, 0.6f},
                               {0.1f, -0.6f, 0.3f, -0.4f, 0.9f, -0.1f, 0.2f, 0.4f},
                               {0.8f, 0.2f, -0.5f, -0.9f, 0.0f, 0.5f, -0.3f, 0.1f},
                               {-0.3f, 0.4f, 0.7f, 0.0f, -0.8f, 0.2f, 0.6f, -0.5f}};
static const float *const LABELS[4] = {LY[0], LY[1], LY[2], LY[3]};

/* Copy of the four outputs and all gradients, to compare runs. */
typedef struct snap {
    float out[4][8];
    float *grads;
    int64_t n;
} snap;

static void take(snap *s, selfmm_model *m, const selfmm_outputs *o)
{
    const float *y[4] = {o->M, o->T, o->A, o->V};
    memset(s->out, 0, sizeof s->out);
    for (int k = 0; k < 4; k++) memcpy(s->out[k], y[k], (size_t)o->batch * sizeof(float));
    s->n = 0;
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        s->n += p.numel;
    }
    s->grads = malloc((size_t)s->n * sizeof(float));
    int64_t off = 0;
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        memcpy(s->grads + off, p.grad, (size_t)p.numel * sizeof(float));
        off += p.numel;
    }
}

/* Forward and backward of batch b from output gradients dy, or (dy NULL) from the
 * loss against LABELS; the four outputs and every gradient into s. */
static int step_with(selfmm_model *m, const selfmm_batch *b, const float *const *dy, snap *s)
{
    selfmm_outputs o;
    selfmm_model_zero_grad(m);
    if (selfmm_model_forward(m, b, SELFMM_MODE_TRAIN, &o) != SELFMM_OK ||
        (!dy && selfmm_model_loss(m, LABELS, NULL) != SELFMM_OK) || selfmm_model_backward(m, dy) != SELFMM_OK) {
        h_failf(__FILE__, __LINE__, "step: %s", selfmm_model_errmsg(m));
        return 0;
    }
    take(s, m, &o);
    return 1;
}

static int step_all(selfmm_model *m, const selfmm_batch *b, snap *s) { return step_with(m, b, NULL, s); }

TEST(bad_input_is_named)
{
    selfmm_model *m = make(0.0);
    REQUIRE(m);
    tbatch t;
    std_batch(&t);
    selfmm_outputs o;
    t.mask[1 * 6 + 1] = 2;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 1: text mask value 2");
    std_batch(&t);
    t.ids[2 * 6 + 3] = 30;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 2: token id 30 at position 3");
    std_batch(&t);
    t.ids[0] = -1;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 0: token id -1");
    std_batch(&t);
    t.seg[3 * 6] = 2;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 3: segment id 2");
    std_batch(&t);
    memset(t.mask + 2 * 6, 0, 6 * sizeof(int32_t));
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 2: text mask is all zero");
    std_batch(&t);
    t.alen[1] = 0;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 1: audio length 0 outside [1, 7]");
    std_batch(&t);
    t.vlen[3] = 6;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 3: vision length 6 outside [1, 5]");
    std_batch(&t);
    t.b.audio_dim = 5;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "audio width 5 does not match the model's audio_dim 3");
    std_batch(&t);
    t.b.vision_dim = 9;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "vision width 9 does not match the model's video_dim 4");
    std_batch(&t);
    t.b.audio = NULL;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_INVALID_ARG);
    std_batch(&t);
    t.b.batch = 0;
    CHECK_STATUS(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_model_forward(m, NULL, SELFMM_MODE_EVAL, &o), SELFMM_ERR_INVALID_ARG);
    std_batch(&t);
    CHECK_STATUS(selfmm_model_forward(m, &t.b, (selfmm_mode)7, &o), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_model_forward(NULL, &t.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_INVALID_ARG);
    /* a real text longer than max_position_embeddings (16) */
    static int32_t ids[18], mask[18];
    for (int i = 0; i < 18; i++) ids[i] = 1, mask[i] = 1;
    tbatch one;
    int tl = 1, al = 1, vl = 1;
    fill(&one, 1, 1, 1, 1, &tl, &al, &vl, 0);
    one.b.text_len = 18, one.b.text_ids = ids, one.b.text_mask = mask, one.b.text_segment = NULL;
    CHECK_STATUS(selfmm_model_forward(m, &one.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 0: text length 18 exceeds max_position_embeddings 16");
    /* ... but padding beyond it is fine: only real positions get embedded */
    for (int i = 10; i < 18; i++) mask[i] = 0;
    CHECK_OK(selfmm_model_forward(m, &one.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    /* a failed forward changed nothing: the step counter too */
    CHECK_INT(selfmm_model_get_step(m), 0);
    selfmm_model_free(m);
}

static int g_warnings;
static char g_last[256];
static void logger(selfmm_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == SELFMM_LOG_WARN) g_warnings++;
    snprintf(g_last, sizeof g_last, "%s", msg);
}

TEST(clamp_lengths_with_counted_warning)
{
    selfmm_config c;
    tiny(&c, 0.0);
    c.clamp_lengths = 1;
    selfmm_model *m = NULL, *ref = make(0.0);
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    REQUIRE(ref);
    tbatch t, u;
    std_batch(&t);
    std_batch(&u);
    t.alen[0] = 0, t.alen[2] = 99, t.vlen[1] = -3; /* clamp to 1, 7, 1 */
    u.alen[0] = 1, u.alen[2] = 7, u.vlen[1] = 1;
    g_warnings = 0;
    selfmm_set_log_callback(logger, NULL);
    selfmm_outputs o, p;
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    CHECK_INT(g_warnings, 1);
    CHECK_CONTAINS(g_last, "clamped 3 sequence lengths");
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    CHECK_CONTAINS(g_last, "(6 so far)");
    selfmm_set_log_callback(NULL, NULL);
    CHECK_OK(selfmm_model_forward(ref, &u.b, SELFMM_MODE_EVAL, &p), selfmm_model_errmsg(ref));
    for (int b = 0; b < 4; b++) CHECK(o.M[b] == p.M[b] && o.A[b] == p.A[b] && o.V[b] == p.V[b]);
    selfmm_model_free(m);
    selfmm_model_free(ref);
}

TEST(call_order_and_step_counter)
{
    selfmm_model *m = make(0.1);
    REQUIRE(m);
    tbatch t;
    std_batch(&t);
    float g[4] = {1, 1, 1, 1};
    const float *grads[4] = {g, NULL, NULL, NULL};
    CHECK_STATUS(selfmm_model_backward(m, grads), SELFMM_ERR_STATE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "not a training forward");
    CHECK_STATUS(selfmm_model_loss(m, LABELS, NULL), SELFMM_ERR_STATE);
    selfmm_outputs o;
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    CHECK_INT(selfmm_model_get_step(m), 0);
    CHECK_STATUS(selfmm_model_backward(m, grads), SELFMM_ERR_STATE);
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_TRAIN, &o), selfmm_model_errmsg(m));
    CHECK_INT(selfmm_model_get_step(m), 1);
    CHECK_STATUS(selfmm_model_backward(m, NULL), SELFMM_ERR_STATE); /* no loss yet */
    CHECK_CONTAINS(selfmm_model_errmsg(m), "no output gradients");
    CHECK_OK(selfmm_model_backward(m, grads), selfmm_model_errmsg(m));
    selfmm_loss l;
    CHECK_OK(selfmm_model_loss(m, LABELS, &l), selfmm_model_errmsg(m));
    CHECK_CLOSE(l.total, l.part[0] + l.part[1] + l.part[2] + l.part[3], 1e-12, 0);
    CHECK_OK(selfmm_model_backward(m, NULL), selfmm_model_errmsg(m));
    const float *bad[4] = {LY[0], NULL, LY[2], LY[3]};
    CHECK_STATUS(selfmm_model_loss(m, bad, NULL), SELFMM_ERR_INVALID_ARG);
    float nanl[4] = {0, NAN, 0, 0};
    const float *nl[4] = {LY[0], nanl, LY[2], LY[3]};
    CHECK_STATUS(selfmm_model_loss(m, nl, NULL), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "sample 1: text label is not finite");
    /* an eval forward ends the training state */
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    CHECK_STATUS(selfmm_model_backward(m, NULL), SELFMM_ERR_STATE);
    CHECK_INT(selfmm_model_get_step(m), 1);
    selfmm_model_set_step(m, 41);
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_TRAIN, &o), selfmm_model_errmsg(m));
    CHECK_INT(selfmm_model_get_step(m), 42);
    selfmm_model_free(m);
}

/* A refused batch leaves the last training forward usable, unless it needed bigger
 * buffers -- then backward says so instead of using stale gradients. */
TEST(refused_batch_and_the_training_state)
{
    selfmm_model *m = make(0.1);
    REQUIRE(m);
    tbatch t, bad;
    std_batch(&t);
    snap a;
    selfmm_model_set_step(m, 2);
    REQUIRE(step_all(m, &t.b, &a));
    std_batch(&bad);
    bad.alen[0] = 0;
    selfmm_outputs o;
    CHECK_STATUS(selfmm_model_forward(m, &bad.b, SELFMM_MODE_TRAIN, &o), SELFMM_ERR_DATA);
    selfmm_model_zero_grad(m);
    CHECK_OK(selfmm_model_backward(m, NULL), selfmm_model_errmsg(m));
    int64_t off = 0, i = 0;
    for (int p = 0; p < selfmm_model_num_params(m); p++) {
        selfmm_param_info info;
        selfmm_model_param(m, p, &info);
        for (int64_t j = 0; j < info.numel; j++, i++) off += info.grad[j] != a.grads[i];
    }
    CHECK_INT(off, 0);
    int tl[8] = {2, 2, 2, 2, 2, 2, 2, 2}, al[8] = {0, 1, 1, 1, 1, 1, 1, 1}, vl[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    fill(&bad, 8, 3, 2, 2, tl, al, vl, 0);
    CHECK_STATUS(selfmm_model_forward(m, &bad.b, SELFMM_MODE_TRAIN, &o), SELFMM_ERR_DATA);
    CHECK_STATUS(selfmm_model_backward(m, NULL), SELFMM_ERR_STATE);
    free(a.grads);
    selfmm_model_free(m);
}

TEST(dropout_follows_seed_and_step)
{
    selfmm_model *a = make(0.3), *b = make(0.3);
    REQUIRE(a && b);
    tbatch t;
    std_batch(&t);
    snap s1, s2, s3;
    selfmm_model_set_step(a, 5), selfmm_model_set_step(b, 5);
    REQUIRE(step_all(a, &t.b, &s1) && step_all(b, &t.b, &s2));
    CHECK(memcmp(s1.out, s2.out, sizeof s1.out) == 0);
    CHECK(memcmp(s1.grads, s2.grads, (size_t)s1.n * sizeof(float)) == 0);
    /* the next step draws other masks */
    REQUIRE(step_all(a, &t.b, &s3));
    CHECK(memcmp(s1.out, s3.out, sizeof s1.out) != 0);
    /* eval mode: no dropout, no dependence on the step */
    selfmm_outputs o1, o2;
    float m1[4];
    CHECK_OK(selfmm_model_forward(a, &t.b, SELFMM_MODE_EVAL, &o1), selfmm_model_errmsg(a));
    memcpy(m1, o1.M, sizeof m1);
    selfmm_model_set_step(a, 1000);
    CHECK_OK(selfmm_model_forward(a, &t.b, SELFMM_MODE_EVAL, &o2), selfmm_model_errmsg(a));
    CHECK(memcmp(m1, o2.M, sizeof m1) == 0);
    free(s1.grads), free(s2.grads), free(s3.grads);
    selfmm_model_free(a);
    selfmm_model_free(b);
}

TEST(train_equals_eval_without_dropout)
{
    selfmm_model *m = make(0.0);
    REQUIRE(m);
    tbatch t;
    std_batch(&t);
    selfmm_outputs o;
    float tr[4][4], f[4][8 * 7];
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_TRAIN, &o), selfmm_model_errmsg(m));
    const float *y[4] = {o.M, o.T, o.A, o.V};
    for (int k = 0; k < 4; k++) {
        memcpy(tr[k], y[k], sizeof tr[k]);
        memcpy(f[k], o.feature[k], (size_t)4 * o.dim[k] * sizeof(float));
    }
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    const float *z[4] = {o.M, o.T, o.A, o.V};
    for (int k = 0; k < 4; k++) {
        CHECK(memcmp(tr[k], z[k], sizeof tr[k]) == 0);
        CHECK(memcmp(f[k], o.feature[k], (size_t)4 * o.dim[k] * sizeof(float)) == 0);
    }
    CHECK_INT(o.dim[0], 7);
    CHECK_INT(o.dim[1], 5);
    CHECK_INT(o.dim[2], 4);
    CHECK_INT(o.dim[3], 3);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4 * o.dim[k]; i++) CHECK(o.feature[k][i] >= 0.0f); /* after ReLU */
    selfmm_model_free(m);
}

/* The same samples padded wider, with garbage in the padding: the same numbers, to
 * the bit (the batch runs at its real lengths either way). */
/* Sample b of batch x alone: a batch of one, read in place. */
static selfmm_batch sample_of(const selfmm_batch *x, int b)
{
    selfmm_batch o = *x;
    o.batch = 1;
    o.text_ids += (size_t)b * x->text_len, o.text_mask += (size_t)b * x->text_len;
    o.text_segment += (size_t)b * x->text_len;
    o.audio += (size_t)b * x->audio_len * x->audio_dim, o.audio_lengths += b;
    o.vision += (size_t)b * x->vision_len * x->vision_dim, o.vision_lengths += b;
    return o;
}

/* step_with batch x and the output gradients of its samples, b0 on, from DY. */
static const float DY[4][5] = {{0.3f, -0.2f, 0.5f, 0.1f, -0.4f},
                               {0.2f, 0.6f, -0.3f, 0.4f, 0.1f},
                               {-0.5f, 0.3f, 0.2f, -0.1f, 0.7f},
                               {0.4f, -0.6f, 0.1f, 0.3f, -0.2f}};
static int step_dy(selfmm_model *m, const selfmm_batch *x, int b0, snap *s)
{
    const float *const dy[4] = {DY[0] + b0, DY[1] + b0, DY[2] + b0, DY[3] + b0};
    return step_with(m, x, dy, s);
}

/* Each subnet's LSTM runs a batch as two halves, each on its own LSTM, one per thread
 * when there are two (forward.c): every output and gradient equals what the samples
 * give one at a time (a batch of one is not split) to rounding, and the thread count
 * does not change a bit. A half read at the wrong samples, or a half's weight
 * gradients left out, fails the first. */
TEST(subnets_split_in_halves)
{
    selfmm_model *m = make(0.0);
    REQUIRE(m);
    tbatch t;
    fill(&t, 5, 6, 7, 5, (const int[]){6, 3, 5, 2, 4}, (const int[]){4, 7, 1, 6, 3}, (const int[]){5, 2, 3, 5, 1}, 0);
    selfmm_error e = {0};
    snap whole, one, one_thread;
    REQUIRE_OK(selfmm_set_threads(2, &e), e.message);
    REQUIRE(step_dy(m, &t.b, 0, &whole));
    double *sum = calloc((size_t)whole.n, sizeof *sum), worst = 0, scale = 0;
    REQUIRE(sum);
    for (int b = 0; b < 5; b++) {
        const selfmm_batch x = sample_of(&t.b, b);
        REQUIRE(step_dy(m, &x, b, &one));
        for (int k = 0; k < 4; k++) worst = fmax(worst, fabs((double)whole.out[k][b] - one.out[k][0]));
        for (int64_t i = 0; i < whole.n; i++) sum[i] += one.grads[i];
        free(one.grads);
    }
    CHECK_MSG(worst <= 1e-6, "outputs differ from the samples' own by %g", worst);
    worst = 0;
    for (int64_t i = 0; i < whole.n; i++) {
        worst = fmax(worst, fabs(whole.grads[i] - sum[i]));
        scale = fmax(scale, fabs(sum[i]));
    }
    CHECK_MSG(worst <= 1e-5 * scale, "gradients differ from the samples' sum by %g (largest %g)", worst, scale);
    REQUIRE_OK(selfmm_set_threads(1, &e), e.message);
    REQUIRE(step_dy(m, &t.b, 0, &one_thread));
    REQUIRE_OK(selfmm_set_threads(0, &e), e.message);
    CHECK(memcmp(one_thread.out, whole.out, sizeof whole.out) == 0);
    CHECK(memcmp(one_thread.grads, whole.grads, (size_t)whole.n * sizeof(float)) == 0);
    free(sum), free(whole.grads), free(one_thread.grads);
    selfmm_model_free(m);
}

TEST(padding_does_not_matter)
{
    selfmm_model *m = make(0.2);
    REQUIRE(m);
    tbatch t, w;
    std_batch(&t);
    fill(&w, 4, 11, 12, 10, TL, AL, VL, 1);
    snap a, b;
    selfmm_model_set_step(m, 3);
    REQUIRE(step_all(m, &t.b, &a));
    selfmm_model_set_step(m, 3);
    REQUIRE(step_all(m, &w.b, &b));
    CHECK(memcmp(a.out, b.out, sizeof a.out) == 0);
    CHECK(memcmp(a.grads, b.grads, (size_t)a.n * sizeof(float)) == 0);
    selfmm_timings tm;
    CHECK_OK(selfmm_model_timings(m, &tm), "");
    CHECK_INT(tm.text_steps, 6);
    CHECK_INT(tm.audio_steps, 7);
    CHECK_INT(tm.vision_steps, 5);
    CHECK(tm.forward_s > 0 && tm.backward_s > 0 && tm.bert_forward_s > 0 && tm.bert_backward_s > 0);
    CHECK(tm.bert_forward_flop > 0 && tm.bert_backward_flop == 2 * tm.bert_forward_flop);
    /* BERT's GEMM time: some, and a part of its whole (forward: oneDNN, backward: OpenBLAS) */
    CHECK(tm.bert_forward_gemm_s > 0 && tm.bert_forward_gemm_s < tm.bert_forward_s);
    CHECK(tm.bert_backward_gemm_s > 0 && tm.bert_backward_gemm_s < tm.bert_backward_s);
    free(a.grads), free(b.grads);
    selfmm_model_free(m);
}

TEST(batch_size_one)
{
    selfmm_model *m = make(0.1);
    REQUIRE(m);
    tbatch t;
    int tl = 4, al = 3, vl = 2;
    fill(&t, 1, 5, 4, 3, &tl, &al, &vl, 1);
    snap s;
    REQUIRE(step_all(m, &t.b, &s));
    for (int k = 0; k < 4; k++) CHECK(isfinite(s.out[k][0]));
    double norm = 0;
    for (int64_t i = 0; i < s.n; i++) norm += fabs(s.grads[i]);
    CHECK(norm > 0 && isfinite(norm));
    free(s.grads);
    selfmm_model_free(m);
}

/* Buffers and oneDNN primitives are reused across shapes: results after a bigger
 * and a smaller batch equal a fresh model's, and the LSTM primitive cache survives
 * more shapes than it holds. */
TEST(shapes_change_between_steps)
{
    selfmm_model *m = make(0.1), *fresh = make(0.1);
    REQUIRE(m && fresh);
    tbatch t;
    snap s;
    for (int r = 0; r < 12; r++) {
        int tl[8], al[8], vl[8];
        int B = 1 + r % 8;
        for (int b = 0; b < B; b++) tl[b] = 1 + (r + b) % 9, al[b] = 1 + (r * 3 + b) % 12, vl[b] = 1 + (r + 2 * b) % 10;
        fill(&t, B, 9, 12, 10, tl, al, vl, 1);
        REQUIRE(step_all(m, &t.b, &s));
        free(s.grads);
    }
    std_batch(&t);
    snap a, b;
    selfmm_model_set_step(m, 0);
    REQUIRE(step_all(m, &t.b, &a));
    REQUIRE(step_all(fresh, &t.b, &b));
    CHECK(memcmp(a.out, b.out, sizeof a.out) == 0);
    CHECK(memcmp(a.grads, b.grads, (size_t)a.n * sizeof(float)) == 0);
    free(a.grads), free(b.grads);
    selfmm_model_free(m);
    selfmm_model_free(fresh);
}

TEST(backward_accumulates_and_takes_given_gradients)
{
    selfmm_model *m = make(0.0);
    REQUIRE(m);
    tbatch t;
    std_batch(&t);
    snap once;
    REQUIRE(step_all(m, &t.b, &once));
    /* a second backward adds the same again */
    CHECK_OK(selfmm_model_backward(m, NULL), selfmm_model_errmsg(m));
    snap twice;
    selfmm_outputs o;
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_TRAIN, &o), selfmm_model_errmsg(m)); /* for take() */
    take(&twice, m, &o);
    int off = 0;
    for (int64_t i = 0; i < once.n; i++)
        off += !(fabsf(twice.grads[i] - 2 * once.grads[i]) <= 1e-6f * (1 + fabsf(once.grads[i])));
    CHECK_INT(off, 0);
    /* explicit output gradients: M only, the rest NULL; the pooler never moves */
    selfmm_model_zero_grad(m);
    float dm[4] = {1, -2, 0.5f, 0};
    const float *g[4] = {dm, NULL, NULL, NULL};
    CHECK_OK(selfmm_model_backward(m, g), selfmm_model_errmsg(m));
    selfmm_param_info p;
    CHECK_OK(selfmm_model_find_param(m, "Model.post_text_layer_3.weight", &p), "");
    for (int i = 0; i < p.numel; i++) CHECK(p.grad[i] == 0.0f);
    CHECK_OK(selfmm_model_find_param(m, "Model.post_fusion_layer_3.bias", &p), "");
    CHECK_CLOSE(p.grad[0], 1 - 2 + 0.5, 1e-6, 1e-7);
    CHECK_OK(selfmm_model_find_param(m, "Model.text_model.model.pooler.dense.weight", &p), "");
    for (int i = 0; i < p.numel; i++) CHECK(p.grad[i] == 0.0f);
    CHECK_OK(selfmm_model_find_param(m, "Model.text_model.model.embeddings.word_embeddings.weight", &p), "");
    for (int i = 0; i < 8; i++) CHECK(p.grad[i] == 0.0f); /* padding row */
    selfmm_model_zero_grad(m);
    for (int i = 0; i < p.numel; i++) CHECK(p.grad[i] == 0.0f);
    free(once.grads), free(twice.grads);
    selfmm_model_free(m);
}

/* need_data_aligned: both LSTMs run over the text length (the sum of the mask), the
 * batch's own lengths are ignored and may be NULL; the result equals an unaligned
 * model given those lengths. Without the key, missing lengths are refused by name. */
TEST(aligned_data_uses_the_text_length)
{
    static const int tl[4] = {6, 3, 5, 2}, garbage_len[4] = {1, 1, 1, 1};
    tbatch ta, tu;
    fill(&ta, 4, 6, 6, 6, tl, garbage_len, garbage_len, 0); /* aligned: T_a = T_v = L */
    fill(&tu, 4, 6, 6, 6, tl, tl, tl, 0);
    for (int b = 0; b < 4; b++) /* the same features in both: real up to the text length */
        for (int i = 0; i < 6 * 3; i++) ta.audio[b * 18 + i] = tu.audio[b * 18 + i];
    memcpy(ta.vision, tu.vision, sizeof ta.vision);
    ta.b.audio_lengths = ta.b.vision_lengths = NULL;
    selfmm_model *mu = make(0.0);
    selfmm_config c;
    tiny(&c, 0.0);
    c.need_data_aligned = 1;
    selfmm_model *ma = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &ma, &e), e.message);
    snap su, sa;
    REQUIRE(step_all(mu, &tu.b, &su));
    REQUIRE(step_all(ma, &ta.b, &sa));
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < 4; b++) CHECK_CLOSE(sa.out[k][b], su.out[k][b], 0, 0);
    int same = su.n == sa.n;
    for (int64_t i = 0; same && i < su.n; i++) same = sa.grads[i] == su.grads[i];
    CHECK(same);
    /* a text longer than the audio steps is bad input, named */
    tbatch tl8;
    static const int eight[4] = {8, 3, 5, 2};
    fill(&tl8, 4, 8, 6, 6, eight, garbage_len, garbage_len, 0);
    selfmm_outputs o;
    CHECK_STATUS(selfmm_model_forward(ma, &tl8.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(ma), "need_data_aligned");
    /* an unaligned model refuses a batch without lengths, pointing to the key */
    CHECK_STATUS(selfmm_model_forward(mu, &ta.b, SELFMM_MODE_EVAL, &o), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(selfmm_model_errmsg(mu), "need_data_aligned");
    free(su.grads);
    free(sa.grads);
    selfmm_model_free(mu);
    selfmm_model_free(ma);
}

TEST(thread_count_does_not_change_dropout)
{
    selfmm_model *m = make(0.3);
    REQUIRE(m);
    tbatch t;
    std_batch(&t);
    snap a, b;
    selfmm_set_threads(1, NULL);
    selfmm_model_set_step(m, 9);
    REQUIRE(step_all(m, &t.b, &a));
    selfmm_set_threads(2, NULL);
    selfmm_model_set_step(m, 9);
    REQUIRE(step_all(m, &t.b, &b));
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++) CHECK_CLOSE(a.out[k][i], b.out[k][i], 1e-5, 1e-6);
    free(a.grads), free(b.grads);
    selfmm_model_free(m);
}

/* Out of memory half-way through BERT's activations, then memory again: the next
 * forward works and computes what a model that never ran short does. (A layer
 * whose allocation failed half-way used to count as allocated: the retry
 * crashed on its NULL buffers.) Memory is cut with RLIMIT_AS, a little more
 * above what the process maps at each try, until the forward gets through (what
 * a try allocates in full is kept for the next); not under ASan, whose
 * shadow memory needs the address space. */
#if defined(__SANITIZE_ADDRESS__)
TEST(out_of_memory_then_retry) { printf("# skipped under AddressSanitizer\n"); }
#else
#include <sys/resource.h>

static long long mapped_bytes(void)
{
    long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%lld", &pages) != 1) pages = 0;
    if (f) fclose(f);
    return pages * 4096;
}

TEST(out_of_memory_then_retry)
{
    selfmm_config c;
    tiny(&c, 0.1);
    c.num_hidden_layers = 6, c.intermediate_size = 2048; /* ~1 MB of activations per layer */
    selfmm_model *m = NULL, *ref = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    REQUIRE_OK(selfmm_model_create(&c, &ref, &e), e.message);
    tbatch t;
    int tl[8] = {16, 16, 16, 16, 16, 16, 16, 16}, al[8] = {1, 2, 3, 4, 5, 6, 7, 8}, vl[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    fill(&t, 8, 16, 12, 10, tl, al, vl, 0);
    selfmm_outputs o;
    /* an eval forward first: thread pools, oneDNN primitives (which crash inside
     * oneDNN when memory runs out) and two layers' activations exist; the
     * training forward under the limit then needs the other layers' */
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    struct rlimit saved;
    REQUIRE(getrlimit(RLIMIT_AS, &saved) == 0);
    int layer_failures = 0, tries = 0;
    selfmm_status st = SELFMM_ERR_NOMEM;
    for (; st != SELFMM_OK && tries < 200; tries++) {
        struct rlimit lim = {(rlim_t)(mapped_bytes() + (long long)tries * (256 << 10)), saved.rlim_max};
        if (setrlimit(RLIMIT_AS, &lim) != 0) break;
        st = selfmm_model_forward(m, &t.b, SELFMM_MODE_TRAIN, &o);
        setrlimit(RLIMIT_AS, &saved);
        if (st != SELFMM_OK) layer_failures += strstr(selfmm_model_errmsg(m), "activations of layer") != NULL;
    }
    printf("# %d tries, %d failed in a layer's activations\n", tries, layer_failures);
    CHECK(layer_failures > 0); /* else the test proved nothing */
    selfmm_model_set_step(m, 0);
    snap a, b;
    REQUIRE(step_all(m, &t.b, &a));
    REQUIRE(step_all(ref, &t.b, &b));
    CHECK(memcmp(a.out, b.out, sizeof a.out) == 0);
    CHECK(memcmp(a.grads, b.grads, (size_t)a.n * sizeof(float)) == 0);
    free(a.grads), free(b.grads);
    selfmm_model_free(m);
    selfmm_model_free(ref);
}
#endif

/* The GEMM yardstick of selfmm-cli bench: a status and a message, never a sentinel value. */
TEST(bench_gemm)
{
    selfmm_error e = {0};
    double g = -1;
    CHECK_OK(selfmm_bench_gemm(SELFMM_PRECISION_FP32, 64, 48, 32, 3, &g, &e), e.message);
    CHECK(g > 0);
    g = -1;
    if (selfmm_precision_check(SELFMM_PRECISION_BF16, NULL) == SELFMM_OK) {
        CHECK_OK(selfmm_bench_gemm(SELFMM_PRECISION_BF16, 64, 48, 32, 3, &g, &e), e.message);
        CHECK(g > 0);
        g = -1;
    } else { /* refused as precision=bf16 is, with the same message */
        CHECK_STATUS(selfmm_bench_gemm(SELFMM_PRECISION_BF16, 64, 48, 32, 3, &g, &e), SELFMM_ERR_UNSUPPORTED);
        CHECK_CONTAINS(e.message, "precision=bf16");
        CHECK(g == -1); /* untouched on failure */
    }
    CHECK_STATUS(selfmm_bench_gemm(SELFMM_PRECISION_FP32, 0, 48, 32, 3, &g, &e), SELFMM_ERR_RANGE);
    CHECK_STATUS(selfmm_bench_gemm(SELFMM_PRECISION_FP32, 64, 48, 32, 0, &g, &e), SELFMM_ERR_RANGE);
    CHECK_STATUS(selfmm_bench_gemm((selfmm_precision)7, 64, 48, 32, 3, &g, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_bench_gemm(SELFMM_PRECISION_FP32, 64, 48, 32, 3, NULL, NULL), SELFMM_ERR_INVALID_ARG);
    CHECK(g == -1);
}

int main(void)
{
    selfmm_set_threads(2, NULL);
    RUN(bad_input_is_named);
    RUN(clamp_lengths_with_counted_warning);
    RUN(call_order_and_step_counter);
    RUN(refused_batch_and_the_training_state);
    RUN(dropout_follows_seed_and_step);
    RUN(train_equals_eval_without_dropout);
    RUN(subnets_split_in_halves);
    RUN(padding_does_not_matter);
    RUN(batch_size_one);
    RUN(shapes_change_between_steps);
    RUN(backward_accumulates_and_takes_given_gradients);
    RUN(aligned_data_uses_the_text_length);
    RUN(thread_count_does_not_change_dropout);
    RUN(out_of_memory_then_retry);
    RUN(bench_gemm);
    return h_finish();
}
