/* norm.c -- see norm.h; also the public selfmm_dataset_norm. */
#include "data/norm.h"

#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const sm_norm_modality[2] = {"audio", "vision"};

static void modality(const sm_split_data *d, int m, const float **x, const int32_t **len, int *T,
                     int *D)
{
    *x = m == SM_NORM_AUDIO ? d->audio : d->vision;
    *len = m == SM_NORM_AUDIO ? d->audio_lengths : d->vision_lengths;
    *T = m == SM_NORM_AUDIO ? d->audio_len : d->vision_len;
    *D = m == SM_NORM_AUDIO ? d->audio_dim : d->vision_dim;
}

selfmm_status sm_norm_compute(const sm_split_data *d, int m, float *mean, float *std,
                              selfmm_error *err)
{
    const float *x;
    const int32_t *len;
    int T, D;
    modality(d, m, &x, &len, &T, &D);
    double *sum = calloc(2 * (size_t)D, sizeof *sum);
    if (!sum) return sm_error(err, SELFMM_ERR_NOMEM, "normalisation: out of memory");
    double *s2 = sum + D;
    double count = 0;
    /* two passes: the means, then the squared deviations from them */
    for (int i = 0; i < d->n; i++) {
        const float *xi = x + (size_t)i * T * D;
        for (int t = 0; t < len[i]; t++)
            for (int k = 0; k < D; k++) sum[k] += xi[(size_t)t * D + k];
        count += len[i];
    }
    for (int k = 0; k < D; k++) sum[k] /= count;
    for (int i = 0; i < d->n; i++) {
        const float *xi = x + (size_t)i * T * D;
        for (int t = 0; t < len[i]; t++)
            for (int k = 0; k < D; k++) {
                double dv = xi[(size_t)t * D + k] - sum[k];
                s2[k] += dv * dv;
            }
    }
    for (int k = 0; k < D; k++) {
        double sd = sqrt(s2[k] / count);
        mean[k] = (float)sum[k];
        std[k] = sd < SM_NORM_STD_MIN ? 1.0f : (float)sd;
    }
    free(sum);
    return SELFMM_OK;
}

void sm_norm_apply(float *x, int steps, int D, const float *mean, const float *std)
{
    for (int t = 0; t < steps; t++)
        for (int k = 0; k < D; k++) {
            float *v = x + (size_t)t * D + k;
            *v = (*v - mean[k]) / std[k];
        }
}

void sm_norm_apply_split(sm_split_data *d, int m, const float *mean, const float *std)
{
    const float *x;
    const int32_t *len;
    int T, D;
    modality(d, m, &x, &len, &T, &D);
    for (int i = 0; i < d->n; i++) sm_norm_apply((float *)x + (size_t)i * T * D, len[i], D, mean, std);
}

selfmm_status sm_norm_check(const float *mean, const float *std, int D, const char *what,
                            selfmm_error *err)
{
    for (int k = 0; k < D; k++) {
        if (!isfinite(mean[k]))
            return sm_error(err, SELFMM_ERR_DATA, "%s: mean of feature %d is not finite", what, k);
        if (!isfinite(std[k]) || !(std[k] > 0))
            return sm_error(err, SELFMM_ERR_DATA, "%s: std of feature %d is %g, expected a finite "
                            "value > 0", what, k, (double)std[k]);
    }
    return SELFMM_OK;
}

selfmm_status sm_dataset_set_norm(selfmm_dataset *ds, const float *const mean[2],
                                  const float *const std[2], selfmm_error *err)
{
    const int dims[2] = {ds->split[0].audio_dim, ds->split[0].vision_dim};
    float *m[2] = {NULL, NULL}, *s[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        m[k] = malloc((size_t)dims[k] * sizeof(float));
        s[k] = malloc((size_t)dims[k] * sizeof(float));
        if (!m[k] || !s[k]) {
            for (int j = 0; j <= k; j++) free(m[j]), free(s[j]);
            return sm_error(err, SELFMM_ERR_NOMEM, "normalisation: out of memory");
        }
        memcpy(m[k], mean[k], (size_t)dims[k] * sizeof(float));
        memcpy(s[k], std[k], (size_t)dims[k] * sizeof(float));
    }
    for (int k = 0; k < 2; k++) {
        free(ds->norm_mean[k]), free(ds->norm_std[k]);
        ds->norm_mean[k] = m[k], ds->norm_std[k] = s[k];
    }
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_dataset_norm(selfmm_dataset *ds, selfmm_norm *out)
{
    if (!ds || !out) return SELFMM_ERR_INVALID_ARG;
    if (!ds->norm_mean[0])
        return sm_error(&ds->err, SELFMM_ERR_MISSING,
                        "the dataset carries no normalisation statistics (not built with normalize)");
    memset(out, 0, sizeof *out);
    out->audio_dim = ds->split[0].audio_dim;
    out->vision_dim = ds->split[0].vision_dim;
    out->audio_mean = ds->norm_mean[0];
    out->audio_std = ds->norm_std[0];
    out->vision_mean = ds->norm_mean[1];
    out->vision_std = ds->norm_std[1];
    return SELFMM_OK;
}
