/* dist.c -- several processes (see dist.h and "Several processes" in selfmm.h):
 * checking a table of collectives, the shares of a batch, the model's broadcast,
 * and one global batch computed as shares and gathered, on which the fit layer and
 * selfmm_evaluate_dist build. Written only on the public API.
 *
 * A batch's block, one per rank in the allgather: a header (status, sample count,
 * the rank's loss parts, its message) and per sample the four outputs and, in
 * training, the four feature vectors (~1 KB per sample for bert-base, against the
 * seconds its forward takes). Every block is padded to ceil(nb / size) samples:
 * the allgather has one size. The header's status makes every rank stop at the
 * same batch when one fails, so no rank waits forever in a collective the failed
 * one never joins. */
#include "train/dist.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SELFMM_API selfmm_status selfmm_collectives_check(const selfmm_collectives *c, selfmm_error *err)
{
    if (!c) return SELFMM_OK;
    if (c->version != SELFMM_COLLECTIVES_VERSION)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "collectives: version %d (this libselfmm knows %d)", c->version,
                    SELFMM_COLLECTIVES_VERSION);
    if (c->size < 1 || c->rank < 0 || c->rank >= c->size)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "collectives: rank %d of %d", c->rank, c->size);
    if (c->size > 1 && (!c->allreduce_sum_f32 || !c->allgather || !c->broadcast || !c->barrier))
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "collectives: %s is NULL with %d ranks",
                    !c->allreduce_sum_f32 ? "allreduce_sum_f32"
                    : !c->allgather       ? "allgather"
                    : !c->broadcast       ? "broadcast"
                                          : "barrier",
                    c->size);
    return SELFMM_OK;
}

SELFMM_API void selfmm_shard(int b, int rank, int size, int *first, int *count)
{
    int f = 0, n = 0;
    if (b >= 0 && size >= 1 && rank >= 0 && rank < size) {
        const int q = b / size, r = b % size;
        n = q + (rank < r);
        f = rank * q + (rank < r ? rank : r);
    }
    if (first) *first = f;
    if (count) *count = n;
}

selfmm_status sm_dist_init(sm_dist *d, const selfmm_collectives *c, selfmm_error *err)
{
    memset(d, 0, sizeof *d);
    d->size = 1;
    selfmm_status st = selfmm_collectives_check(c, err);
    if (st != SELFMM_OK) return st;
    if (c && c->size > 1) d->c = c, d->rank = c->rank, d->size = c->size;
    return SELFMM_OK;
}

/* ---- the caller's operations ------------------------------------------------ */

static selfmm_status coll_fail(sm_dist *d, int rc, const char *op, const char *what, selfmm_error *err)
{
    d->broken = 1;
    const char *m = d->c->errmsg ? d->c->errmsg(d->c->user) : NULL;
    return sm_error(err, SELFMM_ERR_COLLECTIVE, "%s of %s failed (code %d)%s%s", op, what, rc, m && *m ? ": " : "",
                m && *m ? m : "");
}

selfmm_status sm_dist_allgather(sm_dist *d, const void *send, size_t bytes, void *recv, const char *what,
                                selfmm_error *err)
{
    if (!sm_dist_active(d)) {
        memcpy(recv, send, bytes);
        return SELFMM_OK;
    }
    if (d->broken) return sm_error(err, SELFMM_ERR_COLLECTIVE, "allgather of %s: the group failed before", what);
    int rc = d->c->allgather(send, bytes, recv, d->c->user);
    return rc == 0 ? SELFMM_OK : coll_fail(d, rc, "allgather", what, err);
}

selfmm_status sm_dist_broadcast(sm_dist *d, void *buf, size_t bytes, int root, const char *what,
                                selfmm_error *err)
{
    if (!sm_dist_active(d) || bytes == 0) return SELFMM_OK;
    if (d->broken) return sm_error(err, SELFMM_ERR_COLLECTIVE, "broadcast of %s: the group failed before", what);
    int rc = d->c->broadcast(buf, bytes, root, d->c->user);
    return rc == 0 ? SELFMM_OK : coll_fail(d, rc, "broadcast", what, err);
}

selfmm_status sm_dist_allreduce(sm_dist *d, float *buf, int64_t n, const char *what, selfmm_error *err)
{
    if (!sm_dist_active(d) || n == 0) return SELFMM_OK;
    if (d->broken) return sm_error(err, SELFMM_ERR_COLLECTIVE, "allreduce of %s: the group failed before", what);
    int rc = d->c->allreduce_sum_f32(buf, n, d->c->user);
    return rc == 0 ? SELFMM_OK : coll_fail(d, rc, "allreduce", what, err);
}

/* ---- agreement ------------------------------------------------------------- */

typedef struct agree_msg {
    int32_t status;
    char message[SELFMM_ERROR_MESSAGE_SIZE];
} agree_msg;

/* The lowest failing rank of msgs[0..size) into err as "rank R: message"; a failure
 * every rank reports alike was agreed before and keeps its message. */
static selfmm_status first_failure(const sm_dist *d, const agree_msg *msgs, selfmm_error *err)
{
    int same = 1;
    for (int r = 1; r < d->size && same; r++)
        same = msgs[r].status == msgs[0].status && !strcmp(msgs[r].message, msgs[0].message);
    for (int r = 0; r < d->size; r++) {
        const agree_msg *m = &msgs[r];
        if (m->status == SELFMM_OK) continue;
        const selfmm_status st = (selfmm_status)m->status;
        if (same) return sm_error(err, st, "%s", m->message);
        return sm_error(err, st, "rank %d: %s", r, m->message[0] ? m->message : selfmm_strerror(st));
    }
    return SELFMM_OK;
}

selfmm_status sm_dist_agree(sm_dist *d, selfmm_status st, selfmm_error *err)
{
    if (!sm_dist_active(d) || d->broken) return st;
    agree_msg mine = {(int32_t)st, ""};
    if (st != SELFMM_OK) {
        if (err) snprintf(mine.message, sizeof mine.message, "%s", err->message);
        else snprintf(mine.message, sizeof mine.message, "%s", selfmm_strerror(st));
    }
    agree_msg *all = malloc((size_t)d->size * sizeof *all);
    if (!all) {
        /* cannot take part: the others would wait for us, so the group is lost */
        d->broken = 1;
        return sm_error(err, SELFMM_ERR_NOMEM, "agreement: out of memory");
    }
    selfmm_status cs = sm_dist_allgather(d, &mine, sizeof mine, all, "the ranks' status", err);
    for (int r = 0; r < d->size && cs == SELFMM_OK; r++) all[r].message[sizeof all[r].message - 1] = '\0';
    if (cs == SELFMM_OK) cs = first_failure(d, all, err);
    free(all);
    return cs;
}

selfmm_status sm_dist_same(sm_dist *d, uint64_t value, const char *what, selfmm_error *err)
{
    if (!sm_dist_active(d)) return SELFMM_OK;
    uint64_t *all = malloc((size_t)d->size * sizeof *all);
    if (!all) return sm_dist_agree(d, sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what), err);
    selfmm_status st = sm_dist_allgather(d, &value, sizeof value, all, what, err);
    for (int r = 1; r < d->size && st == SELFMM_OK; r++)
        if (all[r] != all[0])
            st = sm_error(err, SELFMM_ERR_COLLECTIVE, "%s differs between the ranks: rank %d has %llx, rank 0 %llx",
                      what, r, (unsigned long long)all[r], (unsigned long long)all[0]);
    free(all);
    return st;
}

/* ---- hashes ------------------------------------------------------------------ */

uint64_t sm_dist_hash(uint64_t h0, const void *p, size_t n)
{
    /* four multiply-xor lanes over 64-bit words, so that the multiplications overlap */
    const unsigned char *s = p;
    uint64_t h[4] = {h0 ^ 0x9E3779B97F4A7C15ull, h0 ^ 0xC2B2AE3D27D4EB4Full, h0 ^ 0x165667B19E3779F9ull,
                     h0 ^ 0x27D4EB2F165667C5ull};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, s + i + 8 * k, 8);
            h[k] = (h[k] ^ w) * 0x100000001B3ull;
        }
    for (; i < n; i++) h[0] = (h[0] ^ s[i]) * 0x100000001B3ull;
    uint64_t r = (uint64_t)n;
    for (int k = 0; k < 4; k++) r = (r ^ h[k] ^ (h[k] >> 29)) * 0xBF58476D1CE4E5B9ull;
    return r;
}

uint64_t sm_dist_dataset_hash(selfmm_dataset *data)
{
    uint64_t h = 0;
    for (int s = 0; s < 3; s++) {
        selfmm_split_view v;
        if (selfmm_dataset_split(data, (selfmm_split)s, &v) != SELFMM_OK) {
            h = sm_dist_hash(h, "missing", 7);
            continue;
        }
        const int64_t shape[7] = {v.n, v.text_len, v.audio_len, v.audio_dim, v.vision_len, v.vision_dim,
                                  (v.audio_lengths ? 1 : 0) | (v.vision_lengths ? 2 : 0)};
        const size_t n = (size_t)v.n;
        h = sm_dist_hash(h, shape, sizeof shape);
        h = sm_dist_hash(h, v.text_bert, n * 3 * (size_t)v.text_len * sizeof(int32_t));
        h = sm_dist_hash(h, v.audio, n * (size_t)v.audio_len * (size_t)v.audio_dim * sizeof(float));
        h = sm_dist_hash(h, v.vision, n * (size_t)v.vision_len * (size_t)v.vision_dim * sizeof(float));
        if (v.audio_lengths) h = sm_dist_hash(h, v.audio_lengths, n * sizeof(int32_t));
        if (v.vision_lengths) h = sm_dist_hash(h, v.vision_lengths, n * sizeof(int32_t));
        h = sm_dist_hash(h, v.labels, n * sizeof(float));
        for (int k = 1; k < 4; k++)
            if (v.labels_unimodal[k]) h = sm_dist_hash(h, v.labels_unimodal[k], n * sizeof(float));
    }
    return h;
}

/* ---- the model's weights ------------------------------------------------------ */

SELFMM_API selfmm_status selfmm_model_broadcast(selfmm_model *model, int root, const selfmm_collectives *c,
                                                selfmm_error *err)
{
    sm_dist d;
    selfmm_status st = sm_dist_init(&d, c, err);
    if (st != SELFMM_OK) return st;
    if (!model) return sm_error(err, SELFMM_ERR_INVALID_ARG, "model broadcast: NULL model");
    if (!sm_dist_active(&d)) return SELFMM_OK;
    if (root < 0 || root >= d.size)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "model broadcast: root %d of %d ranks", root, d.size);
    selfmm_arena a;
    selfmm_model_arena(model, &a);
    /* the same architecture everywhere, or the broadcast would run past an arena */
    st = sm_dist_same(&d, (uint64_t)a.count, "the parameter count", err);
    if (st != SELFMM_OK) return st;
    uint64_t step = selfmm_model_get_step(model);
    st = sm_dist_broadcast(&d, &step, sizeof step, root, "the dropout step", err);
    if (st == SELFMM_OK)
        st = sm_dist_broadcast(&d, a.params, (size_t)a.count * sizeof(float), root, "the weights", err);
    if (st == SELFMM_OK) selfmm_model_set_step(model, step);
    return st;
}

/* ---- one global batch ------------------------------------------------------------ */

typedef struct block_head {
    int32_t status, count;
    double loss[5];              /* total, then the four parts: this rank's share of the mean */
    char message[SELFMM_ERROR_MESSAGE_SIZE];
} block_head;

void sm_dist_batch_free(sm_dist_batch *g)
{
    free(g->send), free(g->recv);
    for (int k = 0; k < 4; k++) free(g->out[k]), free(g->feat[k]);
    memset(g, 0, sizeof *g);
}

selfmm_status sm_dist_batch_init(sm_dist_batch *g, const sm_dist *d, int cap, const int dims[4], int feats,
                                 selfmm_error *err)
{
    memset(g, 0, sizeof *g);
    if (!sm_dist_active(d)) return SELFMM_OK; /* one process: the model's own outputs */
    g->cap = cap, g->feats = feats;
    g->per_sample = 4;
    for (int k = 0; k < 4; k++) {
        g->dims[k] = feats ? dims[k] : 0;
        g->per_sample += g->dims[k];
    }
    g->head = sizeof(block_head);
    const size_t slot = (size_t)(cap + d->size - 1) / (size_t)d->size;
    const size_t block = g->head + slot * (size_t)g->per_sample * sizeof(float);
    g->send = calloc(1, block);
    g->recv = calloc((size_t)d->size, block);
    int ok = g->send && g->recv;
    for (int k = 0; k < 4 && ok; k++) {
        ok = (g->out[k] = malloc((size_t)cap * sizeof(float))) != NULL;
        if (ok && feats) ok = (g->feat[k] = malloc((size_t)cap * (size_t)dims[k] * sizeof(float))) != NULL;
    }
    if (!ok) {
        sm_dist_batch_free(g);
        return sm_error(err, SELFMM_ERR_NOMEM, "gather buffers: out of memory");
    }
    return SELFMM_OK;
}

/* This rank's share: forward (and loss + backward in training) of samples
 * idx[0..cnt), the positions first.. of a global batch of nb; into the header and
 * the rows of the send block. */
static selfmm_status local_share(sm_dist_batch *g, selfmm_model *model, selfmm_dataset *data,
                                 selfmm_split split, const int *idx, int first, int cnt, int nb, int run,
                                 selfmm_mode mode, const float *const labels[4], block_head *h,
                                 selfmm_error *err)
{
    selfmm_status st;
    if (cnt == 0) { /* a tail batch smaller than the ranks: keep the dropout counter with theirs */
        if (mode == SELFMM_MODE_TRAIN) selfmm_model_set_step(model, selfmm_model_get_step(model) + 1);
        return SELFMM_OK;
    }
    const selfmm_shard_info si = {first, nb, run};
    if ((st = selfmm_model_set_shard(model, &si)) != SELFMM_OK)
        return sm_error(err, st, "shard: %s", selfmm_model_errmsg(model));
    selfmm_batch batch;
    if ((st = selfmm_dataset_batch(data, split, idx + first, cnt, &batch, NULL)) != SELFMM_OK)
        return sm_error(err, st, "batch: %s", selfmm_dataset_errmsg(data));
    selfmm_outputs out;
    if ((st = selfmm_model_forward(model, &batch, mode, &out)) != SELFMM_OK)
        return sm_error(err, st, "forward: %s", selfmm_model_errmsg(model));
    if (mode == SELFMM_MODE_TRAIN) {
        const float *const lab[4] = {labels[0] + first, labels[1] + first, labels[2] + first, labels[3] + first};
        selfmm_loss l;
        if ((st = selfmm_model_loss(model, lab, &l)) != SELFMM_OK)
            return sm_error(err, st, "loss: %s", selfmm_model_errmsg(model));
        if ((st = selfmm_model_backward(model, NULL)) != SELFMM_OK)
            return sm_error(err, st, "backward: %s", selfmm_model_errmsg(model));
        h->loss[0] = l.total;
        for (int k = 0; k < 4; k++) h->loss[1 + k] = l.part[k];
    }
    const float *heads[4] = {out.M, out.T, out.A, out.V};
    float *row = (float *)(void *)(g->send + g->head);
    for (int i = 0; i < cnt; i++) {
        for (int k = 0; k < 4; k++) *row++ = heads[k][i];
        for (int k = 0; k < 4 && g->feats; k++) {
            memcpy(row, out.feature[k] + (size_t)i * g->dims[k], (size_t)g->dims[k] * sizeof(float));
            row += g->dims[k];
        }
    }
    h->count = cnt;
    return SELFMM_OK;
}

/* One process: the step-level calls on the whole batch. */
static selfmm_status whole_batch(selfmm_model *model, selfmm_dataset *data, selfmm_split split, const int *idx,
                                 int nb, selfmm_mode mode, const float *const labels[4], selfmm_loss *loss,
                                 selfmm_outputs *out, selfmm_error *err)
{
    selfmm_status st;
    selfmm_batch batch;
    if ((st = selfmm_dataset_batch(data, split, idx, nb, &batch, NULL)) != SELFMM_OK)
        return sm_error(err, st, "batch: %s", selfmm_dataset_errmsg(data));
    if ((st = selfmm_model_forward(model, &batch, mode, out)) != SELFMM_OK)
        return sm_error(err, st, "forward: %s", selfmm_model_errmsg(model));
    if (mode != SELFMM_MODE_TRAIN) return SELFMM_OK;
    if ((st = selfmm_model_loss(model, labels, loss)) != SELFMM_OK)
        return sm_error(err, st, "loss: %s", selfmm_model_errmsg(model));
    if ((st = selfmm_model_backward(model, NULL)) != SELFMM_OK)
        return sm_error(err, st, "backward: %s", selfmm_model_errmsg(model));
    return SELFMM_OK;
}

selfmm_status sm_dist_step(sm_dist *d, sm_dist_batch *g, selfmm_model *model, selfmm_dataset *data,
                           selfmm_split split, const int *idx, int nb, selfmm_mode mode,
                           const float *const labels[4], selfmm_loss *loss, selfmm_outputs *out,
                           selfmm_error *err)
{
    selfmm_loss none;
    if (!loss) loss = &none;
    memset(loss, 0, sizeof *loss);
    if (!sm_dist_active(d)) return whole_batch(model, data, split, idx, nb, mode, labels, loss, out, err);
    if (nb > g->cap) return sm_error(err, SELFMM_ERR_INVALID_ARG, "gather: batch of %d above %d", nb, g->cap);
    int first, cnt, run = 0;
    selfmm_shard(nb, d->rank, d->size, &first, &cnt);
    block_head h;
    memset(&h, 0, sizeof h);
    selfmm_error e = {0};
    selfmm_status st = selfmm_dataset_text_run_len(data, split, idx, nb, &run);
    if (st != SELFMM_OK) sm_error(&e, st, "batch: %s", selfmm_dataset_errmsg(data));
    else st = local_share(g, model, data, split, idx, first, cnt, nb, run, mode, labels, &h, &e);
    if (st != SELFMM_OK) {
        h.status = st;
        snprintf(h.message, sizeof h.message, "%s", e.message);
    }
    memcpy(g->send, &h, sizeof h);
    const size_t slot = (size_t)(nb + d->size - 1) / (size_t)d->size;
    const size_t block = g->head + slot * (size_t)g->per_sample * sizeof(float);
    st = sm_dist_allgather(d, g->send, block, g->recv, "a batch's outputs", err);
    if (st != SELFMM_OK) return st;
    /* the headers' status: an agreement on the batch, the lowest failing rank's */
    for (int r = 0; r < d->size; r++) {
        block_head rh;
        memcpy(&rh, g->recv + (size_t)r * block, sizeof rh);
        if (rh.status != SELFMM_OK) {
            rh.message[sizeof rh.message - 1] = '\0';
            return sm_error(err, (selfmm_status)rh.status, "rank %d: %s", r, rh.message);
        }
    }
    for (int r = 0; r < d->size; r++) {
        block_head rh;
        memcpy(&rh, g->recv + (size_t)r * block, sizeof rh);
        int rf, rc;
        selfmm_shard(nb, r, d->size, &rf, &rc);
        if (rh.count != rc)
            return sm_error(err, SELFMM_ERR_COLLECTIVE, "gather: rank %d sent %d samples of a batch of %d, not %d", r,
                        (int)rh.count, nb, rc);
        const float *row = (const float *)(const void *)(g->recv + (size_t)r * block + g->head);
        for (int i = rf; i < rf + rc; i++) {
            for (int k = 0; k < 4; k++) g->out[k][i] = *row++;
            for (int k = 0; k < 4 && g->feats; k++) {
                memcpy(g->feat[k] + (size_t)i * g->dims[k], row, (size_t)g->dims[k] * sizeof(float));
                row += g->dims[k];
            }
        }
        /* the global mean: the ranks' parts in rank order; the total as one process
         * forms it, from the four parts */
        for (int k = 0; k < 4; k++) loss->part[k] += rh.loss[1 + k];
    }
    for (int k = 0; k < 4; k++) loss->total += loss->part[k];
    memset(out, 0, sizeof *out);
    out->batch = nb;
    out->M = g->out[0], out->T = g->out[1], out->A = g->out[2], out->V = g->out[3];
    for (int k = 0; k < 4; k++) out->feature[k] = g->feat[k], out->dim[k] = g->dims[k];
    return SELFMM_OK;
}
