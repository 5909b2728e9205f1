/* evaluate.c -- selfmm_evaluate: a split in order, in evaluation mode (the
 * reference's do_test), and selfmm_evaluate_dist, the same over several processes
 * (each forwards its share of every batch, the outputs are gathered: dist.c).
 * Written only on the public API. */
#include "selfmm.h"
#include "train/dist.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(selfmm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(selfmm_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static selfmm_status fail(selfmm_error *err, selfmm_status st, const char *what, const char *msg)
{
    if (err) {
        err->status = st;
        say(err, "%s: %s", what, msg && *msg ? msg : selfmm_strerror(st));
    }
    return st;
}

SELFMM_API selfmm_status selfmm_evaluate(selfmm_model *model, selfmm_dataset *data,
                                         selfmm_split split, int batch_size,
                                         selfmm_metrics *metrics, double *loss, float *preds,
                                         selfmm_error *err)
{
    return selfmm_evaluate_dist(model, data, split, batch_size, NULL, metrics, loss, preds, err);
}

/* The batches of a split, in order; every rank sees the whole batch's outputs. */
static selfmm_status run_batches(sm_dist *d, selfmm_model *model, selfmm_dataset *data, selfmm_split split,
                                 const selfmm_split_view *v, int batch_size, float *pred, float *preds,
                                 double *loss, selfmm_error *err)
{
    int *idx = malloc((size_t)batch_size * sizeof *idx);
    const int dims[4] = {0, 0, 0, 0};
    sm_dist_batch g;
    selfmm_status st = idx ? sm_dist_batch_init(&g, d, batch_size, dims, 0, err)
                           : fail(err, SELFMM_ERR_NOMEM, "evaluate", "out of memory");
    /* every rank must be able to take part before the first collective */
    st = sm_dist_agree(d, st, err);
    if (st != SELFMM_OK) {
        if (idx) sm_dist_batch_free(&g);
        free(idx);
        return st;
    }
    double loss_sum = 0;
    int batches = 0;
    for (int start = 0; start < v->n && st == SELFMM_OK; start += batch_size, batches++) {
        const int b = v->n - start < batch_size ? v->n - start : batch_size;
        for (int i = 0; i < b; i++) idx[i] = start + i;
        selfmm_outputs out;
        selfmm_error e = {0};
        st = sm_dist_step(d, &g, model, data, split, idx, b, SELFMM_MODE_EVAL, NULL, NULL, &out, &e);
        if (st != SELFMM_OK) {
            fail(err, st, "evaluate", e.message);
            break;
        }
        /* The reference: torch.mean(|M - y|) in float32 per batch, summed in double
         * (loss.item()), then divided by the number of batches. */
        const float *labels = v->labels + start;
        float s = 0;
        for (int i = 0; i < b; i++) s += fabsf(out.M[i] - labels[i]);
        loss_sum += (double)(s / (float)b);
        memcpy(pred + start, out.M, (size_t)b * sizeof(float));
        if (preds)
            for (int i = 0; i < b; i++) {
                float *row = preds + (size_t)(start + i) * 4;
                row[0] = out.M[i], row[1] = out.T[i], row[2] = out.A[i], row[3] = out.V[i];
            }
    }
    if (st == SELFMM_OK) *loss = loss_sum / batches;
    sm_dist_batch_free(&g);
    free(idx);
    return st;
}

SELFMM_API selfmm_status selfmm_evaluate_dist(selfmm_model *model, selfmm_dataset *data,
                                              selfmm_split split, int batch_size,
                                              const selfmm_collectives *c, selfmm_metrics *metrics,
                                              double *loss, float *preds, selfmm_error *err)
{
    sm_dist d;
    selfmm_status st = sm_dist_init(&d, c, err);
    if (st != SELFMM_OK) return st;
    if (!model || !data || batch_size < 1)
        return fail(err, SELFMM_ERR_INVALID_ARG, "evaluate", "NULL model or data, or batch size < 1");
    selfmm_config cfg;
    selfmm_split_view v;
    st = selfmm_model_get_config(model, &cfg);
    if (st != SELFMM_OK) return fail(err, st, "evaluate", "model config unavailable");
    st = selfmm_dataset_split(data, split, &v);
    if (st != SELFMM_OK) return fail(err, st, "evaluate", selfmm_dataset_errmsg(data));
    if (v.n < 1) return fail(err, SELFMM_ERR_DATA, "evaluate", "the split is empty");
    /* the ranks must walk the same batches */
    st = sm_dist_same(&d, (uint64_t)v.n << 32 | (uint32_t)batch_size, "evaluate: the split size and batch size",
                      err);
    if (st != SELFMM_OK) return st;
    float *pred = malloc((size_t)v.n * sizeof *pred);
    st = sm_dist_agree(&d, pred ? SELFMM_OK : fail(err, SELFMM_ERR_NOMEM, "evaluate", "out of memory"), err);
    double loss_v = 0;
    if (st == SELFMM_OK) st = run_batches(&d, model, data, split, &v, batch_size, pred, preds, &loss_v, err);
    if (sm_dist_active(&d)) selfmm_model_set_shard(model, NULL);
    if (st == SELFMM_OK && metrics) {
        /* metricsTop.py as the config says: F1 order, rounding, MAE's type */
        const int variant = (cfg.f1_truth_weighted ? SELFMM_METRICS_F1_TRUTH_WEIGHTED : 0) |
                            (cfg.metrics_mae_float64 ? SELFMM_METRICS_MAE_FLOAT64 : 0);
        st = selfmm_metrics_compute_ex((selfmm_dataset_kind)cfg.dataset, variant, cfg.metrics_decimals, pred,
                                       v.labels, v.n, metrics, err);
    }
    if (st == SELFMM_OK && loss) *loss = loss_v;
    free(pred);
    return st;
}
