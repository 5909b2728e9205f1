/* test_predict_one.c -- a model and raw inputs: normalisation statistics and input
 * lengths carried from a built dataset into the model (selfmm_model_adopt_dataset,
 * selfmm_fit) and through the native model file bit for bit, and
 * selfmm_model_predict_one giving exactly the model's output on the same clip in
 * the built dataset, for every clip of tests/fixtures/build (cut ones included).
 * Also the demo tokenizer. */
#include "harness.h"

#include "model/model.h"
#include "support/testfile.h"

#include <float.h>
#include <stdint.h>
#include <unistd.h>

#define FXB "tests/fixtures/build/"
#define TINY "tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors"

static char scratch[1024];
static selfmm_tokenizer *tok;

static selfmm_status build(int normalize, selfmm_dataset **ds)
{
    selfmm_build_options o;
    selfmm_build_options_default(&o);
    o.labels = FXB "label.csv", o.audio_dir = FXB "audio", o.vision_dir = FXB "vision";
    o.tokenizer = tok;
    o.normalize = normalize;
    selfmm_error err = {0};
    selfmm_status st = selfmm_dataset_build(&o, ds, NULL, &err);
    if (st != SELFMM_OK) printf("# build: %s\n", err.message);
    return st;
}

/* The tiny BERT with the fixture's feature widths and small heads. */
static selfmm_model *tiny_model(void)
{
    selfmm_config cfg;
    selfmm_error err = {0};
    selfmm_config_default(&cfg);
    selfmm_model *m = NULL;
    if (selfmm_config_load_bert_json(&cfg, TINY, &err) != SELFMM_OK) {
        printf("# %s\n", err.message);
        return NULL;
    }
    cfg.audio_dim = 5, cfg.video_dim = 7;
    cfg.post_fusion_dim = 16, cfg.post_text_dim = 8, cfg.batch_size = 8;
    if (selfmm_model_create(&cfg, &m, &err) != SELFMM_OK) {
        printf("# %s\n", err.message);
        return NULL;
    }
    if (selfmm_model_load_bert(m, TINY) != SELFMM_OK || selfmm_model_set_tokenizer(m, tok) != SELFMM_OK) {
        printf("# %s\n", selfmm_model_errmsg(m));
        selfmm_model_free(m);
        return NULL;
    }
    return m;
}

static int same_norm(selfmm_model *m, const selfmm_norm *n)
{
    float am[5], as[5], vm[7], vs[7];
    if (selfmm_model_get_norm(m, am, as, vm, vs) != SELFMM_OK) {
        printf("# get norm: %s\n", selfmm_model_errmsg(m));
        return 0;
    }
    return !memcmp(am, n->audio_mean, sizeof am) && !memcmp(as, n->audio_std, sizeof as) &&
           !memcmp(vm, n->vision_mean, sizeof vm) && !memcmp(vs, n->vision_std, sizeof vs);
}

TEST(norm_travels_into_the_model_file_exactly)
{
    selfmm_dataset *ds = NULL;
    REQUIRE(build(1, &ds) == SELFMM_OK);
    selfmm_model *m = tiny_model(), *back = NULL;
    REQUIRE(m);
    selfmm_norm n;
    REQUIRE_OK(selfmm_dataset_norm(ds, &n), selfmm_dataset_errmsg(ds));
    float am[5], as[5], vm[7], vs[7];
    CHECK_STATUS(selfmm_model_get_norm(m, am, as, vm, vs), SELFMM_ERR_MISSING);
    REQUIRE_OK(selfmm_model_adopt_dataset(m, ds), selfmm_model_errmsg(m));
    CHECK(same_norm(m, &n));
    char path[1200];
    snprintf(path, sizeof path, "%s/model.safetensors", scratch);
    REQUIRE_OK(selfmm_model_save(m, path), selfmm_model_errmsg(m));
    selfmm_error err = {0};
    REQUIRE_OK(selfmm_model_load(path, &back, &err), err.message);
    CHECK(same_norm(back, &n));
    selfmm_model_free(back);

    /* floats that are hard to print: denormals, extremes, -0, neighbours of 0.1 */
    float hm[5] = {1.401298464e-45f, -FLT_MAX, -0.0f, 0.1f, nextafterf(0.1f, 1)};
    float hs[5] = {FLT_MIN, FLT_MAX, 3.4e-39f, nextafterf(1, 0), 16777217.0f};
    float hv[7] = {1e-10f, -1e10f, 123456.789f, -7.0f, 0.333333343f, 2.5e-40f, 1};
    float hvs[7] = {1, 2, 3, 4, 5, 6, 1.17549421e-38f};
    selfmm_norm h = {5, 7, hm, hs, hv, hvs};
    REQUIRE_OK(selfmm_model_set_norm(m, &h), selfmm_model_errmsg(m));
    REQUIRE_OK(selfmm_model_save(m, path), selfmm_model_errmsg(m));
    REQUIRE_OK(selfmm_model_load(path, &back, &err), err.message);
    CHECK(same_norm(back, &h));
    /* bad statistics are refused and leave the model's as they were */
    float zero[5] = {1, 1, 0, 1, 1};
    selfmm_norm bad = {5, 7, hm, zero, hv, hvs};
    CHECK_STATUS(selfmm_model_set_norm(back, &bad), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(back), "std of feature 2 is 0");
    selfmm_norm wide = {6, 7, hm, hs, hv, hvs};
    CHECK_STATUS(selfmm_model_set_norm(back, &wide), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(back), "audio statistics for 6 features, the model's audio_dim is 5");
    CHECK(same_norm(back, &h));
    /* a dataset without statistics removes them */
    selfmm_dataset *plain = NULL;
    REQUIRE(build(0, &plain) == SELFMM_OK);
    REQUIRE_OK(selfmm_model_adopt_dataset(back, plain), selfmm_model_errmsg(back));
    CHECK_STATUS(selfmm_model_get_norm(back, am, as, vm, vs), SELFMM_ERR_MISSING);
    selfmm_dataset_free(plain);
    selfmm_model_free(back);
    selfmm_model_free(m);
    selfmm_dataset_free(ds);
}

/* The file of a clip: <dir>/<video>/<clip>.npy or .csv, from its id. */
static void clip_file(char *out, size_t cap, const char *dir, const char *id)
{
    const char *sep = strstr(id, "$_$");
    snprintf(out, cap, "%s/%.*s/%s.npy", dir, (int)(sep - id), id, sep + 3);
    if (access(out, F_OK) != 0) snprintf(out, cap, "%s/%.*s/%s.csv", dir, (int)(sep - id), id, sep + 3);
}

/* predict_one on the raw files == forward on the built dataset's sample (batch 1). */
static void check_every_clip(int normalize)
{
    selfmm_dataset *ds = NULL;
    REQUIRE(build(normalize, &ds) == SELFMM_OK);
    selfmm_model *m = tiny_model();
    REQUIRE(m);
    REQUIRE_OK(selfmm_model_adopt_dataset(m, ds), selfmm_model_errmsg(m));
    int compared = 0, cut = 0;
    for (int s = 0; s < 3; s++) {
        selfmm_split_view v;
        selfmm_dataset_split(ds, (selfmm_split)s, &v);
        for (int i = 0; i < v.n; i++) {
            selfmm_batch b;
            selfmm_outputs o;
            REQUIRE_OK(selfmm_dataset_batch(ds, (selfmm_split)s, &i, 1, &b, NULL), selfmm_dataset_errmsg(ds));
            REQUIRE_OK(selfmm_model_forward(m, &b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(m));
            const float want[4] = {o.M[0], o.T[0], o.A[0], o.V[0]};
            char pa[512], pv[512];
            clip_file(pa, sizeof pa, FXB "audio", v.ids[i]);
            clip_file(pv, sizeof pv, FXB "vision", v.ids[i]);
            float *a = NULL, *x = NULL, got[4];
            int Ta, Da, Tv, Dv;
            selfmm_error err = {0};
            REQUIRE_OK(selfmm_features_load(pa, &a, &Ta, &Da, &err), err.message);
            REQUIRE_OK(selfmm_features_load(pv, &x, &Tv, &Dv, &err), err.message);
            cut += Ta > v.audio_len || Tv > v.vision_len;
            CHECK_OK(selfmm_model_predict_one(m, v.raw_text[i], a, Ta, Da, x, Tv, Dv, got),
                     selfmm_model_errmsg(m));
            CHECK_MSG(!memcmp(got, want, sizeof got), "%s: predict_one %.9g %.9g %.9g %.9g, forward "
                      "%.9g %.9g %.9g %.9g", v.ids[i], got[0], got[1], got[2], got[3], want[0], want[1],
                      want[2], want[3]);
            selfmm_features_free(a);
            selfmm_features_free(x);
            compared++;
        }
    }
    CHECK_INT(compared, 24);
    CHECK_INT(cut, 2); /* the fixture has one audio and one vision sequence beyond the auto length */
    selfmm_model_free(m);
    selfmm_dataset_free(ds);
}

TEST(predict_one_equals_the_built_sample) { check_every_clip(0); }
TEST(predict_one_equals_the_built_sample_normalised) { check_every_clip(1); }

TEST(predict_one_errors)
{
    selfmm_model *m = tiny_model();
    REQUIRE(m);
    float a[3 * 5] = {0}, v[2 * 7] = {0}, out[4];
    CHECK_STATUS(selfmm_model_predict_one(m, "t5 t6", a, 3, 4, v, 2, 7, out), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "the audio has 4 features per step; the model's audio_dim is 5");
    CHECK_STATUS(selfmm_model_predict_one(m, "t5 t6", a, 3, 5, v, 2, 8, out), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "the vision has 8 features per step; the model's video_dim is 7");
    CHECK_STATUS(selfmm_model_predict_one(m, "t5 t6", a, 0, 5, v, 2, 7, out), SELFMM_ERR_DATA);
    CHECK_STATUS(selfmm_model_predict_one(m, "  ", a, 3, 5, v, 2, 7, out), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "the text is empty");
    CHECK_STATUS(selfmm_model_predict_one(m, "t5 \xff", a, 3, 5, v, 2, 7, out), SELFMM_ERR_PARSE);
    v[9] = NAN;
    CHECK_STATUS(selfmm_model_predict_one(m, "t5 t6", a, 3, 5, v, 2, 7, out), SELFMM_ERR_DATA);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "vision step 1, feature 2 is NaN");
    v[9] = 0;
    CHECK_OK(selfmm_model_predict_one(m, "t5 t6", a, 3, 5, v, 2, 7, out), selfmm_model_errmsg(m));
    selfmm_model_set_tokenizer(m, NULL);
    CHECK_STATUS(selfmm_model_predict_one(m, "t5 t6", a, 3, 5, v, 2, 7, out), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "the model has no tokenizer");
    selfmm_model_free(m);
}

/* A model file whose input.text_len is huge (2147483647, 1e8) or otherwise out of
 * bounds: predict fails at once, naming the entry and its bounds, instead of
 * encoding (and allocating for) that many positions; the same for the audio and
 * vision lengths. Each value goes through the model file, as `predict --text`
 * reads it. */
TEST(input_lengths_are_bounded)
{
    selfmm_model *m = tiny_model();
    REQUIRE(m);
    char path[1100];
    snprintf(path, sizeof path, "%s/lengths.safetensors", scratch);
    float a[3 * 5] = {0}, v[2 * 7] = {0}, out[4];
    static const struct { const char *key, *value, *want; } cases[] = {
        {"input.text_len", "2147483647", "input.text_len is \"2147483647\", expected a length in [2, 128] (max_position_embeddings)"},
        {"input.text_len", "100000000", "input.text_len is \"100000000\", expected a length in [2, 128]"},
        {"input.text_len", "129", "expected a length in [2, 128]"},
        {"input.text_len", "1", "expected a length in [2, 128]"},
        {"input.text_len", "0x10", "input.text_len is \"0x10\""},
        {"input.text_len", "1e2", "input.text_len is \"1e2\""},
        {"input.text_len", " 12", "input.text_len is \" 12\""},
        {"input.text_len", "-3", "input.text_len is \"-3\""},
        {"input.audio_len", "1000001", "input.audio_len is \"1000001\", expected a length in [1, 1000000]"},
        {"input.vision_len", "0", "input.vision_len is \"0\", expected a length in [1, 1000000]"},
        {"input.vision_len", "99999999999999999999", "input.vision_len is \"99999999999999999999\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        REQUIRE_OK(sm_model_meta_set(m, cases[i].key, cases[i].value), selfmm_model_errmsg(m));
        REQUIRE_OK(selfmm_model_save(m, path), selfmm_model_errmsg(m));
        REQUIRE_OK(sm_model_meta_set(m, cases[i].key, NULL), selfmm_model_errmsg(m));
        selfmm_model *f = NULL;
        selfmm_error err = {0};
        REQUIRE_OK(selfmm_model_load(path, &f, &err), err.message);
        CHECK_STATUS(selfmm_model_predict_one(f, "t5 t6", a, 3, 5, v, 2, 7, out), SELFMM_ERR_FORMAT);
        CHECK_CONTAINS(selfmm_model_errmsg(f), cases[i].want);
        selfmm_model_free(f);
    }
    /* the bounds themselves are accepted */
    const char *ok_text[] = {"2", "128"};
    for (int i = 0; i < 2; i++) {
        REQUIRE_OK(sm_model_meta_set(m, "input.text_len", ok_text[i]), selfmm_model_errmsg(m));
        CHECK_OK(selfmm_model_predict_one(m, "t5 t6", a, 3, 5, v, 2, 7, out), selfmm_model_errmsg(m));
    }
    REQUIRE_OK(sm_model_meta_set(m, "input.audio_len", "1000000"), selfmm_model_errmsg(m));
    CHECK_OK(selfmm_model_predict_one(m, "t5 t6", a, 3, 5, v, 2, 7, out), selfmm_model_errmsg(m));
    selfmm_model_free(m);
}

/* A native model file's config sizes the model: a config describing more than the
 * file holds is refused before any allocation (here 1000 layers of width 65536,
 * terabytes, in a file of a few hundred kilobytes). */
TEST(model_file_config_is_checked_before_allocating)
{
    selfmm_model *m = tiny_model();
    REQUIRE(m);
    char path[1100];
    snprintf(path, sizeof path, "%s/bigcfg.safetensors", scratch);
    selfmm_config big = m->net.cfg;
    big.num_hidden_layers = 1000, big.hidden_size = 65536, big.num_attention_heads = 1;
    big.intermediate_size = 1000000;
    selfmm_error err = {0};
    /* selfmm_model_save writes the model's config: the forged one, with the tensors */
    selfmm_config keep = m->net.cfg;
    m->net.cfg = big;
    selfmm_status st = selfmm_model_save(m, path);
    m->net.cfg = keep;
    REQUIRE_OK(st, selfmm_model_errmsg(m));
    selfmm_model *f = NULL;
    CHECK_STATUS(selfmm_model_load(path, &f, &err), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(err.message, "has shape (256, 32), the model expects (256, 65536)");
    CHECK(f == NULL);
    selfmm_model_free(m);
}

TEST(fit_carries_lengths_and_norm_into_the_saved_model)
{
    selfmm_dataset *ds = NULL;
    REQUIRE(build(1, &ds) == SELFMM_OK);
    selfmm_model *m = tiny_model(), *back = NULL;
    REQUIRE(m);
    selfmm_config cfg;
    selfmm_model_get_config(m, &cfg);
    char dir[1200], path[1300];
    snprintf(dir, sizeof dir, "%s/fit", scratch);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    selfmm_fit_options fo = {.out_dir = dir};
    selfmm_fit_result fr;
    selfmm_error err = {0};
    /* one epoch: max_epochs lives in the model's config */
    selfmm_model_free(m);
    cfg.max_epochs = 1;
    REQUIRE_OK(selfmm_model_create(&cfg, &m, &err), err.message);
    REQUIRE_OK(selfmm_model_set_tokenizer(m, tok), selfmm_model_errmsg(m));
    REQUIRE_OK(selfmm_fit(m, ds, &fo, &fr, &err), err.message);
    REQUIRE_OK(selfmm_model_load(path, &back, &err), err.message);
    selfmm_norm n;
    selfmm_dataset_norm(ds, &n);
    CHECK(same_norm(back, &n));
    /* the saved model cuts like the data: the long audio clip gives the dataset's output */
    selfmm_split_view v;
    selfmm_dataset_split(ds, SELFMM_SPLIT_TEST, &v);
    int i = 0;
    while (i < v.n && strcmp(v.ids[i], "vid_B$_$0005") != 0) i++;
    REQUIRE(i < v.n);
    float *a = NULL, *x = NULL, got[4];
    int Ta, Da, Tv, Dv;
    char pa[512], pv[512];
    clip_file(pa, sizeof pa, FXB "audio", v.ids[i]);
    clip_file(pv, sizeof pv, FXB "vision", v.ids[i]);
    REQUIRE_OK(selfmm_features_load(pa, &a, &Ta, &Da, &err), err.message);
    REQUIRE_OK(selfmm_features_load(pv, &x, &Tv, &Dv, &err), err.message);
    CHECK(Ta > v.audio_len);
    CHECK_OK(selfmm_model_predict_one(back, v.raw_text[i], a, Ta, Da, x, Tv, Dv, got), selfmm_model_errmsg(back));
    selfmm_batch b;
    selfmm_outputs o;
    REQUIRE_OK(selfmm_dataset_batch(ds, SELFMM_SPLIT_TEST, &i, 1, &b, NULL), selfmm_dataset_errmsg(ds));
    REQUIRE_OK(selfmm_model_forward(back, &b, SELFMM_MODE_EVAL, &o), selfmm_model_errmsg(back));
    CHECK(got[0] == o.M[0] && got[1] == o.T[0] && got[2] == o.A[0] && got[3] == o.V[0]);
    /* the cut is at the recorded length exactly: the first audio_len steps give the
     * same outputs, one step fewer does not */
    float same[4], fewer[4];
    CHECK_OK(selfmm_model_predict_one(back, v.raw_text[i], a, v.audio_len, Da, x, Tv, Dv, same),
             selfmm_model_errmsg(back));
    CHECK(!memcmp(same, got, sizeof got));
    CHECK_OK(selfmm_model_predict_one(back, v.raw_text[i], a, v.audio_len - 1, Da, x, Tv, Dv, fewer),
             selfmm_model_errmsg(back));
    CHECK(fewer[0] != got[0] && fewer[2] != got[2]);
    selfmm_features_free(a);
    selfmm_features_free(x);
    selfmm_model_free(back);
    selfmm_model_free(m);
    selfmm_dataset_free(ds);
}

TEST(demo_tokenizer_names_the_demo_ids)
{
    selfmm_tokenizer *t = NULL;
    selfmm_error err = {0};
    REQUIRE_OK(selfmm_demo_tokenizer(&t, &err), err.message);
    selfmm_config cfg;
    selfmm_demo_config(&cfg);
    CHECK_INT(selfmm_tokenizer_vocab_size(t), cfg.vocab_size);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[PAD]"), 0);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[CLS]"), 1);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[SEP]"), 2);
    CHECK_INT(selfmm_tokenizer_token_id(t, "pos1"), 3);
    CHECK_INT(selfmm_tokenizer_token_id(t, "neg10"), 22);
    CHECK_INT(selfmm_tokenizer_token_id(t, "w63"), 63);
    int32_t ids[8];
    CHECK_OK(selfmm_tokenizer_encode(t, "POS2 neg1 hello", SELFMM_NUL_TERMINATED, 8, ids, NULL, NULL, NULL),
             selfmm_tokenizer_errmsg(t));
    const int32_t want[8] = {1, 4, 13, 23, 2, 0, 0, 0};
    CHECK(!memcmp(ids, want, sizeof ids));
    /* the demo's own data uses the same ids: [CLS] first */
    selfmm_dataset *ds = NULL;
    REQUIRE_OK(selfmm_demo_dataset(1, &ds, &err), err.message);
    selfmm_split_view v;
    selfmm_dataset_split(ds, SELFMM_SPLIT_TRAIN, &v);
    CHECK_INT(v.text_bert[0], 1);
    selfmm_dataset_free(ds);
    selfmm_tokenizer_free(t);
}

int main(void)
{
    snprintf(scratch, sizeof scratch, "%s", tf_scratch("test_predict_one"));
    selfmm_error err = {0};
    if (selfmm_tokenizer_load(TINY, NULL, &tok, &err) != SELFMM_OK) printf("# %s\n", err.message);
    RUN(norm_travels_into_the_model_file_exactly);
    RUN(predict_one_equals_the_built_sample);
    RUN(predict_one_equals_the_built_sample_normalised);
    RUN(predict_one_errors);
    RUN(input_lengths_are_bounded);
    RUN(model_file_config_is_checked_before_allocating);
    RUN(fit_carries_lengths_and_norm_into_the_saved_model);
    RUN(demo_tokenizer_names_the_demo_ids);
    selfmm_tokenizer_free(tok);
    return h_finish();
}
