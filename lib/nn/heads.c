/* heads.c -- the four output heads (docs/MODEL.md §2.3): fusion on concat[t, a, v], and one
 * head per modality; each is dropout -> layer_1 -> ReLU (the feature) -> layer_2 ->
 * ReLU -> layer_3 (a scalar). */
#include "nn/compute.h"
#include "nn/ops.h"

#include <string.h>

/* Every buffer of a head, once. Its one size is the batch. */
enum { BATCH };

static void head_table(sm_head *h, sm_bufs *t)
{
    SM_BUFS(t, SM_BUF(h->in_d, BATCH, h->in),    /* (B, in) */
               SM_BUF(h->mask, BATCH, h->in),    /* (B, in) */
               SM_BUF(h->h1, BATCH, h->dim),     /* (B, dim) */
               SM_BUF(h->h2, BATCH, h->dim),     /* (B, dim) */
               SM_BUF(h->y, BATCH, 1),           /* (B) */
               SM_BUF(h->din_d, BATCH, h->in),   /* (B, in) backward */
               SM_BUF(h->dh1, BATCH, h->dim),    /* (B, dim) backward */
               SM_BUF(h->dh2, BATCH, h->dim),    /* (B, dim) backward */
               SM_BUF(h->dpre, BATCH, h->dim));  /* (B, dim) backward */
}

static selfmm_status head_ensure(sm_head *h, int B, selfmm_error *err)
{
    sm_bufs t;
    head_table(h, &t);
    if (sm_bufs_grow(&t, &h->cap, &(sm_bufsize){{B}}) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_NOMEM, "heads: out of memory for batch %d", B);
    return SELFMM_OK;
}

void sm_heads_free(sm_compute *c)
{
    for (int k = 0; k < 4; k++) {
        sm_bufs t;
        head_table(&c->head[k], &t);
        sm_bufs_free(&t);
        c->head[k].cap = (sm_bufsize){{0}};
    }
}

static void head_forward(sm_head *h, const sm_head_w *w, const float *in, int B, float p,
                         uint32_t site, const sm_drop *drop)
{
    const int64_t ni = (int64_t)B * h->in, nd = (int64_t)B * h->dim;
    /* in_d = dropout(in) */
    h->p = drop->train ? p : 0.0f;
    if (h->p > 0) sm_dropout_mask_at(h->mask, B, drop->first, h->in, h->p, drop->seed, drop->step, site);
    sm_dropout_forward(h->in_d, in, h->p > 0 ? h->mask : NULL, h->p, ni);
    /* h1 = relu(in_d W1^T + b1), h2 = relu(h1 W2^T + b2), y = h2 W3^T + b3 */
    sm_linear_forward(h->h1, h->in_d, w->w1, w->b1, B, h->in, h->dim);
    sm_relu_forward(h->h1, h->h1, nd);
    sm_linear_forward(h->h2, h->h1, w->w2, w->b2, B, h->dim, h->dim);
    sm_relu_forward(h->h2, h->h2, nd);
    sm_linear_forward(h->y, h->h2, w->w3, w->b3, B, h->dim, 1);
}

/* din (B, in) += the gradient of the head's input. */
static void head_backward(sm_head *h, float *din, const sm_head_w *w, sm_head_w *g, const float *dy,
                          int B)
{
    const int64_t ni = (int64_t)B * h->in, nd = (int64_t)B * h->dim;
    /* y = h2 W3^T + b3 */
    memset(h->dh2, 0, (size_t)nd * sizeof(float));
    sm_linear_backward(h->dh2, g->w3, g->b3, dy, h->h2, w->w3, B, h->dim, 1);
    /* h2 = relu(h1 W2^T + b2) */
    memset(h->dpre, 0, (size_t)nd * sizeof(float));
    sm_relu_backward(h->dpre, h->dh2, h->h2, nd);
    memset(h->dh1, 0, (size_t)nd * sizeof(float));
    sm_linear_backward(h->dh1, g->w2, g->b2, h->dpre, h->h1, w->w2, B, h->dim, h->dim);
    /* h1 = relu(in_d W1^T + b1) */
    memset(h->dpre, 0, (size_t)nd * sizeof(float));
    sm_relu_backward(h->dpre, h->dh1, h->h1, nd);
    memset(h->din_d, 0, (size_t)ni * sizeof(float));
    sm_linear_backward(h->din_d, g->w1, g->b1, h->dpre, h->in_d, w->w1, B, h->in, h->dim);
    /* in_d = dropout(in) */
    sm_dropout_backward(din, h->din_d, h->p > 0 ? h->mask : NULL, h->p, ni);
}

static float head_dropout(const selfmm_config *cfg, int k)
{
    const double p[4] = {cfg->post_fusion_dropout, cfg->post_text_dropout, cfg->post_audio_dropout,
                         cfg->post_video_dropout};
    return (float)p[k];
}

selfmm_status sm_heads_forward(const sm_net *m, sm_compute *c, const sm_drop *drop, selfmm_error *err)
{
    const selfmm_config *cfg = &m->cfg;
    const int B = c->B, H = cfg->hidden_size, ao = cfg->audio_out, vo = cfg->video_out;
    const int F = H + ao + vo;
    for (int k = 0; k < 4; k++) SM_TRY(head_ensure(&c->head[k], B, err));
    /* t = BERT's output: its (B, H) [CLS] rows; fusion input = concat[t, a, v] */
    for (int b = 0; b < B; b++) {
        const float *cls = c->bert.out + (size_t)b * H;
        float *f = c->fusion_in + (size_t)b * F;
        memcpy(f, cls, (size_t)H * sizeof(float));
        memcpy(f + H, c->sub[0].out + (size_t)b * ao, (size_t)ao * sizeof(float));
        memcpy(f + H + ao, c->sub[1].out + (size_t)b * vo, (size_t)vo * sizeof(float));
    }
    const float *in[4] = {c->fusion_in, c->bert.out, c->sub[0].out, c->sub[1].out};
    for (int k = 0; k < 4; k++)
        head_forward(&c->head[k], &m->w.head[k], in[k], B, head_dropout(cfg, k), SM_SITE_POST + (uint32_t)k,
                     drop);
    return SELFMM_OK;
}

selfmm_status sm_heads_backward(sm_net *m, sm_compute *c, const float *const dy[4], selfmm_error *err)
{
    const selfmm_config *cfg = &m->cfg;
    const int B = c->B, H = cfg->hidden_size, ao = cfg->audio_out, vo = cfg->video_out;
    const int F = H + ao + vo;
    float *din[4] = {c->dfusion_in, c->dtext, c->daudio, c->dvideo};
    const int width[4] = {F, H, ao, vo};
    for (int k = 0; k < 4; k++) memset(din[k], 0, (size_t)B * width[k] * sizeof(float));
    for (int k = 0; k < 4; k++)
        if (dy[k]) head_backward(&c->head[k], din[k], &m->w.head[k], &m->g.head[k], dy[k], B);
    /* concat[t, a, v] splits its gradient back */
    for (int b = 0; b < B; b++) {
        const float *f = c->dfusion_in + (size_t)b * F;
        float *t = c->dtext + (size_t)b * H, *a = c->daudio + (size_t)b * ao, *v = c->dvideo + (size_t)b * vo;
        for (int i = 0; i < H; i++) t[i] += f[i];
        for (int i = 0; i < ao; i++) a[i] += f[H + i];
        for (int i = 0; i < vo; i++) v[i] += f[H + ao + i];
    }
    return SELFMM_OK;
}
