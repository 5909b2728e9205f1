/* fit_log.c -- the run's JSON-lines logs, written from the run's events.
 *
 * selfmm_fit hands every event first to sm_fit_log_event, then to the caller's
 * callback: the same selfmm_fit_event, in the same order, so a callback can write
 * these logs itself (tests/test_fit.c does, and compares). Nothing here sees the
 * run but the events; like fit.c it is written only on the public API.
 *
 * train_log.jsonl, one object per line:
 *   {"type":"batch","seed":S,"epoch":E,"batch":B,"loss":L,"loss_M":..,"loss_T":..,
 *    "loss_A":..,"loss_V":..}
 *   {"type":"step",... ,"window":W, the window's summed losses}
 *   {"type":"epoch","seed":S,"epoch":E,"train_loss":..,"train":{"M":{metrics},...},
 *    "valid":{"Loss":..,metrics},"best_epoch":..,"improved":true|false
 *    [,"label_corr":{"T":r,"A":r,"V":r}],"time":{"epoch":s,"train_steps":s,
 *    "optimizer":s,"labels":s,"valid":s,"files":s,"checkpoint":s}}
 * labels.jsonl, one line per epoch: {"seed":S,"epoch":E,"fusion":[...],"text":[...],
 *   "audio":[...],"vision":[...][,"label_corr":{...}]}
 * Metrics are the reported values with the unrounded ones under "raw" when any was
 * rounded; label_corr (when the data has human unimodal labels, as SIMS) is Pearson's
 * r of the generated labels and the human ones, computed as the metrics' Corr
 * (selfmm_pearson). "time" is where the seconds since the previous epoch line
 * went (the event's *_s fields; the checkpoint written after an epoch line counts
 * in the next one), in milliseconds' precision: the only part of the logs that
 * differs between two runs of the same seed. */
#include "selfmm.h"
#include "train/fit_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const head_names[4] = {"M", "T", "A", "V"};

void sm_fit_json_num(FILE *fp, double v)
{
    if (isfinite(v)) fprintf(fp, "%.17g", v);
    else fputs("null", fp);
}

/* {"Loss":..., name: reported value, ...}; with raw also "raw":{name: unrounded,...}
 * when any value was rounded. */
static void json_metrics(FILE *fp, const selfmm_metrics *m, const char *extra_key, double extra)
{
    fputc('{', fp);
    if (extra_key) {
        fprintf(fp, "\"%s\":", extra_key);
        sm_fit_json_num(fp, extra);
    }
    int rounded = 0;
    for (int i = 0; i < m->count; i++) {
        fprintf(fp, "%s\"%s\":", (i || extra_key) ? "," : "", m->name[i]);
        sm_fit_json_num(fp, m->value[i]);
        rounded |= memcmp(&m->value[i], &m->raw[i], sizeof(double)) != 0;
    }
    if (rounded) {
        fputs(",\"raw\":{", fp);
        for (int i = 0; i < m->count; i++) {
            fprintf(fp, "%s\"%s\":", i ? "," : "", m->name[i]);
            sm_fit_json_num(fp, m->raw[i]);
        }
        fputc('}', fp);
    }
    fputc('}', fp);
}

static void json_loss(FILE *fp, const selfmm_loss *l)
{
    fputs("\"loss\":", fp);
    sm_fit_json_num(fp, l->total);
    for (int k = 0; k < 4; k++) {
        fprintf(fp, ",\"loss_%s\":", head_names[k]);
        sm_fit_json_num(fp, l->part[k]);
    }
}

/* Does the epoch event carry human unimodal labels (SIMS) to compare with? */
static int has_human_labels(const selfmm_fit_event *ev)
{
    const float *const *h = ev->labels_human;
    return h && h[1] && h[2] && h[3];
}

/* {"T": r, "A": r, "V": r}: Pearson's r of generated and human unimodal labels. */
static void json_label_corr(FILE *fp, const selfmm_fit_event *ev)
{
    fputc('{', fp);
    for (int k = 1; k < 4; k++) {
        fprintf(fp, "%s\"%s\":", k > 1 ? "," : "", head_names[k]);
        double r = NAN; /* null in the log if it cannot be computed (out of memory) */
        selfmm_pearson(ev->labels[k], ev->labels_human[k], ev->n_train, &r, NULL);
        sm_fit_json_num(fp, r);
    }
    fputc('}', fp);
}

/* ,"time":{...}: seconds to the millisecond, in [0, 99999.999], and padded with
 * spaces before the closing brace to the length of the widest values, so that the
 * line's length does not depend on the times: a checkpoint records the log's
 * length, and two runs of one seed give the same checkpoint bytes. */
static void json_times(FILE *fp, const selfmm_fit_event *ev)
{
    const double t[7] = {ev->epoch_s, ev->train_steps_s, ev->optim_s, ev->labels_s,
                         ev->valid_s, ev->files_s, ev->checkpoint_s};
    static const char *const name[7] = {"epoch", "train_steps", "optimizer", "labels",
                                        "valid", "files", "checkpoint"};
    int pad = 0;
    fputs(",\"time\":{", fp);
    for (int i = 0; i < 7; i++) {
        double v = isfinite(t[i]) && t[i] > 0 ? t[i] : 0.0;
        if (v > 99999.999) v = 99999.999;
        char num[32];
        int n = snprintf(num, sizeof num, "%.3f", v);
        pad += 9 - n; /* 99999.999 */
        fprintf(fp, "%s\"%s\":%s", i ? "," : "", name[i], num);
    }
    fprintf(fp, "%*s}", pad, "");
}

static void epoch_line(FILE *fp, const selfmm_fit_event *ev)
{
    fprintf(fp, "{\"type\":\"epoch\",\"seed\":%lld,\"epoch\":%d,\"train_loss\":", (long long)ev->seed,
            ev->epoch);
    sm_fit_json_num(fp, ev->train_loss);
    fputs(",\"train\":{", fp);
    for (int k = 0; k < 4; k++) {
        fprintf(fp, "%s\"%s\":", k ? "," : "", head_names[k]);
        json_metrics(fp, &ev->train_metrics[k], NULL, 0);
    }
    fputs("},\"valid\":", fp);
    json_metrics(fp, ev->valid_metrics, "Loss", ev->valid_loss);
    fprintf(fp, ",\"best_epoch\":%d,\"improved\":%s", ev->best_epoch, ev->improved ? "true" : "false");
    if (has_human_labels(ev)) {
        fputs(",\"label_corr\":", fp);
        json_label_corr(fp, ev);
    }
    json_times(fp, ev);
    fputs("}\n", fp);
}

/* The label maps as floats (%.9g: every float exact), in training-set order. */
static void labels_line(FILE *fp, const selfmm_fit_event *ev)
{
    fprintf(fp, "{\"seed\":%lld,\"epoch\":%d", (long long)ev->seed, ev->epoch);
    for (int k = 0; k < 4; k++) {
        fprintf(fp, ",\"%s\":[", selfmm_modality_name(k));
        for (int i = 0; i < ev->n_train; i++) fprintf(fp, "%s%.9g", i ? "," : "", ev->labels[k][i]);
        fputc(']', fp);
    }
    if (has_human_labels(ev)) {
        fputs(",\"label_corr\":", fp);
        json_label_corr(fp, ev);
    }
    fputs("}\n", fp);
}

void sm_fit_log_lines(FILE *log, FILE *labels, const selfmm_fit_event *ev)
{
    switch (ev->kind) {
    case SELFMM_EVENT_BATCH:
        fprintf(log, "{\"type\":\"batch\",\"seed\":%lld,\"epoch\":%d,\"batch\":%d,", (long long)ev->seed,
                ev->epoch, ev->batch);
        json_loss(log, &ev->loss);
        fputs("}\n", log);
        break;
    case SELFMM_EVENT_STEP:
        fprintf(log, "{\"type\":\"step\",\"seed\":%lld,\"epoch\":%d,\"batch\":%d,\"window\":%d,",
                (long long)ev->seed, ev->epoch, ev->batch, ev->window);
        json_loss(log, &ev->loss);
        fputs("}\n", log);
        break;
    case SELFMM_EVENT_EPOCH:
        epoch_line(log, ev);
        if (labels) labels_line(labels, ev);
        break;
    }
}

selfmm_status sm_fit_log_open(sm_fit_log *lg, const char *log_path, const char *labels_path,
                              int append, selfmm_error *err)
{
    memset(lg, 0, sizeof *lg);
    lg->log_path = log_path, lg->labels_path = labels_path;
    const char *mode = append ? "a" : "w";
    lg->log = fopen(log_path, mode);
    if (!lg->log) return sm_fit_fail(err, SELFMM_ERR_IO, "%s: cannot open: %s", log_path, strerror(errno));
    if (labels_path && !(lg->labels = fopen(labels_path, mode)))
        return sm_fit_fail(err, SELFMM_ERR_IO, "%s: cannot open: %s", labels_path, strerror(errno));
    return SELFMM_OK;
}

/* 0, or -1 with the message in lg->err when a write to fp failed. */
static int write_failed(sm_fit_log *lg, FILE *fp, const char *path, int flush)
{
    if (!fp || (!ferror(fp) && (!flush || fflush(fp) == 0))) return 0;
    sm_fit_fail(&lg->err, SELFMM_ERR_IO, "%s: write failed", path);
    return -1;
}

int sm_fit_log_event(const selfmm_fit_event *ev, void *log)
{
    sm_fit_log *lg = log;
    sm_fit_log_lines(lg->log, lg->labels, ev);
    if (ev->kind != SELFMM_EVENT_EPOCH) return write_failed(lg, lg->log, lg->log_path, 0);
    /* An epoch end: on disk before the checkpoint that follows names the lengths. */
    if (write_failed(lg, lg->log, lg->log_path, 1) || write_failed(lg, lg->labels, lg->labels_path, 1))
        return -1;
    if (selfmm_get_fsync()) { /* (see selfmm_set_fsync) */
        fsync(fileno(lg->log));
        if (lg->labels) fsync(fileno(lg->labels));
    }
    return 0;
}

void sm_fit_log_lengths(const sm_fit_log *lg, long *log_bytes, long *labels_bytes)
{
    *log_bytes = lg->log ? ftell(lg->log) : 0L;
    *labels_bytes = lg->labels ? ftell(lg->labels) : -1L;
}

void sm_fit_log_close(sm_fit_log *lg)
{
    if (lg->log) fclose(lg->log);
    if (lg->labels) fclose(lg->labels);
    lg->log = lg->labels = NULL;
}
