/* lstm.c -- see lstm.h. oneDNN 2.6 traps handled here (docs/PLATFORM.md §3.1):
 * - explicit zero src_iter / src_iter_c (and diff_src_iter / _c buffers): with
 *   "no initial state" the forward is right but diff_weights_iter is wrong;
 * - forward and backward want different weight layouts (ldigo vs padded ldgoi):
 *   both are chosen by the primitive (format_tag_any) and filled by reorders from
 *   PyTorch's (4H, C) row-major, which is oneDNN's plain ldgoi;
 * - the backward accumulates into diff weights and diff bias: zeroed every call.
 *
 * The RNN primitives run on ONE OpenMP thread. Measured at the SIMS shapes (batch
 * 32, forward + backward): audio 400x33 -> 16: 8.3 ms on 1 thread, 9.4 ms on 2;
 * vision 55x709 -> 64: 23.6 ms vs 20.8 ms. The time-step loop has barriers at every
 * step, and when another process takes one of the two cores each barrier waits for
 * a scheduler slice: we saw 6 ms calls take 3 s. One thread costs nothing and cannot
 * stall that way; the LSTMs are ~1% of a training step either way.
 *
 * The audio and vision LSTMs run at the same time, one per thread (forward.c). So
 * each LSTM has its own stream and gives its primitives their scratchpad itself
 * (oneDNN's "user" mode): the library's shared scratchpad only allows a primitive on
 * the thread that created it, and which thread runs which subnet is not fixed. */
#include "nn/lstm.h"

#include "nn/buffers.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define PLANS 8

typedef struct plan {
    int T, B;
    uint64_t used;                       /* LRU stamp, 0 = empty */
    dnnl_primitive_desc_t fwd_pd, bwd_pd;
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t fwd_wl, fwd_wi;        /* weights in the forward's layout (owned) */
    dnnl_memory_t bwd_wl, bwd_wi;        /* ... the backward's */
    dnnl_memory_t dwl, dwi;              /* diff weights in the backward's layout */
    dnnl_memory_t ws;                    /* workspace, forward -> backward */
    dnnl_primitive_t r_fwd_wl, r_fwd_wi, r_bwd_wl, r_bwd_wi, r_dwl, r_dwi;
} plan;

struct sm_lstm {
    sm_dnnl *d;                          /* the engine; the stream is the LSTM's own */
    dnnl_stream_t stream;
    dnnl_primitive_attr_t attr;          /* scratchpad mode "user" */
    void *scratch;                       /* the scratchpad of every primitive below */
    size_t scratch_size;
    int C, H;
    plan plans[PLANS];
    uint64_t tick;
    plan *cur;                           /* plan of the last forward, NULL if none */
    int B, T, Tpad;                      /* shape of the last forward */
    sm_bufsize cap;                      /* the largest T x B and B seen (see lstm_table) */
    float *x;                            /* (T, B, C) time-major input, zero after each length */
    float *y;                            /* (T, B, H) dst_layer */
    float *dy;                           /* (T, B, H) diff_dst_layer */
    float *dx;                           /* (T, B, C) diff_src_layer */
    float *zero;                         /* (B, H) zero initial state */
    float *dsi, *dsic;                   /* (B, H) diff_src_iter, diff_src_iter_c (unused) */
    int32_t *len;                        /* (B) lengths of the last forward */
    float *bias, *dbias;                 /* (4H) b_ih + b_hh, its gradient */
    float *dw;                           /* (4H * max(C, H)) diff weights, PyTorch layout */
};

/* ---- memory descriptors ----------------------------------------------------------- */
static selfmm_status md_tag(dnnl_memory_desc_t *md, int n, const int64_t *dims,
                            dnnl_format_tag_t tag, selfmm_error *err)
{
    dnnl_dims_t d;
    for (int i = 0; i < n; i++) d[i] = dims[i];
    SM_DNNL(dnnl_memory_desc_init_by_tag(md, n, d, dnnl_f32, tag), "LSTM memory desc", err);
    return SELFMM_OK;
}

typedef struct mds {
    dnnl_memory_desc_t src, iter, wl_any, wi_any, wl_plain, wi_plain, bias, dst;
} mds;

static selfmm_status make_mds(mds *m, int T, int B, int C, int H, selfmm_error *err)
{
    SM_TRY(md_tag(&m->src, 3, (int64_t[]){T, B, C}, dnnl_tnc, err));
    SM_TRY(md_tag(&m->iter, 4, (int64_t[]){1, 1, B, H}, dnnl_ldnc, err));
    SM_TRY(md_tag(&m->wl_any, 5, (int64_t[]){1, 1, C, 4, H}, dnnl_format_tag_any, err));
    SM_TRY(md_tag(&m->wi_any, 5, (int64_t[]){1, 1, H, 4, H}, dnnl_format_tag_any, err));
    SM_TRY(md_tag(&m->wl_plain, 5, (int64_t[]){1, 1, C, 4, H}, dnnl_ldgoi, err));
    SM_TRY(md_tag(&m->wi_plain, 5, (int64_t[]){1, 1, H, 4, H}, dnnl_ldgoi, err));
    SM_TRY(md_tag(&m->bias, 4, (int64_t[]){1, 1, 4, H}, dnnl_ldgo, err));
    SM_TRY(md_tag(&m->dst, 3, (int64_t[]){T, B, H}, dnnl_tnc, err));
    return SELFMM_OK;
}

/* A memory allocated by oneDNN in the layout pd chose for argument arg. */
static selfmm_status alloc_arg(dnnl_memory_t *mem, sm_dnnl *d, dnnl_primitive_desc_t pd, int arg,
                               selfmm_error *err)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    if (!md) return sm_error(err, SELFMM_ERR_BACKEND, "oneDNN: LSTM: no memory desc for argument %d", arg);
    SM_DNNL(dnnl_memory_create(mem, md, d->engine, DNNL_MEMORY_ALLOCATE), "LSTM memory", err);
    return SELFMM_OK;
}

static selfmm_status reorder_prim(dnnl_primitive_t *prim, const sm_lstm *s, const dnnl_memory_desc_t *from,
                                  const dnnl_memory_desc_t *to, selfmm_error *err)
{
    dnnl_primitive_desc_t pd;
    SM_DNNL(dnnl_reorder_primitive_desc_create(&pd, from, s->d->engine, to, s->d->engine, s->attr),
            "LSTM weight reorder", err);
    selfmm_status st = sm_dnnl_check(dnnl_primitive_create(prim, pd), "LSTM weight reorder", err);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static const dnnl_memory_desc_t *mem_md(dnnl_memory_t m)
{
    const dnnl_memory_desc_t *md = NULL;
    dnnl_memory_get_memory_desc(m, &md);
    return md;
}

static void plan_clear(plan *p)
{
    dnnl_primitive_t prims[] = {p->fwd, p->bwd, p->r_fwd_wl, p->r_fwd_wi, p->r_bwd_wl, p->r_bwd_wi,
                                p->r_dwl, p->r_dwi};
    for (size_t i = 0; i < sizeof prims / sizeof *prims; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    dnnl_memory_t mems[] = {p->fwd_wl, p->fwd_wi, p->bwd_wl, p->bwd_wi, p->dwl, p->dwi, p->ws};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (p->fwd_pd) dnnl_primitive_desc_destroy(p->fwd_pd);
    if (p->bwd_pd) dnnl_primitive_desc_destroy(p->bwd_pd);
    memset(p, 0, sizeof *p);
}

static selfmm_status plan_forward(sm_lstm *s, plan *p, int T, int B, selfmm_error *err)
{
    mds m;
    SM_TRY(make_mds(&m, T, B, s->C, s->H, err));
    dnnl_rnn_desc_t desc;
    SM_DNNL(dnnl_lstm_forward_desc_init(&desc, dnnl_forward_training, dnnl_unidirectional_left2right,
                                        &m.src, &m.iter, &m.iter, &m.wl_any, &m.wi_any, &m.bias,
                                        &m.dst, NULL, NULL, 0),
            "LSTM forward desc", err);
    SM_DNNL(dnnl_primitive_desc_create(&p->fwd_pd, &desc, s->attr, s->d->engine, NULL),
            "LSTM forward primitive descriptor", err);
    SM_DNNL(dnnl_primitive_create(&p->fwd, p->fwd_pd), "LSTM forward primitive", err);
    SM_TRY(alloc_arg(&p->fwd_wl, s->d, p->fwd_pd, DNNL_ARG_WEIGHTS_LAYER, err));
    SM_TRY(alloc_arg(&p->fwd_wi, s->d, p->fwd_pd, DNNL_ARG_WEIGHTS_ITER, err));
    SM_TRY(alloc_arg(&p->ws, s->d, p->fwd_pd, DNNL_ARG_WORKSPACE, err));
    SM_TRY(reorder_prim(&p->r_fwd_wl, s, &m.wl_plain, mem_md(p->fwd_wl), err));
    SM_TRY(reorder_prim(&p->r_fwd_wi, s, &m.wi_plain, mem_md(p->fwd_wi), err));
    p->T = T, p->B = B;
    return SELFMM_OK;
}

static selfmm_status plan_backward(sm_lstm *s, plan *p, selfmm_error *err)
{
    mds m;
    SM_TRY(make_mds(&m, p->T, p->B, s->C, s->H, err));
    dnnl_rnn_desc_t desc;
    SM_DNNL(dnnl_lstm_backward_desc_init(&desc, dnnl_backward, dnnl_unidirectional_left2right,
                                         &m.src, &m.iter, &m.iter, &m.wl_any, &m.wi_any, &m.bias,
                                         &m.dst, NULL, NULL, &m.src, &m.iter, &m.iter, &m.wl_any,
                                         &m.wi_any, &m.bias, &m.dst, NULL, NULL, 0),
            "LSTM backward desc", err);
    SM_DNNL(dnnl_primitive_desc_create(&p->bwd_pd, &desc, s->attr, s->d->engine, p->fwd_pd),
            "LSTM backward primitive descriptor", err);
    SM_DNNL(dnnl_primitive_create(&p->bwd, p->bwd_pd), "LSTM backward primitive", err);
    SM_TRY(alloc_arg(&p->bwd_wl, s->d, p->bwd_pd, DNNL_ARG_WEIGHTS_LAYER, err));
    SM_TRY(alloc_arg(&p->bwd_wi, s->d, p->bwd_pd, DNNL_ARG_WEIGHTS_ITER, err));
    SM_TRY(alloc_arg(&p->dwl, s->d, p->bwd_pd, DNNL_ARG_DIFF_WEIGHTS_LAYER, err));
    SM_TRY(alloc_arg(&p->dwi, s->d, p->bwd_pd, DNNL_ARG_DIFF_WEIGHTS_ITER, err));
    SM_TRY(reorder_prim(&p->r_bwd_wl, s, &m.wl_plain, mem_md(p->bwd_wl), err));
    SM_TRY(reorder_prim(&p->r_bwd_wi, s, &m.wi_plain, mem_md(p->bwd_wi), err));
    SM_TRY(reorder_prim(&p->r_dwl, s, mem_md(p->dwl), &m.wl_plain, err));
    SM_TRY(reorder_prim(&p->r_dwi, s, mem_md(p->dwi), &m.wi_plain, err));
    return SELFMM_OK;
}

static selfmm_status get_plan(sm_lstm *s, int T, int B, plan **out, selfmm_error *err)
{
    plan *victim = &s->plans[0];
    for (int i = 0; i < PLANS; i++) {
        plan *p = &s->plans[i];
        if (p->used && p->T == T && p->B == B) {
            p->used = ++s->tick;
            *out = p;
            return SELFMM_OK;
        }
        if (p->used < victim->used) victim = p;
    }
    if (s->cur == victim) s->cur = NULL; /* its workspace is about to go */
    plan_clear(victim);
    selfmm_status st = plan_forward(s, victim, T, B, err);
    if (st != SELFMM_OK) {
        plan_clear(victim);
        return st;
    }
    victim->used = ++s->tick;
    *out = victim;
    return SELFMM_OK;
}

/* ---- execution helpers ------------------------------------------------------------ */
/* See the file comment: primitives execute on one thread; the caller's count is
 * restored afterwards. */
static int one_thread_begin(void)
{
    int n = omp_get_max_threads();
    omp_set_num_threads(1);
    return n;
}

static void one_thread_end(int n) { omp_set_num_threads(n); }

/* A temporary memory over a buffer we own. */
static selfmm_status wrap(dnnl_memory_t *m, sm_dnnl *d, const dnnl_memory_desc_t *md, const void *p,
                          selfmm_error *err)
{
    SM_DNNL(dnnl_memory_create(m, md, d->engine, (void *)p), "LSTM memory", err);
    return SELFMM_OK;
}

/* Execute prim on the LSTM's stream with its scratchpad (args has room for one more
 * argument) and wait for it. */
static selfmm_status run(sm_lstm *s, dnnl_primitive_t prim, int n, dnnl_exec_arg_t *args, const char *what,
                         selfmm_error *err)
{
    const_dnnl_primitive_desc_t pd;
    SM_DNNL(dnnl_primitive_get_primitive_desc(prim, &pd), what, err);
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    const size_t size = smd ? dnnl_memory_desc_get_size(smd) : 0;
    dnnl_memory_t sp = NULL;
    if (size > 0) {
        if (size > s->scratch_size) {
            free(s->scratch);
            s->scratch_size = 0;
            if (!(s->scratch = aligned_alloc(64, (size + 63) / 64 * 64)))
                return sm_error(err, SELFMM_ERR_NOMEM, "LSTM: out of memory for a %zu-byte scratchpad", size);
            s->scratch_size = size;
        }
        SM_DNNL(dnnl_memory_create(&sp, smd, s->d->engine, s->scratch), what, err);
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sp};
    }
    selfmm_status st = sm_dnnl_check(dnnl_primitive_execute(prim, s->stream, n, args), what, err);
    if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_stream_wait(s->stream), "stream wait", err);
    if (sp) dnnl_memory_destroy(sp);
    return st;
}

static selfmm_status run_reorder(sm_lstm *s, dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to,
                                 selfmm_error *err)
{
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return run(s, r, 2, a, "LSTM reorder", err);
}

static void destroy_all(dnnl_memory_t *m, int n)
{
    for (int i = 0; i < n; i++)
        if (m[i]) dnnl_memory_destroy(m[i]);
}

/* Every buffer, once. Sizes: STEPS = T x B (time-major tensors), BATCH = B. */
enum { STEPS, BATCH };

static void lstm_table(sm_lstm *s, sm_bufs *t)
{
    const int64_t C = s->C, H = s->H;
    SM_BUFS(t, SM_BUF(s->x, STEPS, C),            /* (T, B, C) */
               SM_BUF(s->dx, STEPS, C),           /* (T, B, C) */
               SM_BUF(s->y, STEPS, H),            /* (T, B, H) */
               SM_BUF(s->dy, STEPS, H),           /* (T, B, H) */
               SM_BUF(s->len, BATCH, 1),          /* (B) */
               SM_BUF_ZEROED(s->zero, BATCH, H),  /* (B, H), only ever read */
               SM_BUF(s->dsi, BATCH, H),          /* (B, H) */
               SM_BUF(s->dsic, BATCH, H),         /* (B, H) */
               SM_BUF(s->bias, SM_BUF_FIXED, 4 * H),  /* (4H) */
               SM_BUF(s->dbias, SM_BUF_FIXED, 4 * H), /* (4H) */
               SM_BUF(s->dw, SM_BUF_FIXED, 4 * H * (C > H ? C : H))); /* (4H, max(C, H)) */
}

static selfmm_status ensure_buffers(sm_lstm *s, int T, int B, selfmm_error *err)
{
    sm_bufs t;
    lstm_table(s, &t);
    if (sm_bufs_grow(&t, &s->cap, &(sm_bufsize){{(int64_t)T * B, B}}) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_NOMEM, "LSTM: cannot allocate buffers for %d steps x %d samples", T, B);
    return SELFMM_OK;
}

/* ---- public ------------------------------------------------------------------------ */
selfmm_status sm_lstm_create(sm_lstm **out, sm_dnnl *d, int C, int H, selfmm_error *err)
{
    sm_lstm *s = calloc(1, sizeof *s);
    if (!s) return sm_error(err, SELFMM_ERR_NOMEM, "LSTM: out of memory");
    s->d = d, s->C = C, s->H = H; /* buffers come with the first forward */
    selfmm_status st = sm_dnnl_check(dnnl_stream_create(&s->stream, d->engine, dnnl_stream_default_flags),
                                     "LSTM stream", err);
    if (st == SELFMM_OK) st = sm_dnnl_check(dnnl_primitive_attr_create(&s->attr), "LSTM attributes", err);
    if (st == SELFMM_OK)
        st = sm_dnnl_check(dnnl_primitive_attr_set_scratchpad_mode(s->attr, dnnl_scratchpad_mode_user),
                           "LSTM scratchpad mode", err);
    if (st != SELFMM_OK) {
        sm_lstm_free(s);
        return st;
    }
    *out = s;
    return SELFMM_OK;
}

void sm_lstm_free(sm_lstm *s)
{
    if (!s) return;
    for (int i = 0; i < PLANS; i++) plan_clear(&s->plans[i]);
    sm_bufs t;
    lstm_table(s, &t);
    sm_bufs_free(&t);
    if (s->attr) dnnl_primitive_attr_destroy(s->attr);
    if (s->stream) dnnl_stream_destroy(s->stream);
    free(s->scratch);
    free(s);
}

int sm_lstm_last_steps(const sm_lstm *s) { return s && s->cur ? s->T : 0; }

selfmm_status sm_lstm_forward(sm_lstm *s, float *h, const float *x, const int32_t *len,
                              const float *w_ih, const float *w_hh, const float *b_ih,
                              const float *b_hh, int B, int Tpad, selfmm_error *err)
{
    const int C = s->C, H = s->H;
    int T = 1;
    for (int b = 0; b < B; b++) T = len[b] > T ? len[b] : T;
    s->cur = NULL;
    SM_TRY(ensure_buffers(s, T, B, err));
    /* time-major copy; steps at or after a sample's length are zero */
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            float *dst = s->x + ((size_t)t * B + b) * C;
            if (t < len[b]) memcpy(dst, x + ((size_t)b * Tpad + t) * C, (size_t)C * sizeof(float));
            else memset(dst, 0, (size_t)C * sizeof(float));
        }
    memcpy(s->len, len, (size_t)B * sizeof *len);
    for (int i = 0; i < 4 * H; i++) s->bias[i] = b_ih[i] + b_hh[i];
    plan *p;
    SM_TRY(get_plan(s, T, B, &p, err));
    mds m;
    SM_TRY(make_mds(&m, T, B, C, H, err));
    dnnl_memory_t mem[7] = {0};
    selfmm_status st = wrap(&mem[0], s->d, &m.wl_plain, w_ih, err);
    if (st == SELFMM_OK) st = wrap(&mem[1], s->d, &m.wi_plain, w_hh, err);
    if (st == SELFMM_OK) st = wrap(&mem[2], s->d, &m.src, s->x, err);
    if (st == SELFMM_OK) st = wrap(&mem[3], s->d, &m.iter, s->zero, err);
    if (st == SELFMM_OK) st = wrap(&mem[4], s->d, &m.iter, s->zero, err);
    if (st == SELFMM_OK) st = wrap(&mem[5], s->d, &m.bias, s->bias, err);
    if (st == SELFMM_OK) st = wrap(&mem[6], s->d, &m.dst, s->y, err);
    int threads = one_thread_begin();
    if (st == SELFMM_OK) st = run_reorder(s, p->r_fwd_wl, mem[0], p->fwd_wl, err);
    if (st == SELFMM_OK) st = run_reorder(s, p->r_fwd_wi, mem[1], p->fwd_wi, err);
    if (st == SELFMM_OK) {
        dnnl_exec_arg_t a[9] = {{DNNL_ARG_SRC_LAYER, mem[2]},    {DNNL_ARG_SRC_ITER, mem[3]},
                                {DNNL_ARG_SRC_ITER_C, mem[4]},   {DNNL_ARG_WEIGHTS_LAYER, p->fwd_wl},
                                {DNNL_ARG_WEIGHTS_ITER, p->fwd_wi}, {DNNL_ARG_BIAS, mem[5]},
                                {DNNL_ARG_DST_LAYER, mem[6]},   {DNNL_ARG_WORKSPACE, p->ws}};
        st = run(s, p->fwd, 8, a, "LSTM forward", err);
    }
    one_thread_end(threads);
    destroy_all(mem, 7);
    if (st != SELFMM_OK) return st;
    /* the final state of sample b: h at step len_b - 1 */
    for (int b = 0; b < B; b++)
        memcpy(h + (size_t)b * H, s->y + ((size_t)(len[b] - 1) * B + b) * H, (size_t)H * sizeof(float));
    s->cur = p, s->B = B, s->T = T, s->Tpad = Tpad;
    return SELFMM_OK;
}

selfmm_status sm_lstm_backward(sm_lstm *s, float *dx, float *dw_ih, float *dw_hh, float *db_ih,
                               float *db_hh, const float *dh, const float *w_ih,
                               const float *w_hh, selfmm_error *err)
{
    plan *p = s->cur;
    if (!p) return sm_error(err, SELFMM_ERR_STATE, "LSTM backward without a forward");
    const int C = s->C, H = s->H, B = s->B, T = s->T;
    if (!p->bwd) {
        selfmm_status st = plan_backward(s, p, err);
        if (st != SELFMM_OK) {
            s->cur = NULL;
            plan_clear(p); /* half-built: start again next time */
            return st;
        }
    }
    /* h_b = y[len_b - 1, b]  =>  dy is dh there and zero everywhere else */
    memset(s->dy, 0, (size_t)T * B * H * sizeof(float));
    for (int b = 0; b < B; b++)
        memcpy(s->dy + ((size_t)(s->len[b] - 1) * B + b) * H, dh + (size_t)b * H, (size_t)H * sizeof(float));
    memset(s->dbias, 0, (size_t)4 * H * sizeof(float));
    void *hl = NULL, *hi = NULL;
    dnnl_memory_get_data_handle(p->dwl, &hl);
    dnnl_memory_get_data_handle(p->dwi, &hi);
    memset(hl, 0, dnnl_memory_desc_get_size(mem_md(p->dwl)));
    memset(hi, 0, dnnl_memory_desc_get_size(mem_md(p->dwi)));
    mds m;
    SM_TRY(make_mds(&m, T, B, C, H, err));
    dnnl_memory_t mem[12] = {0};
    const void *bufs[12] = {w_ih, w_hh, s->x, s->zero, s->zero, s->bias, s->y, s->dy, s->dx,
                            s->dsi, s->dsic, s->dbias};
    const dnnl_memory_desc_t *mds_[12] = {&m.wl_plain, &m.wi_plain, &m.src, &m.iter, &m.iter, &m.bias,
                                          &m.dst, &m.dst, &m.src, &m.iter, &m.iter, &m.bias};
    selfmm_status st = SELFMM_OK;
    for (int i = 0; i < 12 && st == SELFMM_OK; i++) st = wrap(&mem[i], s->d, mds_[i], bufs[i], err);
    int threads = one_thread_begin();
    if (st == SELFMM_OK) st = run_reorder(s, p->r_bwd_wl, mem[0], p->bwd_wl, err);
    if (st == SELFMM_OK) st = run_reorder(s, p->r_bwd_wi, mem[1], p->bwd_wi, err);
    if (st == SELFMM_OK) {
        dnnl_exec_arg_t a[16] = {
            {DNNL_ARG_SRC_LAYER, mem[2]},         {DNNL_ARG_SRC_ITER, mem[3]},
            {DNNL_ARG_SRC_ITER_C, mem[4]},        {DNNL_ARG_WEIGHTS_LAYER, p->bwd_wl},
            {DNNL_ARG_WEIGHTS_ITER, p->bwd_wi},   {DNNL_ARG_BIAS, mem[5]},
            {DNNL_ARG_DST_LAYER, mem[6]},         {DNNL_ARG_WORKSPACE, p->ws},
            {DNNL_ARG_DIFF_DST_LAYER, mem[7]},    {DNNL_ARG_DIFF_SRC_LAYER, mem[8]},
            {DNNL_ARG_DIFF_SRC_ITER, mem[9]},     {DNNL_ARG_DIFF_SRC_ITER_C, mem[10]},
            {DNNL_ARG_DIFF_WEIGHTS_LAYER, p->dwl}, {DNNL_ARG_DIFF_WEIGHTS_ITER, p->dwi},
            {DNNL_ARG_DIFF_BIAS, mem[11]}};
        st = run(s, p->bwd, 15, a, "LSTM backward", err);
    }
    /* diff weights back to PyTorch's layout, then added to the gradients */
    dnnl_memory_t plain = NULL;
    if (st == SELFMM_OK) st = wrap(&plain, s->d, &m.wl_plain, s->dw, err);
    if (st == SELFMM_OK) st = run_reorder(s, p->r_dwl, p->dwl, plain, err);
    if (st == SELFMM_OK)
        for (size_t i = 0; i < (size_t)4 * H * C; i++) dw_ih[i] += s->dw[i];
    if (plain) dnnl_memory_destroy(plain), plain = NULL;
    if (st == SELFMM_OK) st = wrap(&plain, s->d, &m.wi_plain, s->dw, err);
    if (st == SELFMM_OK) st = run_reorder(s, p->r_dwi, p->dwi, plain, err);
    if (st == SELFMM_OK)
        for (size_t i = 0; i < (size_t)4 * H * H; i++) dw_hh[i] += s->dw[i];
    if (plain) dnnl_memory_destroy(plain);
    one_thread_end(threads);
    destroy_all(mem, 12);
    if (st != SELFMM_OK) return st;
    for (int i = 0; i < 4 * H; i++) db_ih[i] += s->dbias[i], db_hh[i] += s->dbias[i];
    if (dx)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < s->len[b]; t++) {
                float *o = dx + ((size_t)b * s->Tpad + t) * C;
                const float *g = s->dx + ((size_t)t * B + b) * C;
                for (int c = 0; c < C; c++) o[c] += g[c];
            }
    return SELFMM_OK;
}
