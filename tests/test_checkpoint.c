/* test_checkpoint.c -- checkpoint readers (torch zip, torch legacy, safetensors)
 * on real third-party files and on files torch.save wrote, BERT loading with
 * every key variant, reference .pth import/export, the native model file, and
 * hostile or truncated inputs. Expected values come from torch.load /
 * a plain safetensors reader in tools/gen_io_fixtures.py. */
#include "harness.h"

#include "model/model_io.h"
#include "io/safetensors.h"
#include "io/tensors.h"
#include "model/model.h"
#include "support/fixture.h"
#include "support/testfile.h"

#define FX "tests/fixtures/io/"
#define REAL "tests/fixtures/shared/checkpoints/"

/* ---- helpers ---- */

/* A model with the tiny Self-MM config, optionally with BERT sizes from a folder. */
static selfmm_model *tiny_model(const char *bert_dir)
{
    selfmm_config cfg;
    selfmm_config_default(&cfg);
    selfmm_error err = {0};
    if (selfmm_config_load_json(&cfg, FX "selfmm_tiny_config.json", &err) != SELFMM_OK ||
        (bert_dir && selfmm_config_load_bert_json(&cfg, bert_dir, &err) != SELFMM_OK)) {
        printf("# config: %s\n", err.message);
        return NULL;
    }
    selfmm_model *m = NULL;
    if (selfmm_model_create(&cfg, &m, &err) != SELFMM_OK) printf("# create: %s\n", err.message);
    return m;
}

static float *snapshot(const selfmm_model *m)
{
    float *s = malloc((size_t)m->net.table.total * sizeof *s);
    memcpy(s, m->net.params, (size_t)m->net.table.total * sizeof *s);
    return s;
}

static int unchanged(const selfmm_model *m, const float *s)
{
    return !memcmp(m->net.params, s, (size_t)m->net.table.total * sizeof *s);
}

/* The rows the fixture stores: 1-D tensors whole, larger ones' first 3 rows. */
static long long stored_elems(int ndim, const int64_t *shape, long long numel)
{
    if (ndim <= 1) return numel;
    long long row = numel / shape[0];
    return (shape[0] < 3 ? shape[0] : 3) * row;
}

/* Compare tensors of a list with an SMFX file holding (part of) them. */
static void check_list_values(const sm_tensor_list *l, const char *smfx, const char *prefix)
{
    fx_file fx;
    REQUIRE(fx_load(smfx, &fx) == 0);
    int compared = 0;
    for (int i = 0; i < fx.n; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s%s", prefix, fx.t[i].name);
        const sm_tensor *t = sm_tensors_find(l, name);
        CHECK_MSG(t != NULL, "no tensor %s", name);
        if (!t) continue;
        float *v = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *v);
        sm_tensor_to_f32(t, v);
        long long n = stored_elems(t->ndim, t->shape, t->numel);
        CHECK_MSG(n == fx.t[i].numel, "%s: %lld stored values, fixture has %lld", name, n,
                  (long long)fx.t[i].numel);
        if (n == fx.t[i].numel) CHECK_CLOSE_F32(name, v, fx.t[i].f32, n, 0, 0);
        free(v);
        compared++;
    }
    CHECK(compared > 0);
    fx_free(&fx);
}

/* Compare a model's parameters with an SMFX file keyed by model names. */
static void check_model_values(const selfmm_model *m, const char *smfx, int partial)
{
    fx_file fx;
    REQUIRE(fx_load(smfx, &fx) == 0);
    for (int i = 0; i < fx.n; i++) {
        int k = sm_params_find(&m->net.table, fx.t[i].name);
        CHECK_MSG(k >= 0, "model has no %s", fx.t[i].name);
        if (k < 0) continue;
        const sm_param *p = &m->net.table.p[k];
        long long n = partial ? stored_elems(p->ndim, p->shape, p->numel) : p->numel;
        CHECK_MSG(n == fx.t[i].numel, "%s: %lld values, fixture has %lld", p->name, n,
                  (long long)fx.t[i].numel);
        if (n == fx.t[i].numel) CHECK_CLOSE_F32(p->name, m->net.params + p->offset, fx.t[i].f32, n, 0, 0);
    }
    fx_free(&fx);
}

/* The names, dtypes and shapes torch saw ("name \t dtype \t d0,d1"). */
static void check_listing(const sm_tensor_list *l, const char *txt)
{
    size_t size;
    char *text = (char *)tf_read(txt, &size);
    REQUIRE(text);
    int i = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), i++) {
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        REQUIRE(tab2);
        *tab1 = *tab2 = '\0';
        REQUIRE(i < l->n);
        const sm_tensor *t = &l->t[i];
        CHECK_STR(t->name, line);
        CHECK_STR(sm_dtype_name(t->dtype), tab1 + 1);
        char shape[128] = "";
        size_t o = 0;
        for (int d = 0; d < t->ndim; d++)
            o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        CHECK_STR(shape, tab2 + 1);
    }
    CHECK_INT(l->n, i);
    free(text);
}

/* ---- real third-party checkpoints ---- */

TEST(real_torch_zip)
{
    sm_tensor_list l;
    selfmm_error err = {0};
    REQUIRE_OK(sm_read_checkpoint(REAL "camphr_ner_bert/pytorch_model.bin", &l, &err), err.message);
    CHECK_STR(l.format, "torch zip");
    check_listing(&l, FX "real_camphr_ner_bert.tensors.txt");
    check_list_values(&l, FX "real_camphr_ner_bert.expected.smfx", "");
    sm_tensors_free(&l);
}

TEST(real_torch_legacy)
{
    sm_tensor_list l;
    selfmm_error err = {0};
    REQUIRE_OK(sm_read_checkpoint(REAL "camphr_bert_2019/pytorch_model.bin", &l, &err), err.message);
    CHECK_STR(l.format, "torch legacy");
    check_listing(&l, FX "real_camphr_bert_2019.tensors.txt");
    check_list_values(&l, FX "real_camphr_bert_2019.expected.smfx", "");
    sm_tensors_free(&l);
}

TEST(real_safetensors)
{
    sm_tensor_list l;
    selfmm_error err = {0};
    REQUIRE_OK(sm_read_checkpoint(REAL "coldfire_tiny_bert_safetensors/model.safetensors", &l, &err),
               err.message);
    CHECK_STR(l.format, "safetensors");
    check_listing(&l, FX "real_coldfire_tiny_bert_safetensors.tensors.txt");
    check_list_values(&l, FX "real_coldfire_tiny_bert_safetensors.expected.smfx", "");
    sm_tensors_free(&l);
}

/* Load a real folder into a model with its BERT config; compare the values. */
static void load_real(const char *dir, const char *smfx, const char *strip, int has_pooler)
{
    selfmm_model *m = tiny_model(dir);
    REQUIRE(m);
    float *before = snapshot(m);
    REQUIRE_OK(selfmm_model_load_bert(m, dir), selfmm_model_errmsg(m));
    /* the fixture is keyed by checkpoint names: map them to model names */
    fx_file fx;
    REQUIRE(fx_load(smfx, &fx) == 0);
    int compared = 0;
    for (int i = 0; i < fx.n; i++) {
        const char *name = fx.t[i].name;
        if (strip && !strncmp(name, strip, strlen(strip))) name += strlen(strip);
        char model_name[256];
        snprintf(model_name, sizeof model_name, "Model.text_model.model.%s", name);
        int k = sm_params_find(&m->net.table, model_name);
        if (k < 0) continue; /* classifier, position_ids */
        const sm_param *p = &m->net.table.p[k];
        long long n = stored_elems(p->ndim, p->shape, p->numel);
        CHECK_INT(n, fx.t[i].numel);
        if (n == fx.t[i].numel) CHECK_CLOSE_F32(model_name, m->net.params + p->offset, fx.t[i].f32, n, 0, 0);
        compared++;
    }
    CHECK(compared >= 16);
    /* the pooler: loaded when present, else left as initialised */
    const sm_param *pool = &m->net.table.p[sm_params_find(&m->net.table, "Model.text_model.model.pooler.dense.weight")];
    int pool_same = !memcmp(m->net.params + pool->offset, before + pool->offset, (size_t)pool->numel * 4);
    CHECK(has_pooler ? !pool_same : pool_same);
    /* the heads are never touched */
    const sm_param *head = &m->net.table.p[sm_params_find(&m->net.table, "Model.post_fusion_layer_1.weight")];
    CHECK(!memcmp(m->net.params + head->offset, before + head->offset, (size_t)head->numel * 4));
    fx_free(&fx);
    free(before);
    selfmm_model_free(m);
}

TEST(real_checkpoints_into_models)
{
    load_real(REAL "camphr_ner_bert", FX "real_camphr_ner_bert.expected.smfx", "bert.", 0);
    load_real(REAL "camphr_bert_2019", FX "real_camphr_bert_2019.expected.smfx", NULL, 1);
    load_real(REAL "coldfire_tiny_bert_safetensors",
              FX "real_coldfire_tiny_bert_safetensors.expected.smfx", NULL, 0);
    /* a weights file alone is enough */
    selfmm_model *m = tiny_model(REAL "camphr_ner_bert");
    REQUIRE(m);
    CHECK_OK(selfmm_model_load_bert(m, REAL "camphr_ner_bert/pytorch_model.bin"), selfmm_model_errmsg(m));
    selfmm_model_free(m);
}

/* ---- BERT key variants (fixtures written by torch.save) ---- */

static void load_variant(const char *path, const char *smfx)
{
    selfmm_model *m = tiny_model(NULL);
    REQUIRE(m);
    REQUIRE_OK(selfmm_model_load_bert(m, path), selfmm_model_errmsg(m));
    check_model_values(m, smfx, 0);
    selfmm_model_free(m);
}

TEST(bert_key_variants)
{
    /* bert. prefix + gamma/beta + position_ids + a tied MLM decoder (shared storage) */
    load_variant(FX "bert_zip", FX "bert_zip.expected.smfx");
    /* legacy serialization, float64, no prefix, no pooler */
    load_variant(FX "bert_legacy", FX "bert_legacy.expected.smfx");
    /* float16 in one weights file */
    load_variant(FX "bert_f16.bin", FX "bert_f16.expected.smfx");
    /* bfloat16 safetensors, gamma/beta */
    load_variant(FX "bert_safetensors", FX "bert_safetensors.expected.smfx");
}

TEST(bert_errors_leave_weights_unchanged)
{
    selfmm_model *m = tiny_model(NULL);
    REQUIRE(m);
    float *before = snapshot(m);
    CHECK_STATUS(selfmm_model_load_bert(m, FX "bert_badconfig"), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "bert_badconfig/config.json: num_attention_heads is 2, the model has 4");
    CHECK(unchanged(m, before));
    CHECK_STATUS(selfmm_model_load_bert(m, FX "bert_wrongshape.bin"), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m),
                   "tensor \"encoder.layer.0.intermediate.dense.weight\" has shape (32, 16), the model expects (24, 16)");
    CHECK(unchanged(m, before));
    CHECK_STATUS(selfmm_model_load_bert(m, FX "selfmm_tiny.pth"), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "no tensor \"embeddings.word_embeddings.weight\"");
    CHECK(unchanged(m, before));
    CHECK_STATUS(selfmm_model_load_bert(m, FX "bert_int.bin"), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "tensor \"pooler.dense.weight\" holds int64, expected floating point");
    CHECK(unchanged(m, before));
    CHECK_STATUS(selfmm_model_load_bert(m, FX "mmsa_p4.pkl"), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "not a checkpoint");
    CHECK_STATUS(selfmm_model_load_bert(m, FX "mmsa_numpy.npz"), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "without <archive>/data.pkl");
    CHECK_STATUS(selfmm_model_load_bert(m, FX "nonexistent"), SELFMM_ERR_NOT_FOUND);
    CHECK_STATUS(selfmm_model_load_bert(m, "tests/fixtures/shared/bert/bert_en"), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "vocab_size is 30522, the model has 40");
    CHECK(unchanged(m, before));
    free(before);
    selfmm_model_free(m);
}

TEST(odd_storages)
{
    for (int legacy = 0; legacy < 2; legacy++) {
        sm_tensor_list l;
        selfmm_error err = {0};
        REQUIRE_OK(sm_read_checkpoint(legacy ? FX "odd_storage_legacy.pth" : FX "odd_storage.pth", &l, &err),
                   err.message);
        CHECK_INT(l.n, 7);
        const sm_tensor *t = sm_tensors_find(&l, "transposed");
        REQUIRE(t);
        CHECK(t->ndim == 2 && t->shape[0] == 4 && t->shape[1] == 3 && t->stride[0] == 1 && t->stride[1] == 4);
        t = sm_tensors_find(&l, "scalar");
        REQUIRE(t);
        CHECK(t->ndim == 0 && t->numel == 1);
        t = sm_tensors_find(&l, "empty");
        REQUIRE(t);
        CHECK(t->numel == 0);
        CHECK_INT(sm_tensors_find(&l, "long")->dtype, SM_DT_I64);
        CHECK_INT(sm_tensors_find(&l, "half")->dtype, SM_DT_F16);
        /* the SMFX writer keeps full tensors here (all are small) */
        fx_file fx;
        REQUIRE(fx_load(FX "odd_storage.expected.smfx", &fx) == 0);
        for (int i = 0; i < fx.n; i++) {
            const sm_tensor *x = sm_tensors_find(&l, fx.t[i].name);
            REQUIRE(x);
            float v[32];
            CHECK_INT(x->numel, fx.t[i].numel);
            sm_tensor_to_f32(x, v);
            CHECK_CLOSE_F32(fx.t[i].name, v, fx.t[i].f32, x->numel, 0, 0);
        }
        fx_free(&fx);
        sm_tensors_free(&l);
    }
}

/* A training checkpoint {epoch, state_dict, optimizer}: the state_dict's tensors
 * are listed; the optimizer's (float64, stored among them in the legacy format)
 * are not. */
TEST(wrapped_checkpoints)
{
    for (int legacy = 0; legacy < 2; legacy++) {
        sm_tensor_list l;
        selfmm_error err = {0};
        REQUIRE_OK(sm_read_checkpoint(legacy ? FX "wrapped_legacy.pth" : FX "wrapped.pth", &l, &err),
                   err.message);
        CHECK_INT(l.n, 2);
        const sm_tensor *w = sm_tensors_find(&l, "w"), *b = sm_tensors_find(&l, "b");
        REQUIRE(w && b && w->numel == 6 && b->numel == 2);
        float v[6];
        sm_tensor_to_f32(w, v);
        for (int i = 0; i < 6; i++) CHECK(v[i] == 0.25f * (float)i);
        sm_tensor_to_f32(b, v);
        CHECK(v[0] == 0.5f && v[1] == -1.0f);
        sm_tensors_free(&l);
    }
}

/* ---- reference Self-MM .pth ---- */

static int n_warn;
static char warn_text[1024];
static void on_log(selfmm_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == SELFMM_LOG_WARN) n_warn++, snprintf(warn_text, sizeof warn_text, "%s", msg);
}

TEST(import_reference_pth)
{
    static const char *const files[] = {FX "selfmm_tiny.pth", FX "selfmm_tiny_legacy.pth"};
    for (int f = 0; f < 2; f++) {
        selfmm_model *m = tiny_model(NULL);
        REQUIRE(m);
        n_warn = 0;
        selfmm_set_log_callback(on_log, NULL);
        REQUIRE_OK(selfmm_model_import_pth(m, files[f]), selfmm_model_errmsg(m));
        selfmm_set_log_callback(NULL, NULL);
        CHECK_INT(n_warn, 0);
        check_model_values(m, FX "selfmm_tiny.expected.smfx", 0);
        selfmm_model_free(m);
    }
    /* an extra buffer (transformers >= 3) is tolerated and reported */
    selfmm_model *m = tiny_model(NULL);
    REQUIRE(m);
    n_warn = 0;
    selfmm_set_log_callback(on_log, NULL);
    CHECK_OK(selfmm_model_import_pth(m, FX "selfmm_tiny_posids.pth"), selfmm_model_errmsg(m));
    selfmm_set_log_callback(NULL, NULL);
    CHECK_INT(n_warn, 1);
    CHECK_CONTAINS(warn_text, "ignored 1 tensor not in the model: \"Model.text_model.model.embeddings.position_ids\"");
    check_model_values(m, FX "selfmm_tiny.expected.smfx", 0);
    /* a missing tensor: error, weights unchanged */
    float *before = snapshot(m);
    CHECK_STATUS(selfmm_model_import_pth(m, FX "selfmm_tiny_missing.pth"), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "no tensor \"Model.post_audio_layer_2.bias\"");
    CHECK(unchanged(m, before));
    free(before);
    selfmm_model_free(m);
    /* a model of another size: the message names tensor, shapes and keys */
    selfmm_config cfg;
    selfmm_config_default(&cfg);
    selfmm_error err = {0};
    REQUIRE_OK(selfmm_config_load_json(&cfg, FX "selfmm_tiny_config.json", &err), err.message);
    cfg.post_video_dim = 11;
    REQUIRE_OK(selfmm_model_create(&cfg, &m, &err), err.message);
    CHECK_STATUS(selfmm_model_import_pth(m, FX "selfmm_tiny.pth"), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "\"Model.post_video_layer_1.weight\" has shape (9, 7), "
                                           "the model expects (11, 7) (set by post_video_dim");
    selfmm_model_free(m);
}

TEST(config_check_pth)
{
    selfmm_config cfg, tiny;
    selfmm_error err = {0};
    selfmm_config_default(&tiny);
    REQUIRE_OK(selfmm_config_load_json(&tiny, FX "selfmm_tiny_config.json", &err), err.message);
    cfg = tiny;
    cfg.audio_dim = 1, cfg.video_dim = 1;
    REQUIRE_OK(selfmm_config_check_pth(&cfg, FX "selfmm_tiny.pth", &err), err.message);
    CHECK_INT(cfg.audio_dim, 4);
    CHECK_INT(cfg.video_dim, 6);
    cfg = tiny;
    cfg.a_lstm_hidden_size = 7;
    CHECK_STATUS(selfmm_config_check_pth(&cfg, FX "selfmm_tiny_legacy.pth", &err), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(err.message, "\"Model.audio_model.rnn.weight_ih_l0\" has shape (24, 4), the model "
                                "expects (28, 4) (set by a_lstm_hidden_size, audio_dim)");
    CHECK_INT(cfg.a_lstm_hidden_size, 7); /* untouched */
    CHECK_STATUS(selfmm_config_check_pth(&cfg, FX "bert_f16.bin", &err), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(err.message, "no tensor \"Model.audio_model.rnn.weight_ih_l0\"");
}

TEST(export_pth)
{
    selfmm_model *m = tiny_model(NULL);
    REQUIRE(m);
    REQUIRE_OK(selfmm_model_import_pth(m, FX "selfmm_tiny.pth"), selfmm_model_errmsg(m));
    char out[1200];
    snprintf(out, sizeof out, "%s/export.pth", tf_scratch("test_checkpoint"));
    REQUIRE_OK(selfmm_model_export_pth(m, out), selfmm_model_errmsg(m));
    /* read back: every tensor, in table order, equal */
    sm_tensor_list l;
    selfmm_error err = {0};
    REQUIRE_OK(sm_read_checkpoint(out, &l, &err), err.message);
    CHECK_STR(l.format, "torch zip");
    CHECK_INT(l.n, m->net.table.n);
    for (int i = 0; i < l.n && i < m->net.table.n; i++) {
        CHECK_STR(l.t[i].name, m->net.table.p[i].name);
        CHECK(l.t[i].dtype == SM_DT_F32 && ((uintptr_t)l.t[i].data - (uintptr_t)l.mf.data) % 64 == 0);
        CHECK(!memcmp(l.t[i].data, m->net.params + m->net.table.p[i].offset, (size_t)m->net.table.p[i].numel * 4));
    }
    sm_tensors_free(&l);
    /* byte-identical to the export of these weights that torch.load + strict
     * load_state_dict accepted (tools/verify_pth_export.py) */
    CHECK_MSG(tf_same(out, FX "selfmm_tiny_export.pth"), "%s differs from the verified export", out);
    /* a second model imports our export */
    selfmm_model *m2 = tiny_model(NULL);
    REQUIRE(m2);
    REQUIRE_OK(selfmm_model_import_pth(m2, out), selfmm_model_errmsg(m2));
    CHECK(!memcmp(m2->net.params, m->net.params, (size_t)m->net.table.total * 4));
    CHECK_STATUS(selfmm_model_export_pth(m, "/nonexistent-dir/x.pth"), SELFMM_ERR_IO);
    selfmm_model_free(m2);
    selfmm_model_free(m);
}

/* ---- native model file ---- */

TEST(native_round_trip)
{
    selfmm_model *m = tiny_model(NULL);
    REQUIRE(m);
    REQUIRE_OK(selfmm_model_import_pth(m, FX "selfmm_tiny.pth"), selfmm_model_errmsg(m));
    REQUIRE_OK(sm_model_meta_set(m, "tokenizer.vocab", "[PAD]\n[UNK]\n\"quoted\"\n\xe4\xb8\xad\\"), "");
    REQUIRE_OK(sm_model_meta_set(m, "norm.audio", "{\"mean\": [1, 2]}"), "");
    char out[1200];
    snprintf(out, sizeof out, "%s/model.safetensors", tf_scratch("test_checkpoint"));
    REQUIRE_OK(selfmm_model_save(m, out), selfmm_model_errmsg(m));
    selfmm_model *back = NULL;
    selfmm_error err = {0};
    REQUIRE_OK(selfmm_model_load(out, &back, &err), err.message);
    char *a = NULL, *b = NULL;
    REQUIRE_OK(selfmm_config_to_json(&m->net.cfg, &a, &err), err.message);
    REQUIRE_OK(selfmm_config_to_json(&back->net.cfg, &b, &err), err.message);
    CHECK_STR(b, a);
    selfmm_free_string(a);
    selfmm_free_string(b);
    CHECK_INT(back->net.table.n, m->net.table.n);
    for (int i = 0; i < m->net.table.n; i++) {
        const sm_param *p = &m->net.table.p[i];
        CHECK_MSG(!memcmp(back->net.params + p->offset, m->net.params + p->offset, (size_t)p->numel * 4),
                  "%s differs after save/load", p->name);
    }
    CHECK_STR(sm_model_meta_get(back, "tokenizer.vocab"), "[PAD]\n[UNK]\n\"quoted\"\n\xe4\xb8\xad\\");
    CHECK_STR(sm_model_meta_get(back, "norm.audio"), "{\"mean\": [1, 2]}");
    CHECK_INT(back->n_meta, 2);
    selfmm_model_free(back);
    /* what is not a model file */
    CHECK_STATUS(selfmm_model_load(FX "selfmm_tiny.pth", &back, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "a torch zip checkpoint, not a libselfmm model file");
    CHECK_STATUS(selfmm_model_load(REAL "coldfire_tiny_bert_safetensors/model.safetensors", &back, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "without libselfmm metadata");
    selfmm_model_free(m);
}

/* Native files that break one rule each. */
TEST(native_strictness)
{
    selfmm_model *m = tiny_model(NULL);
    REQUIRE(m);
    char *json = NULL;
    selfmm_error err = {0};
    REQUIRE_OK(selfmm_config_to_json(&m->net.cfg, &json, &err), err.message);
    int n = m->net.table.n;
    sm_st_out *t = calloc((size_t)n + 1, sizeof *t);
    for (int i = 0; i < n; i++) {
        const sm_param *p = &m->net.table.p[i];
        t[i] = (sm_st_out){p->name, p->ndim, p->shape, p->numel, m->net.params + p->offset};
    }
    const char *keys[3] = {"format", "format_version", "config"};
    const char *vals[3] = {"libselfmm", "1", json};
    char path[1200];
    snprintf(path, sizeof path, "%s/bad.safetensors", tf_scratch("test_checkpoint"));
    selfmm_model *back = NULL;
    /* a tensor missing */
    REQUIRE_OK(sm_write_safetensors(path, t, n - 1, keys, vals, 3, &err), err.message);
    CHECK_STATUS(selfmm_model_load(path, &back, &err), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(err.message, "no tensor \"Model.post_video_layer_3.bias\"");
    /* a tensor too many */
    sm_st_out extra = t[n - 1];
    extra.name = "Model.extra";
    t[n] = extra;
    REQUIRE_OK(sm_write_safetensors(path, t, n + 1, keys, vals, 3, &err), err.message);
    CHECK_STATUS(selfmm_model_load(path, &back, &err), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(err.message, "\"Model.extra\" is not part of the model");
    /* a wrong shape */
    int64_t wrong[2] = {t[0].shape[0] / 2, t[0].shape[1] * 2};
    sm_st_out keep = t[0];
    t[0].shape = wrong;
    REQUIRE_OK(sm_write_safetensors(path, t, n, keys, vals, 3, &err), err.message);
    CHECK_STATUS(selfmm_model_load(path, &back, &err), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(err.message, "has shape (20, 32), the model expects (40, 16)");
    t[0] = keep;
    /* a newer format version, a broken config */
    vals[1] = "2";
    REQUIRE_OK(sm_write_safetensors(path, t, n, keys, vals, 3, &err), err.message);
    CHECK_STATUS(selfmm_model_load(path, &back, &err), SELFMM_ERR_UNSUPPORTED);
    CHECK_CONTAINS(err.message, "format version \"2\"");
    vals[1] = "1";
    vals[2] = "{\"batch_size\": 0}";
    REQUIRE_OK(sm_write_safetensors(path, t, n, keys, vals, 3, &err), err.message);
    CHECK_STATUS(selfmm_model_load(path, &back, &err), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(err.message, "stored config");
    CHECK(back == NULL);
    free(t);
    selfmm_free_string(json);
    selfmm_model_free(m);
}

/* ---- hostile safetensors headers ---- */

static selfmm_status st_bytes(const char *header, size_t data_len, selfmm_error *err)
{
    size_t hl = strlen(header), n = 8 + hl + data_len;
    uint8_t *b = calloc(n, 1);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, header, hl);
    sm_tensor_list l;
    memset(&l, 0, sizeof l);
    memset(err, 0, sizeof *err);
    selfmm_status st = sm_read_safetensors(b, n, "st", &l, err);
    sm_tensors_free(&l);
    free(b);
    return st;
}

TEST(safetensors_validation)
{
    selfmm_error err;
    CHECK_OK(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &err), err.message);
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "tensors \"a\" and \"b\" overlap");
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 7, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "data_offsets outside the 7 data bytes");
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "8 bytes for F32 (3,)");
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, &err),
                 SELFMM_ERR_SHAPE);
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300,1e300],\"data_offsets\":[0,0]}}", 0, &err),
                 SELFMM_ERR_SHAPE);
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}",
                          0, &err), SELFMM_ERR_FORMAT);
    /* an empty tensor may declare huge other dimensions (no element, no bytes) */
    CHECK_OK(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,1099511627776,1099511627776],"
                      "\"data_offsets\":[0,0]}}", 0, &err), err.message);
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, &err),
                 SELFMM_ERR_UNSUPPORTED);
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 8, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 8, &err),
                 SELFMM_ERR_FORMAT);
    /* a name twice: the last entry counts (as in the safetensors crate), and the first
     * one's bytes then belong to no tensor */
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                          "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "st: data bytes [0, 4) belong to no tensor (before \"a\")");
    CHECK_OK(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &err), err.message);
    /* the header is exactly one JSON object: space padding (writers pad to 8 bytes)
     * and other JSON whitespace after it, nothing else */
    CHECK_OK(st_bytes("{}        ", 0, &err), err.message);
    CHECK_OK(st_bytes("{} \n\t\r", 0, &err), err.message);
    CHECK_OK(st_bytes("{\"__metadata__\":null}", 0, &err), err.message);
    CHECK_STATUS(st_bytes("{}garbage", 0, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "st: safetensors header: malformed JSON at line 1, column 3: more after the JSON value");
    CHECK_STATUS(st_bytes("{} {}", 0, &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(st_bytes("{}\x01", 0, &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(st_bytes("{\"__metadata__\":{\"k\":\"\xff\"}}", 0, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "not UTF-8");
    /* every data byte belongs to a tensor, in order */
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "data bytes [0, 4) belong to no tensor");
    CHECK_STATUS(st_bytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, &err),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "the tensors cover 4 of the 8 data bytes");
    CHECK_OK(st_bytes("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                      "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, &err), err.message);
    CHECK_STATUS(st_bytes("{\"__metadata__\":{\"k\":1}}", 0, &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(st_bytes("[1,2]", 0, &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(st_bytes("{\"a\":", 0, &err), SELFMM_ERR_FORMAT);
    /* a header length beyond the file */
    uint8_t b[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    sm_tensor_list l;
    memset(&l, 0, sizeof l);
    CHECK_STATUS(sm_read_safetensors(b, sizeof b, "st", &l, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "does not fit");
    sm_tensors_free(&l);
}

/* ---- forged zip fields ---- */

TEST(forged_zip)
{
    size_t n;
    uint8_t *d = tf_read(FX "selfmm_tiny.pth", &n);
    REQUIRE(d);
    /* the first central directory entry (archive/data.pkl): claim a huge size */
    uint8_t *cd = NULL;
    for (size_t i = n - 22; i-- > 0;)
        if (!memcmp(d + i, "PK\1\2", 4)) cd = d + i;
    REQUIRE(cd);
    uint8_t *copy = malloc(n);
    memcpy(copy, d, n);
    uint8_t *c = copy + (cd - d);
    c[20] = c[21] = c[22] = 0xff, c[23] = 0x7f;
    c[24] = c[25] = c[26] = 0xff, c[27] = 0x7f;
    sm_tensor_list l;
    memset(&l, 0, sizeof l);
    selfmm_error err = {0};
    CHECK_STATUS(sm_read_checkpoint_mem(copy, n, "forged", &l, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "2147483647 compressed bytes, beyond the file's");
    sm_tensors_free(&l);
    /* a local header offset beyond the file */
    memcpy(copy, d, n);
    c[42] = c[43] = c[44] = 0xff, c[45] = 0x7f;
    memset(&l, 0, sizeof l);
    CHECK_STATUS(sm_read_checkpoint_mem(copy, n, "forged", &l, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "member \"selfmm_tiny/data.pkl\": no local header at offset 2147483647");
    sm_tensors_free(&l);
    /* a member name twice ("selfmm_tiny/data/10" renamed ".../11" in its central
     * entry and its local header) */
    memcpy(copy, d, n);
    uint8_t *v = NULL, *lv = NULL;
    const char *name = "selfmm_tiny/data/10";
    for (size_t i = (size_t)(cd - d) + 46; i + 19 <= n && !v; i++)
        if (!memcmp(copy + i, name, 19) && !memcmp(copy + i - 46, "PK\1\2", 4)) v = copy + i;
    for (size_t i = 30; i + 19 <= n && !lv; i++)
        if (!memcmp(copy + i, name, 19) && !memcmp(copy + i - 30, "PK\3\4", 4)) lv = copy + i;
    REQUIRE(v && lv);
    v[18] = lv[18] = '1';
    memset(&l, 0, sizeof l);
    CHECK_STATUS(sm_read_checkpoint_mem(copy, n, "forged", &l, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "member \"selfmm_tiny/data/11\" appears twice");
    sm_tensors_free(&l);
    free(copy);
    free(d);
}

/* ---- truncations and mutations of every checkpoint kind ---- */

static const char *const ckpts[] = {
    FX "selfmm_tiny.pth", FX "selfmm_tiny_legacy.pth", FX "odd_storage.pth", FX "odd_storage_legacy.pth",
    FX "bert_safetensors/model.safetensors", FX "bert_f16.bin",
    REAL "camphr_ner_bert/pytorch_model.bin",
};

TEST(truncated_checkpoints)
{
    for (size_t f = 0; f < sizeof ckpts / sizeof ckpts[0]; f++) {
        size_t size;
        uint8_t *data = tf_read(ckpts[f], &size);
        REQUIRE(data);
        size_t step = size / 1500 + 1;
        long oks = 0;
        for (size_t n = 0; n < size; n += (n < 600 || size - n < 600) ? 1 : step) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, data, n);
            sm_tensor_list l;
            memset(&l, 0, sizeof l);
            selfmm_error err = {0};
            if (sm_read_checkpoint_mem(cut, n, "cut", &l, &err) == SELFMM_OK) oks++;
            else CHECK(err.message[0] != '\0');
            sm_tensors_free(&l);
            free(cut);
        }
        CHECK_MSG(oks == 0, "%s: %ld truncated copies were read", ckpts[f], oks);
        free(data);
    }
}

TEST(mutated_checkpoints)
{
    uint64_t rng = 777;
    for (size_t f = 0; f < sizeof ckpts / sizeof ckpts[0]; f++) {
        size_t size;
        uint8_t *data = tf_read(ckpts[f], &size);
        REQUIRE(data);
        for (int it = 0; it < 300; it++) {
            uint8_t *m = malloc(size);
            memcpy(m, data, size);
            /* mostly in the first kilobytes, where the structure is */
            size_t span = it % 3 ? (size < 4096 ? size : 4096) : size;
            int flips = 1 + (int)(tf_rand(&rng) % 3);
            for (int k = 0; k < flips; k++) m[tf_rand(&rng) % span] = (uint8_t)tf_rand(&rng);
            sm_tensor_list l;
            memset(&l, 0, sizeof l);
            selfmm_error err = {0};
            if (sm_read_checkpoint_mem(m, size, "mutated", &l, &err) == SELFMM_OK) {
                /* whatever was listed must be readable in full */
                for (int i = 0; i < l.n; i++) {
                    if (!sm_dtype_is_numeric(l.t[i].dtype) || l.t[i].numel > (1 << 20)) continue;
                    float *v = malloc((size_t)(l.t[i].numel ? l.t[i].numel : 1) * 4);
                    sm_tensor_to_f32(&l.t[i], v);
                    free(v);
                }
            } else {
                CHECK(err.message[0] != '\0');
            }
            sm_tensors_free(&l);
            free(m);
        }
        free(data);
    }
}

int main(void)
{
    RUN(real_torch_zip);
    RUN(real_torch_legacy);
    RUN(real_safetensors);
    RUN(real_checkpoints_into_models);
    RUN(bert_key_variants);
    RUN(bert_errors_leave_weights_unchanged);
    RUN(odd_storages);
    RUN(wrapped_checkpoints);
    RUN(import_reference_pth);
    RUN(config_check_pth);
    RUN(export_pth);
    RUN(native_round_trip);
    RUN(native_strictness);
    RUN(safetensors_validation);
    RUN(forged_zip);
    RUN(truncated_checkpoints);
    RUN(mutated_checkpoints);
    return h_finish();
}
