/* forward.c -- the network's forward, loss and backward on an sm_net (the contract
 * of selfmm_model_forward, _loss and _backward, whose wrappers are in
 * model/steps.c); batch validation; the compute state's life cycle. */
#include "nn/compute.h"
#include "nn/ops.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/threads.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- compute state ------------------------------------------------------------------- */
/* The network's per-sample buffers, each once. Their one size is the batch; the
 * widths are the heads' inputs: fusion H + audio_out + video_out, text H, audio
 * audio_out, vision video_out. */
enum { BATCH };

static void samples_table(sm_compute *c, sm_bufs *t)
{
    const int64_t F = c->head[SELFMM_FUSION].in, H = c->head[SELFMM_TEXT].in;
    const int64_t ao = c->head[SELFMM_AUDIO].in, vo = c->head[SELFMM_VISION].in;
    SM_BUFS(t, SM_BUF(c->alen, BATCH, 1),              /* (B) */
               SM_BUF(c->vlen, BATCH, 1),              /* (B) */
               SM_BUF(c->fusion_in, BATCH, F),         /* (B, F) */
               SM_BUF(c->dtext, BATCH, H),             /* (B, H) backward */
               SM_BUF(c->daudio, BATCH, ao),           /* (B, audio_out) backward */
               SM_BUF(c->dvideo, BATCH, vo),           /* (B, video_out) backward */
               SM_BUF(c->dfusion_in, BATCH, F),        /* (B, F) backward */
               SM_BUF(c->dout[0], BATCH, 1),           /* (B) per head: the last loss's gradients */
               SM_BUF(c->dout[1], BATCH, 1),
               SM_BUF(c->dout[2], BATCH, 1),
               SM_BUF(c->dout[3], BATCH, 1),
               SM_BUF(c->labels_w, BATCH, 1));         /* (B) */
}

void sm_compute_free(struct sm_compute *c)
{
    if (!c) return;
    sm_bert_free(&c->bert);
    sm_subnet_free(&c->sub[0]);
    sm_subnet_free(&c->sub[1]);
    sm_heads_free(c);
    sm_bufs t;
    samples_table(c, &t);
    sm_bufs_free(&t);
    sm_dnnl_destroy(&c->dnnl);
    free(c);
}

static selfmm_status compute_create(sm_net *m, selfmm_error *err)
{
    const selfmm_config *cfg = &m->cfg;
    sm_compute *c = calloc(1, sizeof *c);
    if (!c) return sm_error(err, SELFMM_ERR_NOMEM, "model: out of memory");
    c->bert.cfg = cfg;
    selfmm_status st = sm_dnnl_init(&c->dnnl, err);
    c->sub[0].name = "audio", c->sub[0].hidden = cfg->a_lstm_hidden_size, c->sub[0].out_dim = cfg->audio_out;
    c->sub[1].name = "vision", c->sub[1].hidden = cfg->v_lstm_hidden_size, c->sub[1].out_dim = cfg->video_out;
    if (st == SELFMM_OK)
        st = sm_lstm_create(&c->sub[0].lstm, &c->dnnl, cfg->audio_dim, cfg->a_lstm_hidden_size, err);
    if (st == SELFMM_OK)
        st = sm_lstm_create(&c->sub[1].lstm, &c->dnnl, cfg->video_dim, cfg->v_lstm_hidden_size, err);
    if (st != SELFMM_OK) {
        sm_compute_free(c);
        return st;
    }
    const int H = cfg->hidden_size;
    const int in[4] = {H + cfg->audio_out + cfg->video_out, H, cfg->audio_out, cfg->video_out};
    const int dim[4] = {cfg->post_fusion_dim, cfg->post_text_dim, cfg->post_audio_dim, cfg->post_video_dim};
    for (int k = 0; k < 4; k++) c->head[k].in = in[k], c->head[k].dim = dim[k];
    m->compute = c;
    return SELFMM_OK;
}

static selfmm_status ensure_samples(sm_compute *c, int B, selfmm_error *err)
{
    if (B > c->cap.n[BATCH]) { /* the last loss's gradients go with the old buffers */
        c->train_valid = 0;
        c->have_loss_grads = 0;
    }
    sm_bufs t;
    samples_table(c, &t);
    if (sm_bufs_grow(&t, &c->cap, &(sm_bufsize){{B}}) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_NOMEM, "model: out of memory for batch %d", B);
    return SELFMM_OK;
}

/* ---- batch validation ---------------------------------------------------------------- */
/* Lengths of one modality: checked against [1, T], or clamped with a counted warning. */
static selfmm_status check_lengths(const sm_net *m, const char *what, const int32_t *len, int B,
                                   int T, int32_t *out, int *clamped, selfmm_error *err)
{
    for (int b = 0; b < B; b++) {
        int32_t v = len[b];
        if (v >= 1 && v <= T) {
            out[b] = v;
            continue;
        }
        if (!m->cfg.clamp_lengths)
            return sm_error(err, SELFMM_ERR_DATA,
                            "sample %d: %s length %d outside [1, %d] (set clamp_lengths to clamp it)", b,
                            what, (int)v, T);
        out[b] = v < 1 ? 1 : T;
        (*clamped)++;
    }
    return SELFMM_OK;
}

/* Every check of selfmm_model_forward's contract; *run = the longest real text length. */
static selfmm_status validate(const sm_net *m, sm_compute *c, const selfmm_batch *bt, int *run,
                              selfmm_error *err)
{
    const selfmm_config *cfg = &m->cfg;
    const int B = bt->batch, L = bt->text_len;
    if (!bt->text_ids || !bt->text_mask || !bt->audio || !bt->vision)
        return sm_error(err, SELFMM_ERR_INVALID_ARG,
                        "forward: a batch array is NULL (only text_segment and, with "
                        "need_data_aligned, the audio/vision lengths may be)");
    if (!cfg->need_data_aligned && (!bt->audio_lengths || !bt->vision_lengths))
        return sm_error(err, SELFMM_ERR_MISSING,
                        "forward: the batch has no %s lengths (word-aligned data such as MMSA's "
                        "aligned_50.pkl has none: set need_data_aligned)",
                        !bt->audio_lengths ? "audio" : "vision");
    if (L < 1) return sm_error(err, SELFMM_ERR_SHAPE, "forward: text length %d < 1", L);
    if (bt->audio_dim != cfg->audio_dim)
        return sm_error(err, SELFMM_ERR_SHAPE, "forward: audio width %d does not match the model's audio_dim %d",
                        bt->audio_dim, cfg->audio_dim);
    if (bt->vision_dim != cfg->video_dim)
        return sm_error(err, SELFMM_ERR_SHAPE,
                        "forward: vision width %d does not match the model's video_dim %d", bt->vision_dim,
                        cfg->video_dim);
    if (bt->audio_len < 1 || bt->vision_len < 1)
        return sm_error(err, SELFMM_ERR_SHAPE, "forward: audio length %d / vision length %d < 1",
                        bt->audio_len, bt->vision_len);
    int longest = 0;
    for (int b = 0; b < B; b++) {
        const int32_t *ids = bt->text_ids + (size_t)b * L, *mask = bt->text_mask + (size_t)b * L;
        const int32_t *seg = bt->text_segment ? bt->text_segment + (size_t)b * L : NULL;
        int real = 0, tokens = 0;
        for (int t = 0; t < L; t++) {
            if (mask[t] != 0 && mask[t] != 1)
                return sm_error(err, SELFMM_ERR_DATA, "sample %d: text mask value %d at position %d (must be 0 or 1)",
                                b, (int)mask[t], t);
            if (ids[t] < 0 || ids[t] >= cfg->vocab_size)
                return sm_error(err, SELFMM_ERR_DATA, "sample %d: token id %d at position %d outside [0, %d)", b,
                                (int)ids[t], t, cfg->vocab_size);
            if (seg && (seg[t] < 0 || seg[t] >= cfg->type_vocab_size))
                return sm_error(err, SELFMM_ERR_DATA, "sample %d: segment id %d at position %d outside [0, %d)",
                                b, (int)seg[t], t, cfg->type_vocab_size);
            if (mask[t]) real = t + 1, tokens++;
        }
        /* need_data_aligned: both LSTMs run over the text length, which the reference
         * takes as the sum of the mask (models/multiTask/SELF_MM.py forward) */
        if (cfg->need_data_aligned) c->alen[b] = c->vlen[b] = tokens;
        if (real == 0) return sm_error(err, SELFMM_ERR_DATA, "sample %d: text mask is all zero", b);
        if (real > cfg->max_position_embeddings)
            return sm_error(err, SELFMM_ERR_DATA, "sample %d: text length %d exceeds max_position_embeddings %d", b,
                            real, cfg->max_position_embeddings);
        longest = real > longest ? real : longest;
    }
    /* GEMM sizes are int: keep tokens x width far below 2^31 */
    const int64_t width = cfg->intermediate_size > cfg->hidden_size ? cfg->intermediate_size : cfg->hidden_size;
    if ((int64_t)B * longest * width > INT32_MAX / 2)
        return sm_error(err, SELFMM_ERR_RANGE, "forward: %d samples x %d tokens is too large a batch", B, longest);
    int clamped = 0;
    if (cfg->need_data_aligned) { /* lengths in place: check_lengths reads each before writing it */
        SM_TRY(check_lengths(m, "audio (the text length: need_data_aligned)", c->alen, B, bt->audio_len,
                             c->alen, &clamped, err));
        SM_TRY(check_lengths(m, "vision (the text length: need_data_aligned)", c->vlen, B, bt->vision_len,
                             c->vlen, &clamped, err));
    } else {
        SM_TRY(check_lengths(m, "audio", bt->audio_lengths, B, bt->audio_len, c->alen, &clamped, err));
        SM_TRY(check_lengths(m, "vision", bt->vision_lengths, B, bt->vision_len, c->vlen, &clamped, err));
    }
    if (clamped) {
        c->clamped_total += (uint64_t)clamped;
        sm_log(SELFMM_LOG_WARN, "clamped %d sequence length%s to [1, T] in this batch (%llu so far)",
               clamped, clamped == 1 ? "" : "s", (unsigned long long)c->clamped_total);
    }
    *run = longest;
    return SELFMM_OK;
}

/* ---- the two subnets at once -------------------------------------------------------
 * The audio and vision subnets are independent and each LSTM runs on one thread
 * (lstm.c), so with two threads their LSTMs run side by side: thread 0 the audio
 * one, thread 1 the vision one (both on thread 0 when there is one). The rest of
 * each subnet (dropout, linear_1) calls BLAS, which must not be entered from two
 * threads at once: it runs outside, after the LSTMs in the forward and before them in
 * the backward. Each subnet computes exactly what it computes alone. secs: each one's
 * own time (LSTM and rest); the first failure (audio first) is the result. */
typedef struct subnet_job {
    int train;                   /* 1: forward, 0: backward */
    sm_net *m;
    sm_compute *c;
    const selfmm_batch *bt;      /* forward */
    const sm_drop *drop;         /* forward */
} subnet_job;

/* Subnet k's LSTM pass (lstm 1, the part that may run on its own thread) or the rest. */
static selfmm_status subnet_run(const subnet_job *j, int k, int lstm, selfmm_error *err)
{
    sm_net *m = j->m;
    sm_compute *c = j->c;
    sm_subnet *s = &c->sub[k];
    const sm_subnet_w *w = k == 0 ? &m->w.audio : &m->w.video;
    sm_subnet_w *g = k == 0 ? &m->g.audio : &m->g.video;
    if (!j->train) {
        if (lstm) return sm_subnet_backward_lstm(s, w, g, err);
        sm_subnet_backward_out(s, w, g, k == 0 ? c->daudio : c->dvideo);
        return SELFMM_OK;
    }
    const selfmm_batch *bt = j->bt;
    const selfmm_config *cfg = &m->cfg;
    if (lstm)
        return k == 0 ? sm_subnet_forward_lstm(s, w, bt->audio, c->alen, bt->batch, bt->audio_len, err)
                      : sm_subnet_forward_lstm(s, w, bt->vision, c->vlen, bt->batch, bt->vision_len, err);
    sm_subnet_forward_out(s, w, (float)(k == 0 ? cfg->a_lstm_dropout : cfg->v_lstm_dropout),
                          k == 0 ? SM_SITE_AUDIO_LSTM : SM_SITE_VIDEO_LSTM, j->drop);
    return SELFMM_OK;
}

/* The rest of both subnets, one after the other, each timed into secs[k]. */
static void subnets_rest(const subnet_job *j, double secs[2])
{
    for (int k = 0; k < 2; k++) {
        double t0 = sm_now();
        subnet_run(j, k, 0, NULL); /* cannot fail */
        secs[k] += sm_now() - t0;
    }
}

static selfmm_status subnets_run(const subnet_job *j, double secs[2], selfmm_error *err)
{
    selfmm_status st[2] = {SELFMM_OK, SELFMM_OK};
    selfmm_error e[2] = {{0}, {0}};
    secs[0] = secs[1] = 0;
    if (!j->train) subnets_rest(j, secs);
#pragma omp parallel num_threads(2) if (omp_get_max_threads() > 1)
    {
        const int me = omp_get_thread_num(), n = omp_get_num_threads();
        for (int k = 0; k < 2; k++)
            if (n == 1 || k == me) {
                double t0 = sm_now();
                st[k] = subnet_run(j, k, 1, &e[k]);
                secs[k] += sm_now() - t0;
            }
    }
    for (int k = 0; k < 2; k++)
        if (st[k] != SELFMM_OK) {
            if (err) *err = e[k];
            return st[k];
        }
    if (j->train) subnets_rest(j, secs);
    return SELFMM_OK;
}

/* ---- forward, loss, backward ------------------------------------------------------------ */
selfmm_status sm_net_forward(sm_net *m, const selfmm_batch *bt, selfmm_mode mode, selfmm_outputs *out,
                             selfmm_error *err)
{
    if (!bt) return sm_error(err, SELFMM_ERR_INVALID_ARG, "forward: NULL batch");
    if (mode != SELFMM_MODE_EVAL && mode != SELFMM_MODE_TRAIN)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "forward: bad mode %d", (int)mode);
    if (bt->batch < 1 || bt->batch > SM_DROPOUT_MAX_BATCH)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "forward: batch size %d outside [1, %d]",
                        bt->batch, SM_DROPOUT_MAX_BATCH);
    sm_threads_apply();
    double t0 = sm_now();
    if (!m->compute) SM_TRY(compute_create(m, err));
    sm_compute *c = m->compute;
    SM_TRY(ensure_samples(c, bt->batch, err));
    int run = 0;
    SM_TRY(validate(m, c, bt, &run, err)); /* a refused batch leaves the last forward usable */
    const selfmm_shard_info *sh = &m->shard;
    if (sh->global_batch > 0 && sh->sample_offset + bt->batch > sh->global_batch)
        return sm_error(err, SELFMM_ERR_RANGE, "forward: samples %d..%d of a global batch of %d (the shard)",
                        sh->sample_offset, sh->sample_offset + bt->batch - 1, sh->global_batch);
    if (sh->text_run_len > bt->text_len || sh->text_run_len > m->cfg.max_position_embeddings)
        return sm_error(err, SELFMM_ERR_RANGE,
                        "forward: the shard's text run length %d exceeds the padded length %d or "
                        "max_position_embeddings %d",
                        sh->text_run_len, bt->text_len, m->cfg.max_position_embeddings);
    /* A shard runs BERT at the global batch's length: the attention-dropout masks are
     * laid out (heads, L, L) per sample, and attention sees the one-process shapes.
     * Padding keys are masked with -10000, whose exp() is exactly 0, so running
     * longer changes nothing else. */
    if (sh->text_run_len > run) run = sh->text_run_len;
    /* from here on the previous forward's state is gone */
    c->train_valid = 0;
    c->have_loss_grads = 0;
    const selfmm_config *cfg = &m->cfg;
    const int B = bt->batch;
    sm_drop drop = {mode == SELFMM_MODE_TRAIN, (uint64_t)cfg->seed, m->step, sh->sample_offset};
    selfmm_timings *tm = &c->timings;
    double t1 = sm_now();
    SM_TRY(sm_bert_forward(m, c, bt, run, &drop, err));
    double t2 = sm_now(), sub_s[2];
    const subnet_job job = {1, m, c, bt, &drop};
    SM_TRY(subnets_run(&job, sub_s, err));
    c->B = B;
    SM_TRY(sm_heads_forward(m, c, &drop, err));
    double t5 = sm_now();
    tm->forward_s = t5 - t0;
    tm->bert_forward_s = t2 - t1;
    tm->audio_forward_s = sub_s[0];
    tm->vision_forward_s = sub_s[1];
    tm->bert_forward_flop = sm_bert_forward_flop(cfg, B, run, c->bert.P);
    tm->text_steps = run;
    tm->text_tokens = c->bert.P;
    tm->audio_steps = sm_lstm_last_steps(c->sub[0].lstm);
    tm->vision_steps = sm_lstm_last_steps(c->sub[1].lstm);
    if (out) {
        memset(out, 0, sizeof *out);
        out->batch = B;
        out->M = c->head[SELFMM_FUSION].y, out->T = c->head[SELFMM_TEXT].y;
        out->A = c->head[SELFMM_AUDIO].y, out->V = c->head[SELFMM_VISION].y;
        for (int k = 0; k < 4; k++) out->feature[k] = c->head[k].h1, out->dim[k] = c->head[k].dim;
    }
    if (drop.train) {
        c->train_valid = 1;
        m->step++;
    }
    return SELFMM_OK;
}

selfmm_status sm_net_loss(sm_net *m, const float *const labels[4], selfmm_loss *loss, selfmm_error *err)
{
    if (!labels) return sm_error(err, SELFMM_ERR_INVALID_ARG, "loss: NULL labels");
    for (int k = 0; k < 4; k++)
        if (!labels[k]) return sm_error(err, SELFMM_ERR_INVALID_ARG, "loss: labels[%d] is NULL", k);
    sm_compute *c = m->compute;
    if (!c || !c->train_valid)
        return sm_error(err, SELFMM_ERR_STATE, "loss: the last forward was not a training forward");
    const int B = c->B;
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < B; b++)
            if (!isfinite(labels[k][b]))
                return sm_error(err, SELFMM_ERR_DATA, "loss: sample %d: %s label is not finite", b,
                                selfmm_modality_name(k));
    selfmm_loss l;
    memset(&l, 0, sizeof l);
    const float *pred[4] = {c->head[0].y, c->head[1].y, c->head[2].y, c->head[3].y};
    /* a shard's part of the global batch's mean (selfmm_model_set_shard) */
    const int denom = m->shard.global_batch > 0 ? m->shard.global_batch : B;
    sm_selfmm_loss_forward(l.part, c->dout, pred, labels, c->labels_w, B, denom);
    for (int k = 0; k < 4; k++) l.total += l.part[k];
    c->have_loss_grads = 1;
    if (loss) *loss = l;
    return SELFMM_OK;
}

selfmm_status sm_net_backward(sm_net *m, const float *const *grad, selfmm_error *err)
{
    sm_compute *c = m->compute;
    if (!c || !c->train_valid)
        return sm_error(err, SELFMM_ERR_STATE, "backward: the last forward was not a training forward");
    if (!grad && !c->have_loss_grads)
        return sm_error(err, SELFMM_ERR_STATE,
                        "backward: no output gradients given and no selfmm_model_loss since the forward");
    sm_threads_apply();
    const float *dy[4];
    for (int k = 0; k < 4; k++) dy[k] = grad ? grad[k] : c->dout[k];
    selfmm_timings *tm = &c->timings;
    double t0 = sm_now();
    SM_TRY(sm_heads_backward(m, c, dy, err));
    double sub_s[2];
    const subnet_job job = {0, m, c, NULL, NULL};
    SM_TRY(subnets_run(&job, sub_s, err));
    double t3 = sm_now();
    SM_TRY(sm_bert_backward(m, c, c->dtext, err));
    double t4 = sm_now();
    tm->backward_s = t4 - t0;
    tm->vision_backward_s = sub_s[1];
    tm->audio_backward_s = sub_s[0];
    tm->bert_backward_s = t4 - t3;
    tm->bert_backward_flop = 2.0 * tm->bert_forward_flop;
    return SELFMM_OK;
}

void sm_net_timings(const sm_net *m, selfmm_timings *t)
{
    if (m->compute) *t = m->compute->timings;
    else memset(t, 0, sizeof *t);
}
