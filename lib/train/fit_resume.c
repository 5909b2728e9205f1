/* fit_resume.c -- the run state a checkpoint carries, and resuming a run from it.
 *
 * At every epoch end selfmm_fit writes checkpoint.safetensors: the model, the Adam
 * and label state (selfmm_checkpoint_save), and as its JSON string the run state
 *   {"epoch":E,"best_epoch":B,"best_valid":L,"log_bytes":N,"labels_bytes":M,"seed":S}
 * (completed epochs, the best one and its validation Loss, the lengths of
 * train_log.jsonl and labels.jsonl at that point; labels_bytes -1: no labels file;
 * the run's seed, which the checkpoint's own config check leaves free, so that a
 * checkpoint copied from another seed's folder is refused; checkpoints written
 * before the seed was recorded have no "seed" and are taken as they are).
 * Resuming loads it back, cuts the logs to those lengths (dropping the lines of an
 * interrupted epoch) and continues, so that the run ends exactly as an uninterrupted
 * one: weights, labels and logs byte for byte (tests/test_fit.c). Like fit.c it is
 * written only on the public API. */
#include "selfmm.h"
#include "train/fit_internal.h"

#include "core/atomic_file.h"
#include "train/state.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

selfmm_status sm_fit_checkpoint_save(const char *path, selfmm_model *model,
                                     const selfmm_optim *optim, const selfmm_ulgm *ulgm,
                                     const selfmm_early_stop *es, long log_bytes,
                                     long labels_bytes, int64_t seed, selfmm_error *err)
{
    char *json = NULL;
    size_t cap = 0;
    FILE *mem = open_memstream(&json, &cap);
    if (!mem) return sm_fit_fail(err, SELFMM_ERR_NOMEM, "checkpoint: out of memory");
    fprintf(mem, "{\"epoch\":%d,\"best_epoch\":%d,\"best_valid\":", es->epoch, es->best_epoch);
    sm_fit_json_num(mem, es->best);
    fprintf(mem, ",\"log_bytes\":%ld,\"labels_bytes\":%ld,\"seed\":%lld}", log_bytes, labels_bytes,
            (long long)seed);
    fclose(mem);
    selfmm_error e = {0};
    selfmm_status st = selfmm_checkpoint_save(model, optim, ulgm, json, path, &e);
    free(json);
    if (st != SELFMM_OK) return sm_fit_fail_from(err, st, "checkpoint", e.message);
    return SELFMM_OK;
}

selfmm_status sm_fit_checkpoint_write(const sm_fit_files *files, int best, selfmm_model *model,
                                      const selfmm_optim *optim, const selfmm_ulgm *ulgm,
                                      const selfmm_early_stop *es, long log_bytes, long labels_bytes,
                                      int64_t seed, selfmm_error *err)
{
    if (!best)
        return sm_fit_checkpoint_save(files->checkpoint, model, optim, ulgm, es, log_bytes, labels_bytes,
                                      seed, err);
    selfmm_status st = sm_fit_checkpoint_save(files->best, model, optim, ulgm, es, log_bytes, labels_bytes,
                                              seed, err);
    if (st != SELFMM_OK) return st;
    /* the epoch's checkpoint is a second name of the best one (a copy where the file
     * system has no hard links) */
    selfmm_error e = {0};
    st = sm_atomic_link(files->best, files->checkpoint, &e);
    return st == SELFMM_OK ? SELFMM_OK : sm_fit_fail(err, st, "%s", e.message);
}

/* The best weights into model: from the best epoch's checkpoint (its weights only),
 * or from the model file of a run that kept them there. *from: the file used, NULL
 * when neither exists (nothing changed). */
static selfmm_status load_best(const sm_fit_files *files, selfmm_model *model, const char **from,
                               selfmm_error *err)
{
    selfmm_error e = {0};
    selfmm_status st = SELFMM_OK;
    *from = NULL;
    if (access(files->best, F_OK) == 0) {
        *from = files->best;
        st = sm_checkpoint_load_weights(model, files->best, &e);
        if (st != SELFMM_OK) return sm_fit_fail_from(err, st, "best weights", e.message);
    } else if (access(files->model, F_OK) == 0) {
        *from = files->model;
        st = selfmm_model_load_weights(model, files->model);
        if (st != SELFMM_OK) return sm_fit_fail_from(err, st, files->model, selfmm_model_errmsg(model));
    }
    return SELFMM_OK;
}

selfmm_status sm_fit_best_restore(const sm_fit_files *files, selfmm_model *model, int holds_best,
                                  selfmm_error *err)
{
    const char *from = files->best;
    selfmm_status st = holds_best && access(files->best, F_OK) == 0 ? SELFMM_OK
                                                                     : load_best(files, model, &from, err);
    if (st != SELFMM_OK) return st;
    if (!from)
        return sm_fit_fail(err, SELFMM_ERR_NOT_FOUND, "%s: the best weights are gone (nor %s)", files->best,
                           files->model);
    if (from == files->model) return SELFMM_OK;
    st = selfmm_model_save(model, files->model);
    if (st != SELFMM_OK) return sm_fit_fail_from(err, st, files->model, selfmm_model_errmsg(model));
    if (unlink(files->best) != 0 && errno != ENOENT) /* the model holds them now: the second checkpoint goes */
        return sm_fit_fail(err, SELFMM_ERR_IO, "%s: cannot remove: %s", files->best, strerror(errno));
    return SELFMM_OK;
}

/* The integer at key when it lies in [lo, hi] (both within 2^53): 1, else 0. */
static int json_int(const cJSON *o, const char *key, double lo, double hi, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble))
        return 0;
    *out = (long)v->valuedouble;
    return 1;
}

/* The run state sm_fit_checkpoint_save wrote: a completed epoch, the best one so
 * far, the logs' lengths, the seed (*has_seed 0 when absent). Anything else is not
 * that state: 0. */
static int parse_state(const char *json, selfmm_early_stop *es, long *log_bytes, long *labels_bytes,
                       int *has_seed, double *seed)
{
    cJSON *o = cJSON_Parse(json ? json : "");
    const cJSON *bv = cJSON_GetObjectItemCaseSensitive(o, "best_valid");
    long epoch = 0, best_epoch = 0;
    int ok = o && json_int(o, "epoch", 1, INT_MAX, &epoch) &&
             json_int(o, "best_epoch", 0, (double)epoch, &best_epoch) && cJSON_IsNumber(bv) &&
             json_int(o, "log_bytes", 0, 9007199254740992.0, log_bytes) &&
             json_int(o, "labels_bytes", -1, 9007199254740992.0, labels_bytes);
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(o, "seed");
    *has_seed = sd != NULL;
    ok = ok && (!sd || cJSON_IsNumber(sd));
    if (ok && sd) *seed = sd->valuedouble;
    if (ok) {
        es->epoch = (int)epoch;
        es->best_epoch = (int)best_epoch;
        es->best = bv->valuedouble;
    }
    cJSON_Delete(o);
    return ok;
}

/* Cut a log to the length recorded in the checkpoint (keep -1: to nothing); a
 * missing file is fine, the writer creates it. */
static selfmm_status cut_log(const char *path, long keep, selfmm_error *err)
{
    if (truncate(path, keep > 0 ? keep : 0) != 0 && errno != ENOENT)
        return sm_fit_fail(err, SELFMM_ERR_IO, "%s: cannot truncate for resume: %s", path, strerror(errno));
    return SELFMM_OK;
}

selfmm_status sm_fit_resume(sm_dist *dist, const sm_fit_files *files, int save_labels, const selfmm_config *cfg,
                            selfmm_model *model, selfmm_dataset *data, selfmm_optim *optim,
                            selfmm_ulgm *ulgm, selfmm_early_stop *es, int *stop,
                            selfmm_metrics *best_valid, int *resumed, selfmm_error *err)
{
    *resumed = 0;
    const int writer = sm_dist_writer(dist); /* rank 0 alone reads out_dir */
    int32_t have[2] = {0, 0};                /* a checkpoint, a best model */
    if (writer) {
        have[0] = access(files->checkpoint, F_OK) == 0;
        have[1] = access(files->best, F_OK) == 0 || access(files->model, F_OK) == 0;
    }
    selfmm_status st = sm_dist_broadcast(dist, have, sizeof have, 0, "what out_dir holds", err);
    if (st != SELFMM_OK || !have[0]) return st; /* nothing to resume: start */
    selfmm_error e = {0};
    /* The validation metrics of the best weights (the best epoch's checkpoint, which
     * also keeps them for the end of the run, or the model file of a run of an earlier
     * version): evaluation is deterministic, so recomputing them gives what the
     * interrupted run had. */
    if (have[1]) {
        const char *from = NULL;
        if (writer) st = load_best(files, model, &from, err);
        st = sm_dist_agree(dist, st, err);
        if (st == SELFMM_OK) st = selfmm_model_broadcast(model, 0, dist->c, err);
        if (st != SELFMM_OK) return st;
        double loss;
        st = selfmm_evaluate_dist(model, data, SELFMM_SPLIT_VALID, cfg->batch_size, dist->c, best_valid, &loss,
                                  NULL, &e);
        if (st != SELFMM_OK) return sm_fit_fail_from(err, st, "validation", e.message);
    }
    char *json = NULL;
    if (writer && (st = selfmm_checkpoint_load(model, optim, ulgm, files->checkpoint, &json, &e)) != SELFMM_OK)
        sm_fit_fail_from(err, st, "resume", e.message);
    st = sm_dist_agree(dist, st, err);
    if (st == SELFMM_OK) st = selfmm_train_state_broadcast(model, optim, ulgm, 0, dist->c, &json, err);
    if (st != SELFMM_OK) {
        selfmm_free_string(json);
        return st;
    }
    long log_bytes = -1, labels_bytes = -1;
    int has_seed = 0;
    double seed = 0;
    int ok = parse_state(json, es, &log_bytes, &labels_bytes, &has_seed, &seed);
    selfmm_free_string(json);
    if (!ok) /* the same string on every rank: the same answer */
        return sm_fit_fail(err, SELFMM_ERR_FORMAT,
                           "%s: checkpoint lacks a valid run state (epochs, log lengths)", files->checkpoint);
    /* (seeds are exact in a double up to 2^53; the config's seed is an int64) */
    if (has_seed && seed != (double)cfg->seed)
        return sm_fit_fail(err, SELFMM_ERR_STATE,
                           "%s: this checkpoint belongs to the run of seed %.17g, not to this run (seed "
                           "%lld): it was copied from another run's folder; each run resumes only from "
                           "its own checkpoint", files->checkpoint, seed, (long long)cfg->seed);
    /* what selfmm_early_stop_update answered after that epoch */
    *stop = es->epoch - es->best_epoch >= cfg->early_stop;
    /* The lines written after the checkpoint belong to the epoch being redone. */
    if (writer) st = cut_log(files->log, log_bytes, err);
    if (writer && st == SELFMM_OK && save_labels) st = cut_log(files->labels, labels_bytes, err);
    st = sm_dist_agree(dist, st, err);
    if (st != SELFMM_OK) return st;
    *resumed = 1;
    return SELFMM_OK;
}
