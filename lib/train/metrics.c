/* metrics.c -- the evaluation metrics of the reference's utils/metricsTop.py
 * (docs/MODEL.md §4).
 *
 * The reference computes them with NumPy on float32 arrays and scikit-learn; this
 * file reproduces that arithmetic step by step so the values agree exactly:
 * - comparisons with the bin edges happen in float32 (NumPy casts the Python
 *   float edges to the array's float32 before comparing), so 0.1f, not 0.1;
 * - rounding to classes is np.round: half to even (rintf in the default mode);
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
 * Reported values (value[]) are what the reference's dict holds; raw[] keeps them
 * unrounded:
 * - thuiar/Self-MM rounds the MOSI/MOSEI values with round(x, 4) and not the SIMS
 *   ones; MMSA rounds all three (config metrics_decimals). The values are NumPy
 *   scalars, so this is np.round (core/round.h), not Python's round; Self-MM's MAE
 *   is a float32 scalar and rounds in float32, MMSA converts it to float64 first
 *   (SELFMM_METRICS_MAE_FLOAT64).
 * - F1: f1_score(truth, pred) since Self-MM's commit c4525c1 (2021-04-28) and in
 *   MMSA; before it f1_score(pred, truth), where sklearn weights each class by its
 *   count in the *predictions* (SELFMM_METRICS_F1_TRUTH_WEIGHTED off). Per-class F1
 *   is symmetric, only the weights differ.
 * - Self-MM's first commit (2021-01-20) named the MOSI/MOSEI metrics has0_acc_2,
 *   ..., "Correlation Coefficient" and rounded nothing; since 2021-02-02 the names
 *   (Has0_acc_2, ..., Corr) and the rounding are today's.
 * - If every truth is 0, the reference crashes on the empty non-zero subset; we
 *   report NaN for Non0_acc_2 and Non0_F1_score.
 * tests/test_metrics.c compares all of it with the reference's own metricsTop.py
 * (tools/gen_reference_metrics.py). */
#include "core/alloc.h"
#include "core/error.h"
#include "core/round.h"
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
    m->value[m->count] = m->raw[m->count] = v;
    m->count++;
}

/* round(v, decimals) as the reference's dict does it, on NumPy scalars: the MAE is a
 * float32 (np.mean of float32 arrays) unless MMSA's .astype(np.float64). */
static void round_reported(selfmm_metrics *m, int variant, int decimals)
{
    if (decimals < 0) return;
    for (int i = 0; i < m->count; i++) {
        if (strcmp(m->name[i], "MAE") == 0 && !(variant & SELFMM_METRICS_MAE_FLOAT64))
            m->value[i] = (double)sm_round_np_f32((float)m->raw[i], decimals); /* raw is a float32 */
        else
            m->value[i] = sm_round_np_f64(m->raw[i], decimals);
    }
}

/* f1 argument order: f1_score(truth, pred) when truth_weighted, else f1_score(pred, truth). */
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

SELFMM_API selfmm_status selfmm_pearson(const float *a, const float *b, int n, double *r, selfmm_error *err)
{
    if (!a || !b || !r) return sm_error(err, SELFMM_ERR_INVALID_ARG, "pearson: NULL argument");
    if (n < 1) return sm_error(err, SELFMM_ERR_INVALID_ARG, "pearson: need at least 1 sample, got %d", n);
    double *dw = sm_alloc((size_t)n * 2, sizeof(double));
    if (!dw) return sm_error(err, SELFMM_ERR_NOMEM, "pearson: out of memory for %d samples", n);
    *r = pearson(a, b, n, dw);
    sm_free(dw);
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_metrics_compute_ex(selfmm_dataset_kind kind, int variant, int decimals,
                                                   const float *pred, const float *truth, int n,
                                                   selfmm_metrics *out, selfmm_error *err)
{
    if (!pred || !truth || !out)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: NULL argument");
    if (kind != SELFMM_DATASET_SIMS && kind != SELFMM_DATASET_MOSI && kind != SELFMM_DATASET_MOSEI)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: unknown dataset kind %d", (int)kind);
    if (n < 1) return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: need at least 1 sample, got %d", n);
    if (decimals < -1 || decimals > 15)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: decimals %d outside [-1, 15]", decimals);
    if (variant & ~(SELFMM_METRICS_F1_TRUTH_WEIGHTED | SELFMM_METRICS_MAE_FLOAT64))
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics: unknown variant bits 0x%x", (unsigned)variant);
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
        const int tw = (variant & SELFMM_METRICS_F1_TRUTH_WEIGHTED) != 0;
        if (kind == SELFMM_DATASET_SIMS) metrics_sims(pred, truth, n, tw, &w, &m);
        else metrics_mosi(pred, truth, n, tw, &w, &m);
        round_reported(&m, variant, decimals);
        *out = m;
    }
    sm_free(w.a), sm_free(w.b), sm_free(w.diff), sm_free(w.ca), sm_free(w.cb), sm_free(w.dw);
    return st;
}

SELFMM_API selfmm_status selfmm_metrics_compute(selfmm_dataset_kind kind, const float *pred,
                                                const float *truth, int n, selfmm_metrics *out,
                                                selfmm_error *err)
{
    /* thuiar/Self-MM's metricsTop.py today: f1_score(truth, pred), round(x, 4) for
     * MOSI and MOSEI only */
    return selfmm_metrics_compute_ex(kind, SELFMM_METRICS_F1_TRUTH_WEIGHTED,
                                     kind == SELFMM_DATASET_SIMS ? -1 : 4, pred, truth, n, out, err);
}

SELFMM_API selfmm_status selfmm_metrics_get(const selfmm_metrics *m, const char *name, double *value,
                                            selfmm_error *err)
{
    if (!m || !name || !value) return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics get: NULL argument");
    for (int i = 0; i < m->count && i < SELFMM_MAX_METRICS; i++) {
        if (m->name[i] && strcmp(m->name[i], name) == 0) {
            *value = m->value[i];
            return SELFMM_OK;
        }
    }
    return sm_error(err, SELFMM_ERR_NOT_FOUND, "no metric named \"%s\"", name);
}

/* ---- the seeds summary ---- */

/* numpy/core/_methods.py _mean and _var (ddof 0) of a 1-D float64 array (both
 * divide the same sum by the count). */
static void np_mean_std_f64(const double *x, int n, double *sq, double *mean, double *std)
{
    const double m = sm_np_sum_f64(x, n) / (double)n;
    *mean = m;
    for (int i = 0; i < n; i++) sq[i] = (x[i] - m) * (x[i] - m);
    *std = sqrt(sm_np_sum_f64(sq, n) / (double)n);
}

/* The same for a float32 array: _mean divides the float32 sum by the intp count in
 * float64 (scalar / scalar) and casts back; _var divides its keepdims sum in place,
 * a float32 array by an intp scalar: in float32. */
static void np_mean_std_f32(const float *x, int n, float *sq, double *mean, double *std)
{
    *mean = (double)sm_np_mean_f32(x, n);
    const float m = sm_np_sum_f32(x, n) / (float)n;
    for (int i = 0; i < n; i++) {
        const float d = x[i] - m;
        sq[i] = d * d;
    }
    const float var = (float)((double)sm_np_sum_f32(sq, n) / (double)n);
    *std = (double)sqrtf(var);
}

SELFMM_API selfmm_status selfmm_metrics_summary(const selfmm_metrics *runs, int n, int variant,
                                                selfmm_metrics *mean, selfmm_metrics *std,
                                                selfmm_error *err)
{
    if (!runs || !mean || !std || n < 1)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics summary: NULL argument or no runs");
    const int count = runs[0].count;
    if (count < 0 || count > SELFMM_MAX_METRICS)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "metrics summary: %d values", count);
    for (int i = 1; i < n; i++) {
        int same = runs[i].count == count;
        for (int k = 0; same && k < count; k++)
            same = runs[i].name[k] && runs[0].name[k] && strcmp(runs[i].name[k], runs[0].name[k]) == 0;
        if (!same)
            return sm_error(err, SELFMM_ERR_INVALID_ARG,
                            "metrics summary: run %d does not list the names of run 0", i);
    }
    double *x = sm_alloc((size_t)n * 2, sizeof(double));
    float *xf = sm_alloc((size_t)n * 2, sizeof(float));
    if (!x || !xf) {
        sm_free(x), sm_free(xf);
        return sm_error(err, SELFMM_ERR_NOMEM, "metrics summary: out of memory");
    }
    selfmm_metrics mo, so;
    memset(&mo, 0, sizeof mo);
    memset(&so, 0, sizeof so);
    for (int k = 0; k < count; k++) {
        const char *name = runs[0].name[k];
        double m, s;
        if (name && strcmp(name, "MAE") == 0 && !(variant & SELFMM_METRICS_MAE_FLOAT64)) {
            for (int i = 0; i < n; i++) xf[i] = (float)runs[i].value[k];
            np_mean_std_f32(xf, n, xf + n, &m, &s);
        } else {
            for (int i = 0; i < n; i++) x[i] = runs[i].value[k];
            np_mean_std_f64(x, n, x + n, &m, &s);
        }
        /* np.float32 * 100 is a float64 in NumPy 1.x; round(np.float64, 2) is np.round */
        mo.name[k] = so.name[k] = name;
        mo.value[k] = mo.raw[k] = sm_round_np_f64(m * 100.0, 2);
        so.value[k] = so.raw[k] = sm_round_np_f64(s * 100.0, 2);
    }
    mo.count = so.count = count;
    *mean = mo, *std = so;
    sm_free(x), sm_free(xf);
    return SELFMM_OK;
}
