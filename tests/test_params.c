/* test_params.c -- the parameter table: names, shapes and groups as the reference's
 * state_dict has them, arena layout, initialisation ranges and determinism. */
#include "harness.h"

#include "model/model.h"

#include <unistd.h>

static void tiny_config(selfmm_config *c)
{
    selfmm_config_default(c);
    c->vocab_size = 50, c->hidden_size = 8, c->num_hidden_layers = 2;
    c->num_attention_heads = 2, c->intermediate_size = 12, c->max_position_embeddings = 16;
    c->audio_dim = 5, c->video_dim = 7;
    c->a_lstm_hidden_size = 3, c->v_lstm_hidden_size = 4, c->audio_out = 2, c->video_out = 3;
    c->post_fusion_dim = 6, c->post_text_dim = 5, c->post_audio_dim = 4, c->post_video_dim = 3;
}

TEST(names_shapes_groups)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    /* 5 embedding tensors + 16 per layer + 2 pooler + 2 x 6 subnet + 4 x 6 heads */
    CHECK_INT(selfmm_model_num_params(m), 5 + 16 * 2 + 2 + 12 + 24);
    selfmm_param_info p;
    CHECK_OK(selfmm_model_param(m, 0, &p), selfmm_model_errmsg(m));
    CHECK_STR(p.name, "Model.text_model.model.embeddings.word_embeddings.weight");
    CHECK_INT(p.shape[0], 50);
    CHECK_INT(p.shape[1], 8);
    CHECK_INT(p.group, SELFMM_GROUP_BERT_DECAY);
    REQUIRE_OK(selfmm_model_find_param(m, "Model.text_model.model.encoder.layer.1.intermediate.dense.weight", &p),
               selfmm_model_errmsg(m));
    CHECK_INT(p.shape[0], 12);
    CHECK_INT(p.shape[1], 8);
    CHECK_OK(selfmm_model_find_param(m, "Model.text_model.model.encoder.layer.0.output.LayerNorm.weight", &p), "");
    CHECK_INT(p.group, SELFMM_GROUP_BERT_NO_DECAY);
    for (int i = 0; i < 8; i++) CHECK(p.data[i] == 1.0f);
    CHECK_OK(selfmm_model_find_param(m, "Model.text_model.model.pooler.dense.weight", &p), "");
    CHECK_INT(p.group, SELFMM_GROUP_NONE);
    CHECK_OK(selfmm_model_find_param(m, "Model.audio_model.rnn.weight_ih_l0", &p), "");
    CHECK_INT(p.shape[0], 12);
    CHECK_INT(p.shape[1], 5);
    CHECK_INT(p.group, SELFMM_GROUP_AUDIO);
    for (int i = 0; i < p.numel; i++) CHECK(fabsf(p.data[i]) <= 1.0f / sqrtf(3.0f));
    CHECK_OK(selfmm_model_find_param(m, "Model.video_model.linear_1.bias", &p), "");
    CHECK_INT(p.group, SELFMM_GROUP_VIDEO);
    CHECK_INT(p.shape[0], 3);
    CHECK_OK(selfmm_model_find_param(m, "Model.post_fusion_layer_1.weight", &p), "");
    CHECK_INT(p.shape[0], 6);
    CHECK_INT(p.shape[1], 8 + 2 + 3);
    CHECK_INT(p.group, SELFMM_GROUP_OTHER);
    CHECK_OK(selfmm_model_find_param(m, "Model.post_video_layer_3.weight", &p), "");
    CHECK_INT(p.shape[0], 1);
    CHECK_INT(p.shape[1], 3);
    CHECK_STATUS(selfmm_model_find_param(m, "Model.nope", &p), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "Model.nope");
    CHECK_STATUS(selfmm_model_param(m, 999, &p), SELFMM_ERR_RANGE);
    selfmm_model_free(m);
}

TEST(arenas_share_layout_and_are_aligned)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    int64_t total = 0;
    for (int i = 0; i < selfmm_model_num_params(m); i++) {
        selfmm_param_info p;
        selfmm_model_param(m, i, &p);
        CHECK(((uintptr_t)p.data & 63) == 0);
        CHECK(p.grad - m->net.grads == p.data - m->net.params);
        total += p.numel;
    }
    CHECK_INT(total, selfmm_model_num_floats(m));
    /* the named pointers agree with the table */
    selfmm_param_info p;
    selfmm_model_find_param(m, "Model.text_model.model.encoder.layer.1.attention.output.dense.bias", &p);
    CHECK(m->net.w.layer[1].ao_b == p.data);
    CHECK(m->net.g.layer[1].ao_b == p.grad);
    selfmm_model_find_param(m, "Model.post_audio_layer_2.weight", &p);
    CHECK(m->net.w.head[SELFMM_AUDIO].w2 == p.data);
    selfmm_model_find_param(m, "Model.video_model.rnn.bias_hh_l0", &p);
    CHECK(m->net.w.video.b_hh == p.data);
    selfmm_model_free(m);
}

/* The floats between tensors are zero whether the weights are initialised or left
 * for a loader to fill (the optimizer's arena-wide loop relies on it), and
 * sm_params_zero_padding, which sees to it, clears the padding only. */
static int64_t padding_floats(const sm_param_table *t, const float *arena, float value, int64_t *count)
{
    int64_t equal = 0;
    *count = 0;
    for (int i = 0; i < t->n; i++) {
        int64_t end = t->p[i].offset + t->p[i].numel;
        int64_t next = i + 1 < t->n ? t->p[i + 1].offset : t->total;
        for (int64_t j = end; j < next; j++) equal += arena[j] == value, (*count)++;
    }
    return equal;
}

TEST(padding_is_zero)
{
    selfmm_config c;
    tiny_config(&c);
    int64_t padding;
    for (int init = 0; init < 2; init++) {
        selfmm_model *m = NULL;
        selfmm_error e = {0};
        REQUIRE_OK(sm_model_create(&c, init, &m, &e), e.message);
        CHECK_INT(padding_floats(&m->net.table, m->net.params, 0.0f, &padding), padding);
        CHECK(padding > 0);
        /* the helper itself, on an arena of ones */
        for (int64_t i = 0; i < m->net.table.total; i++) m->net.params[i] = 1.0f;
        sm_params_zero_padding(&m->net.table, m->net.params);
        CHECK_INT(padding_floats(&m->net.table, m->net.params, 0.0f, &padding), padding);
        int64_t ones = 0;
        for (int64_t i = 0; i < m->net.table.total; i++) ones += m->net.params[i] == 1.0f;
        CHECK_INT(ones, selfmm_model_num_floats(m));
        selfmm_model_free(m);
    }
}

TEST(init_is_deterministic_and_seeded)
{
    selfmm_config c;
    tiny_config(&c);
    selfmm_model *a = NULL, *b = NULL, *d = NULL;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_model_create(&c, &a, &e), e.message);
    REQUIRE_OK(selfmm_model_create(&c, &b, &e), e.message);
    c.seed = 1112;
    REQUIRE_OK(selfmm_model_create(&c, &d, &e), e.message);
    size_t bytes = (size_t)a->net.table.total * sizeof(float);
    CHECK(memcmp(a->net.params, b->net.params, bytes) == 0);
    CHECK(memcmp(a->net.params, d->net.params, bytes) != 0);
    /* BERT weights ~ normal(0, 0.02): check the sample std of the word embeddings */
    selfmm_param_info p;
    selfmm_model_find_param(a, "Model.text_model.model.embeddings.word_embeddings.weight", &p);
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < p.numel; i++) s += p.data[i], s2 += (double)p.data[i] * p.data[i];
    double mean = s / p.numel, sd = sqrt(s2 / p.numel - mean * mean);
    CHECK_CLOSE(sd, 0.02, 0.15, 0);
    selfmm_model_free(a);
    selfmm_model_free(b);
    selfmm_model_free(d);
}

TEST(create_rejects_bad_config)
{
    selfmm_config c;
    tiny_config(&c);
    c.num_attention_heads = 3;
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    CHECK_STATUS(selfmm_model_create(&c, &m, &e), SELFMM_ERR_RANGE);
    CHECK(m == NULL);
    CHECK_CONTAINS(e.message, "num_attention_heads");
    CHECK_STATUS(selfmm_model_create(NULL, &m, &e), SELFMM_ERR_INVALID_ARG);
    selfmm_model_free(NULL);
}

/* selfmm_model_create_ex initialises only what no load overwrites next, and a load
 * then gives exactly what create + the same load gives: each tensor's initial values
 * depend only on (seed, tensor). BERT files with and without a pooler. */
static selfmm_model *tiny_file_model(selfmm_init_mode init)
{
    selfmm_config c;
    selfmm_config_default(&c);
    selfmm_error e = {0};
    selfmm_model *m = NULL;
    if (selfmm_config_load_json(&c, "tests/fixtures/io/selfmm_tiny_config.json", &e) != SELFMM_OK ||
        selfmm_model_create_ex(&c, init, &m, &e) != SELFMM_OK)
        printf("# %s\n", e.message);
    return m;
}

static int same_params(const selfmm_model *a, const selfmm_model *b)
{
    return a->net.table.total == b->net.table.total &&
           !memcmp(a->net.params, b->net.params, (size_t)a->net.table.total * sizeof(float));
}

TEST(create_ex_initialises_only_what_no_load_overwrites)
{
    const char *bert[2] = {"tests/fixtures/io/bert_zip", "tests/fixtures/io/bert_legacy"}; /* pooler or not */
    for (int f = 0; f < 2; f++) {
        selfmm_model *all = tiny_file_model(SELFMM_INIT_ALL), *some = tiny_file_model(SELFMM_INIT_ALL_BUT_BERT);
        REQUIRE(all && some);
        /* before the load: BERT's embeddings and layers 0, the rest (pooler included) as create's */
        const sm_param_table *t = &some->net.table;
        int64_t zero = 0, nbert = 0, same = 0, rest = 0;
        for (int i = 0; i < t->n; i++) {
            const sm_param *p = &t->p[i];
            const float *x = some->net.params + p->offset, *y = all->net.params + p->offset;
            int is_bert = !strncmp(p->name, "Model.text_model.model.", 23) && !strstr(p->name, ".pooler.");
            for (int64_t j = 0; j < p->numel; j++) {
                if (is_bert) nbert++, zero += x[j] == 0.0f;
                else rest++, same += memcmp(&x[j], &y[j], sizeof(float)) == 0;
            }
        }
        CHECK(nbert > 0 && zero == nbert);
        CHECK(rest > 0 && same == rest);
        REQUIRE_OK(selfmm_model_load_bert(all, bert[f]), selfmm_model_errmsg(all));
        REQUIRE_OK(selfmm_model_load_bert(some, bert[f]), selfmm_model_errmsg(some));
        CHECK_MSG(same_params(all, some), "%s: create_ex + load_bert differs from create + load_bert", bert[f]);
        /* a whole model file into a model with nothing initialised */
        char path[64];
        snprintf(path, sizeof path, "/tmp/selfmm_test_params_%d.safetensors", (int)getpid());
        REQUIRE_OK(selfmm_model_save(all, path), selfmm_model_errmsg(all));
        selfmm_model *none = tiny_file_model(SELFMM_INIT_NONE);
        REQUIRE(none);
        int64_t zeros = 0;
        for (int64_t j = 0; j < none->net.table.total; j++) zeros += none->net.params[j] == 0.0f;
        CHECK_INT(zeros, none->net.table.total);
        CHECK_OK(selfmm_model_load_weights(none, path), selfmm_model_errmsg(none));
        CHECK(same_params(all, none));
        remove(path);
        selfmm_model_free(all), selfmm_model_free(some), selfmm_model_free(none);
    }
    selfmm_config c;
    tiny_config(&c);
    selfmm_model *m = NULL;
    selfmm_error e = {0};
    CHECK_INT(selfmm_model_create_ex(&c, (selfmm_init_mode)7, &m, &e), SELFMM_ERR_INVALID_ARG);
    CHECK(m == NULL && strstr(e.message, "init mode") != NULL);
}

int main(void)
{
    RUN(names_shapes_groups);
    RUN(create_ex_initialises_only_what_no_load_overwrites);
    RUN(arenas_share_layout_and_are_aligned);
    RUN(padding_is_zero);
    RUN(init_is_deterministic_and_seeded);
    RUN(create_rejects_bad_config);
    return h_finish();
}
