/* test_ops_ref.c -- every layer of lib/nn against PyTorch (tools/gen_ops_reference.py,
 * float64 on float32 inputs): outputs and input/weight gradients for a fixed output
 * gradient. Tolerance for each element:
 *     |ours - torch| <= 2e-6 * |torch| + 2e-6 * max|torch over the tensor|
 * i.e. float32 rounding of short sums; any formula error is orders larger. Also
 * checks tools/philox_ref.py (used by the model fixture to reproduce our dropout)
 * against lib/core/rng.c word for word. */
#include "harness.h"
#include "support/fixture.h"

#include "core/rng.h"
#include "nn/attention.h"
#include "nn/lstm.h"
#include "nn/ops.h"

#include <stdlib.h>
#include <string.h>

#define TOL 2e-6

static fx_file fx;

static const fx_tensor *get(const char *op, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", op, name);
    const fx_tensor *t = fx_get(&fx, key);
    if (!t) h_failf(__FILE__, __LINE__, "fixture lacks %s", key);
    return t;
}

/* A float copy of a fixture tensor (caller frees). */
static float *dup(const fx_tensor *t)
{
    float *p = malloc((size_t)t->numel * sizeof *p + 4);
    memcpy(p, t->f32, (size_t)t->numel * sizeof *p);
    return p;
}

static float *zeros(int64_t n) { return calloc((size_t)n + 1, sizeof(float)); }

static int32_t *ints(const fx_tensor *t)
{
    int32_t *v = malloc((size_t)t->numel * sizeof *v + 4);
    for (int64_t i = 0; i < t->numel; i++) v[i] = (int32_t)t->f64[i];
    return v;
}

#define CMP(what, got, op, name)                                                           \
    do {                                                                                   \
        const fx_tensor *w_ = get(op, name);                                               \
        if (w_) cmp(__LINE__, what, got, w_);                                              \
    } while (0)

static void cmp(int line, const char *what, const float *got, const fx_tensor *want)
{
    double scale = 0;
    for (int64_t i = 0; i < want->numel; i++) scale = fmax(scale, fabs(want->f64[i]));
    for (int64_t i = 0; i < want->numel; i++) {
        double d = fabs((double)got[i] - want->f64[i]);
        if (!(d <= TOL * fabs(want->f64[i]) + TOL * scale)) {
            h_failf(__FILE__, line, "%s[%lld] = %.9g, torch %.9g", what, (long long)i, (double)got[i],
                    want->f64[i]);
            return;
        }
    }
}

TEST(linear_matches_torch)
{
    const fx_tensor *x = get("linear", "x"), *w = get("linear", "w");
    REQUIRE(x && w);
    int N = (int)x->dims[0], C = (int)x->dims[1], OC = (int)w->dims[0];
    float *y = zeros(N * OC), *dx = zeros(N * C), *dw = zeros(OC * C), *db = zeros(OC);
    sm_linear_forward(y, x->f32, w->f32, get("linear", "b")->f32, N, C, OC);
    CMP("y", y, "linear", "y");
    /* the oneDNN form BERT's forward uses */
    sm_dnnl d;
    selfmm_error e = {0};
    REQUIRE_OK(sm_dnnl_init(&d, &e), e.message);
    memset(y, 0, (size_t)N * OC * sizeof(float));
    CHECK_OK(sm_dnnl_dense(&d, y, x->f32, w->f32, get("linear", "b")->f32, N, C, OC, &e), e.message);
    CMP("y (oneDNN)", y, "linear", "y");
    sm_dnnl_destroy(&d);
    sm_linear_backward(dx, dw, db, get("linear", "dout")->f32, x->f32, w->f32, N, C, OC);
    CMP("dx", dx, "linear", "dx");
    CMP("dw", dw, "linear", "dw");
    CMP("db", db, "linear", "db");
    free(y), free(dx), free(dw), free(db);
}

static void layernorm_case(const char *op)
{
    const fx_tensor *x = get(op, "x");
    if (!x) return;
    int N = (int)x->dims[0], C = (int)x->dims[1];
    float eps = get(op, "eps")->f32[0];
    float *y = zeros(N * C), *mean = zeros(N), *rstd = zeros(N), *dx = zeros(N * C), *dw = zeros(C),
          *db = zeros(C);
    const float *w = get(op, "w")->f32;
    sm_layernorm_forward(y, mean, rstd, x->f32, w, get(op, "b")->f32, N, C, eps);
    CMP("y", y, op, "y");
    sm_layernorm_backward(dx, dw, db, get(op, "dout")->f32, x->f32, w, mean, rstd, N, C);
    CMP("dx", dx, op, "dx");
    CMP("dw", dw, op, "dw");
    CMP("db", db, op, "db");
    free(y), free(mean), free(rstd), free(dx), free(dw), free(db);
}

TEST(layernorm_matches_torch)
{
    layernorm_case("layernorm");
    layernorm_case("layernorm_eps");
}

TEST(residual_layernorm_matches_torch)
{
    const fx_tensor *inp = get("resln", "inp"), *mk = get("resln", "mask");
    REQUIRE(inp && mk);
    int N = (int)inp->dims[0], C = (int)inp->dims[1];
    float p = get("resln", "p")->f32[0];
    uint8_t *mask = malloc((size_t)N * C);
    for (int i = 0; i < N * C; i++) mask[i] = (uint8_t)mk->f64[i];
    float *y = zeros(N * C), *sum = zeros(N * C), *mean = zeros(N), *rstd = zeros(N);
    float *dinp = zeros(N * C), *dres = zeros(N * C), *dw = zeros(C), *db = zeros(C);
    const float *w = get("resln", "w")->f32;
    sm_residual_layernorm_forward(y, sum, mean, rstd, inp->f32, get("resln", "bias")->f32, mask,
                                  sm_dropout_scale(p), get("resln", "res")->f32, w, get("resln", "b")->f32, N,
                                  C, 1e-12f);
    CMP("y", y, "resln", "y");
    sm_residual_layernorm_backward(dinp, dres, dw, db, get("resln", "dout")->f32, sum, mask, sm_dropout_scale(p),
                                   w, mean, rstd, N, C);
    CMP("dinp", dinp, "resln", "dinp");
    CMP("dres", dres, "resln", "dres");
    CMP("dw", dw, "resln", "dw");
    CMP("db", db, "resln", "db");
    free(mask), free(y), free(sum), free(mean), free(rstd), free(dinp), free(dres), free(dw), free(db);
}

TEST(gelu_matches_torch)
{
    const fx_tensor *x = get("gelu", "x");
    REQUIRE(x);
    int64_t n = x->numel;
    float *y = zeros(n), *dx = zeros(n);
    sm_gelu_forward(y, x->f32, n);
    CMP("gelu", y, "gelu", "y");
    sm_gelu_backward(dx, get("gelu", "dout")->f32, x->f32, n);
    CMP("gelu dx", dx, "gelu", "dx");
    free(y), free(dx);
    const fx_tensor *pre = get("bias_gelu", "pre");
    REQUIRE(pre);
    int N = (int)pre->dims[0], C = (int)pre->dims[1];
    float *u = dup(pre), *g = zeros(N * C), *du = zeros(N * C), *g2 = zeros(N * C);
    sm_bias_gelu_forward(g, u, get("bias_gelu", "bias")->f32, N, C);
    CMP("bias_gelu y", g, "bias_gelu", "y");
    CMP("bias_gelu pre+bias", u, "bias_gelu", "u");
    sm_bias_gelu_backward(du, g2, get("bias_gelu", "dout")->f32, u, N, C);
    CMP("bias_gelu dpre", du, "bias_gelu", "dpre");
    CMP("bias_gelu recomputed y", g2, "bias_gelu", "y");
    free(u), free(g), free(du), free(g2);
}

TEST(softmax_matches_torch)
{
    const fx_tensor *x = get("softmax", "x");
    REQUIRE(x);
    int N = (int)x->dims[0], C = (int)x->dims[1];
    float *y = zeros(N * C), *dx = zeros(N * C);
    sm_softmax_forward(y, x->f32, N, C);
    CMP("softmax", y, "softmax", "y");
    sm_softmax_backward(dx, get("softmax", "dout")->f32, y, N, C);
    CMP("softmax dx", dx, "softmax", "dx");
    free(y), free(dx);
    const fx_tensor *s = get("smsoftmax", "scores"), *mb = get("smsoftmax", "maskbias");
    REQUIRE(s && mb);
    int B = (int)mb->dims[0], R = (int)s->dims[0] / B;
    C = (int)s->dims[1];
    float div = get("smsoftmax", "div")->f32[0];
    y = zeros(B * R * C), dx = zeros(B * R * C);
    sm_scale_mask_softmax_forward(y, s->f32, mb->f32, div, B, R, C);
    CMP("masked softmax", y, "smsoftmax", "y");
    for (int c = 4; c < C; c++) CHECK(y[(size_t)(R + 1) * C + c] == 0.0f); /* masked keys: exactly 0 */
    sm_scale_mask_softmax_backward(dx, get("smsoftmax", "dout")->f32, y, div, B, R, C);
    CMP("masked softmax dscores", dx, "smsoftmax", "dscores");
    free(y), free(dx);
}

static void attention_case(const char *op)
{
    const fx_tensor *dims = get(op, "dims"), *q = get(op, "q"), *mk = get(op, "mask"), *dm = get(op, "dmask");
    if (!dims || !q || !mk || !dm) return;
    int B = (int)dims->f64[0], L = (int)dims->f64[1], nh = (int)dims->f64[2], hd = (int)dims->f64[3];
    int64_t nt = (int64_t)B * L * nh * hd, na = (int64_t)B * nh * L * L;
    float p = get(op, "p")->f32[0];
    float *mb = zeros(B * L);
    for (int i = 0; i < B * L; i++) mb[i] = (1.0f - mk->f32[i]) * -10000.0f;
    uint8_t *mask = NULL;
    if (p > 0) {
        mask = malloc((size_t)na);
        for (int64_t i = 0; i < na; i++) mask[i] = (uint8_t)dm->f64[i];
    }
    sm_dnnl d;
    selfmm_error e = {0};
    if (sm_dnnl_init(&d, &e) != SELFMM_OK) {
        h_failf(__FILE__, __LINE__, "%s", e.message);
        return;
    }
    float *ctx = zeros(nt), *probs = zeros(na), *pd = zeros(na), *scr = zeros(na);
    float *dq = zeros(nt), *dk = zeros(nt), *dv = zeros(nt);
    const float *k = get(op, "k")->f32, *v = get(op, "v")->f32;
    CHECK_OK(sm_attention_forward(&d, ctx, probs, mask ? pd : probs, q->f32, k, v, mb, mask, p, B, L, L, nh, hd, &e),
             e.message);
    CMP("ctx", ctx, op, "ctx");
    CMP("probs", probs, op, "probs");
    CHECK_OK(sm_attention_backward(&d, dq, dk, dv, scr, get(op, "dout")->f32, q->f32, k, v, probs,
                                   mask ? pd : probs, mask, p, B, L, L, nh, hd, &e),
             e.message);
    CMP("dq", dq, op, "dq");
    CMP("dk", dk, op, "dk");
    CMP("dv", dv, op, "dv");
    sm_dnnl_destroy(&d);
    free(mb), free(mask), free(ctx), free(probs), free(pd), free(scr), free(dq), free(dk), free(dv);
}

TEST(attention_matches_torch)
{
    attention_case("attn");
    attention_case("attn_drop");
}

TEST(embedding_matches_torch)
{
    const fx_tensor *dims = get("emb", "dims"), *idt = get("emb", "ids"), *sgt = get("emb", "segs");
    const fx_tensor *word = get("emb", "word"), *pos = get("emb", "pos"), *typ = get("emb", "type");
    REQUIRE(dims && idt && sgt && word && pos && typ);
    int B = (int)dims->f64[0], L = (int)dims->f64[1], ld = (int)dims->f64[2], H = (int)word->dims[1];
    int32_t *ids = ints(idt), *segs = ints(sgt);
    float *y = zeros((int64_t)B * L * H), *dw = zeros(word->numel), *dp = zeros(pos->numel), *dt = zeros(typ->numel);
    sm_embedding_forward(y, ids, segs, word->f32, pos->f32, typ->f32, B, L, ld, H);
    CMP("y", y, "emb", "y");
    sm_embedding_backward(dw, dp, dt, get("emb", "dout")->f32, ids, segs, B, L, ld, H);
    CMP("dword", dw, "emb", "dword");
    CMP("dpos", dp, "emb", "dpos");
    CMP("dtype", dt, "emb", "dtype");
    for (int h = 0; h < H; h++) CHECK(dw[h] == 0.0f); /* padding row */
    free(ids), free(segs), free(y), free(dw), free(dp), free(dt);
}

TEST(lstm_matches_torch_packed_sequence)
{
    const fx_tensor *x = get("lstm", "x"), *lt = get("lstm", "lens"), *wih = get("lstm", "w_ih");
    const fx_tensor *whh = get("lstm", "w_hh");
    REQUIRE(x && lt && wih && whh);
    int B = (int)x->dims[0], T = (int)x->dims[1], C = (int)x->dims[2], H = (int)whh->dims[1];
    int32_t *lens = ints(lt);
    sm_dnnl d;
    selfmm_error e = {0};
    REQUIRE_OK(sm_dnnl_init(&d, &e), e.message);
    sm_lstm *s = NULL;
    REQUIRE_OK(sm_lstm_create(&s, &d, C, H, &e), e.message);
    float *h = zeros(B * H), *dx = zeros(x->numel), *dwih = zeros(wih->numel), *dwhh = zeros(whh->numel);
    float *dbih = zeros(4 * H), *dbhh = zeros(4 * H);
    CHECK_OK(sm_lstm_forward(s, h, x->f32, lens, wih->f32, whh->f32, get("lstm", "b_ih")->f32,
                             get("lstm", "b_hh")->f32, B, T, &e),
             e.message);
    CMP("h", h, "lstm", "h");
    CHECK_OK(sm_lstm_backward(s, dx, dwih, dwhh, dbih, dbhh, get("lstm", "dout")->f32, wih->f32, whh->f32, &e),
             e.message);
    CMP("dx", dx, "lstm", "dx");
    CMP("dw_ih", dwih, "lstm", "dw_ih");
    CMP("dw_hh", dwhh, "lstm", "dw_hh");
    CMP("db_ih", dbih, "lstm", "db_ih");
    CMP("db_hh", dbhh, "lstm", "db_hh");
    sm_lstm_free(s);
    sm_dnnl_destroy(&d);
    free(lens), free(h), free(dx), free(dwih), free(dwhh), free(dbih), free(dbhh);
}

TEST(relu_and_weighted_l1_match_torch)
{
    const fx_tensor *x = get("relu", "x");
    REQUIRE(x);
    float *y = zeros(x->numel), *dx = zeros(x->numel);
    sm_relu_forward(y, x->f32, x->numel);
    CMP("relu", y, "relu", "y");
    sm_relu_backward(dx, get("relu", "dout")->f32, y, x->numel);
    CMP("relu dx", dx, "relu", "dx");
    free(y), free(dx);
    const char *ops[2] = {"l1_fusion", "l1_weighted"};
    for (int i = 0; i < 2; i++) {
        const fx_tensor *pred = get(ops[i], "pred");
        REQUIRE(pred);
        int B = (int)pred->numel;
        /* our weights as the model computes them: tanhf(|y - y_f|) in float */
        float *w = zeros(B), *dp = zeros(B);
        const float *yv = get(ops[i], "y")->f32, *yf = get(ops[i], "yf")->f32;
        for (int b = 0; b < B; b++) w[b] = tanhf(fabsf(yv[b] - yf[b]));
        if (i == 1) CMP("weights", w, ops[i], "w");
        double loss;
        sm_weighted_l1_forward(&loss, pred->f32, yv, i ? w : NULL, B);
        float lf = (float)loss;
        CMP("loss", &lf, ops[i], "loss");
        sm_weighted_l1_backward(dp, 1.0f, pred->f32, yv, i ? w : NULL, B);
        CMP("dpred", dp, ops[i], "dpred");
        free(w), free(dp);
    }
}

TEST(python_philox_is_ours)
{
    for (int i = 0; i < 2; i++) {
        char op[32];
        snprintf(op, sizeof op, "philox%d", i);
        const fx_tensor *key = get(op, "key"), *words = get(op, "words");
        REQUIRE(key && words);
        sm_rng_key k = sm_rng_make((uint64_t)key->f64[0], SM_RNG_DROPOUT, (uint64_t)key->f64[1],
                                   (uint32_t)key->f64[2]);
        for (int j = 0; j < words->numel; j++) {
            uint32_t w[4];
            sm_rng_block(&k, (uint32_t)(j / 4), w);
            CHECK_MSG((double)w[j % 4] == words->f64[j], "%s word %d: ours %u, python %.0f", op, j, w[j % 4],
                      words->f64[j]);
        }
    }
}

int main(void)
{
    if (fx_load("tests/fixtures/ops_ref.smfx", &fx) != 0) {
        printf("not ok - load tests/fixtures/ops_ref.smfx\n");
        return 1;
    }
    RUN(linear_matches_torch);
    RUN(layernorm_matches_torch);
    RUN(residual_layernorm_matches_torch);
    RUN(gelu_matches_torch);
    RUN(softmax_matches_torch);
    RUN(attention_matches_torch);
    RUN(embedding_matches_torch);
    RUN(lstm_matches_torch_packed_sequence);
    RUN(relu_and_weighted_l1_match_torch);
    RUN(python_philox_is_ours);
    fx_free(&fx);
    return h_finish();
}
