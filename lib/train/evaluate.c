/* evaluate.c -- selfmm_evaluate: a split in order, in evaluation mode (the
 * reference's do_test), written only on the public API. */
#include "selfmm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static selfmm_status fail(selfmm_error *err, selfmm_status st, const char *what, const char *msg)
{
    if (err) {
        err->status = st;
        snprintf(err->message, sizeof err->message, "%s: %s", what, msg && *msg ? msg : selfmm_strerror(st));
    }
    return st;
}

SELFMM_API selfmm_status selfmm_evaluate(selfmm_model *model, selfmm_dataset *data,
                                         selfmm_split split, int batch_size,
                                         selfmm_metrics *metrics, double *loss, float *preds,
                                         selfmm_error *err)
{
    if (!model || !data || batch_size < 1)
        return fail(err, SELFMM_ERR_INVALID_ARG, "evaluate", "NULL model or data, or batch size < 1");
    selfmm_config cfg;
    selfmm_split_view v;
    selfmm_status st = selfmm_model_get_config(model, &cfg);
    if (st != SELFMM_OK) return fail(err, st, "evaluate", "model config unavailable");
    st = selfmm_dataset_split(data, split, &v);
    if (st != SELFMM_OK) return fail(err, st, "evaluate", selfmm_dataset_errmsg(data));
    if (v.n < 1) return fail(err, SELFMM_ERR_DATA, "evaluate", "the split is empty");
    float *pred = malloc((size_t)v.n * sizeof *pred);
    int *idx = malloc((size_t)batch_size * sizeof *idx);
    if (!pred || !idx) {
        free(pred), free(idx);
        return fail(err, SELFMM_ERR_NOMEM, "evaluate", "out of memory");
    }
    double loss_sum = 0;
    int batches = 0;
    for (int start = 0; start < v.n && st == SELFMM_OK; start += batch_size, batches++) {
        const int b = v.n - start < batch_size ? v.n - start : batch_size;
        for (int i = 0; i < b; i++) idx[i] = start + i;
        selfmm_batch batch;
        const float *labels;
        selfmm_outputs out;
        st = selfmm_dataset_batch(data, split, idx, b, &batch, &labels);
        if (st != SELFMM_OK) {
            fail(err, st, "evaluate", selfmm_dataset_errmsg(data));
            break;
        }
        st = selfmm_model_forward(model, &batch, SELFMM_MODE_EVAL, &out);
        if (st != SELFMM_OK) {
            fail(err, st, "evaluate", selfmm_model_errmsg(model));
            break;
        }
        /* The reference: torch.mean(|M - y|) in float32 per batch, summed in double
         * (loss.item()), then divided by the number of batches. */
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
    if (st == SELFMM_OK && metrics) {
        /* metricsTop.py as the config says: F1 order, rounding, MAE's type */
        const int variant = (cfg.f1_truth_weighted ? SELFMM_METRICS_F1_TRUTH_WEIGHTED : 0) |
                            (cfg.metrics_mae_float64 ? SELFMM_METRICS_MAE_FLOAT64 : 0);
        st = selfmm_metrics_compute_ex((selfmm_dataset_kind)cfg.dataset, variant, cfg.metrics_decimals, pred,
                                       v.labels, v.n, metrics, err);
    }
    if (st == SELFMM_OK && loss) *loss = loss_sum / batches;
    free(pred), free(idx);
    return st;
}
