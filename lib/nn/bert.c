/* bert.c -- the BERT encoder (SPEC 1.1), forward and backward, at the batch's run
 * length L (the longest real text length: exact, see SPEC 1.1).
 *
 * A layer (post-LN):
 *   q, k, v = x Wq^T + bq, ...                 (linear, OpenBLAS)
 *   ctx     = attention(q, k, v, maskbias)     (attention.c, oneDNN matmul)
 *   ln1     = LN1(x + dropout(ctx Wao^T + bao))  (fused tail, layernorm.c)
 *   g       = gelu(ln1 Wi^T + bi)              (fused bias + GELU)
 *   ln2     = LN2(ln1 + dropout(g Wo^T + bo))  (fused tail) -> the layer's output
 * The backward runs these lines in reverse; comments quote the line they undo. */
#include "nn/attention.h"
#include "nn/compute.h"
#include "nn/ops.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- buffers ------------------------------------------------------------------------ */
static void acts_free(sm_bert_acts *a)
{
    float *f[] = {a->q, a->k, a->v, a->probs, a->probs_d, a->ctx, a->res1, a->ln1, a->mean1,
                  a->rstd1, a->pre, a->res2, a->ln2, a->mean2, a->rstd2};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) sm_free(f[i]);
    sm_free(a->probs_mask), sm_free(a->attn_mask), sm_free(a->out_mask);
    memset(a, 0, sizeof *a);
}

static void grads_free(sm_bert *b)
{
    float *f[] = {b->dx, b->dx2, b->dln1, b->dtmp, b->dctx, b->dq, b->dk, b->dv, b->dgelu, b->dpre,
                  b->dprobs};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) sm_free(f[i]);
    b->dx = b->dx2 = b->dln1 = b->dtmp = b->dctx = b->dq = b->dk = b->dv = NULL;
    b->dgelu = b->dpre = b->dprobs = NULL;
    b->has_grad_buffers = 0;
}

void sm_bert_free(sm_bert *b)
{
    for (int l = 0; l < b->n_acts; l++) acts_free(&b->acts[l]);
    free(b->acts);
    grads_free(b);
    sm_free(b->maskbias), sm_free(b->ids), sm_free(b->segs), sm_free(b->emb_sum), sm_free(b->emb_ln), sm_free(b->emb_mean);
    sm_free(b->emb_rstd), sm_free(b->emb_mask), sm_free(b->x0), sm_free(b->tmp), sm_free(b->gelu);
    memset(b, 0, sizeof *b);
}

/* Allocation with a failure flag, so a run of them needs one check. */
static void *get(size_t n, size_t size, int *fail)
{
    void *p = sm_alloc(n ? n : 1, size);
    if (!p) *fail = 1;
    return p;
}
#define GETF(n) ((float *)get((size_t)(n), sizeof(float), &fail))
#define GETB(n) ((uint8_t *)get((size_t)(n), 1, &fail))

static selfmm_status acts_alloc(sm_bert_acts *a, const selfmm_config *cfg, int64_t tok, int64_t att)
{
    const int64_t H = cfg->hidden_size, I = cfg->intermediate_size;
    int fail = 0;
    a->q = GETF(tok * H), a->k = GETF(tok * H), a->v = GETF(tok * H);
    a->probs = GETF(att);
    if (cfg->attention_probs_dropout_prob > 0) a->probs_d = GETF(att), a->probs_mask = GETB(att);
    a->ctx = GETF(tok * H);
    a->res1 = GETF(tok * H), a->ln1 = GETF(tok * H), a->mean1 = GETF(tok), a->rstd1 = GETF(tok);
    a->pre = GETF(tok * I);
    a->res2 = GETF(tok * H), a->ln2 = GETF(tok * H), a->mean2 = GETF(tok), a->rstd2 = GETF(tok);
    if (cfg->hidden_dropout_prob > 0) a->attn_mask = GETB(tok * H), a->out_mask = GETB(tok * H);
    return fail ? SELFMM_ERR_NOMEM : SELFMM_OK;
}

/* Room for a forward of B x L with `layers` layers of saved activations. */
static selfmm_status ensure_forward(sm_bert *b, const selfmm_config *cfg, int B, int L, int layers,
                                    selfmm_error *err)
{
    const int64_t H = cfg->hidden_size, I = cfg->intermediate_size;
    const int64_t tok = (int64_t)B * L, att = (int64_t)B * cfg->num_attention_heads * L * L;
    if (tok > b->cap_tok || att > b->cap_att) {
        int64_t ct = tok > b->cap_tok ? tok : b->cap_tok, ca = att > b->cap_att ? att : b->cap_att;
        sm_bert_free(b);
        int fail = 0;
        b->maskbias = GETF(ct);
        b->ids = (int32_t *)get((size_t)ct, sizeof(int32_t), &fail);
        b->segs = (int32_t *)get((size_t)ct, sizeof(int32_t), &fail);
        b->emb_sum = GETF(ct * H), b->emb_ln = GETF(ct * H);
        b->emb_mean = GETF(ct), b->emb_rstd = GETF(ct);
        if (cfg->hidden_dropout_prob > 0) b->emb_mask = GETB(ct * H), b->x0 = GETF(ct * H);
        b->tmp = GETF(ct * H), b->gelu = GETF(ct * I);
        if (fail) {
            sm_bert_free(b);
            return sm_error(err, SELFMM_ERR_NOMEM, "BERT: cannot allocate activations for %d x %d tokens",
                            B, L);
        }
        b->cap_tok = ct, b->cap_att = ca;
    }
    if (layers > b->n_acts) {
        sm_bert_acts *grown = realloc(b->acts, (size_t)layers * sizeof *grown);
        if (!grown) return sm_error(err, SELFMM_ERR_NOMEM, "BERT: out of memory");
        b->acts = grown;
        for (int l = b->n_acts; l < layers; l++) {
            memset(&b->acts[l], 0, sizeof b->acts[l]);
            b->n_acts = l + 1;
            if (acts_alloc(&b->acts[l], cfg, b->cap_tok, b->cap_att) != SELFMM_OK)
                return sm_error(err, SELFMM_ERR_NOMEM,
                                "BERT: cannot allocate the activations of layer %d (%lld tokens)", l,
                                (long long)b->cap_tok);
        }
    }
    return SELFMM_OK;
}

static selfmm_status ensure_backward(sm_bert *b, const selfmm_config *cfg, selfmm_error *err)
{
    if (b->has_grad_buffers) return SELFMM_OK;
    const int64_t H = cfg->hidden_size, I = cfg->intermediate_size, ct = b->cap_tok;
    int fail = 0;
    b->dx = GETF(ct * H), b->dx2 = GETF(ct * H), b->dln1 = GETF(ct * H), b->dtmp = GETF(ct * H);
    b->dctx = GETF(ct * H), b->dq = GETF(ct * H), b->dk = GETF(ct * H), b->dv = GETF(ct * H);
    b->dgelu = GETF(ct * I), b->dpre = GETF(ct * I), b->dprobs = GETF(b->cap_att);
    if (fail) {
        grads_free(b);
        return sm_error(err, SELFMM_ERR_NOMEM, "BERT: cannot allocate gradient buffers");
    }
    b->has_grad_buffers = 1;
    return SELFMM_OK;
}

static void zero(float *p, int64_t n) { memset(p, 0, (size_t)n * sizeof(float)); }

double sm_bert_forward_flop(const selfmm_config *cfg, int B, int L)
{
    const double N = (double)B * L, H = cfg->hidden_size, I = cfg->intermediate_size;
    /* q, k, v, attention output: 4 x (N,H).(H,H); FFN: (N,H).(H,I) and (N,I).(I,H);
     * attention: q k^T and probs v, each B*L*L*H multiply-adds over all heads */
    double per_layer = 2.0 * N * H * H * 4 + 2.0 * N * H * I * 2 + 2.0 * 2.0 * N * L * H;
    return per_layer * cfg->num_hidden_layers;
}

/* ---- forward ------------------------------------------------------------------------- */
selfmm_status sm_bert_forward(selfmm_model *m, sm_compute *c, const selfmm_batch *bt, int L,
                              const sm_drop *drop)
{
    const selfmm_config *cfg = &m->cfg;
    sm_bert *b = &c->bert;
    const sm_weights *w = &m->w;
    const int B = bt->batch, H = cfg->hidden_size, I = cfg->intermediate_size;
    const int nh = cfg->num_attention_heads, hd = H / nh, NL = cfg->num_hidden_layers;
    const int N = B * L;
    const float eps = (float)cfg->layer_norm_eps;
    const float ph = drop->train ? (float)cfg->hidden_dropout_prob : 0.0f;
    const float pa = drop->train ? (float)cfg->attention_probs_dropout_prob : 0.0f;
    const float sh = ph > 0 ? sm_dropout_scale(ph) : 1.0f;
    selfmm_error *err = &m->err;
    SM_TRY(ensure_forward(b, cfg, B, L, drop->train ? NL : (NL < 2 ? NL : 2), err));
    b->B = B, b->L = L;
    /* the first L columns of the batch; extended attention mask (1 - mask) * -10000 */
    for (int i = 0; i < B; i++)
        for (int t = 0; t < L; t++) {
            size_t src = (size_t)i * bt->text_len + t, dst = (size_t)i * L + t;
            b->ids[dst] = bt->text_ids[src];
            b->segs[dst] = bt->text_segment ? bt->text_segment[src] : 0;
            b->maskbias[dst] = (1.0f - (float)bt->text_mask[src]) * -10000.0f;
        }

    /* embeddings: dropout(LN(word + position + token type)) */
    sm_embedding_forward(b->emb_sum, b->ids, b->segs, w->word_emb, w->pos_emb, w->type_emb, B, L, L, H);
    sm_layernorm_forward(b->emb_ln, b->emb_mean, b->emb_rstd, b->emb_sum, w->emb_ln_w, w->emb_ln_b,
                         N, H, eps);
    const float *x = b->emb_ln;
    if (ph > 0) {
        sm_dropout_mask(b->emb_mask, B, (int64_t)L * H, ph, drop->seed, drop->step, SM_SITE_EMBEDDINGS);
        sm_dropout_forward(b->x0, b->emb_ln, b->emb_mask, ph, (int64_t)N * H);
        x = b->x0;
    }
    for (int l = 0; l < NL; l++) {
        sm_bert_acts *a = &b->acts[drop->train ? l : l % 2];
        const sm_bert_layer_w *lw = &w->layer[l];
        sm_linear_forward(a->q, x, lw->q_w, lw->q_b, N, H, H);
        sm_linear_forward(a->k, x, lw->k_w, lw->k_b, N, H, H);
        sm_linear_forward(a->v, x, lw->v_w, lw->v_b, N, H, H);
        uint8_t *pm = NULL;
        if (pa > 0) {
            pm = a->probs_mask;
            sm_dropout_mask(pm, B, (int64_t)nh * L * L, pa, drop->seed, drop->step, SM_SITE_LAYER(l, 0));
        }
        SM_TRY(sm_attention_forward(&c->dnnl, a->ctx, a->probs, pm ? a->probs_d : a->probs, a->q,
                                    a->k, a->v, b->maskbias, pm, pa, B, L, nh, hd, err));
        /* ln1 = LN1(x + dropout(ctx Wao^T + bao)) */
        sm_linear_forward(b->tmp, a->ctx, lw->ao_w, NULL, N, H, H);
        uint8_t *m1 = NULL, *m2 = NULL;
        if (ph > 0) {
            m1 = a->attn_mask, m2 = a->out_mask;
            sm_dropout_mask(m1, B, (int64_t)L * H, ph, drop->seed, drop->step, SM_SITE_LAYER(l, 1));
            sm_dropout_mask(m2, B, (int64_t)L * H, ph, drop->seed, drop->step, SM_SITE_LAYER(l, 2));
        }
        sm_residual_layernorm_forward(a->ln1, a->res1, a->mean1, a->rstd1, b->tmp, lw->ao_b, m1, sh,
                                      x, lw->ln1_w, lw->ln1_b, N, H, eps);
        /* g = gelu(ln1 Wi^T + bi) */
        sm_linear_forward(a->pre, a->ln1, lw->i_w, NULL, N, H, I);
        sm_bias_gelu_forward(b->gelu, a->pre, lw->i_b, N, I);
        /* ln2 = LN2(ln1 + dropout(g Wo^T + bo)) */
        sm_linear_forward(b->tmp, b->gelu, lw->o_w, NULL, N, I, H);
        sm_residual_layernorm_forward(a->ln2, a->res2, a->mean2, a->rstd2, b->tmp, lw->o_b, m2, sh,
                                      a->ln1, lw->ln2_w, lw->ln2_b, N, H, eps);
        x = a->ln2;
    }
    b->out = x;
    return SELFMM_OK;
}

/* ---- backward ------------------------------------------------------------------------- */
selfmm_status sm_bert_backward(selfmm_model *m, sm_compute *c, const float *dcls)
{
    const selfmm_config *cfg = &m->cfg;
    sm_bert *b = &c->bert;
    const sm_weights *w = &m->w;
    sm_weights *g = &m->g;
    const int B = b->B, L = b->L, H = cfg->hidden_size, I = cfg->intermediate_size;
    const int nh = cfg->num_attention_heads, hd = H / nh, NL = cfg->num_hidden_layers;
    const int N = B * L;
    const float ph = (float)cfg->hidden_dropout_prob, pa = (float)cfg->attention_probs_dropout_prob;
    const float sh = ph > 0 ? sm_dropout_scale(ph) : 1.0f;
    selfmm_error *err = &m->err;
    SM_TRY(ensure_backward(b, cfg, err));
    /* text feature = last layer's output at row 0 of each sample */
    float *dX = b->dx, *dXn = b->dx2;
    zero(dX, (int64_t)N * H);
    for (int i = 0; i < B; i++) memcpy(dX + (size_t)i * L * H, dcls + (size_t)i * H, (size_t)H * sizeof(float));

    for (int l = NL - 1; l >= 0; l--) {
        sm_bert_acts *a = &b->acts[l];
        const sm_bert_layer_w *lw = &w->layer[l];
        sm_bert_layer_w *lg = &g->layer[l];
        const float *x = l > 0 ? b->acts[l - 1].ln2 : (ph > 0 ? b->x0 : b->emb_ln);
        const uint8_t *m1 = ph > 0 ? a->attn_mask : NULL, *m2 = ph > 0 ? a->out_mask : NULL;
        /* ln2 = LN2(ln1 + dropout(g Wo^T + bo)): dX is d ln2 */
        zero(b->dtmp, (int64_t)N * H);
        zero(b->dln1, (int64_t)N * H);
        sm_residual_layernorm_backward(b->dtmp, b->dln1, lg->ln2_w, lg->ln2_b, dX, a->res2, m2, sh,
                                       lw->ln2_w, a->mean2, a->rstd2, N, H);
        /* tmp = g Wo^T: dg = dtmp Wo first, then GELU's backward recomputes g for dWo */
        zero(b->dgelu, (int64_t)N * I);
        sm_linear_backward(b->dgelu, NULL, lg->o_b, b->dtmp, NULL, lw->o_w, N, I, H);
        zero(b->dpre, (int64_t)N * I);
        sm_bias_gelu_backward(b->dpre, b->gelu, b->dgelu, a->pre, N, I);
        sm_linear_backward(NULL, lg->o_w, NULL, b->dtmp, b->gelu, lw->o_w, N, I, H);
        /* pre = ln1 Wi^T + bi */
        sm_linear_backward(b->dln1, lg->i_w, lg->i_b, b->dpre, a->ln1, lw->i_w, N, H, I);
        /* ln1 = LN1(x + dropout(ctx Wao^T + bao)) */
        zero(b->dtmp, (int64_t)N * H);
        zero(dXn, (int64_t)N * H);
        sm_residual_layernorm_backward(b->dtmp, dXn, lg->ln1_w, lg->ln1_b, b->dln1, a->res1, m1, sh,
                                       lw->ln1_w, a->mean1, a->rstd1, N, H);
        zero(b->dctx, (int64_t)N * H);
        sm_linear_backward(b->dctx, lg->ao_w, lg->ao_b, b->dtmp, a->ctx, lw->ao_w, N, H, H);
        /* ctx = attention(q, k, v) */
        zero(b->dq, (int64_t)N * H);
        zero(b->dk, (int64_t)N * H);
        zero(b->dv, (int64_t)N * H);
        SM_TRY(sm_attention_backward(&c->dnnl, b->dq, b->dk, b->dv, b->dprobs, b->dctx, a->q, a->k,
                                     a->v, a->probs, pa > 0 ? a->probs_d : a->probs,
                                     pa > 0 ? a->probs_mask : NULL, pa, B, L, nh, hd, err));
        /* q, k, v = x W^T + b */
        sm_linear_backward(dXn, lg->q_w, lg->q_b, b->dq, x, lw->q_w, N, H, H);
        sm_linear_backward(dXn, lg->k_w, lg->k_b, b->dk, x, lw->k_w, N, H, H);
        sm_linear_backward(dXn, lg->v_w, lg->v_b, b->dv, x, lw->v_w, N, H, H);
        float *t = dX;
        dX = dXn, dXn = t;
    }
    /* x0 = dropout(LN(emb_sum)): reuse dXn for d emb_ln and dtmp for d emb_sum */
    const float *demb_ln = dX;
    if (ph > 0) {
        zero(dXn, (int64_t)N * H);
        sm_dropout_backward(dXn, dX, b->emb_mask, ph, (int64_t)N * H);
        demb_ln = dXn;
    }
    zero(b->dtmp, (int64_t)N * H);
    sm_layernorm_backward(b->dtmp, g->emb_ln_w, g->emb_ln_b, demb_ln, b->emb_sum, w->emb_ln_w,
                          b->emb_mean, b->emb_rstd, N, H);
    sm_embedding_backward(g->word_emb, g->pos_emb, g->type_emb, b->dtmp, b->ids, b->segs, B, L, L, H);
    return SELFMM_OK;
}
