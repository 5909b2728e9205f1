/* test_bf16.c -- precision bf16 (docs/MODEL.md §8): the conversions against a scalar
 * reference, each bf16 GEMM kind BERT uses against its fp32 twin, the whole model
 * forward and backward in bf16 against fp32 (outputs within 1e-2 relative,
 * gradients at cosine >= 0.999), determinism, the weight copies following the
 * weights, and the refusal being the same everywhere. Where this CPU refuses bf16
 * the compute tests print a "# skip" line and run nothing (the refusal itself is
 * tested in test_bf16_refusal.sh, under oneDNN ISA caps). */
#include "harness.h"

#include "nn/bf16.h"
#include "nn/dnnl_ctx.h"
#include "nn/ops.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int have_bf16;

#define NEED_BF16()                                                                    \
    do {                                                                               \
        if (!have_bf16) {                                                              \
            printf("# skip %s: this CPU refuses precision=bf16\n", h_cur);           \
            return;                                                                    \
        }                                                                              \
    } while (0)

static float frand(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)((*s >> 11) % 2000001) * 1e-6f - 1.0f;
}

static double rel_err(const float *got, const float *want, int64_t n)
{
    double d = 0, w = 0;
    for (int64_t i = 0; i < n; i++) d += ((double)got[i] - want[i]) * ((double)got[i] - want[i]), w += (double)want[i] * want[i];
    return w > 0 ? sqrt(d / w) : sqrt(d);
}

static double cosine(const float *a, const float *b, int64_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int64_t i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

/* The refusal is one decision: selfmm_precision_check, model creation and the bf16
 * yardstick agree, and fp32 is always accepted. */
TEST(one_decision)
{
    selfmm_error e = {0};
    CHECK_OK(selfmm_precision_check(SELFMM_PRECISION_FP32, &e), e.message);
    CHECK_STATUS(selfmm_precision_check((selfmm_precision)5, &e), SELFMM_ERR_INVALID_ARG);
    const selfmm_status st = selfmm_precision_check(SELFMM_PRECISION_BF16, &e);
    CHECK(st == SELFMM_OK || st == SELFMM_ERR_UNSUPPORTED);
    if (st != SELFMM_OK) {
        printf("# bf16 refused here: %s\n", e.message);
        CHECK_CONTAINS(e.message, "precision=bf16");
    }
    selfmm_config c;
    selfmm_config_default(&c);
    c.num_hidden_layers = 1, c.hidden_size = 8, c.num_attention_heads = 2, c.intermediate_size = 8;
    c.vocab_size = 10;
    c.precision = SELFMM_PRECISION_BF16;
    selfmm_model *m = NULL;
    selfmm_error e2 = {0};
    CHECK_INT(selfmm_model_create(&c, &m, &e2), st);
    if (st != SELFMM_OK) CHECK_STR(e2.message, e.message);
    selfmm_model_free(m);
    /* the key: JSON and --set spell it fp32 / bf16 */
    CHECK_OK(selfmm_config_set(&c, "precision", "fp32", &e), e.message);
    CHECK_INT(c.precision, SELFMM_PRECISION_FP32);
    CHECK_STATUS(selfmm_config_set(&c, "precision", "fp16", &e), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(e.message, "fp32 or bf16");
    c.precision = SELFMM_PRECISION_BF16;
    char *json = NULL;
    CHECK_OK(selfmm_config_to_json(&c, &json, &e), e.message);
    CHECK(json && strstr(json, "\"precision\":\t\"bf16\""));
    selfmm_config d;
    selfmm_config_default(&d);
    CHECK_OK(selfmm_config_from_json(&d, json, &e), e.message);
    CHECK_INT(d.precision, SELFMM_PRECISION_BF16);
    free(json);
}

/* The vector conversion rounds to nearest even exactly as the scalar reference, at
 * every length (tails included), and back is exact. */
TEST(conversions)
{
    NEED_BF16();
    enum { N = 1000 };
    float x[N], back[N];
    sm_bf16 h[N + 8];
    uint64_t s = 7;
    for (int i = 0; i < N; i++) x[i] = frand(&s) * powf(2.0f, (float)(i % 40 - 20));
    x[0] = 0.0f, x[1] = -0.0f, x[2] = 1.0f + 1.0f / 256, x[3] = 1.0f + 3.0f / 256; /* ties */
    x[4] = INFINITY, x[5] = -INFINITY, x[6] = 3.0e38f;
    for (int n = 0; n <= 70; n++) {
        h[n] = 0xABCD;
        sm_bf16_pack_row(h, x, n);
        int bad = h[n] != 0xABCD; /* nothing written past n */
        for (int i = 0; i < n; i++) bad |= h[i] != sm_f2bf_scalar(x[i]);
        CHECK_MSG(!bad, "length %d", n);
    }
    sm_bf16_pack(h, x, N);
    int bad = 0;
    for (int i = 0; i < N; i++) bad |= h[i] != sm_f2bf_scalar(x[i]);
    CHECK(!bad);
    CHECK_INT(h[2], 0x3F80); /* 1 + 2^-8: a tie, to even */
    CHECK_INT(h[3], 0x3F82); /* 1 + 3 * 2^-8: a tie, to even (up) */
    sm_bf16_unpack(back, h, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad |= back[i] != sm_bf2f(h[i]) || fabsf(back[i] - x[i]) > fabsf(x[i]) * (1.0f / 256);
    CHECK(!bad);
}

/* The output-gradient pass of a dense layer's backward: for every shape class --
 * row counts below, at and past the 16 and 32 lanes, column counts off the
 * 16-column strips, a single column -- d16 equals the plain conversion, dt16 the
 * same read transposed, and dbias the f32 column sums of sm_linear_backward, bit
 * for bit; each output alone (the others NULL) is the same, and nothing is written
 * outside (N, OC), (OC, N) or (OC). */
TEST(grad_pack)
{
    NEED_BF16();
    static const int shapes[][2] = {{1, 1}, {5, 3}, {16, 7}, {17, 1}, {32, 16}, {33, 4}, {64, 5}, {79, 33}, {300, 40}};
    uint64_t s = 11;
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int N = shapes[t][0], OC = shapes[t][1], n = N * OC;
        float *x = malloc((size_t)n * sizeof *x), *want_b = malloc(((size_t)OC + 8) * sizeof(float));
        float *got_b = malloc(((size_t)OC + 8) * sizeof(float));
        sm_bf16 *h = malloc((size_t)n * sizeof *h), *d16 = malloc(((size_t)n + 8) * sizeof *d16);
        sm_bf16 *dt16 = malloc(((size_t)n + 8) * sizeof *dt16);
        for (int i = 0; i < n; i++) x[i] = frand(&s) * powf(2.0f, (float)(i % 30 - 15));
        x[0] = -0.0f; /* a signed zero keeps its sign through the sums */
        for (int c = 0; c < OC + 8; c++) want_b[c] = got_b[c] = c < OC ? frand(&s) : 7.0f;
        sm_bf16_pack(h, x, n);
        sm_linear_backward(NULL, NULL, want_b, x, NULL, NULL, N, 1, OC);
        for (int pass = 0; pass < 4; pass++) { /* all three, then each alone */
            for (int i = 0; i < n + 8; i++) d16[i] = dt16[i] = 0xABCD;
            sm_bf16_grad_pack(pass == 0 || pass == 1 ? d16 : NULL, pass == 0 || pass == 2 ? dt16 : NULL,
                              pass == 0 ? got_b : NULL, x, N, OC);
            int bad = 0;
            for (int r = 0; r < N; r++)
                for (int c = 0; c < OC; c++) {
                    const sm_bf16 w = h[(size_t)r * OC + c];
                    if (pass == 0 || pass == 1) bad |= d16[(size_t)r * OC + c] != w;
                    if (pass == 0 || pass == 2) bad |= dt16[(size_t)c * N + r] != w;
                }
            for (int i = n; i < n + 8; i++) bad |= d16[i] != 0xABCD || dt16[i] != 0xABCD;
            if (pass != 0 && pass != 1) for (int i = 0; i < n; i++) bad |= d16[i] != 0xABCD;
            if (pass != 0 && pass != 2) for (int i = 0; i < n; i++) bad |= dt16[i] != 0xABCD;
            CHECK_MSG(!bad, "N %d, OC %d, pass %d: bf16 copies", N, OC, pass);
            /* the sums once (pass 0); NULL later, so they must stay as they are */
            CHECK_MSG(memcmp(got_b, want_b, ((size_t)OC + 8) * sizeof(float)) == 0, "N %d, OC %d, pass %d: column sums",
                      N, OC, pass);
        }
        free(x), free(want_b), free(got_b), free(h), free(d16), free(dt16);
    }
}

/* Each GEMM kind of the bf16 BERT layer (docs/MODEL.md §8) against f32: forward
 * with the weight read transposed and a bias, the input gradient (= and +=), the
 * weight gradient accumulated into an f32 gradient, and the GELU post-op. */
TEST(gemm_kinds)
{
    NEED_BF16();
    enum { M = 37, K = 96, NN = 80 };
    static float a[M * K], w[NN * K], bias[NN], c32[M * NN], c16[M * NN], dy[M * NN], dw32[NN * K], dw16[NN * K];
    static sm_bf16 a16[M * K], w16[NN * K], dy16[M * NN];
    uint64_t s = 11;
    for (int i = 0; i < M * K; i++) a[i] = frand(&s);
    for (int i = 0; i < NN * K; i++) w[i] = frand(&s) * 0.2f;
    for (int i = 0; i < NN; i++) bias[i] = frand(&s);
    for (int i = 0; i < M * NN; i++) dy[i] = frand(&s);
    sm_bf16_pack(a16, a, M * K), sm_bf16_pack(w16, w, NN * K), sm_bf16_pack(dy16, dy, M * NN);
    sm_dnnl d;
    selfmm_error e = {0};
    REQUIRE_OK(sm_dnnl_init(&d, &e), e.message);
    /* forward: (M, NN) = a . w^T + bias */
    sm_mm_desc f32 = sm_mm_2d(M, NN, K, 0, 1, 0, 0, 0), b16 = sm_mm_2d(M, NN, K, 0, 1, dnnl_bf16, dnnl_bf16, dnnl_f32);
    f32.bias = b16.bias = 1;
    CHECK_OK(sm_dnnl_matmul(&d, &f32, a, w, bias, c32, &e), e.message);
    CHECK_OK(sm_dnnl_matmul(&d, &b16, a16, w16, bias, c16, &e), e.message);
    double r = rel_err(c16, c32, M * NN);
    CHECK_MSG(r <= 1e-2, "forward rel %g", r);
    /* the GELU post-op against the f32 GEMM then erf GELU */
    sm_mm_desc g16 = b16;
    g16.gelu = 1;
    CHECK_OK(sm_dnnl_matmul(&d, &g16, a16, w16, bias, c16, &e), e.message);
    for (int i = 0; i < M * NN; i++) c32[i] = 0.5f * c32[i] * (1.0f + erff(c32[i] / sqrtf(2.0f)));
    r = rel_err(c16, c32, M * NN);
    CHECK_MSG(r <= 1e-2, "gelu post-op rel %g", r);
    /* input gradient: (M, K) = dy . w, then += */
    static float dx32[M * K], dx16[M * K];
    sm_mm_desc x32 = sm_mm_2d(M, K, NN, 0, 0, 0, 0, 0), x16 = sm_mm_2d(M, K, NN, 0, 0, dnnl_bf16, dnnl_bf16, dnnl_f32);
    CHECK_OK(sm_dnnl_matmul(&d, &x32, dy, w, NULL, dx32, &e), e.message);
    CHECK_OK(sm_dnnl_matmul(&d, &x16, dy16, w16, NULL, dx16, &e), e.message);
    r = rel_err(dx16, dx32, M * K);
    CHECK_MSG(r <= 1e-2, "input gradient rel %g", r);
    CHECK_MSG(cosine(dx16, dx32, M * K) >= 0.999, "input gradient cosine %g", cosine(dx16, dx32, M * K));
    x16.accumulate = 1;
    CHECK_OK(sm_dnnl_matmul(&d, &x16, dy16, w16, NULL, dx16, &e), e.message);
    for (int i = 0; i < M * K; i++) dx32[i] *= 2;
    r = rel_err(dx16, dx32, M * K);
    CHECK_MSG(r <= 1e-2, "input gradient += rel %g", r);
    /* weight gradient: (NN, K) += dy^T . a, onto a gradient that holds something */
    for (int i = 0; i < NN * K; i++) dw32[i] = dw16[i] = frand(&s) * 0.01f;
    sm_mm_desc w32d = sm_mm_2d(NN, K, M, 1, 0, 0, 0, 0), w16d = sm_mm_2d(NN, K, M, 1, 0, dnnl_bf16, dnnl_bf16, dnnl_f32);
    w32d.accumulate = w16d.accumulate = 1;
    CHECK_OK(sm_dnnl_matmul(&d, &w32d, dy, a, NULL, dw32, &e), e.message);
    CHECK_OK(sm_dnnl_matmul(&d, &w16d, dy16, a16, NULL, dw16, &e), e.message);
    const double cs = cosine(dw16, dw32, NN * K);
    CHECK_MSG(cs >= 0.999, "weight gradient cosine %g", cs);
    r = rel_err(dw16, dw32, NN * K);
    CHECK_MSG(r <= 1e-2, "weight gradient rel %g", r);
    sm_dnnl_destroy(&d);
}

/* A small model (BERT 2 layers x 64, both dropouts on) and one batch. */
static void small_config(selfmm_config *c)
{
    selfmm_config_default(c);
    c->vocab_size = 50, c->hidden_size = 64, c->num_hidden_layers = 2, c->num_attention_heads = 4;
    c->intermediate_size = 128, c->max_position_embeddings = 32;
    c->audio_dim = 3, c->video_dim = 4;
    c->seed = 5;
}

enum { BB = 4, LL = 12, TA = 6, TV = 5 };
typedef struct sbatch {
    selfmm_batch b;
    int32_t ids[BB * LL], mask[BB * LL], seg[BB * LL], alen[BB], vlen[BB];
    float audio[BB * TA * 3], vision[BB * TV * 4];
} sbatch;

static void make_batch(sbatch *t)
{
    memset(t, 0, sizeof *t);
    uint64_t s = 3;
    for (int b = 0; b < BB; b++) {
        const int len = LL - 2 * b;
        for (int i = 0; i < LL; i++) {
            t->ids[b * LL + i] = i < len ? 1 + (b * 7 + i * 3) % 49 : 0;
            t->mask[b * LL + i] = i < len;
        }
        t->alen[b] = TA - b % 2, t->vlen[b] = TV - b % 3;
    }
    for (int i = 0; i < BB * TA * 3; i++) t->audio[i] = frand(&s);
    for (int i = 0; i < BB * TV * 4; i++) t->vision[i] = frand(&s);
    t->b = (selfmm_batch){.batch = BB, .text_len = LL, .text_ids = t->ids, .text_mask = t->mask,
                          .text_segment = t->seg, .audio = t->audio, .audio_len = TA, .audio_dim = 3,
                          .audio_lengths = t->alen, .vision = t->vision, .vision_len = TV, .vision_dim = 4,
                          .vision_lengths = t->vlen};
}

static const float Y[BB] = {0.5f, -0.8f, 0.1f, 1.2f};
static const float *const LABELS[4] = {Y, Y, Y, Y};

/* One training step (forward, loss, backward) from zeroed gradients; outputs copied
 * to out[4 * BB]. */
static int train_step(selfmm_model *m, const selfmm_batch *b, float *out)
{
    selfmm_outputs o;
    selfmm_model_zero_grad(m);
    if (selfmm_model_forward(m, b, SELFMM_MODE_TRAIN, &o) != SELFMM_OK) return 0;
    const float *y[4] = {o.M, o.T, o.A, o.V};
    for (int k = 0; k < 4; k++) memcpy(out + k * BB, y[k], BB * sizeof(float));
    return selfmm_model_loss(m, LABELS, NULL) == SELFMM_OK && selfmm_model_backward(m, NULL) == SELFMM_OK;
}

/* The whole model in bf16 against fp32 from the same weights and dropout masks: the
 * outputs within 1e-2 relative, every BERT gradient at cosine >= 0.999. */
TEST(model_against_fp32)
{
    NEED_BF16();
    selfmm_config c;
    small_config(&c);
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    sbatch t;
    make_batch(&t);
    float out32[4 * BB], out16[4 * BB];
    selfmm_arena a;
    selfmm_model_arena(m, &a);
    float *g32 = malloc((size_t)a.count * sizeof(float));
    REQUIRE(g32);
    selfmm_model_set_step(m, 3);
    CHECK(train_step(m, &t.b, out32));
    memcpy(g32, a.grads, (size_t)a.count * sizeof(float));
    CHECK_OK(selfmm_model_set_precision(m, SELFMM_PRECISION_BF16), selfmm_model_errmsg(m));
    selfmm_model_set_step(m, 3);
    CHECK(train_step(m, &t.b, out16));
    double r = rel_err(out16, out32, 4 * BB);
    CHECK_MSG(r <= 1e-2, "training outputs rel %g", r);
    printf("# training outputs: relative error %.2e\n", r);
    double worst = 1;
    const char *worst_name = "";
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        /* the key bias's gradient is 0 in exact arithmetic (softmax ignores a constant
         * added to a row of scores): both are rounding noise, with no direction */
        if (strncmp(p.name, "Model.text_model", 16) != 0 || strstr(p.name, "key.bias")) continue;
        const int64_t off = p.grad - a.grads;
        const double cs = cosine(p.grad, g32 + off, p.numel);
        if (cs < worst) worst = cs, worst_name = p.name;
    }
    CHECK_MSG(worst >= 0.999, "gradient of %s: cosine %g", worst_name, worst);
    printf("# worst BERT gradient cosine %.6f (%s)\n", worst, worst_name);
    /* evaluation too, and back to fp32 gives fp32's numbers again */
    selfmm_outputs o;
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    memcpy(out16, o.M, BB * sizeof(float));
    CHECK_OK(selfmm_model_set_precision(m, SELFMM_PRECISION_FP32), selfmm_model_errmsg(m));
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    r = rel_err(out16, o.M, BB);
    CHECK_MSG(r <= 1e-2, "eval outputs rel %g", r);
    CHECK(r > 0); /* bf16 did compute in bf16 */
    free(g32);
    selfmm_model_free(m);
}

/* Same seed, same threads: identical bits, step after step (with an optimizer). */
TEST(deterministic)
{
    NEED_BF16();
    selfmm_config c;
    small_config(&c);
    c.precision = SELFMM_PRECISION_BF16;
    sbatch t;
    make_batch(&t);
    uint64_t hash[2] = {0, 0};
    float outs[2][4 * BB];
    for (int run = 0; run < 2; run++) {
        selfmm_model *m = NULL;
        selfmm_error e = {0};
        REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
        selfmm_optim *opt = NULL;
        REQUIRE_OK(selfmm_optim_create(m, NULL, &opt, &e), e.message);
        for (int s = 0; s < 3; s++) {
            CHECK(train_step(m, &t.b, outs[run]));
            CHECK_OK(selfmm_optim_step(opt), selfmm_optim_errmsg(opt));
        }
        hash[run] = selfmm_model_hash(m);
        selfmm_optim_free(opt);
        selfmm_model_free(m);
    }
    CHECK(hash[0] == hash[1]);
    CHECK(memcmp(outs[0], outs[1], sizeof outs[0]) == 0);
}

/* The bf16 weight copies follow the weights: a write through a parameter pointer
 * changes the next forward's output. */
TEST(copies_follow_weights)
{
    NEED_BF16();
    selfmm_config c;
    small_config(&c);
    c.precision = SELFMM_PRECISION_BF16;
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    sbatch t;
    make_batch(&t);
    selfmm_outputs o;
    float before[BB];
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    memcpy(before, o.T, sizeof before);
    selfmm_param_info p;
    REQUIRE_OK(selfmm_model_find_param(m, "Model.text_model.model.encoder.layer.1.output.dense.weight", &p),
               selfmm_model_errmsg(m));
    for (int64_t i = 0; i < p.numel; i++) p.data[i] *= 3.0f;
    CHECK_OK(selfmm_model_forward(m, &t.b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
    CHECK(memcmp(before, o.T, sizeof before) != 0);
    selfmm_model_free(m);
}

int main(void)
{
    selfmm_set_threads(2, NULL);
    have_bf16 = selfmm_precision_check(SELFMM_PRECISION_BF16, NULL) == SELFMM_OK;
    if (!have_bf16) printf("# skip: bf16 compute tests (this CPU refuses precision=bf16)\n");
    RUN(one_decision);
    RUN(conversions);
    RUN(grad_pack);
    RUN(gemm_kinds);
    RUN(model_against_fp32);
    RUN(deterministic);
    RUN(copies_follow_weights);
    return h_finish();
}
