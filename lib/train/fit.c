/* fit.c -- one Self-MM training run (docs/MODEL.md §3), written only on the public API.
 *
 * This file is the step-by-step recipe of the reference trainer
 * (thuiar/Self-MM trains/multiTask/SELF_MM.py, do_train): it includes nothing of
 * the library but selfmm.h (and its siblings' headers, written on it too), so it
 * can be read as documentation of the step-level calls, or copied and adapted.
 *
 * Per epoch: shuffle (a permutation of (seed, epoch)), cut into batches; per batch:
 * zero the gradients when a window of update_epochs batches opens, forward in
 * training mode, loss against the current ULGM labels, backward, label update
 * (epoch > 1), store features, recompute centers, and an Adam step when the window
 * closes. Then validate, keep the best weights, stop early, checkpoint.
 *
 * Every event goes first to the log writer (fit_log.c: train_log.jsonl,
 * labels.jsonl), then to the caller's callback: both see the same events in the
 * same order. Resuming (the run state in the checkpoint, the logs cut back to it)
 * is fit_resume.c.
 *
 * With the caller's collectives (selfmm_fit_options.collectives) several processes
 * run the same recipe on the same batches: each computes its share of every batch
 * and the outputs are gathered (dist.c), so that every rank makes the same label
 * update and, after one allreduce of the gradients per window, the same Adam step.
 * Rank 0 alone touches out_dir (sm_dist_writer). Wherever one rank can fail alone
 * (its share of a batch, a file of rank 0, a callback), the ranks agree on the
 * outcome before going on (sm_dist_agree), so that all stop at the same point.
 * With one process every agreement is a no-op and the recipe is the one above.
 */
#include "selfmm.h"
#include "train/dist.h"
#include "train/fit_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct fit_run {
    selfmm_model *model;
    selfmm_dataset *data;
    const selfmm_fit_options *opt;
    selfmm_error *err;
    selfmm_config cfg;
    selfmm_optim *optim;
    selfmm_ulgm *ulgm;
    selfmm_split_view train;
    int n, batch_size, num_batches;
    int *perm;                 /* (n) this epoch's order */
    float *pred[4], *truth[4]; /* (n) per head, in batch order: train metrics */
    float *lab[4];             /* (batch_size) labels of the current batch */
    float *best;               /* (nfloats) weights of the best epoch, kept in memory only
                                  without out_dir (there the best epoch's checkpoint holds
                                  them) */
    int64_t nfloats;
    sm_fit_files files;        /* in out_dir */
    sm_fit_log log;            /* the log writer, with out_dir */
    int epoch;                 /* the epoch being trained, 1-based */
    selfmm_early_stop es;      /* completed epochs, the best one, its Loss */
    int stop;                  /* early stopping says stop (after es.epoch epochs) */
    selfmm_metrics best_valid_metrics;
    struct timespec t0;
    /* Where the time since the last EPOCH event went (its *_s fields): t_mark is
     * elapsed() at that event (at first, when training starts). */
    double t_mark, t_steps, t_optim, t_labels, t_valid, t_files, t_ckpt;
    sm_dist dist;              /* the ranks (one process: size 1) */
    int writer;                /* this rank reads and writes out_dir (sm_dist_writer) */
    sm_dist_batch gather;      /* the whole batch's outputs and features, gathered */
    selfmm_error errbuf;       /* the run's messages when the caller passes no err: an
                                  agreement sends them to the other ranks */
} fit_run;

selfmm_status sm_fit_vfail(selfmm_error *err, selfmm_status st, const char *fmt, va_list ap)
{
    if (err) {
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        err->status = st;
    }
    return st;
}

selfmm_status sm_fit_fail(selfmm_error *err, selfmm_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sm_fit_vfail(err, st, fmt, ap);
    va_end(ap);
    return st;
}

selfmm_status sm_fit_fail_from(selfmm_error *err, selfmm_status st, const char *what, const char *msg)
{
    return sm_fit_fail(err, st, "%s: %s", what, msg && *msg ? msg : selfmm_strerror(st));
}

/* The run's error, in the caller's err. */
static selfmm_status fail(fit_run *r, selfmm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static selfmm_status fail(fit_run *r, selfmm_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sm_fit_vfail(r->err, st, fmt, ap);
    va_end(ap);
    return st;
}

/* A failed call on one of the run's handles: carry its message. */
static selfmm_status fail_from(fit_run *r, selfmm_status st, const char *what, const char *msg)
{
    return sm_fit_fail_from(r->err, st, what, msg);
}

static double elapsed(const fit_run *r)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - r->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - r->t0.tv_nsec);
}

/* ---- small helpers on the public API -------------------------------------- */

/* Keep (restore = 0) or bring back (restore = 1) the best weights. With an out_dir
 * they are on disk (no second copy of every weight in memory: 0.4 GB for
 * bert-base): the checkpoint of the best epoch keeps them during the run
 * (save_checkpoint), and the end of the run brings them back and writes the run's
 * result, model.safetensors, once (sm_fit_best_restore). Otherwise in memory. */
static selfmm_status snapshot(fit_run *r, int restore)
{
    if (r->opt->out_dir) { /* rank 0's files; the others receive the weights */
        if (!restore) return SELFMM_OK; /* the best epoch's checkpoint keeps them */
        /* the last epoch was the best: every rank holds its weights already */
        const int holds = r->es.best_epoch == r->es.epoch;
        selfmm_status st = r->writer ? sm_fit_best_restore(&r->files, r->model, holds, r->err) : SELFMM_OK;
        if (!sm_dist_active(&r->dist)) return st;
        st = sm_dist_agree(&r->dist, st, r->err);
        return st == SELFMM_OK && !holds ? selfmm_model_broadcast(r->model, 0, r->dist.c, r->err) : st;
    }
    int64_t off = 0;
    for (int i = 0; i < selfmm_model_num_params(r->model); i++) {
        selfmm_param_info p;
        selfmm_status st = selfmm_model_param(r->model, i, &p);
        if (st != SELFMM_OK) return fail_from(r, st, "parameters", selfmm_model_errmsg(r->model));
        if (restore) memcpy(p.data, r->best + off, (size_t)p.numel * sizeof(float));
        else memcpy(r->best + off, p.data, (size_t)p.numel * sizeof(float));
        off += p.numel;
    }
    return SELFMM_OK;
}

/* The checkpoint of a completed epoch, with the logs' lengths at its end; for a new
 * best epoch it is also the best weights' file (sm_fit_checkpoint_write). */
static selfmm_status save_checkpoint(fit_run *r, int best)
{
    if (!r->opt->out_dir || !r->writer) return SELFMM_OK;
    long log_bytes, labels_bytes;
    sm_fit_log_lengths(&r->log, &log_bytes, &labels_bytes);
    return sm_fit_checkpoint_write(&r->files, best, r->model, r->optim, r->ulgm, &r->es, log_bytes,
                                   labels_bytes, r->cfg.seed, r->err);
}

/* ---- before the first epoch -------------------------------------------- */

/* out_dir/name into buf (SELFMM_PATH_MAX bytes): a longer path would be cut, and the
 * library writes no file whose path exceeds SELFMM_PATH_MAX - 1 bytes anyway. */
static selfmm_status out_path(fit_run *r, char *buf, const char *name)
{
    int n = snprintf(buf, SELFMM_PATH_MAX, "%s/%s", r->opt->out_dir, name);
    if (n < 0 || n >= SELFMM_PATH_MAX)
        return fail(r, SELFMM_ERR_INVALID_ARG, "out_dir is too long for %s (paths of at most %d bytes): %s",
                    name, SELFMM_PATH_MAX - 1, r->opt->out_dir);
    return SELFMM_OK;
}

static selfmm_status setup(fit_run *r)
{
    selfmm_error e = {0};
    selfmm_status st;
    /* File names first: nothing is trained or changed for an out_dir that cannot hold them. */
    if (r->opt->out_dir) {
        char *const path[5] = {r->files.log, r->files.labels, r->files.checkpoint, r->files.model,
                               r->files.best};
        static const char *const name[5] = {"train_log.jsonl", "labels.jsonl", "checkpoint.safetensors",
                                            "model.safetensors", "checkpoint-best.safetensors"};
        for (int i = 0; i < 5; i++)
            if ((st = out_path(r, path[i], name[i])) != SELFMM_OK) return st;
    }
    st = selfmm_model_get_config(r->model, &r->cfg);
    if (st != SELFMM_OK) return fail(r, st, "model config unavailable");
    /* The model remembers how its data was prepared (lengths, normalisation), so
     * that a saved model can take raw inputs (selfmm_model_predict_one). */
    st = selfmm_model_adopt_dataset(r->model, r->data);
    if (st != SELFMM_OK) return fail_from(r, st, "data", selfmm_model_errmsg(r->model));
    st = selfmm_dataset_split(r->data, SELFMM_SPLIT_TRAIN, &r->train);
    if (st != SELFMM_OK) return fail_from(r, st, "train split", selfmm_dataset_errmsg(r->data));
    r->n = r->train.n;
    if (r->n < 1) return fail(r, SELFMM_ERR_DATA, "the train split is empty");
    r->batch_size = r->cfg.batch_size;
    r->num_batches = (r->n + r->batch_size - 1) / r->batch_size;
    r->nfloats = selfmm_model_num_floats(r->model);
    r->perm = malloc((size_t)r->n * sizeof *r->perm);
    if (!r->opt->out_dir) r->best = malloc((size_t)r->nfloats * sizeof *r->best);
    int ok = r->perm && (r->best || r->opt->out_dir);
    for (int k = 0; k < 4; k++) {
        r->pred[k] = malloc((size_t)r->n * sizeof(float));
        r->truth[k] = malloc((size_t)r->n * sizeof(float));
        r->lab[k] = malloc((size_t)r->batch_size * sizeof(float));
        ok = ok && r->pred[k] && r->truth[k] && r->lab[k];
    }
    if (!ok) return fail(r, SELFMM_ERR_NOMEM, "fit: out of memory");
    st = selfmm_optim_create(r->model, &r->cfg, &r->optim, &e);
    if (st != SELFMM_OK) return fail_from(r, st, "optimizer", e.message);
    const int dims[4] = {r->cfg.post_fusion_dim, r->cfg.post_text_dim, r->cfg.post_audio_dim,
                         r->cfg.post_video_dim};
    st = selfmm_ulgm_create(&r->cfg, r->n, r->train.labels, dims, &r->ulgm, &e);
    if (st != SELFMM_OK) return fail_from(r, st, "label state", e.message);
    st = sm_dist_batch_init(&r->gather, &r->dist, r->batch_size, dims, 1, r->err);
    if (st != SELFMM_OK) return st;
    selfmm_early_stop_init(&r->es); /* best 1e8, the reference's start for a 'min' criterion */
    if (r->opt->out_dir && r->writer) {
        const char *d = r->opt->out_dir;
        if (mkdir(d, 0777) != 0 && errno != EEXIST)
            return fail(r, SELFMM_ERR_IO, "%s: cannot create directory: %s", d, strerror(errno));
    }
    return SELFMM_OK;
}

/* ---- one epoch ------------------------------------------------------------ */

/* An event to the log writer (with out_dir), which refuses it only when a write
 * failed. */
static selfmm_status to_log(fit_run *r, const selfmm_fit_event *ev)
{
    const selfmm_fit_callback writer = sm_fit_log_event;
    if (!r->opt->out_dir || !r->writer) return SELFMM_OK;
    const double t = elapsed(r);
    const int failed = writer(ev, &r->log);
    r->t_files += elapsed(r) - t;
    return failed ? fail(r, r->log.err.status, "%s", r->log.err.message) : SELFMM_OK;
}

/* An event to the caller's callback, which may stop the run. */
static selfmm_status to_caller(fit_run *r, const selfmm_fit_event *ev)
{
    if (r->opt->callback && r->opt->callback(ev, r->opt->user))
        return fail(r, SELFMM_ERR_INTERRUPTED, "stopped by the callback at epoch %d, batch %d",
                           ev->epoch, ev->batch);
    return SELFMM_OK;
}

/* Both; with several ranks, the run goes on only when every rank's log and
 * callback did. */
static selfmm_status emit(fit_run *r, const selfmm_fit_event *ev)
{
    selfmm_status st = to_log(r, ev);
    if (st == SELFMM_OK) st = to_caller(r, ev);
    return sm_dist_agree(&r->dist, st, r->err);
}

static selfmm_status train_epoch(fit_run *r, double *train_loss)
{
    selfmm_status st;
    const int bs = r->batch_size, upd = r->cfg.update_epochs;
    if (r->cfg.shuffle) {
        st = selfmm_permutation((uint64_t)r->cfg.seed, (uint64_t)r->epoch, r->perm, r->n, NULL);
        if (st != SELFMM_OK) return fail(r, st, "shuffle: %s", selfmm_strerror(st));
    } else {
        for (int i = 0; i < r->n; i++) r->perm[i] = i;
    }
    double loss_sum = 0;
    selfmm_loss window = {0};
    int left = upd, windows = 0;
    for (int b = 0; b < r->num_batches; b++) {
        const int *idx = r->perm + (size_t)b * bs;
        const int nb = (b + 1) * bs <= r->n ? bs : r->n - b * bs;
        if (left == upd) selfmm_model_zero_grad(r->model); /* a window opens */
        left--;
        /* The loss is against the labels as they are before this batch's update. */
        st = selfmm_ulgm_gather(r->ulgm, idx, nb, r->lab);
        if (st != SELFMM_OK) return fail_from(r, st, "labels", selfmm_ulgm_errmsg(r->ulgm));
        /* selfmm_dataset_batch, selfmm_model_forward (training), selfmm_model_loss and
         * selfmm_model_backward on the batch (dist.c; with several ranks each runs its
         * share, and out and loss are the whole batch's, gathered) */
        selfmm_outputs out;
        selfmm_loss loss;
        double t = elapsed(r);
        st = sm_dist_step(&r->dist, &r->gather, r->model, r->data, SELFMM_SPLIT_TRAIN, idx, nb,
                          SELFMM_MODE_TRAIN, (const float *const *)r->lab, &loss, &out, r->err);
        if (st != SELFMM_OK) return st;
        r->t_steps += elapsed(r) - t;
        if (!isfinite(loss.total))
            return fail(r, SELFMM_ERR_NUMERIC,
                        "the loss is %g at epoch %d, batch %d: training diverged (the last "
                        "checkpoint, epoch %d, is intact)",
                        loss.total, r->epoch, b + 1, r->epoch - 1);
        const float *heads[4] = {out.M, out.T, out.A, out.V};
        for (int k = 0; k < 4; k++) {
            memcpy(r->pred[k] + (size_t)b * bs, heads[k], (size_t)nb * sizeof(float));
            memcpy(r->truth[k] + (size_t)b * bs, r->lab[k], (size_t)nb * sizeof(float));
        }
        /* Label update (epoch > 1), store features, recompute centers. */
        t = elapsed(r);
        st = selfmm_ulgm_update(r->ulgm, idx, nb, &out, r->epoch);
        if (st != SELFMM_OK)
            return fail(r, st, "epoch %d, batch %d: %s", r->epoch, b + 1, selfmm_ulgm_errmsg(r->ulgm));
        r->t_labels += elapsed(r) - t;
        loss_sum += loss.total;
        window.total += loss.total;
        for (int k = 0; k < 4; k++) window.part[k] += loss.part[k];

        selfmm_fit_event ev = {.kind = SELFMM_EVENT_BATCH, .seed = r->cfg.seed, .epoch = r->epoch,
                               .batch = b + 1, .num_batches = r->num_batches, .loss = loss,
                               .elapsed_s = elapsed(r), .rank = r->dist.rank, .size = r->dist.size};
        st = emit(r, &ev);
        if (st != SELFMM_OK) return st;

        int last = b + 1 == r->num_batches;
        if (left == 0 || (last && r->cfg.tail_step)) { /* the window closes: one step */
            t = elapsed(r); /* (the optimizer's time includes the gradients' sum over ranks) */
            /* several ranks: each holds the gradients of its shares; one sum for all */
            selfmm_arena arena;
            if (sm_dist_active(&r->dist) && (st = selfmm_model_arena(r->model, &arena)) == SELFMM_OK)
                st = sm_dist_allreduce(&r->dist, arena.grads, arena.count, "the gradients", r->err);
            if (st != SELFMM_OK) return st;
            st = selfmm_optim_step(r->optim);
            if (st != SELFMM_OK) return fail_from(r, st, "optimizer", selfmm_optim_errmsg(r->optim));
            r->t_optim += elapsed(r) - t;
            windows++;
            ev.kind = SELFMM_EVENT_STEP;
            ev.window = windows;
            ev.loss = window;
            st = emit(r, &ev);
            if (st != SELFMM_OK) return st;
            left = upd;
            memset(&window, 0, sizeof window);
        }
    }
    /* A final partial window is discarded (the reference's behaviour) unless tail_step. */
    *train_loss = loss_sum / r->num_batches;
    return SELFMM_OK;
}

/* Early stopping (selfmm_early_stop_update's answer) or the max_epochs cap, after
 * r->es.epoch completed epochs. */
static int should_stop(const fit_run *r)
{
    return r->stop || (r->cfg.max_epochs > 0 && r->es.epoch >= r->cfg.max_epochs);
}

static selfmm_status end_epoch(fit_run *r, double train_loss)
{
    selfmm_status st;
    selfmm_error e = {0};
    selfmm_metrics train_m[4], valid_m;
    const selfmm_dataset_kind kind = (selfmm_dataset_kind)r->cfg.dataset;
    const int variant = (r->cfg.f1_truth_weighted ? SELFMM_METRICS_F1_TRUTH_WEIGHTED : 0) |
                        (r->cfg.metrics_mae_float64 ? SELFMM_METRICS_MAE_FLOAT64 : 0);
    for (int k = 0; k < 4; k++) {
        st = selfmm_metrics_compute_ex(kind, variant, r->cfg.metrics_decimals, r->pred[k], r->truth[k],
                                       r->n, &train_m[k], &e);
        if (st != SELFMM_OK) return fail_from(r, st, "train metrics", e.message);
    }
    double valid_loss, t = elapsed(r);
    st = selfmm_evaluate_dist(r->model, r->data, SELFMM_SPLIT_VALID, r->batch_size, r->dist.c, &valid_m,
                              &valid_loss, NULL, &e);
    if (st != SELFMM_OK) return fail_from(r, st, "validation", e.message);
    r->t_valid += elapsed(r) - t;
    /* MMSA's do_test returns round(Loss, 4) (a Python float); Self-MM's is unrounded */
    if (r->cfg.valid_loss_decimals >= 0) valid_loss = selfmm_round(valid_loss, r->cfg.valid_loss_decimals);
    const int improved = selfmm_early_stop_update(&r->es, &r->cfg, valid_loss, &r->stop);
    if (improved) { /* the reference saves the model (torch.save): here the checkpoint below */
        r->best_valid_metrics = valid_m;
        t = elapsed(r);
        st = snapshot(r, 0);
        if (st != SELFMM_OK) return st;
        r->t_files += elapsed(r) - t;
    }
    const float *labels[4];
    for (int k = 0; k < 4; k++) labels[k] = selfmm_ulgm_labels(r->ulgm, k);
    const double now = elapsed(r);
    selfmm_fit_event ev = {.kind = SELFMM_EVENT_EPOCH, .seed = r->cfg.seed, .epoch = r->epoch,
                           .batch = r->num_batches, .num_batches = r->num_batches,
                           .elapsed_s = now, .train_loss = train_loss, .train_metrics = train_m,
                           .valid_loss = valid_loss, .valid_metrics = &valid_m,
                           .best_epoch = r->es.best_epoch, .best_valid_loss = r->es.best,
                           .improved = improved, .n_train = r->n, .labels = labels,
                           .labels_human = r->train.labels_unimodal,
                           .epoch_s = now - r->t_mark, .train_steps_s = r->t_steps,
                           .optim_s = r->t_optim, .labels_s = r->t_labels, .valid_s = r->t_valid,
                           .files_s = r->t_files, .checkpoint_s = r->t_ckpt, .rank = r->dist.rank,
                           .size = r->dist.size};
    r->t_mark = now;
    r->t_steps = r->t_optim = r->t_labels = r->t_valid = r->t_files = r->t_ckpt = 0;
    /* The log takes the epoch before the checkpoint records its length; the caller
     * sees it once the checkpoint is on disk, so stopping there loses nothing. So
     * this epoch's checkpoint (and the log's own write) count in the next event. */
    if (st == SELFMM_OK) st = to_log(r, &ev);
    if (st == SELFMM_OK) {
        t = elapsed(r);
        st = save_checkpoint(r, improved);
        r->t_ckpt = elapsed(r) - t;
        r->t_files += r->t_ckpt;
    }
    st = sm_dist_agree(&r->dist, st, r->err); /* rank 0's files are everybody's concern */
    if (st == SELFMM_OK && sm_dist_active(&r->dist)) {
        /* the ranks made the same steps from the same sums: their weights must be equal
         * (the allreduce's promise, checked once an epoch) */
        char what[64];
        snprintf(what, sizeof what, "the weights after epoch %d", r->epoch);
        st = sm_dist_same(&r->dist, selfmm_model_hash(r->model), what, r->err);
    }
    if (st == SELFMM_OK) st = to_caller(r, &ev);
    return sm_dist_agree(&r->dist, st, r->err);
}

/* ---- the run -------------------------------------------------------------- */

static void cleanup(fit_run *r)
{
    sm_fit_log_close(&r->log);
    selfmm_optim_free(r->optim);
    selfmm_ulgm_free(r->ulgm);
    free(r->perm);
    for (int k = 0; k < 4; k++) free(r->pred[k]), free(r->truth[k]), free(r->lab[k]);
    free(r->best);
    sm_dist_batch_free(&r->gather);
    if (sm_dist_active(&r->dist)) selfmm_model_set_shard(r->model, NULL);
}

/* Several ranks: every one must train the same model on the same data, from rank
 * 0's weights (only rank 0 needs the files they came from). */
static selfmm_status start_together(fit_run *r)
{
    if (!sm_dist_active(&r->dist)) return SELFMM_OK;
    /* the config, but for the run settings that may differ per host (threads, paths) */
    selfmm_config c = r->cfg;
    c.threads = 0;
    c.data_path[0] = c.bert_path[0] = '\0';
    char *json = NULL;
    selfmm_status st = selfmm_config_to_json(&c, &json, r->err);
    if (st != SELFMM_OK) return sm_dist_agree(&r->dist, st, r->err);
    uint64_t h = sm_dist_hash(0, json, strlen(json));
    selfmm_free_string(json);
    st = sm_dist_same(&r->dist, h, "the config", r->err);
    if (st == SELFMM_OK) st = sm_dist_same(&r->dist, sm_dist_dataset_hash(r->data), "the dataset", r->err);
    if (st == SELFMM_OK) st = selfmm_model_broadcast(r->model, 0, r->dist.c, r->err);
    return st;
}

SELFMM_API selfmm_status selfmm_fit(selfmm_model *model, selfmm_dataset *data,
                                    const selfmm_fit_options *opt, selfmm_fit_result *res,
                                    selfmm_error *err)
{
    static const selfmm_fit_options no_options;
    fit_run r = {.model = model, .data = data, .opt = opt ? opt : &no_options, .err = err};
    if (!r.err) r.err = &r.errbuf;
    if (!model || !data) return fail(&r, SELFMM_ERR_INVALID_ARG, "fit: NULL model or data");
    selfmm_status st = sm_dist_init(&r.dist, r.opt->collectives, r.err);
    if (st != SELFMM_OK) return st;
    r.writer = sm_dist_writer(&r.dist);
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    st = sm_dist_agree(&r.dist, setup(&r), r.err);
    if (st == SELFMM_OK) st = start_together(&r);
    int resumed = 0;
    if (st == SELFMM_OK && r.opt->out_dir && r.opt->resume) /* from the last epoch's checkpoint */
        st = sm_fit_resume(&r.dist, &r.files, r.opt->save_labels, &r.cfg, model, data, r.optim, r.ulgm, &r.es,
                           &r.stop, &r.best_valid_metrics, &resumed, r.err);
    if (st == SELFMM_OK && r.opt->out_dir && r.writer)
        st = sm_fit_log_open(&r.log, r.files.log, r.opt->save_labels ? r.files.labels : NULL, resumed, r.err);
    st = sm_dist_agree(&r.dist, st, r.err);
    r.t_mark = elapsed(&r);
    while (st == SELFMM_OK && !should_stop(&r)) { /* a resumed run may be done already */
        r.epoch = r.es.epoch + 1;
        double train_loss = 0;
        st = train_epoch(&r, &train_loss);
        if (st == SELFMM_OK) st = end_epoch(&r, train_loss);
    }
    if (st == SELFMM_OK && r.es.best_epoch > 0) st = snapshot(&r, 1); /* restore the best weights */
    /* the test split (every rank takes part, whether it asked for the result or not) */
    if (st == SELFMM_OK && (res || sm_dist_active(&r.dist))) {
        selfmm_fit_result tmp;
        selfmm_fit_result *out = res ? res : &tmp;
        memset(out, 0, sizeof *out);
        out->epochs = r.es.epoch;
        out->best_epoch = r.es.best_epoch;
        out->best_valid_loss = r.es.best;
        out->valid = r.best_valid_metrics;
        selfmm_error e = {0};
        st = selfmm_evaluate_dist(model, data, SELFMM_SPLIT_TEST, r.batch_size, r.dist.c, &out->test,
                                  &out->test_loss, NULL, &e);
        if (st != SELFMM_OK) fail_from(&r, st, "test", e.message);
    }
    cleanup(&r);
    return st;
}
