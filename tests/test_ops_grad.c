/* test_ops_grad.c -- every backward of lib/nn checked against central finite
 * differences of its own forward.
 *
 * For an op y = f(x) and a fixed random R, the loss is L = sum(y * R) accumulated in
 * double; the analytic gradient is the op's backward with dout = R, and the numeric
 * one (L(x + e) - L(x - e)) / (2e) per element of every input and weight, e = 1e-2 on
 * inputs of order 1. Float32 rounding of y puts ~1e-5 of noise on the numeric
 * gradient, truncation ~1e-5 (everything passes at 1e-4; 2e-5 is too tight); the
 * bound is
 *     |numeric - analytic| <= 3e-4 * |analytic| + 3e-4 * max|analytic|,
 * which catches a 1% error in any large element (the test `checker_catches_one_
 * percent` proves it) and anything grosser anywhere. Inputs stay away from the kinks
 * of ReLU and L1. */
#include "harness.h"

#include "nn/attention.h"
#include "nn/lstm.h"
#include "nn/ops.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 3e-4
#define ATOL 3e-4
#define EPS 1e-2f

static uint64_t g_rng = 88172645463325252ull;
static float urand(float lo, float hi)
{
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return lo + (hi - lo) * (float)((g_rng >> 40) & 0xFFFFFF) / 16777216.0f;
}
static float *rnd(int64_t n, float lo, float hi)
{
    float *p = malloc((size_t)n * sizeof *p + 4);
    for (int64_t i = 0; i < n; i++) p[i] = urand(lo, hi);
    return p;
}
static float *zeros(int64_t n) { return calloc((size_t)n + 1, sizeof(float)); }

typedef double (*loss_fn)(void *ctx);

static double dot(const float *y, const float *r, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)y[i] * r[i];
    return s;
}

/* Count the elements of an (analytic) outside the bound; report the worst when asked. */
static int64_t fd_compare(const char *what, float *x, int64_t n, const float *an, loss_fn f, void *ctx,
                          int report)
{
    double amax = 0;
    for (int64_t i = 0; i < n; i++) amax = fmax(amax, fabs(an[i]));
    int64_t bad = 0, worst = -1;
    double wr = 0, wfd = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], hi = v + EPS, lo = v - EPS;
        x[i] = hi;
        double lp = f(ctx);
        x[i] = lo;
        double lm = f(ctx);
        x[i] = v;
        double fd = (lp - lm) / ((double)hi - (double)lo);
        double r = fabs(fd - an[i]) / (RTOL * fabs(an[i]) + ATOL * amax + 1e-30);
        if (!(r <= 1.0)) bad++;
        if (!(r <= wr)) wr = r, worst = i, wfd = fd;
    }
    if (report && bad)
        h_failf(__FILE__, __LINE__, "%s: %lld of %lld gradients off; worst [%lld] analytic %.7g numeric %.7g", what,
                (long long)bad, (long long)n, (long long)worst, (double)an[worst], wfd);
    if (report && amax == 0) h_failf(__FILE__, __LINE__, "%s: analytic gradient is all zero", what);
    return bad;
}
#define FD(what, x, n, an, f, ctx) fd_compare(what, x, n, an, f, ctx, 1)

/* ---- linear -------------------------------------------------------------------------- */
typedef struct lin_ctx {
    int N, C, OC;
    float *x, *w, *b, *y, *r;
} lin_ctx;

static double lin_loss(void *p)
{
    lin_ctx *c = p;
    sm_linear_forward(c->y, c->x, c->w, c->b, c->N, c->C, c->OC);
    return dot(c->y, c->r, (int64_t)c->N * c->OC);
}

static void lin_setup(lin_ctx *c, float **dx, float **dw, float **db)
{
    c->N = 5, c->C = 6, c->OC = 4;
    c->x = rnd(30, -1, 1), c->w = rnd(24, -1, 1), c->b = rnd(4, -1, 1);
    c->y = zeros(20), c->r = rnd(20, -1, 1);
    *dx = zeros(30), *dw = zeros(24), *db = zeros(4);
    sm_linear_backward(*dx, *dw, *db, c->r, c->x, c->w, c->N, c->C, c->OC);
}

static void lin_free(lin_ctx *c) { free(c->x), free(c->w), free(c->b), free(c->y), free(c->r); }

TEST(linear)
{
    lin_ctx c;
    float *dx, *dw, *db;
    lin_setup(&c, &dx, &dw, &db);
    FD("linear dx", c.x, 30, dx, lin_loss, &c);
    FD("linear dw", c.w, 24, dw, lin_loss, &c);
    FD("linear db", c.b, 4, db, lin_loss, &c);
    /* backward accumulates: a second call doubles the gradients */
    float *dx2 = zeros(30);
    memcpy(dx2, dx, 30 * sizeof(float));
    sm_linear_backward(dx2, NULL, NULL, c.r, c.x, c.w, c.N, c.C, c.OC);
    for (int i = 0; i < 30; i++) CHECK_CLOSE(dx2[i], 2 * dx[i], 1e-6, 1e-7);
    free(dx2), free(dx), free(dw), free(db);
    lin_free(&c);
}

/* The checker itself: a 1% error in the largest gradient element must be caught. */
TEST(checker_catches_one_percent)
{
    lin_ctx c;
    float *dx, *dw, *db;
    lin_setup(&c, &dx, &dw, &db);
    int big = 0;
    for (int i = 0; i < 24; i++)
        if (fabsf(dw[i]) > fabsf(dw[big])) big = i;
    dw[big] *= 1.01f;
    CHECK(fd_compare("corrupted", c.w, 24, dw, lin_loss, &c, 0) > 0);
    dw[big] /= 1.01f;
    db[0] = -db[0];
    CHECK(fd_compare("sign flipped", c.b, 4, db, lin_loss, &c, 0) > 0);
    free(dx), free(dw), free(db);
    lin_free(&c);
}

/* ---- layernorm, plain and fused with dropout + residual ------------------------------ */
typedef struct ln_ctx {
    int N, C, fused;
    float *x, *w, *b, *y, *r, *mean, *rstd, *sum, *bias, *res;
    uint8_t *mask;
    float scale;
} ln_ctx;

static double ln_loss(void *p)
{
    ln_ctx *c = p;
    if (c->fused)
        sm_residual_layernorm_forward(c->y, c->sum, c->mean, c->rstd, c->x, c->bias, c->mask, c->scale, c->res,
                                      c->w, c->b, c->N, c->C, 1e-5f);
    else
        sm_layernorm_forward(c->y, c->mean, c->rstd, c->x, c->w, c->b, c->N, c->C, 1e-5f);
    return dot(c->y, c->r, (int64_t)c->N * c->C);
}

TEST(layernorm)
{
    ln_ctx c = {.N = 4, .C = 7};
    int64_t n = 28;
    c.x = rnd(n, -2, 2), c.w = rnd(7, 0.5f, 1.5f), c.b = rnd(7, -1, 1), c.y = zeros(n), c.r = rnd(n, -1, 1);
    c.mean = zeros(4), c.rstd = zeros(4);
    float *dx = zeros(n), *dw = zeros(7), *db = zeros(7);
    ln_loss(&c);
    sm_layernorm_backward(dx, dw, db, c.r, c.x, c.w, c.mean, c.rstd, c.N, c.C);
    FD("layernorm dx", c.x, n, dx, ln_loss, &c);
    FD("layernorm dw", c.w, 7, dw, ln_loss, &c);
    FD("layernorm db", c.b, 7, db, ln_loss, &c);
    free(dx), free(dw), free(db), free(c.x), free(c.w), free(c.b), free(c.y), free(c.r), free(c.mean), free(c.rstd);
}

TEST(residual_layernorm_with_dropout)
{
    ln_ctx c = {.N = 4, .C = 7, .fused = 1};
    int64_t n = 28;
    c.x = rnd(n, -2, 2), c.w = rnd(7, 0.5f, 1.5f), c.b = rnd(7, -1, 1), c.y = zeros(n), c.r = rnd(n, -1, 1);
    c.mean = zeros(4), c.rstd = zeros(4), c.sum = zeros(n), c.bias = rnd(7, -1, 1), c.res = rnd(n, -1, 1);
    c.mask = malloc((size_t)n);
    sm_dropout_mask(c.mask, 4, 7, 0.3f, 5, 1, 9);
    c.scale = sm_dropout_scale(0.3f);
    float *dinp = zeros(n), *dres = zeros(n), *dw = zeros(7), *db = zeros(7), *dbias = zeros(7);
    ln_loss(&c);
    sm_residual_layernorm_backward(dinp, dres, dw, db, c.r, c.sum, c.mask, c.scale, c.w, c.mean, c.rstd, c.N, c.C);
    FD("resln dinp", c.x, n, dinp, ln_loss, &c);
    FD("resln dres", c.res, n, dres, ln_loss, &c);
    FD("resln dw", c.w, 7, dw, ln_loss, &c);
    FD("resln dlnbias", c.b, 7, db, ln_loss, &c);
    /* the dense bias' gradient is the column sum of dinp (sm_linear_backward's job) */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 7; j++) dbias[j] += dinp[i * 7 + j];
    FD("resln dbias", c.bias, 7, dbias, ln_loss, &c);
    free(dinp), free(dres), free(dw), free(db), free(dbias), free(c.x), free(c.w), free(c.b), free(c.y);
    free(c.r), free(c.mean), free(c.rstd), free(c.sum), free(c.bias), free(c.res), free(c.mask);
}

/* ---- GELU ------------------------------------------------------------------------------- */
typedef struct gelu_ctx {
    int N, C, fused;
    float *x, *bias, *y, *u, *r;
} gelu_ctx;

static double gelu_loss(void *p)
{
    gelu_ctx *c = p;
    int64_t n = (int64_t)c->N * c->C;
    if (c->fused) {
        memcpy(c->u, c->x, (size_t)n * sizeof(float));
        sm_bias_gelu_forward(c->y, c->u, c->bias, c->N, c->C);
    } else {
        sm_gelu_forward(c->y, c->x, n);
    }
    return dot(c->y, c->r, n);
}

TEST(gelu)
{
    gelu_ctx c = {.N = 5, .C = 8};
    int64_t n = 40;
    c.x = rnd(n, -4, 4), c.y = zeros(n), c.r = rnd(n, -1, 1), c.u = zeros(n), c.bias = rnd(8, -1, 1);
    float *dx = zeros(n);
    sm_gelu_backward(dx, c.r, c.x, n);
    FD("gelu dx", c.x, n, dx, gelu_loss, &c);
    /* fused bias + GELU: d pre (bias included) and its column sums for the bias */
    c.fused = 1;
    gelu_loss(&c);
    float *du = zeros(n), *g = zeros(n), *dbias = zeros(8);
    sm_bias_gelu_backward(du, g, c.r, c.u, c.N, c.C);
    FD("bias_gelu dpre", c.x, n, du, gelu_loss, &c);
    for (int i = 0; i < n; i++) dbias[i % 8] += du[i];
    FD("bias_gelu dbias", c.bias, 8, dbias, gelu_loss, &c);
    gelu_loss(&c);
    for (int i = 0; i < n; i++) CHECK(g[i] == c.y[i]); /* the recomputed output is the forward's */
    free(dx), free(du), free(g), free(dbias), free(c.x), free(c.y), free(c.r), free(c.u), free(c.bias);
}

/* ---- softmax ------------------------------------------------------------------------------ */
typedef struct sm_ctx {
    int B, R, C, masked;
    float *x, *y, *r, *mb, div;
} sm_ctx;

static double softmax_loss(void *p)
{
    sm_ctx *c = p;
    if (c->masked) sm_scale_mask_softmax_forward(c->y, c->x, c->mb, c->div, c->B, c->R, c->C);
    else sm_softmax_forward(c->y, c->x, c->B * c->R, c->C);
    return dot(c->y, c->r, (int64_t)c->B * c->R * c->C);
}

TEST(softmax_plain_and_masked)
{
    sm_ctx c = {.B = 2, .R = 3, .C = 5, .div = 1.7f};
    int64_t n = 30;
    c.x = rnd(n, -2, 2), c.y = zeros(n), c.r = rnd(n, -1, 1), c.mb = zeros(10);
    float *dx = zeros(n);
    softmax_loss(&c);
    sm_softmax_backward(dx, c.r, c.y, c.B * c.R, c.C);
    FD("softmax dx", c.x, n, dx, softmax_loss, &c);
    /* the attention form: / div, key 3 and 4 of sample 1 masked */
    c.masked = 1;
    c.mb[8] = c.mb[9] = -10000.0f;
    softmax_loss(&c);
    float *ds = zeros(n);
    sm_scale_mask_softmax_backward(ds, c.r, c.y, c.div, c.B, c.R, c.C);
    FD("masked softmax dscores", c.x, n, ds, softmax_loss, &c);
    for (int r = 3; r < 6; r++) CHECK(ds[r * 5 + 3] == 0.0f && ds[r * 5 + 4] == 0.0f);
    free(dx), free(ds), free(c.x), free(c.y), free(c.r), free(c.mb);
}

/* ---- attention (oneDNN matmul) ------------------------------------------------------------ */
typedef struct attn_ctx {
    sm_dnnl *d;
    int B, L, Lq, nh, hd;
    float p;
    float *q, *k, *v, *ctx, *probs, *pd, *mb, *r;
    uint8_t *mask;
} attn_ctx;

static double attn_loss(void *p)
{
    attn_ctx *c = p;
    selfmm_error e;
    if (sm_attention_forward(c->d, c->ctx, c->probs, c->mask ? c->pd : c->probs, c->q, c->k, c->v, c->mb, c->mask,
                             c->p, c->B, c->Lq, c->L, c->nh, c->hd, &e) != SELFMM_OK)
        return NAN;
    return dot(c->ctx, c->r, (int64_t)c->B * c->Lq * c->nh * c->hd);
}

/* Lq = L: self-attention; Lq = 1: the last layer's [CLS] queries against all keys. */
static void attention_case(float p, int Lq)
{
    sm_dnnl d;
    selfmm_error e = {0};
    if (sm_dnnl_init(&d, &e) != SELFMM_OK) {
        h_failf(__FILE__, __LINE__, "%s", e.message);
        return;
    }
    attn_ctx c = {.d = &d, .B = 2, .L = 4, .Lq = Lq, .nh = 2, .hd = 3, .p = p};
    int64_t nt = 2 * 4 * 6, nq = 2 * Lq * 6, na = 2 * 2 * Lq * 4;
    c.q = rnd(nq, -1, 1), c.k = rnd(nt, -1, 1), c.v = rnd(nt, -1, 1), c.r = rnd(nq, -1, 1);
    c.ctx = zeros(nq), c.probs = zeros(na), c.pd = zeros(na), c.mb = zeros(8);
    c.mb[6] = c.mb[7] = -10000.0f; /* sample 1: keys 2 and 3 are padding */
    if (p > 0) {
        c.mask = malloc((size_t)na);
        sm_dropout_mask(c.mask, 2, na / 2, p, 3, 4, 5);
    }
    float *dq = zeros(nq), *dk = zeros(nt), *dv = zeros(nt), *scr = zeros(na);
    attn_loss(&c);
    CHECK_OK(sm_attention_backward(&d, dq, dk, dv, scr, c.r, c.q, c.k, c.v, c.probs, c.mask ? c.pd : c.probs,
                                   c.mask, p, c.B, c.Lq, c.L, c.nh, c.hd, &e),
             e.message);
    char what[64];
    snprintf(what, sizeof what, "attention Lq=%d p=%.1f dq", Lq, (double)p);
    FD(what, c.q, nq, dq, attn_loss, &c);
    snprintf(what, sizeof what, "attention Lq=%d p=%.1f dk", Lq, (double)p);
    FD(what, c.k, nt, dk, attn_loss, &c);
    snprintf(what, sizeof what, "attention Lq=%d p=%.1f dv", Lq, (double)p);
    FD(what, c.v, nt, dv, attn_loss, &c);
    /* masked keys and values get exactly zero gradient */
    for (int t = 2; t < 4; t++)
        for (int h = 0; h < 6; h++) {
            CHECK(dk[(4 + t) * 6 + h] == 0.0f);
            CHECK(dv[(4 + t) * 6 + h] == 0.0f);
        }
    if (Lq == 1 && p == 0) {
        /* the [CLS]-only form equals row 0 of the full one */
        attn_ctx f = c;
        f.Lq = 4;
        float *qf = rnd(nt, -1, 1);
        for (int b = 0; b < 2; b++) memcpy(qf + b * 4 * 6, c.q + b * 6, 6 * sizeof(float));
        f.q = qf, f.ctx = zeros(nt), f.probs = zeros(2 * 2 * 16), f.r = zeros(nt);
        attn_loss(&f);
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 6; h++) CHECK_CLOSE(f.ctx[b * 24 + h], c.ctx[b * 6 + h], 1e-6, 1e-7);
        free(qf), free(f.ctx), free(f.probs), free(f.r);
    }
    free(dq), free(dk), free(dv), free(scr), free(c.q), free(c.k), free(c.v), free(c.r), free(c.ctx);
    free(c.probs), free(c.pd), free(c.mb), free(c.mask);
    sm_dnnl_destroy(&d);
}

TEST(attention_masked_keys)
{
    attention_case(0.0f, 4);
}

TEST(attention_masked_keys_with_dropout)
{
    attention_case(0.4f, 4);
}

TEST(attention_cls_queries_only)
{
    attention_case(0.0f, 1);
    attention_case(0.4f, 1);
}

/* ---- embedding ------------------------------------------------------------------------------ */
typedef struct emb_ctx {
    int B, L, ld, H;
    int32_t *ids, *segs;
    float *word, *pos, *type, *y, *r;
} emb_ctx;

static double emb_loss(void *p)
{
    emb_ctx *c = p;
    sm_embedding_forward(c->y, c->ids, c->segs, c->word, c->pos, c->type, c->B, c->L, c->ld, c->H);
    return dot(c->y, c->r, (int64_t)c->B * c->L * c->H);
}

TEST(embedding_padding_row)
{
    emb_ctx c = {.B = 2, .L = 4, .ld = 5, .H = 3};
    int32_t ids[10] = {0, 3, 3, 2, 9, 1, 0, 4, 2, 0}, segs[10] = {0, 0, 1, 1, 0, 0, 1, 1, 1, 0};
    c.ids = ids, c.segs = segs;
    int V = 6, P = 5;
    c.word = rnd(V * 3, -1, 1), c.pos = rnd(P * 3, -1, 1), c.type = rnd(6, -1, 1);
    c.y = zeros(24), c.r = rnd(24, -1, 1);
    float *dw = zeros(V * 3), *dp = zeros(P * 3), *dt = zeros(6);
    sm_embedding_backward(dw, dp, dt, c.r, c.ids, c.segs, c.B, c.L, c.ld, c.H);
    /* row 0 is used by the forward (ids 0 appear) but is the padding index: its
     * gradient stays zero while the numeric one is not */
    for (int h = 0; h < 3; h++) CHECK(dw[h] == 0.0f);
    float *num0 = zeros(3);
    CHECK(fd_compare("row 0", c.word, 3, num0, emb_loss, &c, 0) > 0);
    FD("embedding dword (rows 1..)", c.word + 3, (V - 1) * 3, dw + 3, emb_loss, &c);
    FD("embedding dpos", c.pos, 12, dp, emb_loss, &c); /* positions 0..L-1 */
    for (int i = 12; i < P * 3; i++) CHECK(dp[i] == 0.0f);
    FD("embedding dtype", c.type, 6, dt, emb_loss, &c);
    free(num0), free(dw), free(dp), free(dt), free(c.word), free(c.pos), free(c.type), free(c.y), free(c.r);
}

/* ---- dropout, ReLU, weighted L1 ----------------------------------------------------------- */
typedef struct ew_ctx {
    int64_t n;
    int kind; /* 0 dropout, 1 relu, 2 weighted l1 */
    float *x, *y, *r, *lab, *w;
    uint8_t *mask;
} ew_ctx;

static double ew_loss(void *p)
{
    ew_ctx *c = p;
    if (c->kind == 0) sm_dropout_forward(c->y, c->x, c->mask, 0.25f, c->n);
    if (c->kind == 1) sm_relu_forward(c->y, c->x, c->n);
    if (c->kind == 2) {
        double l;
        sm_weighted_l1_forward(&l, c->x, c->lab, c->w, (int)c->n);
        return 3.0 * l;
    }
    return dot(c->y, c->r, c->n);
}

TEST(dropout_relu_weighted_l1)
{
    ew_ctx c = {.n = 40};
    c.x = rnd(40, -1, 1), c.y = zeros(40), c.r = rnd(40, -1, 1), c.mask = malloc(40);
    sm_dropout_mask(c.mask, 2, 20, 0.25f, 1, 2, 3);
    float *dx = zeros(40);
    sm_dropout_backward(dx, c.r, c.mask, 0.25f, 40);
    FD("dropout dx", c.x, 40, dx, ew_loss, &c);
    c.kind = 1;
    for (int i = 0; i < 40; i++) c.x[i] = (i % 2 ? 1.0f : -1.0f) * urand(0.05f, 1.0f); /* away from 0 */
    ew_loss(&c);
    memset(dx, 0, 40 * sizeof(float));
    sm_relu_backward(dx, c.r, c.y, 40);
    FD("relu dx", c.x, 40, dx, ew_loss, &c);
    c.kind = 2;
    c.lab = rnd(40, -1, 1), c.w = rnd(40, 0, 1);
    for (int i = 0; i < 40; i++) c.x[i] = c.lab[i] + (i % 3 ? 0.1f : -0.1f) + urand(-0.05f, 0.05f);
    memset(dx, 0, 40 * sizeof(float));
    sm_weighted_l1_backward(dx, 3.0f, c.x, c.lab, c.w, 40);
    FD("weighted l1 dpred", c.x, 40, dx, ew_loss, &c);
    free(dx), free(c.x), free(c.y), free(c.r), free(c.mask), free(c.lab), free(c.w);
}

/* ---- LSTM (oneDNN RNN) ------------------------------------------------------------------------ */
typedef struct lstm_ctx {
    sm_lstm *s;
    int B, T, C, H;
    int32_t *len;
    float *x, *wih, *whh, *bih, *bhh, *h, *r;
} lstm_ctx;

static double lstm_loss(void *p)
{
    lstm_ctx *c = p;
    selfmm_error e;
    if (sm_lstm_forward(c->s, c->h, c->x, c->len, c->wih, c->whh, c->bih, c->bhh, c->B, c->T, &e) != SELFMM_OK)
        return NAN;
    return dot(c->h, c->r, (int64_t)c->B * c->H);
}

TEST(lstm_varied_lengths)
{
    sm_dnnl d;
    selfmm_error e = {0};
    REQUIRE_OK(sm_dnnl_init(&d, &e), e.message);
    int32_t len[3] = {5, 2, 3};
    lstm_ctx c = {.B = 3, .T = 6, .C = 4, .H = 3, .len = len};
    REQUIRE_OK(sm_lstm_create(&c.s, &d, c.C, c.H, &e), e.message);
    int64_t nx = 3 * 6 * 4, nwi = 12 * 4, nwh = 12 * 3;
    c.x = rnd(nx, -1, 1), c.wih = rnd(nwi, -0.8f, 0.8f), c.whh = rnd(nwh, -0.8f, 0.8f);
    c.bih = rnd(12, -0.5f, 0.5f), c.bhh = rnd(12, -0.5f, 0.5f), c.h = zeros(9), c.r = rnd(9, -1, 1);
    float *dx = zeros(nx), *dwi = zeros(nwi), *dwh = zeros(nwh), *dbi = zeros(12), *dbh = zeros(12);
    lstm_loss(&c);
    CHECK_OK(sm_lstm_backward(c.s, dx, dwi, dwh, dbi, dbh, c.r, c.wih, c.whh, &e), e.message);
    FD("lstm dx", c.x, nx, dx, lstm_loss, &c);
    FD("lstm dw_ih", c.wih, nwi, dwi, lstm_loss, &c);
    FD("lstm dw_hh", c.whh, nwh, dwh, lstm_loss, &c);
    FD("lstm db_ih", c.bih, 12, dbi, lstm_loss, &c);
    FD("lstm db_hh", c.bhh, 12, dbh, lstm_loss, &c);
    for (int i = 0; i < 12; i++) CHECK(dbi[i] == dbh[i]);

    /* steps at or after a sample's length: perturbing them (even to NaN and Inf)
     * changes neither the forward nor any gradient, and their dx is exactly 0 */
    float h0[9];
    lstm_loss(&c);
    memcpy(h0, c.h, sizeof h0);
    for (int b = 0; b < 3; b++)
        for (int t = len[b]; t < 6; t++)
            for (int i = 0; i < 4; i++) {
                CHECK(dx[(b * 6 + t) * 4 + i] == 0.0f);
                c.x[(b * 6 + t) * 4 + i] = (t + i) % 3 == 0 ? NAN : (t % 2 ? INFINITY : 1e30f);
            }
    lstm_loss(&c);
    CHECK(memcmp(h0, c.h, sizeof h0) == 0);
    float *dx2 = zeros(nx), *dwi2 = zeros(nwi), *dwh2 = zeros(nwh), *dbi2 = zeros(12), *dbh2 = zeros(12);
    CHECK_OK(sm_lstm_backward(c.s, dx2, dwi2, dwh2, dbi2, dbh2, c.r, c.wih, c.whh, &e), e.message);
    CHECK(memcmp(dx, dx2, (size_t)nx * sizeof(float)) == 0);
    CHECK(memcmp(dwi, dwi2, (size_t)nwi * sizeof(float)) == 0);
    CHECK(memcmp(dwh, dwh2, (size_t)nwh * sizeof(float)) == 0);
    CHECK(memcmp(dbi, dbi2, 12 * sizeof(float)) == 0);
    free(dx2), free(dwi2), free(dwh2), free(dbi2), free(dbh2);
    free(dx), free(dwi), free(dwh), free(dbi), free(dbh), free(c.x), free(c.wih), free(c.whh), free(c.bih);
    free(c.bhh), free(c.h), free(c.r);
    sm_lstm_free(c.s);
    sm_dnnl_destroy(&d);
}

int main(void)
{
    RUN(checker_catches_one_percent);
    RUN(linear);
    RUN(layernorm);
    RUN(residual_layernorm_with_dropout);
    RUN(gelu);
    RUN(softmax_plain_and_masked);
    RUN(attention_masked_keys);
    RUN(attention_masked_keys_with_dropout);
    RUN(attention_cls_queries_only);
    RUN(embedding_padding_row);
    RUN(dropout_relu_weighted_l1);
    RUN(lstm_varied_lengths);
    return h_finish();
}
