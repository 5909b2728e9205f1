/* subnet.c -- AuViSubNet (docs/MODEL.md §2.2): LSTM final state -> dropout -> linear_1. */
#include "nn/compute.h"
#include "nn/ops.h"

#include <stdlib.h>
#include <string.h>

/* The per-sample buffers (the LSTM has its own), each once. Their one size is the
 * batch. */
enum { BATCH };

static void subnet_table(sm_subnet *s, sm_bufs *t)
{
    SM_BUFS(t, SM_BUF(s->h, BATCH, s->hidden),     /* (B, hidden) */
               SM_BUF(s->hd, BATCH, s->hidden),    /* (B, hidden) */
               SM_BUF(s->mask, BATCH, s->hidden),  /* (B, hidden) */
               SM_BUF(s->out, BATCH, s->out_dim),  /* (B, out_dim) */
               SM_BUF(s->dh, BATCH, s->hidden),    /* (B, hidden) backward */
               SM_BUF(s->dhd, BATCH, s->hidden));  /* (B, hidden) backward */
}

void sm_subnet_free(sm_subnet *s)
{
    sm_lstm_free(s->lstm);
    sm_lstm_free(s->lstm2);
    free(s->g2);
    sm_bufs t;
    subnet_table(s, &t);
    sm_bufs_free(&t);
    memset(s, 0, sizeof *s);
}

static selfmm_status ensure(sm_subnet *s, int B, selfmm_error *err)
{
    sm_bufs t;
    subnet_table(s, &t);
    if (sm_bufs_grow(&t, &s->cap, &(sm_bufsize){{B}}) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_NOMEM, "%s subnet: out of memory for batch %d", s->name, B);
    return SELFMM_OK;
}

/* The layout of g2, the one place that knows it: n[k] floats of w_ih (4h, D), w_hh
 * (4h, h), b_ih and b_hh (4h), one after the other. Returns their total. */
static size_t g2_layout(const sm_subnet *s, size_t n[4])
{
    const size_t G = (size_t)4 * s->hidden;
    n[0] = G * (size_t)s->in_dim, n[1] = G * (size_t)s->hidden, n[2] = n[3] = G;
    return n[0] + n[1] + n[2] + n[3];
}

/* LSTM part `part`'s samples: *b0 the first, the count returned; and its LSTM. */
static int part_samples(const sm_subnet *s, int part, int *b0)
{
    *b0 = part ? s->split : 0;
    return part ? s->B - s->split : s->split;
}

static sm_lstm *part_lstm(const sm_subnet *s, int part) { return part ? s->lstm2 : s->lstm; }

selfmm_status sm_subnet_prepare(sm_subnet *s, int B, int split, selfmm_error *err)
{
    SM_TRY(ensure(s, B, err));
    size_t n[4];
    if (split < B && !s->g2 && !(s->g2 = malloc(g2_layout(s, n) * sizeof(float))))
        return sm_error(err, SELFMM_ERR_NOMEM, "%s subnet: out of memory", s->name);
    s->B = B, s->split = split;
    return SELFMM_OK;
}

selfmm_status sm_subnet_forward_lstm(sm_subnet *s, int part, const sm_subnet_w *w, const float *x,
                                     const int32_t *len, int T, selfmm_error *err)
{
    int b0;
    const int n = part_samples(s, part, &b0);
    if (n == 0) return SELFMM_OK;
    /* h = LSTM final state at each sample's length */
    selfmm_status st = sm_lstm_forward(part_lstm(s, part), s->h + (size_t)b0 * s->hidden,
                                       x + (size_t)b0 * T * s->in_dim, len + b0, w->w_ih, w->w_hh, w->b_ih,
                                       w->b_hh, n, T, err);
    if (st != SELFMM_OK) return sm_error_prefix(err, st, "%s subnet", s->name);
    return SELFMM_OK;
}

void sm_subnet_forward_out(sm_subnet *s, const sm_subnet_w *w, float p, uint32_t site, const sm_drop *drop)
{
    const int B = s->B;
    /* hd = dropout(h) */
    s->p = drop->train ? p : 0.0f;
    const int64_t n = (int64_t)B * s->hidden;
    if (s->p > 0) sm_dropout_mask_at(s->mask, B, drop->first, s->hidden, s->p, drop->seed, drop->step, site);
    sm_dropout_forward(s->hd, s->h, s->p > 0 ? s->mask : NULL, s->p, n);
    /* out = hd W1^T + b1 */
    sm_linear_forward(s->out, s->hd, w->lin_w, w->lin_b, B, s->hidden, s->out_dim);
}

void sm_subnet_backward_out(sm_subnet *s, const sm_subnet_w *w, sm_subnet_w *g, const float *dout)
{
    const int B = s->B;
    const int64_t n = (int64_t)B * s->hidden;
    /* out = hd W1^T + b1 */
    memset(s->dhd, 0, (size_t)n * sizeof(float));
    sm_linear_backward(s->dhd, g->lin_w, g->lin_b, dout, s->hd, w->lin_w, B, s->hidden, s->out_dim);
    /* hd = dropout(h) */
    memset(s->dh, 0, (size_t)n * sizeof(float));
    sm_dropout_backward(s->dh, s->dhd, s->p > 0 ? s->mask : NULL, s->p, n);
}

selfmm_status sm_subnet_backward_lstm(sm_subnet *s, int part, const sm_subnet_w *w, sm_subnet_w *g,
                                      selfmm_error *err)
{
    int b0;
    if (part_samples(s, part, &b0) == 0) return SELFMM_OK;
    float *dw_ih = g->w_ih, *dw_hh = g->w_hh, *db_ih = g->b_ih, *db_hh = g->b_hh;
    if (part) {
        size_t n[4];
        memset(s->g2, 0, g2_layout(s, n) * sizeof(float));
        dw_ih = s->g2, dw_hh = dw_ih + n[0], db_ih = dw_hh + n[1], db_hh = db_ih + n[2];
    }
    /* h = LSTM(x) at each length; the input features take no gradient */
    selfmm_status st = sm_lstm_backward(part_lstm(s, part), NULL, dw_ih, dw_hh, db_ih, db_hh,
                                        s->dh + (size_t)b0 * s->hidden, w->w_ih, w->w_hh, err);
    if (st != SELFMM_OK) return sm_error_prefix(err, st, "%s subnet", s->name);
    return SELFMM_OK;
}

void sm_subnet_backward_merge(sm_subnet *s, sm_subnet_w *g)
{
    if (s->split == s->B) return;
    size_t n[4];
    g2_layout(s, n);
    float *const dst[4] = {g->w_ih, g->w_hh, g->b_ih, g->b_hh};
    const float *src = s->g2;
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < n[k]; i++) dst[k][i] += src[i];
        src += n[k];
    }
}

int sm_subnet_last_steps(const sm_subnet *s)
{
    const int a = sm_lstm_last_steps(s->lstm), b = s->split < s->B ? sm_lstm_last_steps(s->lstm2) : 0;
    return a > b ? a : b;
}
