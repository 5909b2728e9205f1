/* ulgm.c -- unimodal label generation (docs/MODEL.md §3.1-3.5): the reference trainer's
 * init_labels, update_labels, update_features and update_centers
 * (thuiar/Self-MM trains/multiTask/SELF_MM.py; MMSA adds excludeZero).
 *
 * Arithmetic is float32 as in the reference, Python-float constants rounded to
 * float32 where they meet a tensor and every tensor operation rounding on its own:
 *
 *   d+ = ||F - c+||, d- = ||F - c-||           torch.norm(f - center, dim=-1)
 *   delta = (d- - d+) / (d+ + 1e-8f)
 *   alpha = delta_s / (delta_f + 1e-8f)
 *   new = (0.5f * alpha) * y_f + ((y_f + delta_s) - delta_f) * 0.5f
 *   new = min(max(new, -H), H)                 torch.clamp, H as float32
 *   y_s = a * y_s + b * new                    a = float((e-1)/(e+1)), b = float(2/(e+1))
 *   c+ = sum(F[y >= 0]) / count (float32)      torch.mean(F[y >= 0], dim=0) = sum, div_
 *
 * The norm and the column sums follow PyTorch 1.13's CPU summation order
 * (train/reduce.c), so results equal a torch 1.13 run of the reference functions
 * bit for bit; torch 1.2 summed left to right, which differs in the last bits.
 *
 * Where the reference silently produces NaN -- a label update that uses the
 * center of an empty set (no sample with y >= 0, or none with y < 0) -- we return
 * SELFMM_ERR_NUMERIC naming the modality and side, and change nothing. Centers
 * start at 0 as the reference's center_map does, and an empty set is only an
 * error when a label update needs its center (epoch > 1). */
#include "train/ulgm.h"

#include "core/alloc.h"
#include "train/reduce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ULGM_MIN 1e-8 /* MIN in update_labels */

struct selfmm_ulgm {
    selfmm_error err;
    int n;                      /* training samples */
    int dim[4];                 /* feature widths */
    int exclude_zero;           /* positive set y > 0 instead of y >= 0 */
    float H;                    /* label clamp, float32 as torch.clamp uses it */
    float *labels[4];           /* (n) y_m */
    float *feat[4];             /* (n, dim[m]) stored features F_m */
    float *center[4];           /* (2, dim[m]) positive then negative center */
    float empty[8];             /* [2m + side]: 1 = that set was empty (center undefined) */
    /* scratch */
    int *rows;                  /* (n) members of one set */
    unsigned char *seen;        /* (n) duplicate check */
    float *colsum;              /* SM_COLSUM_SCRATCH(max dim, n) */
    float *diff;                /* (max dim) */
};

SELFMM_API selfmm_status selfmm_ulgm_create(const selfmm_config *cfg, int n, const float *labels,
                                            const int dims[4], selfmm_ulgm **out, selfmm_error *err)
{
    if (!cfg || !labels || !dims || !out)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "label state: NULL argument");
    SM_TRY(selfmm_config_validate(cfg, err));
    if (n < 1) return sm_error(err, SELFMM_ERR_INVALID_ARG, "label state: %d training samples", n);
    int maxd = 1;
    for (int m = 0; m < 4; m++) {
        if (dims[m] < 1 || dims[m] > (1 << 20))
            return sm_error(err, SELFMM_ERR_INVALID_ARG, "label state: %s feature width %d",
                            selfmm_modality_name(m), dims[m]);
        if (dims[m] > maxd) maxd = dims[m];
    }
    for (int i = 0; i < n; i++)
        if (!isfinite(labels[i]))
            return sm_error(err, SELFMM_ERR_DATA, "label state: regression label of sample %d is %g", i,
                            (double)labels[i]);
    selfmm_ulgm *u = calloc(1, sizeof *u);
    if (!u) return sm_error(err, SELFMM_ERR_NOMEM, "label state: out of memory");
    u->n = n;
    memcpy(u->dim, dims, sizeof u->dim);
    u->exclude_zero = cfg->exclude_zero != 0;
    u->H = (float)cfg->H;
    int ok = 1;
    for (int m = 0; m < 4; m++) {
        u->labels[m] = sm_alloc((size_t)n, sizeof(float));
        u->feat[m] = sm_calloc((size_t)n * (size_t)dims[m], sizeof(float));
        u->center[m] = sm_calloc(2 * (size_t)dims[m], sizeof(float));
        ok = ok && u->labels[m] && u->feat[m] && u->center[m];
        if (u->labels[m]) memcpy(u->labels[m], labels, (size_t)n * sizeof(float)); /* init_labels */
    }
    u->rows = malloc((size_t)n * sizeof *u->rows);
    u->seen = calloc((size_t)n, 1);
    u->colsum = sm_alloc((size_t)SM_COLSUM_SCRATCH(maxd, n), sizeof(float));
    u->diff = sm_alloc((size_t)maxd, sizeof(float));
    if (!ok || !u->rows || !u->seen || !u->colsum || !u->diff) {
        selfmm_ulgm_free(u);
        return sm_error(err, SELFMM_ERR_NOMEM, "label state: out of memory for %d samples", n);
    }
    *out = u;
    return SELFMM_OK;
}

SELFMM_API void selfmm_ulgm_free(selfmm_ulgm *u)
{
    if (!u) return;
    for (int m = 0; m < 4; m++) sm_free(u->labels[m]), sm_free(u->feat[m]), sm_free(u->center[m]);
    free(u->rows);
    free(u->seen);
    sm_free(u->colsum);
    sm_free(u->diff);
    free(u);
}

SELFMM_API const char *selfmm_ulgm_errmsg(const selfmm_ulgm *u)
{
    return u ? u->err.message : "NULL label state";
}

SELFMM_API const float *selfmm_ulgm_labels(const selfmm_ulgm *u, int k)
{
    return u && k >= 0 && k < 4 ? u->labels[k] : NULL;
}

/* Indices in range and distinct (a batch holds each sample once). */
static selfmm_status check_indices(selfmm_ulgm *u, const int *idx, int b)
{
    selfmm_status st = SELFMM_OK;
    int i = 0;
    for (; i < b; i++) {
        if (idx[i] < 0 || idx[i] >= u->n) {
            st = sm_error(&u->err, SELFMM_ERR_RANGE, "label state: batch index %d is sample %d, not in [0, %d)",
                          i, idx[i], u->n);
            break;
        }
        if (u->seen[idx[i]]) {
            st = sm_error(&u->err, SELFMM_ERR_INVALID_ARG, "label state: sample %d appears twice in the batch",
                          idx[i]);
            break;
        }
        u->seen[idx[i]] = 1;
    }
    for (int j = 0; j < i; j++) u->seen[idx[j]] = 0;
    return st;
}

SELFMM_API selfmm_status selfmm_ulgm_gather(selfmm_ulgm *u, const int *idx, int b,
                                            float *const labels[4])
{
    if (!u) return SELFMM_ERR_INVALID_ARG;
    if (!idx || !labels || b < 1)
        return sm_error(&u->err, SELFMM_ERR_INVALID_ARG, "label state: gather: NULL argument or b < 1");
    for (int i = 0; i < b; i++) /* reading a sample twice is harmless: only the range matters */
        if (idx[i] < 0 || idx[i] >= u->n)
            return sm_error(&u->err, SELFMM_ERR_RANGE,
                            "label state: batch index %d is sample %d, not in [0, %d)", i, idx[i], u->n);
    for (int m = 0; m < 4; m++) {
        if (!labels[m]) continue;
        for (int i = 0; i < b; i++) labels[m][i] = u->labels[m][idx[i]];
    }
    return SELFMM_OK;
}

/* d+ and d- of one feature row against modality m's centers. */
static void distances(selfmm_ulgm *u, int m, const float *f, float *dpos, float *dneg)
{
    const int d = u->dim[m];
    const float *cp = u->center[m], *cn = u->center[m] + d;
    for (int j = 0; j < d; j++) u->diff[j] = f[j] - cp[j];
    *dpos = sm_torch_norm2_f32(u->diff, d);
    for (int j = 0; j < d; j++) u->diff[j] = f[j] - cn[j];
    *dneg = sm_torch_norm2_f32(u->diff, d);
}

/* update_labels for one batch: new labels of text, audio, vision into out[3][b]. */
static selfmm_status new_labels(selfmm_ulgm *u, const int *idx, int b, const selfmm_outputs *o,
                                int epoch, float *out)
{
    for (int m = 0; m < 4; m++)
        for (int side = 0; side < 2; side++)
            if (u->empty[2 * m + side] != 0.0f)
                return sm_error(&u->err, SELFMM_ERR_NUMERIC,
                                "label update (epoch %d): the %s center of the %s features is undefined: "
                                "no training sample has a %s label %s (the reference would turn "
                                "the labels into NaN)",
                                epoch, side ? "negative" : "positive", selfmm_modality_name(m), selfmm_modality_name(m),
                                side ? "< 0" : u->exclude_zero ? "> 0" : ">= 0");
    const float min = (float)ULGM_MIN;
    /* n = cur_epoches; (n - 1) / (n + 1) and 2 / (n + 1) are Python floats */
    const float keep = (float)((double)(epoch - 1) / (double)(epoch + 1));
    const float take = (float)(2.0 / (double)(epoch + 1));
    for (int i = 0; i < b; i++) {
        float dp, dn;
        distances(u, SELFMM_FUSION, o->feature[SELFMM_FUSION] + (size_t)i * u->dim[0], &dp, &dn);
        const float delta_f = (dn - dp) / (dp + min);
        const float y_f = u->labels[SELFMM_FUSION][idx[i]];
        for (int s = 1; s < 4; s++) {
            distances(u, s, o->feature[s] + (size_t)i * u->dim[s], &dp, &dn);
            const float delta_s = (dn - dp) / (dp + min);
            const float alpha = delta_s / (delta_f + min);
            float y = (0.5f * alpha) * y_f + ((y_f + delta_s) - delta_f) * 0.5f;
            y = y < -u->H ? -u->H : y; /* torch.clamp(min=-H, max=H) */
            y = y > u->H ? u->H : y;
            y = keep * u->labels[s][idx[i]] + take * y;
            if (!isfinite(y))
                return sm_error(&u->err, SELFMM_ERR_NUMERIC,
                                "label update (epoch %d): the new %s label of sample %d is %g "
                                "(delta_%s %g, delta_fusion %g)",
                                epoch, selfmm_modality_name(s), idx[i], (double)y, selfmm_modality_name(s), (double)delta_s,
                                (double)delta_f);
            out[(size_t)(s - 1) * b + i] = y;
        }
    }
    return SELFMM_OK;
}

/* update_centers for modality m from all n stored features. */
static void recompute_centers(selfmm_ulgm *u, int m)
{
    const int d = u->dim[m];
    const float *y = u->labels[m];
    for (int side = 0; side < 2; side++) {
        int k = 0;
        for (int i = 0; i < u->n; i++) {
            int in = side ? y[i] < 0.0f : u->exclude_zero ? y[i] > 0.0f : y[i] >= 0.0f;
            if (in) u->rows[k++] = i;
        }
        float *c = u->center[m] + (size_t)side * d;
        u->empty[2 * m + side] = k == 0 ? 1.0f : 0.0f;
        if (k == 0) {
            memset(c, 0, (size_t)d * sizeof *c); /* the reference has NaN here */
            continue;
        }
        sm_torch_colsum_f32(u->feat[m], d, u->rows, k, c, u->colsum);
        const float count = (float)k;
        for (int j = 0; j < d; j++) c[j] = c[j] / count;
    }
}

SELFMM_API selfmm_status selfmm_ulgm_update(selfmm_ulgm *u, const int *idx, int b,
                                            const selfmm_outputs *out, int epoch)
{
    if (!u) return SELFMM_ERR_INVALID_ARG;
    if (!idx || !out || b < 1)
        return sm_error(&u->err, SELFMM_ERR_INVALID_ARG, "label update: NULL argument or batch %d", b);
    if (epoch < 1) return sm_error(&u->err, SELFMM_ERR_RANGE, "label update: epoch %d < 1", epoch);
    if (out->batch != b)
        return sm_error(&u->err, SELFMM_ERR_SHAPE, "label update: outputs hold %d samples, batch has %d",
                        out->batch, b);
    for (int m = 0; m < 4; m++) {
        if (!out->feature[m])
            return sm_error(&u->err, SELFMM_ERR_INVALID_ARG, "label update: no %s features", selfmm_modality_name(m));
        if (out->dim[m] != u->dim[m])
            return sm_error(&u->err, SELFMM_ERR_SHAPE, "label update: %s features are %d wide, expected %d",
                            selfmm_modality_name(m), out->dim[m], u->dim[m]);
        const float *f = out->feature[m];
        for (int64_t i = 0; i < (int64_t)b * u->dim[m]; i++)
            if (!isfinite(f[i]))
                return sm_error(&u->err, SELFMM_ERR_NUMERIC, "label update: %s feature %lld of sample %d is %g",
                                selfmm_modality_name(m), (long long)(i % u->dim[m]), idx[i / u->dim[m]], (double)f[i]);
    }
    SM_TRY(check_indices(u, idx, b));
    /* 2d: new unimodal labels from the current centers (those of the previous
     * batch), computed in full before anything changes. */
    if (epoch > 1) {
        float *fresh = malloc((size_t)3 * (size_t)b * sizeof *fresh);
        if (!fresh) return sm_error(&u->err, SELFMM_ERR_NOMEM, "label update: out of memory");
        selfmm_status st = new_labels(u, idx, b, out, epoch, fresh);
        if (st == SELFMM_OK)
            for (int s = 1; s < 4; s++)
                for (int i = 0; i < b; i++) u->labels[s][idx[i]] = fresh[(size_t)(s - 1) * b + i];
        free(fresh);
        SM_TRY(st);
    }
    /* 2e: store the features; 2f: centers from all n stored features. */
    for (int m = 0; m < 4; m++) {
        const size_t d = (size_t)u->dim[m];
        for (int i = 0; i < b; i++)
            memcpy(u->feat[m] + (size_t)idx[i] * d, out->feature[m] + (size_t)i * d, d * sizeof(float));
    }
    for (int m = 0; m < 4; m++) recompute_centers(u, m);
    return SELFMM_OK;
}

/* ---- checkpoint state ---- */

static const char *const label_names[4] = {"ulgm.labels.fusion", "ulgm.labels.text", "ulgm.labels.audio",
                                           "ulgm.labels.vision"};
static const char *const feat_names[4] = {"ulgm.features.fusion", "ulgm.features.text",
                                          "ulgm.features.audio", "ulgm.features.vision"};
static const char *const center_names[4] = {"ulgm.centers.fusion", "ulgm.centers.text",
                                            "ulgm.centers.audio", "ulgm.centers.vision"};

void sm_ulgm_state(const selfmm_ulgm *u, sm_state_tensor t[SM_ULGM_STATE_COUNT])
{
    for (int m = 0; m < 4; m++) {
        t[m] = (sm_state_tensor){label_names[m], u->labels[m], u->n};
        t[4 + m] = (sm_state_tensor){feat_names[m], u->feat[m], (int64_t)u->n * u->dim[m]};
        t[8 + m] = (sm_state_tensor){center_names[m], u->center[m], 2 * (int64_t)u->dim[m]};
    }
    t[12] = (sm_state_tensor){"ulgm.center_empty", u->empty, 8};
}

/* Find the 13 arrays in t[0..n) (src[i] in sm_ulgm_state's order) and check them. */
static selfmm_status find_state(selfmm_ulgm *u, const sm_state_tensor *t, int n,
                                const float *src[SM_ULGM_STATE_COUNT])
{
    if (!u || (!t && n)) return SELFMM_ERR_INVALID_ARG;
    sm_state_tensor want[SM_ULGM_STATE_COUNT];
    sm_ulgm_state(u, want);
    for (int i = 0; i < SM_ULGM_STATE_COUNT; i++) {
        src[i] = sm_state_find(t, n, want[i].name, want[i].numel, &u->err);
        if (!src[i]) return u->err.status;
        for (int64_t j = 0; j < want[i].numel; j++) {
            float v = src[i][j];
            int bad = i == 12 ? !(v == 0.0f || v == 1.0f) : !isfinite(v);
            if (bad)
                return sm_error(&u->err, SELFMM_ERR_DATA, "training state: \"%s\" element %lld is %g",
                                want[i].name, (long long)j, (double)v);
        }
    }
    return SELFMM_OK;
}

selfmm_status sm_ulgm_check(selfmm_ulgm *u, const sm_state_tensor *t, int n)
{
    const float *src[SM_ULGM_STATE_COUNT];
    return find_state(u, t, n, src);
}

selfmm_status sm_ulgm_restore(selfmm_ulgm *u, const sm_state_tensor *t, int n)
{
    const float *src[SM_ULGM_STATE_COUNT];
    SM_TRY(find_state(u, t, n, src));
    sm_state_tensor dst[SM_ULGM_STATE_COUNT];
    sm_ulgm_state(u, dst);
    for (int i = 0; i < SM_ULGM_STATE_COUNT; i++)
        memcpy((float *)dst[i].data, src[i], (size_t)dst[i].numel * sizeof(float));
    return SELFMM_OK;
}
