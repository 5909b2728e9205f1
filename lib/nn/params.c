/* params.c -- building, binding and initialising the parameter table. */
#include "nn/params.h"

#include "core/alloc.h"
#include "core/rng.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct builder {
    sm_param_table *t;
    int cap;
    selfmm_status st;
    selfmm_error *err;
} builder;

static void add(builder *b, selfmm_param_group group, sm_init init, double arg, int ndim, int64_t d0,
                int64_t d1, const char *fmt, ...) SM_PRINTF(8, 9);

static void add(builder *b, selfmm_param_group group, sm_init init, double arg, int ndim, int64_t d0,
                int64_t d1, const char *fmt, ...)
{
    if (b->st != SELFMM_OK) return;
    sm_param_table *t = b->t;
    if (t->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 256;
        sm_param *p = realloc(t->p, (size_t)cap * sizeof *p);
        if (!p) {
            b->st = sm_error(b->err, SELFMM_ERR_NOMEM, "parameter table: out of memory");
            return;
        }
        t->p = p;
        b->cap = cap;
    }
    sm_param *p = &t->p[t->n++];
    memset(p, 0, sizeof *p);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->name, sizeof p->name, fmt, ap);
    va_end(ap);
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = ndim > 1 ? d1 : 0;
    p->numel = ndim > 1 ? d0 * d1 : d0;
    p->group = group;
    p->init = init;
    p->init_arg = arg;
    p->offset = t->total;
    t->total += (p->numel + 15) & ~(int64_t)15;
}

/* nn.Linear(in, out) as PyTorch creates it: kaiming_uniform(a=sqrt(5)) on the weight
 * and uniform(+-1/sqrt(in)) on the bias, i.e. both uniform(+-1/sqrt(in)). */
static void linear(builder *b, selfmm_param_group g, const char *prefix, int in, int out)
{
    double bound = 1.0 / sqrt((double)in);
    add(b, g, SM_INIT_UNIFORM, bound, 2, out, in, "%s.weight", prefix);
    add(b, g, SM_INIT_UNIFORM, bound, 1, out, 0, "%s.bias", prefix);
}

/* A BERT Linear: weight normal(0, initializer_range), bias 0 (BertPreTrainedModel). */
static void bert_linear(builder *b, const char *prefix, int in, int out, double std)
{
    add(b, SELFMM_GROUP_BERT_DECAY, SM_INIT_NORMAL, std, 2, out, in, "%s.weight", prefix);
    add(b, SELFMM_GROUP_BERT_NO_DECAY, SM_INIT_ZERO, 0, 1, out, 0, "%s.bias", prefix);
}

static void bert_layernorm(builder *b, const char *prefix, int h)
{
    add(b, SELFMM_GROUP_BERT_NO_DECAY, SM_INIT_ONE, 0, 1, h, 0, "%s.weight", prefix);
    add(b, SELFMM_GROUP_BERT_NO_DECAY, SM_INIT_ZERO, 0, 1, h, 0, "%s.bias", prefix);
}

/* nn.LSTM(in, hidden): every tensor uniform(+-1/sqrt(hidden)), then linear_1. */
static void subnet(builder *b, selfmm_param_group g, const char *name, int in, int hidden, int out)
{
    double bound = 1.0 / sqrt((double)hidden);
    add(b, g, SM_INIT_UNIFORM, bound, 2, 4 * (int64_t)hidden, in, "Model.%s.rnn.weight_ih_l0", name);
    add(b, g, SM_INIT_UNIFORM, bound, 2, 4 * (int64_t)hidden, hidden, "Model.%s.rnn.weight_hh_l0", name);
    add(b, g, SM_INIT_UNIFORM, bound, 1, 4 * (int64_t)hidden, 0, "Model.%s.rnn.bias_ih_l0", name);
    add(b, g, SM_INIT_UNIFORM, bound, 1, 4 * (int64_t)hidden, 0, "Model.%s.rnn.bias_hh_l0", name);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "Model.%s.linear_1", name);
    linear(b, g, prefix, hidden, out);
}

static void head(builder *b, const char *name, int in, int dim)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "Model.post_%s_layer_1", name);
    linear(b, SELFMM_GROUP_OTHER, prefix, in, dim);
    snprintf(prefix, sizeof prefix, "Model.post_%s_layer_2", name);
    linear(b, SELFMM_GROUP_OTHER, prefix, dim, dim);
    snprintf(prefix, sizeof prefix, "Model.post_%s_layer_3", name);
    linear(b, SELFMM_GROUP_OTHER, prefix, dim, 1);
}

#define BERT "Model.text_model.model."

selfmm_status sm_params_build(const selfmm_config *c, sm_param_table *t, selfmm_error *err)
{
    memset(t, 0, sizeof *t);
    builder b = {t, 0, SELFMM_OK, err};
    const int H = c->hidden_size, I = c->intermediate_size;
    const double std = c->initializer_range;
    /* Order = the reference's state_dict order (module registration order). */
    add(&b, SELFMM_GROUP_BERT_DECAY, SM_INIT_NORMAL, std, 2, c->vocab_size, H,
        BERT "embeddings.word_embeddings.weight");
    add(&b, SELFMM_GROUP_BERT_DECAY, SM_INIT_NORMAL, std, 2, c->max_position_embeddings, H,
        BERT "embeddings.position_embeddings.weight");
    add(&b, SELFMM_GROUP_BERT_DECAY, SM_INIT_NORMAL, std, 2, c->type_vocab_size, H,
        BERT "embeddings.token_type_embeddings.weight");
    bert_layernorm(&b, BERT "embeddings.LayerNorm", H);
    for (int l = 0; l < c->num_hidden_layers; l++) {
        char p[SM_PARAM_NAME_MAX];
#define LAYER(suffix) (snprintf(p, sizeof p, BERT "encoder.layer.%d.%s", l, suffix), p)
        bert_linear(&b, LAYER("attention.self.query"), H, H, std);
        bert_linear(&b, LAYER("attention.self.key"), H, H, std);
        bert_linear(&b, LAYER("attention.self.value"), H, H, std);
        bert_linear(&b, LAYER("attention.output.dense"), H, H, std);
        bert_layernorm(&b, LAYER("attention.output.LayerNorm"), H);
        bert_linear(&b, LAYER("intermediate.dense"), H, I, std);
        bert_linear(&b, LAYER("output.dense"), I, H, std);
        bert_layernorm(&b, LAYER("output.LayerNorm"), H);
#undef LAYER
    }
    add(&b, SELFMM_GROUP_NONE, SM_INIT_NORMAL, std, 2, H, H, BERT "pooler.dense.weight");
    add(&b, SELFMM_GROUP_NONE, SM_INIT_ZERO, 0, 1, H, 0, BERT "pooler.dense.bias");
    subnet(&b, SELFMM_GROUP_AUDIO, "audio_model", c->audio_dim, c->a_lstm_hidden_size, c->audio_out);
    subnet(&b, SELFMM_GROUP_VIDEO, "video_model", c->video_dim, c->v_lstm_hidden_size, c->video_out);
    head(&b, "fusion", H + c->audio_out + c->video_out, c->post_fusion_dim);
    head(&b, "text", H, c->post_text_dim);
    head(&b, "audio", c->audio_out, c->post_audio_dim);
    head(&b, "video", c->video_out, c->post_video_dim);
    if (b.st != SELFMM_OK) sm_params_free(t);
    return b.st;
}

void sm_params_free(sm_param_table *t)
{
    if (!t) return;
    free(t->p);
    memset(t, 0, sizeof *t);
}

int sm_params_find(const sm_param_table *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->p[i].name, name) == 0) return i;
    return -1;
}

/* Walks the table in the order sm_params_build wrote it. */
typedef struct cursor {
    const sm_param_table *t;
    float *arena;
    int i;
} cursor;

static float *next(cursor *c) { return c->arena + c->t->p[c->i++].offset; }

static void bind_head(cursor *c, sm_head_w *h)
{
    h->w1 = next(c), h->b1 = next(c);
    h->w2 = next(c), h->b2 = next(c);
    h->w3 = next(c), h->b3 = next(c);
}

static void bind_subnet(cursor *c, sm_subnet_w *s)
{
    s->w_ih = next(c), s->w_hh = next(c), s->b_ih = next(c), s->b_hh = next(c);
    s->lin_w = next(c), s->lin_b = next(c);
}

selfmm_status sm_weights_bind(const selfmm_config *cfg, const sm_param_table *t, float *arena,
                              sm_weights *w, selfmm_error *err)
{
    memset(w, 0, sizeof *w);
    int nl = cfg->num_hidden_layers;
    w->layer = calloc((size_t)nl, sizeof *w->layer);
    if (!w->layer) return sm_error(err, SELFMM_ERR_NOMEM, "weights: out of memory");
    cursor c = {t, arena, 0};
    w->word_emb = next(&c), w->pos_emb = next(&c), w->type_emb = next(&c);
    w->emb_ln_w = next(&c), w->emb_ln_b = next(&c);
    for (int l = 0; l < nl; l++) {
        sm_bert_layer_w *L = &w->layer[l];
        L->q_w = next(&c), L->q_b = next(&c);
        L->k_w = next(&c), L->k_b = next(&c);
        L->v_w = next(&c), L->v_b = next(&c);
        L->ao_w = next(&c), L->ao_b = next(&c);
        L->ln1_w = next(&c), L->ln1_b = next(&c);
        L->i_w = next(&c), L->i_b = next(&c);
        L->o_w = next(&c), L->o_b = next(&c);
        L->ln2_w = next(&c), L->ln2_b = next(&c);
    }
    w->pooler_w = next(&c), w->pooler_b = next(&c);
    bind_subnet(&c, &w->audio);
    bind_subnet(&c, &w->video);
    for (int k = 0; k < 4; k++) bind_head(&c, &w->head[k]);
    if (c.i != t->n) {
        sm_weights_free(w);
        return sm_error(err, SELFMM_ERR_STATE, "weights: table has %d tensors, bound %d", t->n, c.i);
    }
    return SELFMM_OK;
}

void sm_weights_free(sm_weights *w)
{
    if (!w) return;
    free(w->layer);
    w->layer = NULL;
}

void sm_params_zero_padding(const sm_param_table *t, float *arena)
{
    for (int i = 0; i < t->n; i++) {
        int64_t end = t->p[i].offset + t->p[i].numel;
        int64_t next = i + 1 < t->n ? t->p[i + 1].offset : t->total;
        memset(arena + end, 0, (size_t)(next - end) * sizeof *arena);
    }
}

void sm_params_init(const sm_param_table *t, float *arena, uint64_t seed, int skip_bert)
{
    for (int i = 0; i < t->n; i++) {
        const sm_param *p = &t->p[i];
        if (skip_bert && !strncmp(p->name, BERT, strlen(BERT)) && strncmp(p->name, BERT "pooler.", strlen(BERT "pooler.")))
            continue;
        float *x = arena + p->offset;
        sm_rng_key k = sm_rng_make(seed, SM_RNG_INIT, 0, (uint32_t)i);
        switch (p->init) {
        case SM_INIT_ZERO: memset(x, 0, (size_t)p->numel * sizeof *x); break;
        case SM_INIT_ONE:
            for (int64_t j = 0; j < p->numel; j++) x[j] = 1.0f;
            break;
        case SM_INIT_NORMAL: sm_rng_normal_fill(&k, x, p->numel, 0.0, p->init_arg); break;
        case SM_INIT_UNIFORM: sm_rng_range_fill(&k, x, p->numel, -p->init_arg, p->init_arg); break;
        }
    }
}
