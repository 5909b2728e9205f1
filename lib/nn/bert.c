/* bert.c -- the BERT encoder (docs/MODEL.md §2.1), forward and backward, at the
 * batch's run length L (the longest real text length: exact, see docs/MODEL.md §2.1).
 *
 * A layer (post-LN), over Nq query rows:
 *   q = xq Wq^T + bq; k, v = x Wk^T + bk, ...  (dense: oneDNN forward, OpenBLAS backward)
 *   ctx = attention(q, k, v, maskbias)         (attention.c, oneDNN matmul)
 *   ln1 = LN1(xq + dropout(ctx Wao^T + bao))   (fused tail, layernorm.c)
 *   g   = gelu(ln1 Wi^T + bi)                  (fused bias + GELU)
 *   ln2 = LN2(ln1 + dropout(g Wo^T + bo))      (fused tail) -> the layer's output
 * Every layer but the last has all N = B*L tokens as queries (xq = x). The text
 * feature is only the last layer's [CLS] row, which needs keys and values of every
 * token but nothing else of the other rows: the last layer runs its queries,
 * attention output and FFN on the B [CLS] rows only (xq = x gathered at position 0).
 * That is exact -- the same arithmetic on the rows that matter -- and saves ~7% of
 * a step. Dropout masks are drawn at the same element indices as the full layer.
 * For the same reason the layers run on the kept rows only (docs/MODEL.md §2.1): the
 * real tokens and each [CLS], P <= B*L rows packed sample by sample ("packed"
 * layout). Only attention needs the (B, L) layout: q, k, v are spread out to it
 * (zero rows where a token was dropped, which the -10000 mask hides) and the context
 * packed again; the backward does the reverse with their gradients.
 * The backward runs these lines in reverse; comments quote the line they undo. */
#include "nn/attention.h"
#include "nn/compute.h"
#include "nn/ops.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- buffers ------------------------------------------------------------------------ */
/* Every buffer is sized by the encoder's capacity b->cap: TOK tokens (B*L) and ATT
 * attention elements (B*nh*L*L), the largest seen. Three tables list them, each
 * buffer once: the encoder's own, one layer's (n_acts of them), the backward's. */
enum { TOK, ATT };

static int is_bf16(const sm_bert *b) { return b->cfg->precision == SELFMM_PRECISION_BF16; }

static void base_table(sm_bert *b, sm_bufs *t)
{
    const int64_t H = b->cfg->hidden_size, I = b->cfg->intermediate_size;
    const int ph = b->cfg->hidden_dropout_prob > 0, bf = is_bf16(b);
    SM_BUFS(t, SM_BUF(b->maskbias, TOK, 1),       /* (B, L) */
               SM_BUF(b->ids, TOK, 1),            /* (B, L) */
               SM_BUF(b->segs, TOK, 1),           /* (B, L) */
               SM_BUF(b->prow, TOK, 1),           /* (P) */
               SM_BUF(b->first_row, TOK, 1),      /* (B), room for N */
               SM_BUF(b->emb_sum, TOK, H),        /* (N, H) */
               SM_BUF(b->emb_ln, TOK, H),         /* (N, H) */
               SM_BUF(b->emb_mean, TOK, 1),       /* (N) */
               SM_BUF(b->emb_rstd, TOK, 1),       /* (N) */
               SM_BUF_IF(ph, b->emb_mask, TOK, H), /* (N, H) */
               SM_BUF_IF(ph, b->x0, TOK, H),      /* (N, H) */
               SM_BUF(b->tmp, TOK, H),            /* (N, H) */
               SM_BUF_IF(!bf, b->gelu, TOK, I), /* (N, I) */
               SM_BUF(b->xq, TOK, H),             /* (B, H), room for N */
               SM_BUF_IF(bf, b->ln1_s, TOK, H),   /* (N, H) */
               SM_BUF_IF(bf, b->ln2_s[0], TOK, H), /* (N, H) */
               SM_BUF_IF(bf, b->ln2_s[1], TOK, H), /* (N, H) */
               SM_BUF_IF(bf, b->xq16, TOK, H),    /* (B, H), room for N */
               SM_BUF_IF(bf, b->g16, TOK, I),     /* (N, I) */
               SM_BUF_IF(bf, b->d16, TOK, H));    /* (N, H) */
}

/* The bf16 weight copies: q, k, v, ao (H, H), i (I, H), o (H, I) per layer, in
 * PyTorch's (OC, C) layout, at offsets w16_offset gives. Sized by the config alone. */
static int64_t w16_layer(const selfmm_config *cfg)
{
    const int64_t H = cfg->hidden_size, I = cfg->intermediate_size;
    return 4 * H * H + 2 * H * I;
}

static void w16_table(sm_bert *b, sm_bufs *t)
{
    SM_BUFS(t, SM_BUF_IF(is_bf16(b), b->w16, SM_BUF_FIXED, w16_layer(b->cfg) * b->cfg->num_hidden_layers));
}

/* One layer's activations: N rows even in the last layer (which uses B). */
static void layer_table(const sm_bert *b, sm_bert_acts *a, sm_bufs *t)
{
    const int64_t H = b->cfg->hidden_size, I = b->cfg->intermediate_size;
    const int ph = b->cfg->hidden_dropout_prob > 0, pa = b->cfg->attention_probs_dropout_prob > 0;
    const int bf = b->bf16;
    SM_BUFS(t, SM_BUF_IF(!bf, a->q, TOK, H),       /* (N, H) */
               SM_BUF_IF(!bf, a->k, TOK, H),       /* (N, H) */
               SM_BUF_IF(!bf, a->v, TOK, H),       /* (N, H) */
               SM_BUF(a->probs, ATT, 1),           /* (B, nh, L, L) */
               SM_BUF_IF(pa && !bf, a->probs_d, ATT, 1), /* (B, nh, L, L) */
               SM_BUF_IF(pa, a->probs_mask, ATT, 1), /* (B, nh, L, L) */
               SM_BUF_IF(!bf, a->ctx, TOK, H),     /* (N, H) */
               SM_BUF(a->res1, TOK, H),            /* (N, H) */
               SM_BUF_IF(!bf, a->ln1, TOK, H),     /* (N, H) */
               SM_BUF(a->mean1, TOK, 1),           /* (N) */
               SM_BUF(a->rstd1, TOK, 1),           /* (N) */
               SM_BUF_IF(!bf, a->pre, TOK, I),     /* (N, I) */
               SM_BUF(a->res2, TOK, H),            /* (N, H) */
               SM_BUF_IF(!bf, a->ln2, TOK, H),     /* (N, H) */
               SM_BUF(a->mean2, TOK, 1),           /* (N) */
               SM_BUF(a->rstd2, TOK, 1),           /* (N) */
               SM_BUF_IF(ph, a->attn_mask, TOK, H), /* (N, H) */
               SM_BUF_IF(ph, a->out_mask, TOK, H), /* (N, H) */
               SM_BUF_IF(bf, a->x16, TOK, H),      /* (N, H) */
               SM_BUF_IF(bf, a->ctx16, TOK, H),    /* (N, H) */
               SM_BUF_IF(bf, a->ln116, TOK, H),    /* (N, H) */
               SM_BUF_IF(bf, a->pre16, TOK, I),    /* (N, I) */
               SM_BUF_IF(bf, a->q16, TOK, H),      /* (N, H) */
               SM_BUF_IF(bf, a->k16, TOK, H),      /* (N, H) */
               SM_BUF_IF(bf, a->v16, TOK, H),      /* (N, H) */
               SM_BUF_IF(bf, a->probs_d16, ATT, 1)); /* (B, nh, L, L) */
}

/* The backward's scratch. */
static void grad_table(sm_bert *b, sm_bufs *t)
{
    const int64_t H = b->cfg->hidden_size, I = b->cfg->intermediate_size;
    const int bf = b->bf16;
    SM_BUFS(t, SM_BUF(b->dx, TOK, H), SM_BUF(b->dx2, TOK, H), SM_BUF(b->dln1, TOK, H),
               SM_BUF(b->dtmp, TOK, H), SM_BUF_IF(!bf, b->dctx, TOK, H), SM_BUF(b->dq, TOK, H),
               SM_BUF(b->dk, TOK, H), SM_BUF(b->dv, TOK, H),   /* (N, H) each */
               SM_BUF(b->dgelu, TOK, I), SM_BUF(b->dpre, TOK, I), /* (N, I) */
               SM_BUF(b->dprobs, ATT, 1),                         /* (B, nh, L, L) */
               SM_BUF(b->dxq, TOK, H),                            /* (B, H), room for N */
               SM_BUF_IF(bf, b->dctx16, TOK, H),                  /* (N, H) */
               SM_BUF_IF(bf, b->dpre16, TOK, I),                  /* (N, I) */
               SM_BUF_IF(bf, b->dt16, TOK, I),                    /* (I, N) */
               SM_BUF_IF(bf, b->dprobs16, ATT, 1));               /* (B, nh, L, L) */
}

/* Free every layer's activations and the backward's scratch (all sized by cap). */
static void free_layers(sm_bert *b)
{
    sm_bufs t;
    for (int l = 0; l < b->n_acts; l++) {
        layer_table(b, &b->acts[l], &t);
        sm_bufs_free(&t);
    }
    b->n_acts = 0;
    grad_table(b, &t);
    sm_bufs_free(&t);
}

void sm_bert_free(sm_bert *b)
{
    if (!b->cfg) return; /* never used */
    free_layers(b);
    free(b->acts);
    sm_bufs t;
    base_table(b, &t);
    sm_bufs_free(&t);
    w16_table(b, &t);
    sm_bufs_free(&t);
    b->w16_version = 0;
    b->acts = NULL;
    b->cap = (sm_bufsize){{0}};
}

/* Room for a forward of B x L with `layers` layers of saved activations. */
static selfmm_status ensure_forward(sm_bert *b, int B, int L, int layers, selfmm_error *err)
{
    const sm_bufsize need = {{(int64_t)B * L, (int64_t)B * b->cfg->num_attention_heads * L * L}};
    /* a larger capacity: the layers and the backward's scratch go first, so that
     * nothing of the old size is held while the new is allocated; the forward
     * allocates the layers it needs, the next backward its scratch */
    if (need.n[TOK] > b->cap.n[TOK] || need.n[ATT] > b->cap.n[ATT]) free_layers(b);
    /* another precision (selfmm_model_set_precision): other layer buffers */
    if (b->bf16 != is_bf16(b)) free_layers(b), b->bf16 = is_bf16(b);
    sm_bufs t;
    w16_table(b, &t);
    const sm_bufsize none = {{0}};
    const int had_w16 = b->w16 != NULL;
    if (sm_bufs_alloc(&t, &none) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_NOMEM, "BERT: cannot allocate the bf16 copies of its weights");
    if (!had_w16 || !b->w16) b->w16_version = 0; /* new (or no) copies: made at the next forward */
    base_table(b, &t);
    if (sm_bufs_grow(&t, &b->cap, &need) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_NOMEM, "BERT: cannot allocate activations for %d x %d tokens", B, L);
    if (layers > b->n_acts) {
        sm_bert_acts *grown = realloc(b->acts, (size_t)layers * sizeof *grown);
        if (!grown) return sm_error(err, SELFMM_ERR_NOMEM, "BERT: out of memory");
        b->acts = grown;
        /* n_acts counts complete layers only: after a failure the next call retries */
        for (int l = b->n_acts; l < layers; l++) {
            memset(&b->acts[l], 0, sizeof b->acts[l]);
            layer_table(b, &b->acts[l], &t);
            if (sm_bufs_alloc(&t, &b->cap) != SELFMM_OK)
                return sm_error(err, SELFMM_ERR_NOMEM,
                                "BERT: cannot allocate the activations of layer %d (%lld tokens)", l,
                                (long long)b->cap.n[TOK]);
            b->n_acts = l + 1;
        }
    }
    return SELFMM_OK;
}

static selfmm_status ensure_backward(sm_bert *b, selfmm_error *err)
{
    sm_bufs t;
    grad_table(b, &t);
    if (sm_bufs_alloc(&t, &b->cap) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_NOMEM, "BERT: cannot allocate gradient buffers");
    return SELFMM_OK;
}

static void zero(float *p, int64_t n) { memset(p, 0, (size_t)n * sizeof(float)); }

/* ---- kept rows (docs/MODEL.md §2.1) ----------------------------------------------------
 * Row t of sample i is kept if its mask is 1 or t = 0 ([CLS] is the output). A masked
 * key's softmax weight is exactly 0 while a real key exists in the row, which the
 * forward's checks guarantee (an all-zero mask is refused). Sets P, prow, first_row. */
static void keep_rows(sm_bert *b, const selfmm_batch *bt, int B, int L)
{
    int P = 0;
    for (int i = 0; i < B; i++) {
        const int32_t *mk = bt->text_mask + (size_t)i * bt->text_len;
        b->first_row[i] = P;
        for (int t = 0; t < L; t++)
            if (t == 0 || mk[t] != 0) b->prow[P++] = i * L + t;
    }
    b->P = P;
}

/* Packed rows to their (B, L) places in the same buffer, last first (a row only moves
 * up), and zero rows where a token was dropped. Rows of `bytes` bytes. */
static void rows_spread(void *buf, size_t bytes, const int32_t *prow, int P, int N)
{
    char *p = buf;
    if (P == N) return; /* nothing was dropped: prow[r] = r */
    for (int d = N - 1, r = P - 1; d >= 0; d--) {
        if (r >= 0 && prow[r] == d) {
            if (r != d) memcpy(p + (size_t)d * bytes, p + (size_t)r * bytes, bytes);
            r--;
        } else {
            memset(p + (size_t)d * bytes, 0, bytes);
        }
    }
}

/* The reverse: the kept rows of a (B, L) buffer packed in place, first first. */
static void rows_pack(void *buf, size_t bytes, const int32_t *prow, int P)
{
    char *p = buf;
    for (int r = 0; r < P; r++)
        if (prow[r] != r) memcpy(p + (size_t)r * bytes, p + (size_t)prow[r] * bytes, bytes);
}

double sm_bert_forward_flop(const selfmm_config *cfg, int B, int L, int P)
{
    const double N = (double)B * L, H = cfg->hidden_size, I = cfg->intermediate_size;
    /* a full layer: q, k, v, attention output 4 x (P,H).(H,H) over the P kept rows;
     * FFN (P,H).(H,I) and (P,I).(I,H); attention q k^T and probs v in the (B, L)
     * layout, B*L*L*H multiply-adds each. The last layer: k and v over P rows, the
     * rest over the B [CLS] rows. */
    double full = 2.0 * P * H * H * 4 + 2.0 * P * H * I * 2 + 2.0 * 2.0 * N * L * H;
    double last = 2.0 * P * H * H * 2 + 2.0 * B * H * H * 2 + 2.0 * B * H * I * 2 + 2.0 * 2.0 * B * L * H;
    return full * (cfg->num_hidden_layers - 1) + last;
}

/* Everything a layer needs to know besides its weights and activations. */
typedef struct layer_run {
    const selfmm_config *cfg;
    sm_compute *c;
    int l, B, L, cls;            /* cls: queries are the [CLS] rows only (last layer) */
    int P;                       /* the kept rows (sm_bert's P, prow, first_row) */
    float ph, pa, sh;            /* hidden / attention dropout and the hidden scale */
    selfmm_error *err;
} layer_run;

/* ---- forward ------------------------------------------------------------------------- */
/* Forward dense layers on oneDNN matmul, backward GEMMs on cblas: measured per shape
 * (2 threads, 1248 tokens, median GFLOP/s, oneDNN vs cblas): the three forward (NT)
 * shapes 189-205 vs 179-188; the backward ones mixed -- input gradients 188 vs 181
 * (H x H), 169 vs 190 (K = I), 127 vs 179 (N = I); weight gradients 189 vs 182,
 * 187 vs 180, 127 vs 170 (I x H for the output dense) -- so cblas there. */
static selfmm_status dense(const layer_run *r, float *out, const float *inp, const float *w, const float *b,
                           int N, int C, int OC)
{
    return sm_dnnl_dense(&r->c->dnnl, out, inp, w, b, N, C, OC, r->err);
}

/* The layer's dropout masks: attention probabilities (*pm), after the attention output
 * (*m1) and after the FFN (*m2); NULL where the dropout is 0. */
static void layer_masks(const layer_run *r, sm_bert_acts *a, const sm_drop *drop, uint8_t **pm, uint8_t **m1,
                        uint8_t **m2)
{
    const int B = r->B, L = r->L, H = r->cfg->hidden_size, nh = r->cfg->num_attention_heads;
    const int Lq = r->cls ? 1 : L;
    *pm = *m1 = *m2 = NULL;
    if (r->pa > 0) {
        /* element (head, q, k) of sample i is number (head*L + q)*L + k of its stream */
        *pm = a->probs_mask;
        sm_dropout_mask_at(*pm, B, drop->first, (int64_t)nh * L * L, r->pa, drop->seed, drop->step,
                           SM_SITE_LAYER(r->l, 0));
        if (r->cls) /* keep the q = 0 rows, compacted to (B, nh, 1, L) */
            for (int64_t row = 0; row < (int64_t)B * nh; row++)
                memmove(*pm + row * L, *pm + row * L * L, (size_t)L);
    }
    if (r->ph > 0) { /* element (t, h) is number t*H + h: the [CLS] row is the first H */
        *m1 = a->attn_mask, *m2 = a->out_mask;
        sm_dropout_mask_at(*m1, B, drop->first, (int64_t)Lq * H, r->ph, drop->seed, drop->step,
                           SM_SITE_LAYER(r->l, 1));
        sm_dropout_mask_at(*m2, B, drop->first, (int64_t)Lq * H, r->ph, drop->seed, drop->step,
                           SM_SITE_LAYER(r->l, 2));
        if (!r->cls) { /* drawn in the (B, L) layout, used packed */
            const sm_bert *b = &r->c->bert;
            rows_pack(*m1, (size_t)H, b->prow, r->P);
            rows_pack(*m2, (size_t)H, b->prow, r->P);
        }
    }
}

/* The [CLS] rows of x (P rows of `bytes` bytes) into xq (B rows). */
static void cls_rows_get(void *xq, const void *x, const int32_t *first_row, int B, size_t bytes)
{
    for (int i = 0; i < B; i++)
        memcpy((char *)xq + (size_t)i * bytes, (const char *)x + (size_t)first_row[i] * bytes, bytes);
}

static selfmm_status layer_forward(const layer_run *r, const sm_bert_layer_w *lw, sm_bert_acts *a,
                                   const float *x, const sm_drop *drop)
{
    sm_bert *b = &r->c->bert;
    const int B = r->B, L = r->L, H = r->cfg->hidden_size, I = r->cfg->intermediate_size;
    const int nh = r->cfg->num_attention_heads, hd = H / nh, N = B * L, P = r->P;
    const int Lq = r->cls ? 1 : L, Nq = r->cls ? B : P;
    const size_t row = (size_t)H * sizeof(float);
    const float eps = (float)r->cfg->layer_norm_eps;
    const float *xq = x;
    if (r->cls) { /* the [CLS] rows of the input */
        cls_rows_get(b->xq, x, b->first_row, B, row);
        xq = b->xq;
    }
    /* q, k, v of the kept rows, spread to the (B, L) layout for attention */
    SM_TRY(dense(r, a->q, xq, lw->q_w, lw->q_b, Nq, H, H));
    SM_TRY(dense(r, a->k, x, lw->k_w, lw->k_b, P, H, H));
    SM_TRY(dense(r, a->v, x, lw->v_w, lw->v_b, P, H, H));
    if (!r->cls) rows_spread(a->q, row, b->prow, P, N);
    rows_spread(a->k, row, b->prow, P, N);
    rows_spread(a->v, row, b->prow, P, N);
    uint8_t *pm, *m1, *m2;
    layer_masks(r, a, drop, &pm, &m1, &m2);
    SM_TRY(sm_attention_forward(&r->c->dnnl, a->ctx, a->probs, pm ? a->probs_d : a->probs, a->q, a->k, a->v,
                                b->maskbias, pm, r->pa, B, Lq, L, nh, hd, r->err));
    if (!r->cls) rows_pack(a->ctx, row, b->prow, P);
    /* ln1 = LN1(xq + dropout(ctx Wao^T + bao)) */
    SM_TRY(dense(r, b->tmp, a->ctx, lw->ao_w, NULL, Nq, H, H));
    sm_residual_layernorm_forward(a->ln1, a->res1, a->mean1, a->rstd1, b->tmp, lw->ao_b, m1, r->sh, xq,
                                  lw->ln1_w, lw->ln1_b, Nq, H, eps);
    /* g = gelu(ln1 Wi^T + bi) */
    SM_TRY(dense(r, a->pre, a->ln1, lw->i_w, NULL, Nq, H, I));
    sm_bias_gelu_forward(b->gelu, a->pre, lw->i_b, Nq, I);
    /* ln2 = LN2(ln1 + dropout(g Wo^T + bo)) */
    SM_TRY(dense(r, b->tmp, b->gelu, lw->o_w, NULL, Nq, I, H));
    sm_residual_layernorm_forward(a->ln2, a->res2, a->mean2, a->rstd2, b->tmp, lw->o_b, m2, r->sh, a->ln1,
                                  lw->ln2_w, lw->ln2_b, Nq, H, eps);
    return SELFMM_OK;
}

/* ---- precision bf16 (docs/MODEL.md §8) ------------------------------------------------
 * The same layer with every GEMM on bf16 inputs (oneDNN matmul, f32 accumulation),
 * attention's four products included; the scores, softmax, LayerNorm, GELU and dropout
 * arithmetic stay f32, and so do the gradients and the weights the optimizer updates.
 * What a GEMM reads is rounded once when it is written: q, k, v, ctx and the dropped
 * probabilities come out of their GEMMs in bf16, and the backward keeps the inputs
 * it needs in bf16 (x16, q16, k16, v16, probs_d16, ctx16, ln116, pre16 per layer).
 * An output gradient is rounded once (d16) for its two GEMMs, after its bias gradient
 * is summed from the f32 values. Weight gradients accumulate in f32 straight in the
 * gradient arena (a sum post-op). Every operand is a dense matrix or a permutation of
 * one (docs/ARCHITECTURE.md, Compute, "bf16"). */

/* The bf16 copies of layer l's weights. */
typedef struct w16_layer_ptrs {
    const sm_bf16 *q, *k, *v, *ao, *i, *o;
} w16_layer_ptrs;

static w16_layer_ptrs w16_at(const sm_bert *b, int l)
{
    const int64_t H = b->cfg->hidden_size, I = b->cfg->intermediate_size;
    const sm_bf16 *p = b->w16 + (size_t)l * (size_t)w16_layer(b->cfg);
    const int64_t HH = H * H, HI = H * I;
    return (w16_layer_ptrs){p, p + HH, p + 2 * HH, p + 3 * HH, p + 4 * HH, p + 4 * HH + HI};
}

/* Convert the weights again when they changed since the last conversion: once per
 * optimizer step in training, once after a load for evaluation. */
static void refresh_w16(const sm_net *m, sm_bert *b)
{
    if (b->w16_version == m->weights_version) return;
    const int64_t H = b->cfg->hidden_size, I = b->cfg->intermediate_size, HH = H * H, HI = H * I;
    for (int l = 0; l < b->cfg->num_hidden_layers; l++) {
        const sm_bert_layer_w *lw = &m->w.layer[l];
        sm_bf16 *p = b->w16 + (size_t)l * (size_t)w16_layer(b->cfg);
        sm_bf16_pack(p, lw->q_w, HH);
        sm_bf16_pack(p + HH, lw->k_w, HH);
        sm_bf16_pack(p + 2 * HH, lw->v_w, HH);
        sm_bf16_pack(p + 3 * HH, lw->ao_w, HH);
        sm_bf16_pack(p + 4 * HH, lw->i_w, HI);
        sm_bf16_pack(p + 4 * HH + HI, lw->o_w, HI);
    }
    b->w16_version = m->weights_version;
}

/* out (N, OC) = inp16 (N, C) . w16^T [+ bias], out of type tout (dnnl_f32 or dnnl_bf16);
 * gelu: out = gelu(...), oneDNN's erf GELU as a post-op */
static selfmm_status fwd16_gelu(const layer_run *r, void *out, int64_t tout, const sm_bf16 *inp, const sm_bf16 *w,
                                const float *bias, int N, int C, int OC, int gelu)
{
    sm_mm_desc d = sm_mm_2d(N, OC, C, 0, 1, dnnl_bf16, dnnl_bf16, tout);
    d.bias = bias != NULL;
    d.gelu = gelu;
    return sm_dnnl_matmul(&r->c->dnnl, &d, inp, w, bias, out, r->err);
}

static selfmm_status fwd16(const layer_run *r, void *out, int64_t tout, const sm_bf16 *inp, const sm_bf16 *w,
                           const float *bias, int N, int C, int OC)
{
    return fwd16_gelu(r, out, tout, inp, w, bias, N, C, OC, 0);
}

/* dW (OC, C) += dY^T X, from b->dt16 (OC, N), the transposed bf16 copy of dY that
 * sm_bf16_grad_pack wrote: oneDNN's AMX matmul runs 1.2-1.26x faster on it than on a
 * transposed view of a row-major copy (docs/PLATFORM.md §4). */
static selfmm_status dw16(const layer_run *r, float *dW, const sm_bf16 *X, int N, int C, int OC)
{
    sm_mm_desc d = sm_mm_2d(OC, C, N, 0, 0, dnnl_bf16, dnnl_bf16, dnnl_f32);
    d.accumulate = 1;
    return sm_dnnl_matmul(&r->c->dnnl, &d, r->c->bert.dt16, X, NULL, dW, r->err);
}

/* The backward of out = X W^T + bias for dY (N, OC) f32: one pass over dY gives its
 * bf16 copies (row-major unless the caller has it as dY16, and transposed) and
 * dbias += its column sums; then dX (N, C) = or += dY W (add: 1 for +=; dX of type
 * tdx, dnnl_f32 or, with add 0, dnnl_bf16) and dW (OC, C) += dY^T X. */
static selfmm_status bwd16r(const layer_run *r, void *dX, int64_t tdx, int add, float *dW, float *dbias,
                            const float *dY, const sm_bf16 *dY16, const sm_bf16 *X, const sm_bf16 *W, int N, int C,
                            int OC)
{
    sm_bert *b = &r->c->bert;
    sm_bf16_grad_pack(dY16 ? NULL : b->d16, b->dt16, dbias, dY, N, OC);
    if (!dY16) dY16 = b->d16;
    {
        sm_mm_desc d = sm_mm_2d(N, C, OC, 0, 0, dnnl_bf16, dnnl_bf16, tdx);
        d.accumulate = add;
        SM_TRY(sm_dnnl_matmul(&r->c->dnnl, &d, dY16, W, NULL, dX, r->err));
    }
    return dw16(r, dW, X, N, C, OC);
}

static selfmm_status bwd16(const layer_run *r, void *dX, int64_t tdx, int add, float *dW, float *dbias,
                           const float *dY, const sm_bf16 *X, const sm_bf16 *W, int N, int C, int OC)
{
    return bwd16r(r, dX, tdx, add, dW, dbias, dY, NULL, X, W, N, C, OC);
}

/* The layer's output goes to out (not kept: the backward needs only its bf16 copy,
 * the next layer's x16, which out16 receives; NULL for the last layer). a->x16, the
 * bf16 copy of x, is there already (the previous layer's out16, or the caller's). */
static selfmm_status layer_forward16(const layer_run *r, const sm_bert_layer_w *lw, sm_bert_acts *a,
                                     const float *x, const sm_drop *drop, float *out, sm_bf16 *out16)
{
    sm_bert *b = &r->c->bert;
    const w16_layer_ptrs w = w16_at(b, r->l);
    const int B = r->B, L = r->L, H = r->cfg->hidden_size, I = r->cfg->intermediate_size;
    const int nh = r->cfg->num_attention_heads, hd = H / nh, N = B * L, P = r->P;
    const int Lq = r->cls ? 1 : L, Nq = r->cls ? B : P;
    const size_t row = (size_t)H * sizeof(sm_bf16);
    const float eps = (float)r->cfg->layer_norm_eps;
    const float *xq = x;
    const sm_bf16 *xq16 = a->x16;
    if (r->cls) { /* the [CLS] rows of the input */
        cls_rows_get(b->xq, x, b->first_row, B, (size_t)H * sizeof(float));
        cls_rows_get(b->xq16, a->x16, b->first_row, B, row);
        xq = b->xq, xq16 = b->xq16;
    }
    /* q, k, v of the kept rows, spread to the (B, L) layout for attention */
    SM_TRY(fwd16(r, a->q16, dnnl_bf16, xq16, w.q, lw->q_b, Nq, H, H));
    SM_TRY(fwd16(r, a->k16, dnnl_bf16, a->x16, w.k, lw->k_b, P, H, H));
    SM_TRY(fwd16(r, a->v16, dnnl_bf16, a->x16, w.v, lw->v_b, P, H, H));
    if (!r->cls) rows_spread(a->q16, row, b->prow, P, N);
    rows_spread(a->k16, row, b->prow, P, N);
    rows_spread(a->v16, row, b->prow, P, N);
    uint8_t *pm, *m1, *m2;
    layer_masks(r, a, drop, &pm, &m1, &m2);
    float *ln1 = b->ln1_s;
    SM_TRY(sm_attention_forward_bf16(&r->c->dnnl, a->ctx16, a->probs, a->probs_d16, a->q16, a->k16, a->v16,
                                     b->maskbias, pm, r->pa, B, Lq, L, nh, hd, r->err));
    if (!r->cls) rows_pack(a->ctx16, row, b->prow, P);
    /* ln1 = LN1(xq + dropout(ctx Wao^T + bao)) */
    SM_TRY(fwd16(r, b->tmp, dnnl_f32, a->ctx16, w.ao, NULL, Nq, H, H));
    sm_residual_layernorm_forward16(ln1, a->ln116, a->res1, a->mean1, a->rstd1, b->tmp, lw->ao_b, m1, r->sh, xq,
                                    lw->ln1_w, lw->ln1_b, Nq, H, eps);
    /* g = gelu(ln1 Wi^T + bi) */
    if (drop->train) { /* pre is kept for the backward */
        SM_TRY(fwd16(r, a->pre16, dnnl_bf16, a->ln116, w.i, lw->i_b, Nq, H, I));
        sm_gelu_forward_bf16(b->g16, a->pre16, Nq, I);
    } else { /* evaluation: GELU in the GEMM, straight to bf16 */
        SM_TRY(fwd16_gelu(r, b->g16, dnnl_bf16, a->ln116, w.i, lw->i_b, Nq, H, I, 1));
    }
    /* ln2 = LN2(ln1 + dropout(g Wo^T + bo)) */
    SM_TRY(fwd16(r, b->tmp, dnnl_f32, b->g16, w.o, NULL, Nq, I, H));
    sm_residual_layernorm_forward16(out, out16, a->res2, a->mean2, a->rstd2, b->tmp, lw->o_b, m2, r->sh, ln1,
                                    lw->ln2_w, lw->ln2_b, Nq, H, eps);
    return SELFMM_OK;
}

/* The gradient of the [CLS] rows (B x H) added into the gradient of all kept rows
 * (P x H): the last layer's queries are those rows, read from x. */
static void cls_rows_add(float *dX, const float *dxq, const int32_t *first_row, int B, int H)
{
    for (int i = 0; i < B; i++) {
        float *d = dX + (size_t)first_row[i] * H;
        const float *s = dxq + (size_t)i * H;
        for (int h = 0; h < H; h++) d[h] += s[h];
    }
}

/* layer_backward's contract in bf16, but dX is written (=), not added to. */
static selfmm_status layer_backward16(const layer_run *r, const sm_bert_layer_w *lw, sm_bert_layer_w *lg,
                                      sm_bert_acts *a, float *dX, const float *dY)
{
    sm_bert *b = &r->c->bert;
    const w16_layer_ptrs w = w16_at(b, r->l);
    const int B = r->B, L = r->L, H = r->cfg->hidden_size, I = r->cfg->intermediate_size;
    const int nh = r->cfg->num_attention_heads, hd = H / nh, N = B * L, P = r->P;
    const int Lq = r->cls ? 1 : L, Nq = r->cls ? B : P;
    const size_t row = (size_t)H * sizeof(float);
    const uint8_t *m1 = r->ph > 0 ? a->attn_mask : NULL, *m2 = r->ph > 0 ? a->out_mask : NULL;
    const sm_bf16 *xq16 = r->cls ? b->xq16 : a->x16;
    float *dxq = dX; /* written (=) by ln1's backward, then the q, k, v GEMMs add */
    if (r->cls) {
        dxq = b->dxq;
        /* as the forward gathered them (an eval forward may have run since) */
        cls_rows_get(b->xq16, a->x16, b->first_row, B, (size_t)H * sizeof(sm_bf16));
    }
    /* ln2 = LN2(ln1 + dropout(g Wo^T + bo)) */
    sm_residual_layernorm_backward_set(b->dtmp, b->dln1, lg->ln2_w, lg->ln2_b, dY, a->res2, m2, r->sh, lw->ln2_w,
                                       a->mean2, a->rstd2, Nq, H, 1);
    /* tmp = g Wo^T: dg = dtmp Wo first, then GELU's backward recomputes g for dWo */
    sm_bf16_grad_pack(b->d16, b->dt16, lg->o_b, b->dtmp, Nq, H);
    {
        sm_mm_desc d = sm_mm_2d(Nq, I, H, 0, 0, dnnl_bf16, dnnl_bf16, dnnl_f32);
        SM_TRY(sm_dnnl_matmul(&r->c->dnnl, &d, b->d16, w.o, NULL, b->dgelu, r->err));
    }
    sm_gelu_backward_bf16(b->dpre, b->dpre16, b->g16, b->dgelu, a->pre16, Nq, I);
    SM_TRY(dw16(r, lg->o_w, b->g16, Nq, I, H));
    /* pre = ln1 Wi^T + bi */
    SM_TRY(bwd16r(r, b->dln1, dnnl_f32, 1, lg->i_w, lg->i_b, b->dpre, b->dpre16, a->ln116, w.i, Nq, H, I));
    /* ln1 = LN1(xq + dropout(ctx Wao^T + bao)) */
    sm_residual_layernorm_backward_set(b->dtmp, dxq, lg->ln1_w, lg->ln1_b, b->dln1, a->res1, m1, r->sh, lw->ln1_w,
                                       a->mean1, a->rstd1, Nq, H, 1);
    SM_TRY(bwd16(r, b->dctx16, dnnl_bf16, 0, lg->ao_w, lg->ao_b, b->dtmp, a->ctx16, w.ao, Nq, H, H));
    /* ctx = attention(q, k, v), in the (B, L) layout: the gradients spread and packed */
    if (!r->cls) rows_spread(b->dctx16, (size_t)H * sizeof(sm_bf16), b->prow, P, N);
    SM_TRY(sm_attention_backward_bf16(&r->c->dnnl, b->dq, b->dk, b->dv, b->dprobs, b->dprobs16, b->dctx16, a->q16,
                                      a->k16, a->v16, a->probs, a->probs_d16, r->pa > 0 ? a->probs_mask : NULL,
                                      r->pa, B, Lq, L, nh, hd, r->err));
    if (!r->cls) rows_pack(b->dq, row, b->prow, P);
    rows_pack(b->dk, row, b->prow, P);
    rows_pack(b->dv, row, b->prow, P);
    /* q = xq Wq^T + bq; k, v = x W^T + b */
    SM_TRY(bwd16(r, dxq, dnnl_f32, 1, lg->q_w, lg->q_b, b->dq, xq16, w.q, Nq, H, H));
    /* the last layer's dX has no ln1 term: k's GEMM writes it */
    SM_TRY(bwd16(r, dX, dnnl_f32, !r->cls, lg->k_w, lg->k_b, b->dk, a->x16, w.k, P, H, H));
    SM_TRY(bwd16(r, dX, dnnl_f32, 1, lg->v_w, lg->v_b, b->dv, a->x16, w.v, P, H, H));
    if (r->cls) cls_rows_add(dX, dxq, b->first_row, B, H); /* xq = the [CLS] rows of x */
    return SELFMM_OK;
}

selfmm_status sm_bert_forward(const sm_net *m, sm_compute *c, const selfmm_batch *bt, int L,
                              const sm_drop *drop, selfmm_error *err)
{
    const selfmm_config *cfg = &m->cfg;
    sm_bert *b = &c->bert;
    const sm_weights *w = &m->w;
    const int B = bt->batch, H = cfg->hidden_size, NL = cfg->num_hidden_layers, N = B * L;
    const float ph = drop->train ? (float)cfg->hidden_dropout_prob : 0.0f;
    SM_TRY(ensure_forward(b, B, L, drop->train ? NL : (NL < 2 ? NL : 2), err));
    b->B = B, b->L = L;
    keep_rows(b, bt, B, L);
    layer_run r = {cfg, c, 0, B, L, 0, b->P, ph, drop->train ? (float)cfg->attention_probs_dropout_prob : 0.0f,
                   ph > 0 ? sm_dropout_scale(ph) : 1.0f, err};
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
    sm_layernorm_forward(b->emb_ln, b->emb_mean, b->emb_rstd, b->emb_sum, w->emb_ln_w, w->emb_ln_b, N, H,
                         (float)cfg->layer_norm_eps);
    const float *x = b->emb_ln;
    if (ph > 0) {
        sm_dropout_mask_at(b->emb_mask, B, drop->first, (int64_t)L * H, ph, drop->seed, drop->step,
                           SM_SITE_EMBEDDINGS);
        sm_dropout_forward(b->x0, b->emb_ln, b->emb_mask, ph, (int64_t)N * H);
        x = b->x0;
    }
    /* the layers run on the kept rows (the backward needs emb_sum, not x, in (B, L)) */
    rows_pack((float *)x, (size_t)H * sizeof(float), b->prow, b->P);
    if (b->bf16) {
        refresh_w16(m, b);
        sm_bf16_pack(b->acts[0].x16, x, (int64_t)b->P * H); /* then each layer writes the next one's */
    }
    for (int l = 0; l < NL; l++) {
        sm_bert_acts *a = &b->acts[drop->train ? l : l % 2];
        r.l = l, r.cls = l == NL - 1;
        if (b->bf16) {
            sm_bf16 *next16 = r.cls ? NULL : b->acts[drop->train ? l + 1 : (l + 1) % 2].x16;
            SM_TRY(layer_forward16(&r, &w->layer[l], a, x, drop, b->ln2_s[l % 2], next16));
            x = b->ln2_s[l % 2];
        } else {
            SM_TRY(layer_forward(&r, &w->layer[l], a, x, drop));
            x = a->ln2;
        }
    }
    b->out = x; /* (B, H): the [CLS] rows */
    return SELFMM_OK;
}

/* ---- backward ------------------------------------------------------------------------- */
/* dY (Nq, H) is the gradient of the layer's output; adds the input's into dX (P, H),
 * which the caller zeroed. */
static selfmm_status layer_backward(const layer_run *r, const sm_bert_layer_w *lw, sm_bert_layer_w *lg,
                                    sm_bert_acts *a, const float *x, float *dX, const float *dY)
{
    sm_bert *b = &r->c->bert;
    const int B = r->B, L = r->L, H = r->cfg->hidden_size, I = r->cfg->intermediate_size;
    const int nh = r->cfg->num_attention_heads, hd = H / nh, N = B * L, P = r->P;
    const int Lq = r->cls ? 1 : L, Nq = r->cls ? B : P;
    const size_t row = (size_t)H * sizeof(float);
    const uint8_t *m1 = r->ph > 0 ? a->attn_mask : NULL, *m2 = r->ph > 0 ? a->out_mask : NULL;
    /* queries: the [CLS] rows (their own input gradient, added to dX at the end) or all */
    const float *xq = r->cls ? b->xq : x;
    float *dxq = dX;
    if (r->cls) {
        dxq = b->dxq;
        zero(dxq, (int64_t)Nq * H);
    }
    /* ln2 = LN2(ln1 + dropout(g Wo^T + bo)) */
    sm_residual_layernorm_backward_set(b->dtmp, b->dln1, lg->ln2_w, lg->ln2_b, dY, a->res2, m2, r->sh, lw->ln2_w,
                                       a->mean2, a->rstd2, Nq, H, 1);
    /* tmp = g Wo^T: dg = dtmp Wo first, then GELU's backward recomputes g for dWo */
    zero(b->dgelu, (int64_t)Nq * I);
    sm_linear_backward(b->dgelu, NULL, lg->o_b, b->dtmp, NULL, lw->o_w, Nq, I, H);
    zero(b->dpre, (int64_t)Nq * I);
    sm_bias_gelu_backward(b->dpre, b->gelu, b->dgelu, a->pre, Nq, I);
    sm_linear_backward(NULL, lg->o_w, NULL, b->dtmp, b->gelu, lw->o_w, Nq, I, H);
    /* pre = ln1 Wi^T + bi */
    sm_linear_backward(b->dln1, lg->i_w, lg->i_b, b->dpre, a->ln1, lw->i_w, Nq, H, I);
    /* ln1 = LN1(xq + dropout(ctx Wao^T + bao)) */
    zero(b->dtmp, (int64_t)Nq * H);
    sm_residual_layernorm_backward(b->dtmp, dxq, lg->ln1_w, lg->ln1_b, b->dln1, a->res1, m1, r->sh, lw->ln1_w,
                                   a->mean1, a->rstd1, Nq, H);
    zero(b->dctx, (int64_t)Nq * H);
    sm_linear_backward(b->dctx, lg->ao_w, lg->ao_b, b->dtmp, a->ctx, lw->ao_w, Nq, H, H);
    /* ctx = attention(q, k, v), in the (B, L) layout: the gradients spread and packed */
    if (!r->cls) rows_spread(b->dctx, row, b->prow, P, N);
    zero(b->dq, (int64_t)B * Lq * H);
    zero(b->dk, (int64_t)N * H);
    zero(b->dv, (int64_t)N * H);
    SM_TRY(sm_attention_backward(&r->c->dnnl, b->dq, b->dk, b->dv, b->dprobs, b->dctx, a->q, a->k, a->v,
                                 a->probs, r->pa > 0 ? a->probs_d : a->probs, r->pa > 0 ? a->probs_mask : NULL,
                                 r->pa, B, Lq, L, nh, hd, r->err));
    if (!r->cls) rows_pack(b->dq, row, b->prow, P);
    rows_pack(b->dk, row, b->prow, P);
    rows_pack(b->dv, row, b->prow, P);
    /* q = xq Wq^T + bq; k, v = x W^T + b */
    sm_linear_backward(dxq, lg->q_w, lg->q_b, b->dq, xq, lw->q_w, Nq, H, H);
    sm_linear_backward(dX, lg->k_w, lg->k_b, b->dk, x, lw->k_w, P, H, H);
    sm_linear_backward(dX, lg->v_w, lg->v_b, b->dv, x, lw->v_w, P, H, H);
    if (r->cls) cls_rows_add(dX, dxq, b->first_row, B, H); /* xq = the [CLS] rows of x */
    return SELFMM_OK;
}

selfmm_status sm_bert_backward(sm_net *m, sm_compute *c, const float *dcls, selfmm_error *err)
{
    const selfmm_config *cfg = &m->cfg;
    sm_bert *b = &c->bert;
    const sm_weights *w = &m->w;
    sm_weights *g = &m->g;
    const int B = b->B, L = b->L, H = cfg->hidden_size, NL = cfg->num_hidden_layers, N = B * L;
    const float ph = (float)cfg->hidden_dropout_prob;
    layer_run r = {cfg, c, 0, B, L, 0, b->P, ph, (float)cfg->attention_probs_dropout_prob,
                   ph > 0 ? sm_dropout_scale(ph) : 1.0f, err};
    SM_TRY(ensure_backward(b, err));
    /* the last layer's output is the (B, H) [CLS] rows: dcls is its gradient */
    const float *dY = dcls;
    float *dX = b->dx, *spare = b->dx2;
    for (int l = NL - 1; l >= 0; l--) {
        const float *x = l > 0 ? b->acts[l - 1].ln2 : (ph > 0 ? b->x0 : b->emb_ln);
        r.l = l, r.cls = l == NL - 1;
        if (b->bf16) { /* writes dX (=) */
            SM_TRY(layer_backward16(&r, &w->layer[l], &g->layer[l], &b->acts[l], dX, dY));
        } else {
            zero(dX, (int64_t)b->P * H);
            SM_TRY(layer_backward(&r, &w->layer[l], &g->layer[l], &b->acts[l], x, dX, dY));
        }
        dY = dX;
        float *t = dX;
        dX = spare, spare = t;
    }
    /* x0 = dropout(LN(emb_sum)): spare holds d x0 of the kept rows, spread to (B, L)
     * (a dropped row's gradient is exactly 0); dX is free */
    rows_spread(spare, (size_t)H * sizeof(float), b->prow, b->P, N);
    const float *demb_ln = spare;
    if (ph > 0) {
        zero(dX, (int64_t)N * H);
        sm_dropout_backward(dX, spare, b->emb_mask, ph, (int64_t)N * H);
        demb_ln = dX;
    }
    zero(b->dtmp, (int64_t)N * H);
    sm_layernorm_backward(b->dtmp, g->emb_ln_w, g->emb_ln_b, demb_ln, b->emb_sum, w->emb_ln_w, b->emb_mean,
                          b->emb_rstd, N, H);
    sm_embedding_backward(g->word_emb, g->pos_emb, g->type_emb, b->dtmp, b->ids, b->segs, B, L, L, H);
    return SELFMM_OK;
}
