/* metrics.c -- the evaluation metrics of the reference's utils/metricsTop.py (SPEC 3).
 *
 * The reference computes them with NumPy on float32 arrays and scikit-learn; this
 * file reproduces that arithmetic step by step so the values agree exactly:
 * - comparisons with the bin edges happen in float32 (NumPy casts the Python
 *   float edges to the array's float32 before comparing), so 0.1f, not 0.1;
 * - rounding is np.round: half to even (rintf in the default rounding mode);
 * - accuracies are counts / n in double (np.sum(bool) / float(n), accuracy_score);
 * - MAE is np.mean of a float32 array: a float32 pairwise sum (train/reduce.c);
 * - F1 is sklearn's f1_score(average='weighted'): per class c among the labels
 *   present in either array, p = tp / #pred_c, r = tp / #true_c (0 when the count
 *   is 0), f = 2p·r / (p + r) (0 when p + r = 0), averaged with weights #true_c
 *   (sklearn 0.2x-1.2, the reference's era);
 * - Corr is np.corrcoef in float64: centred values, covariances scaled by
 *   1 / (n - 1), r = (c_xy / sqrt(c_xx)) / sqrt(c_yy), clipped to [-1, 1]; NaN when
 *   either side is constant or n < 2 (NumPy warns and returns NaN). NumPy takes the
 *   products from BLAS, whose summation order we do not copy: Corr agrees to about
 *   1e-15 rather than bit for bit.
 *
 * Where the two reference repositories differ (SPEC: Self-MM is the default):
 * - Self-MM calls f1_score(pred, truth), so sklearn weights each class by its
 *   count in the *predictions*; MMSA calls f1_score(truth, pred) and weights by the
 *   truth (f1_truth_weighted). Per-class F1 is symmetric, only the weights differ.
 * - MMSA rounds the MOSI/MOSEI values to 4 decimals in the returned dict
 *   (round(x, 4)); Self-MM does not; both print 4 decimals. We keep full precision
 *   and leave rounding to display.
 * - Self-MM names the MOSI/MOSEI metrics has0_acc_2, has0_F1_score, non0_acc_2,
 *   non0_F1_score and "Correlation Coefficient"; we use MMSA's names (Has0_acc_2,
 *   ..., Corr). The order is the reference's.
 * - If every truth is 0, the reference crashes on the empty non-zero subset; we
 *   report NaN for Non0_acc_2 and Non0_F1_score. */
#include "core/alloc.h"
#include "core/error.h"
#include "train/reduce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- pieces ---- */

static double accuracy(const int *a, const int *b, int n)
{
    int same = 0;
    for (int i = 0; i < n; i++) same += a[i] == b[i];
    return (double)same / (double)n;
}

/* sklearn f1_score(y_true, y_pred, average='weighted') for class ids in [0, k). */
static double weighted_f1(const int *y_true, const int *y_pred, int n, int k)
{
    int64_t tp[8] = {0}, true_sum[8] = {0}, pred_sum[8] = {0};
    for (int i = 0; i < n; i++) {
        true_sum[y_true[i]]++;
        pred_sum[y_pred[i]]++;
        if (y_true[i] == y_pred[i]) tp[y_true[i]]++;
    }
    /* np.average(f, weights=true_sum) over the labels present: sum(f * w) / sum(w),
     * each sum taken left to right (NumPy's pairwise sum below 8 elements). */
    double num = 0.0, den = 0.0;
    for (int c = 0; c < k; c++) {
        if (true_sum[c] == 0 && pred_sum[c] == 0) continue; /* not a label */
        double p = pred_sum[c] ? (double)tp[c] / (double)pred_sum[c] : 0.0;
        double r = true_sum[c] ? (double)tp[c] / (double)true_sum[c] : 0.0;
        double denom = 1.0 * p + r;
        double f = (2.0 * p * r) / (denom == 0.0 ? 1.0 : denom);
        num += f * (double)true_sum[c];
        den += (double)true_sum[c];
    }
    return num / den;
}

/* np.corrcoef(x, y)[0][1] for float32 inputs (converted to float64 by np.cov). */
static double pearson(const float *x, const float *y, int n, double *work /* 2n */)
{
    if (n < 2) return NAN; /* np.cov: degrees of freedom <= 0 -> NaN */
    double *dx = work, *dy = work + n;
    for (int i = 0; i < n; i++) dx[i] = x[i], dy[i] = y[i];
    double mx = sm_np_sum_f64(dx, n) / (double)n, my = sm_np_sum_f64(dy, n) / (double)n;
    double sxx = 0.0, syy = 0.0, sxy = 0.0;
    for (int i = 0; i < n; i++) {
        dx[i] -= mx, dy[i] -= my;
        sxx += dx[i] * dx[i], syy += dy[i] * dy[i], sxy += dx[i] * dy[i];
    }
    double scale = 1.0 / (double)(n - 1);
    double cxx = sxx * scale, cyy = syy * scale, cxy = sxy * scale;
    if (cxx == 0.0 || cyy == 0.0) return NAN; /* a constant side: 0 / 0 in NumPy */
    double r = (cxy / sqrt(cxx)) / sqrt(cyy);
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

static float clipf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The class of v for the SIMS bins: edges[i] < v <= edges[i + 1]; the first edge is
 * -1.01 and values are clipped to [-1, 1], so every value has a class. */
static int sims_class(float v, const float *edges, int nclass)
{
    for (int i = 0; i < nclass; i++)
        if (v > edges[i] && v <= edges[i + 1]) return i;
    return -1; /* unreachable for finite clipped values */
}

/* ---- the two metric sets ---- */

typedef struct work {
    float *a, *b, *diff;   /* (n) each */
    int *ca, *cb;          /* (n) class ids */
    double *dw;            /* (2n) */
} work;

static void put(selfmm_metrics *m, const char *name, double v)
{
    m->name[m->count] = name;
    m->value[m->count] = v;
    m->count++;
}

/* f1 argument order: Self-MM f1_score(pred, truth), MMSA f1_score(truth, pred). */
static double f1(const int *pred, const int *truth, int n, int k, int truth_weighted)
{
    return truth_weighted ? weighted_f1(truth, pred, n, k) : weighted_f1(pred, truth, n, k);
}

static void metrics_sims(const float *pred, const float *truth, int n, int truth_weighted,
                         work *w, selfmm_metrics *m)
{
    /* Bin edges as float32, as NumPy compares them with the float32 arrays. */
    static const float e2[] = {-1.01f, 0.0f, 1.01f};
    static const float e3[] = {-1.01f, -0.1f, 0.1f, 1.01f};
    static const float e5[] = {-1.01f, -0.7f, -0.1f, 0.1f, 0.7f, 1.01f};
    for (int i = 0; i < n; i++) {
        w->a[i] = clipf(pred[i], -1.0f, 1.0f);
        w->b[i] = clipf(truth[i], -1.0f, 1.0f);
        w->diff[i] = fabsf(w->a[i] - w->b[i]);
    }
    double acc[3], f1_2 = 0.0;
    const float *edges[3] = {e2, e3, e5};
    const int ncls[3] = {2, 3, 5};
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < n; i++) {
            w->ca[i] = sims_class(w->a[i], edges[s], ncls[s]);
            w->cb[i] = sims_class(w->b[i], edges[s], ncls[s]);
        }
        acc[s] = accuracy(w->ca, w->cb, n);
        if (s == 0) f1_2 = f1(w->ca, w->cb, n, 2, truth_weighted);
    }
    put(m, "Mult_acc_2", acc[0]);
    put(m, "Mult_acc_3", acc[1]);
    put(m, "Mult_acc_5", acc[2]);
    put(m, "F1_score", f1_2);
    put(m, "MAE", (double)sm_np_mean_f32(w->diff, n));
    put(m, "Corr", pearson(w->a, w->b, n, w->dw));
}

static void metrics_mosi(const float *pred, const float *truth, int n, int truth_weighted,
                         work *w, selfmm_metrics *m)
{
    /* Has0: classes >= 0 vs < 0 over all samples. */
    for (int i = 0; i < n; i++) w->ca[i] = pred[i] >= 0.0f, w->cb[i] = truth[i] >= 0.0f;
    double has0_acc = accuracy(w->ca, w->cb, n);
    double has0_f1 = f1(w->ca, w->cb, n, 2, truth_weighted);
    /* Non0: only samples whose truth is not 0; classes > 0 vs <= 0. */
    int nz = 0;
    for (int i = 0; i < n; i++)
        if (truth[i] != 0.0f) w->ca[nz] = pred[i] > 0.0f, w->cb[nz] = truth[i] > 0.0f, nz++;
    double non0_acc = nz ? accuracy(w->ca, w->cb, nz) : NAN;
    double non0_f1 = nz ? f1(w->ca, w->cb, nz, 2, truth_weighted) : NAN;
    /* Mult_acc_5 / _7: clip to [-2, 2] / [-3, 3], round half to even, compare. */
    int same5 = 0, same7 = 0;
    for (int i = 0; i < n; i++) {
        same5 += rintf(clipf(pred[i], -2.0f, 2.0f)) == rintf(clipf(truth[i], -2.0f, 2.0f));
        same7 += rintf(clipf(pred[i], -3.0f, 3.0f)) == rintf(clipf(truth[i], -3.0f, 3.0f));
        w->diff[i] = fabsf(pred[i] - truth[i]);
    }
    put(m, "Has0_acc_2", has0_acc);
    put(m, "Has0_F1_score", has0_f1);
    put(m, "Non0_acc_2", non0_acc);
    put(m, "Non0_F1_score", non0_f1);
    put(m, "Mult_acc_5", (double)same5 / (double)n);
    put(m, "Mult_acc_7", (double)same7 / (double)n);
    put(m, "MAE", (double)sm_np_mean_f32(w->diff, n));
    put(m, "Corr", pearson(pred, truth, n, w->dw));
}

/* ---- public ---- */

SELFMM_API selfmm_status selfmm_metrics_compute_ex(selfmm_dataset_kind kind, int f1_truth_weighted,
                                                   const float *pred, const float *truth, int n,
                                                   selfmm_metrics *out, selfmm_error *err)
{
    if (!pred || !truth || !out)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: NULL argument");
    if (kind != SELFMM_DATASET_SIMS && kind != SELFMM_DATASET_MOSI && kind != SELFMM_DATASET_MOSEI)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: unknown dataset kind %d", (int)kind);
    if (n < 1) return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: need at least 1 sample, got %d", n);
    /* NaN or Inf would make the class of a sample meaningless (the reference would
     * count NaN as a wrong class and carry it into MAE): refuse, naming the sample. */
    for (int i = 0; i < n; i++) {
        if (!isfinite(pred[i]))
            return sm_error(err, SELFMM_ERR_DATA, "metrics: prediction %d is %g", i, (double)pred[i]);
        if (!isfinite(truth[i]))
            return sm_error(err, SELFMM_ERR_DATA, "metrics: truth %d is %g", i, (double)truth[i]);
    }
    work w = {0};
    w.a = sm_alloc((size_t)n, sizeof(float));
    w.b = sm_alloc((size_t)n, sizeof(float));
    w.diff = sm_alloc((size_t)n, sizeof(float));
    w.ca = sm_alloc((size_t)n, sizeof(int));
    w.cb = sm_alloc((size_t)n, sizeof(int));
    w.dw = sm_alloc((size_t)n * 2, sizeof(double));
    selfmm_status st = SELFMM_OK;
    if (!w.a || !w.b || !w.diff || !w.ca || !w.cb || !w.dw) {
        st = sm_error(err, SELFMM_ERR_NOMEM, "metrics: out of memory for %d samples", n);
    } else {
        selfmm_metrics m;
        memset(&m, 0, sizeof m);
        if (kind == SELFMM_DATASET_SIMS) metrics_sims(pred, truth, n, f1_truth_weighted != 0, &w, &m);
        else metrics_mosi(pred, truth, n, f1_truth_weighted != 0, &w, &m);
        *out = m;
    }
    sm_free(w.a), sm_free(w.b), sm_free(w.diff), sm_free(w.ca), sm_free(w.cb), sm_free(w.dw);
    return st;
}

SELFMM_API selfmm_status selfmm_metrics_compute(selfmm_dataset_kind kind, const float *pred,
                                                const float *truth, int n, selfmm_metrics *out,
                                                selfmm_error *err)
{
    return selfmm_metrics_compute_ex(kind, 0, pred, truth, n, out, err);
}

SELFMM_API selfmm_status selfmm_metrics_get(const selfmm_metrics *m, const char *name, double *value)
{
    if (!m || !name || !value) return SELFMM_ERR_INVALID_ARG;
    for (int i = 0; i < m->count && i < SELFMM_MAX_METRICS; i++) {
        if (m->name[i] && strcmp(m->name[i], name) == 0) {
            *value = m->value[i];
            return SELFMM_OK;
        }
    }
    return SELFMM_ERR_NOT_FOUND;
}
