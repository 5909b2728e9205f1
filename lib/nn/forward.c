/* forward.c -- the network's forward, loss and backward on an sm_net (the contract
 * of selfmm_model_forward, _loss and _backward, whose wrappers are in
 * model/steps.c); batch validation; the compute state's life cycle. */
#include "nn/compute.h"
#include "nn/ops.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/threads.h"
#include "nn/gemm_clock.h"

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
    if (st == SELFMM_OK)
        st = sm_lstm_create(&c->sub[0].lstm2, &c->dnnl, cfg->audio_dim, cfg->a_lstm_hidden_size, err);
    if (st == SELFMM_OK)
        st = sm_lstm_create(&c->sub[1].lstm2, &c->dnnl, cfg->video_dim, cfg->v_lstm_hidden_size, err);
    c->sub[0].in_dim = cfg->audio_dim, c->sub[1].in_dim = cfg->video_dim;
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
 * Each LSTM runs on one thread (lstm.c), and one LSTM is a sequence of small steps
 * whose time grows with the batch. So each subnet's batch is split in two halves
 * (samples [0, (B + 1) / 2) and the rest), each on its own LSTM, and with two threads
 * thread p runs half p of the audio LSTM, then half p of the vision one: both threads
 * get the same share whatever the two LSTMs' sizes (MOSI's vision LSTM is 4x its
 * audio one). With one thread the halves run one after the other. Each sample's
 * result is what the whole batch gives; the weight gradients are the halves' sums.
 * The split depends on the batch alone, so the thread count does not change a bit of
 * it. A batch of one sample is not split. The rest of
 * each subnet (dropout, linear_1) calls BLAS, which must not be entered from two
 * threads at once: it runs outside, after the LSTMs in the forward and before them in
 * the backward. secs: each subnet's share of the wall time (the audio halves' longer
 * one, and the rest of the LSTMs' time to vision), plus its rest; the first failure
 * (audio first) is the result. */
typedef struct subnet_job {
    int train;                   /* 1: forward, 0: backward */
    sm_net *m;
    sm_compute *c;
    const selfmm_batch *bt;      /* forward */
    const sm_drop *drop;         /* forward */
} subnet_job;

/* Half `part` of subnet k's LSTM pass. */
static selfmm_status subnet_lstm(const subnet_job *j, int k, int part, selfmm_error *err)
{
    sm_net *m = j->m;
    sm_compute *c = j->c;
    sm_subnet *s = &c->sub[k];
    const sm_subnet_w *w = k == 0 ? &m->w.audio : &m->w.video;
    if (!j->train) return sm_subnet_backward_lstm(s, part, w, k == 0 ? &m->g.audio : &m->g.video, err);
    const selfmm_batch *bt = j->bt;
    return k == 0 ? sm_subnet_forward_lstm(s, part, w, bt->audio, c->alen, bt->audio_len, err)
                  : sm_subnet_forward_lstm(s, part, w, bt->vision, c->vlen, bt->vision_len, err);
}

/* The rest of both subnets, one after the other, each timed into secs[k]. */
static void subnets_rest(const subnet_job *j, double secs[2])
{
    sm_net *m = j->m;
    sm_compute *c = j->c;
    const selfmm_config *cfg = &m->cfg;
    for (int k = 0; k < 2; k++) {
        double t0 = sm_now();
        sm_subnet *s = &c->sub[k];
        const sm_subnet_w *w = k == 0 ? &m->w.audio : &m->w.video;
        if (j->train)
            sm_subnet_forward_out(s, w, (float)(k == 0 ? cfg->a_lstm_dropout : cfg->v_lstm_dropout),
                                  k == 0 ? SM_SITE_AUDIO_LSTM : SM_SITE_VIDEO_LSTM, j->drop);
        else sm_subnet_backward_out(s, w, k == 0 ? &m->g.audio : &m->g.video, k == 0 ? c->daudio : c->dvideo);
        secs[k] += sm_now() - t0;
    }
}

static selfmm_status subnets_run(const subnet_job *j, double secs[2], selfmm_error *err)
{
    sm_compute *c = j->c;
    if (j->train) {
        const int B = j->bt->batch, split = B > 1 ? (B + 1) / 2 : B;
        for (int k = 0; k < 2; k++) SM_TRY(sm_subnet_prepare(&c->sub[k], B, split, err));
    }
    const int parts = c->sub[0].split < c->sub[0].B ? 2 : 1; /* the forward's split, in both passes */
    selfmm_status st[2][2] = {{SELFMM_OK, SELFMM_OK}, {SELFMM_OK, SELFMM_OK}};
    selfmm_error e[2][2] = {{{0}, {0}}, {{0}, {0}}};
    double start[2] = {0, 0}, audio_end[2] = {0, 0};
    secs[0] = secs[1] = 0;
    if (!j->train) subnets_rest(j, secs);
    const double t0 = sm_now();
#pragma omp parallel num_threads(2) if (parts == 2 && omp_get_max_threads() > 1)
    {
        const int me = omp_get_thread_num(), n = omp_get_num_threads();
        for (int p = 0; p < parts; p++)
            if (n == 1 || p == me) {
                start[p] = sm_now();
                st[0][p] = subnet_lstm(j, 0, p, &e[0][p]);
                audio_end[p] = sm_now();
                st[1][p] = subnet_lstm(j, 1, p, &e[1][p]);
            }
    }
    const double wall = sm_now() - t0;
    double audio = 0;
    for (int p = 0; p < parts; p++) audio = fmax(audio, audio_end[p] - start[p]);
    secs[0] += audio, secs[1] += wall - audio;
    for (int k = 0; k < 2; k++)
        for (int p = 0; p < parts; p++)
            if (st[k][p] != SELFMM_OK) {
                if (err) *err = e[k][p];
                return st[k][p];
            }
    if (j->train) subnets_rest(j, secs);
    else
        for (int k = 0; k < 2; k++) sm_subnet_backward_merge(&c->sub[k], k == 0 ? &j->m->g.audio : &j->m->g.video);
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
    double t1 = sm_now(), g1 = sm_gemm_seconds;
    SM_TRY(sm_bert_forward(m, c, bt, run, &drop, err));
    double t2 = sm_now(), g2 = sm_gemm_seconds, sub_s[2];
    const subnet_job job = {1, m, c, bt, &drop};
    SM_TRY(subnets_run(&job, sub_s, err));
    c->B = B;
    SM_TRY(sm_heads_forward(m, c, &drop, err));
    double t5 = sm_now();
    tm->forward_s = t5 - t0;
    tm->bert_forward_s = t2 - t1;
    tm->bert_forward_gemm_s = g2 - g1;
    tm->audio_forward_s = sub_s[0];
    tm->vision_forward_s = sub_s[1];
    tm->bert_forward_flop = sm_bert_forward_flop(cfg, B, run, c->bert.P);
    tm->text_steps = run;
    tm->text_tokens = c->bert.P;
    tm->audio_steps = sm_subnet_last_steps(&c->sub[0]);
    tm->vision_steps = sm_subnet_last_steps(&c->sub[1]);
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
    double t3 = sm_now(), g3 = sm_gemm_seconds;
    SM_TRY(sm_bert_backward(m, c, c->dtext, err));
    double t4 = sm_now(), g4 = sm_gemm_seconds;
    tm->backward_s = t4 - t0;
    tm->vision_backward_s = sub_s[1];
    tm->audio_backward_s = sub_s[0];
    tm->bert_backward_s = t4 - t3;
    tm->bert_backward_gemm_s = g4 - g3;
    tm->bert_backward_flop = 2.0 * tm->bert_forward_flop;
    return SELFMM_OK;
}

void sm_net_timings(const sm_net *m, selfmm_timings *t)
{
    if (m->compute) *t = m->compute->timings;
    else memset(t, 0, sizeof *t);
}
