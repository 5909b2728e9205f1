/* run_compare.c -- see run_compare.h. */
#include "support/run_compare.h"

#include "support/testfile.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-5
#define CORR_RTOL 1e-4
#define LABEL_VEC_RTOL 1e-4
#define LABEL_ATOL 1e-3
#define METRIC_FLOOR 0.1

typedef struct ctx {
    int strict, bad;
    double floor;                /* metrics: differences relative to at least this */
    rc_report *rep;
    const char *file;
    int line;
} ctx;

static void keep_max(double *w, double v)
{
    if (!(v <= *w)) *w = v;
}

static double rel(double a, double b, double floor)
{
    if (a == b || (isnan(a) && isnan(b))) return 0;
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (m < floor) m = floor;
    return m > 0 ? fabs(a - b) / m : INFINITY;
}

/* Wall-clock times: keys ending in "_s", and a "time" object of them. */
static int is_timing(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    return (n > 2 && !strcmp(key + n - 2, "_s")) || (key && !strcmp(key, "time"));
}

static void violation(ctx *c, const char *path, const char *what)
{
    printf("# %s:%d: %s: %s\n", c->file, c->line, path, what);
    c->bad++;
}

/* One number: exact in strict mode, else within tol; *worst keeps the largest. */
static void number(ctx *c, const char *path, double a, double b, double tol, double *worst)
{
    c->rep->values++;
    if (a == b || (isnan(a) && isnan(b))) {
        c->rep->exact++;
        return;
    }
    double d = rel(a, b, c->floor);
    keep_max(worst, d);
    if (c->strict || !(d <= tol)) {
        char m[160];
        snprintf(m, sizeof m, "%.17g against %.17g (relative %.3g)", a, b, d);
        violation(c, path, m);
    }
}

/* A label vector: ||a - b|| / ||b|| and the largest |a - b|. */
static void labels(ctx *c, const char *path, const cJSON *a, const cJSON *b)
{
    int n = cJSON_GetArraySize(a);
    if (n != cJSON_GetArraySize(b)) return violation(c, path, "label vectors of different lengths");
    double d2 = 0, b2 = 0, ma = 0;
    for (int i = 0; i < n; i++) {
        double x = cJSON_GetArrayItem(a, i)->valuedouble, y = cJSON_GetArrayItem(b, i)->valuedouble;
        c->rep->values++;
        if (x == y) c->rep->exact++;
        d2 += (x - y) * (x - y), b2 += y * y;
        keep_max(&ma, fabs(x - y));
    }
    double v = b2 > 0 ? sqrt(d2 / b2) : sqrt(d2);
    keep_max(&c->rep->label_vec, v);
    keep_max(&c->rep->label_abs, ma);
    if ((c->strict && d2 > 0) || !(v <= LABEL_VEC_RTOL) || !(ma <= LABEL_ATOL)) {
        char m[160];
        snprintf(m, sizeof m, "labels differ: %.3g relative as a vector, %.3g absolute at worst", v, ma);
        violation(c, path, m);
    }
}

/* Two JSON values at path; rule: which tolerance applies below it. */
static void walk(ctx *c, const char *path, const cJSON *a, const cJSON *b, double tol, double *worst, int skip)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
        if (!skip || c->strict) number(c, path, a->valuedouble, b->valuedouble, tol, worst);
        return;
    }
    if (cJSON_IsNull(a) && cJSON_IsNull(b)) return; /* NaN on both sides */
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) return labels(c, path, a, b);
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return violation(c, path, "different keys");
        const cJSON *x;
        cJSON_ArrayForEach(x, a)
        {
            if (is_timing(x->string)) continue;
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            char sub[256];
            snprintf(sub, sizeof sub, "%s.%s", path, x->string);
            if (!y) {
                violation(c, sub, "missing in the second run");
                continue;
            }
            double t = tol, *w = worst, floor = c->floor;
            int s = skip;
            /* metrics (accuracies, F1, MAE, Corr: values of order 1) are compared
             * relative to at least METRIC_FLOOR: a correlation near 0 has no
             * relative precision to speak of */
            if (!strcmp(x->string, "valid") || !strcmp(path, "epoch.train")) c->floor = METRIC_FLOOR;
            if (!strcmp(x->string, "valid")) w = &c->rep->valid;
            else if (!strcmp(x->string, "label_corr")) t = CORR_RTOL, w = &c->rep->corr;
            else if (!strcmp(path, "epoch.train") && strcmp(x->string, "M") != 0) s = 1;
            walk(c, sub, x, y, t, w, s);
            c->floor = floor;
        }
        return;
    }
    if (cJSON_IsString(a) && cJSON_IsString(b) && !strcmp(a->valuestring, b->valuestring)) return;
    if (cJSON_IsBool(a) && cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b)) return;
    violation(c, path, "different values");
}

/* Two JSON-lines files, line by line; missing ones are fine when both are. */
static void lines(ctx *c, const char *da, const char *db, const char *name, int required)
{
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s/%s", da, name);
    snprintf(pb, sizeof pb, "%s/%s", db, name);
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    c->file = name;
    c->line = 0;
    if (!fa || !fb) {
        if (required || fa || fb) violation(c, pa, !fa ? "cannot open the first run's" : "cannot open the second run's");
        if (fa) fclose(fa);
        if (fb) fclose(fb);
        return;
    }
    char *la = NULL, *lb = NULL;
    size_t ca = 0, cb = 0;
    for (;;) {
        ssize_t na = getline(&la, &ca, fa), nb = getline(&lb, &cb, fb);
        c->line++;
        if (na < 0 || nb < 0) {
            if (na >= 0 || nb >= 0) violation(c, name, "the runs have different numbers of lines");
            break;
        }
        cJSON *ja = cJSON_Parse(la), *jb = cJSON_Parse(lb);
        const cJSON *ta = cJSON_GetObjectItem(ja, "type");
        const char *type = cJSON_IsString(ta) ? ta->valuestring : "labels";
        double *w = strcmp(name, "result.json") ? &c->rep->loss : &c->rep->test;
        if (!ja || !jb) violation(c, name, "a line is not JSON");
        else walk(c, type, ja, jb, RTOL, w, 0);
        cJSON_Delete(ja), cJSON_Delete(jb);
    }
    free(la), free(lb);
    fclose(fa), fclose(fb);
}

int rc_compare(const char *a, const char *b, int strict, rc_report *rep)
{
    rc_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    ctx c = {strict, 0, 0, rep, "", 0};
    lines(&c, a, b, "train_log.jsonl", 1);
    lines(&c, a, b, "labels.jsonl", 0);
    /* result.json is one pretty-printed object: compare its "raw" (unrounded) test values */
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s/result.json", a);
    snprintf(pb, sizeof pb, "%s/result.json", b);
    size_t na, nb;
    FILE *probe_a = fopen(pa, "r"), *probe_b = fopen(pb, "r");
    if (probe_a && probe_b) {
        uint8_t *ta = tf_read(pa, &na), *tb = tf_read(pb, &nb);
        cJSON *ja = ta ? cJSON_Parse((char *)ta) : NULL, *jb = tb ? cJSON_Parse((char *)tb) : NULL;
        c.file = "result.json", c.line = 1;
        if (!ja || !jb) violation(&c, "result.json", "not JSON");
        else {
            c.floor = METRIC_FLOOR;
            walk(&c, "result", cJSON_GetObjectItem(ja, "raw"), cJSON_GetObjectItem(jb, "raw"), RTOL, &rep->test, 0);
        }
        cJSON_Delete(ja), cJSON_Delete(jb);
        free(ta), free(tb);
    }
    if (probe_a) fclose(probe_a);
    if (probe_b) fclose(probe_b);
    return c.bad;
}

void rc_print(const char *what, const rc_report *r)
{
    printf("# %s: %ld values (%ld identical); worst: losses %.2g, validation %.2g, test %.2g, label "
           "correlation %.2g (relative); labels %.2g as a vector, %.2g absolute\n",
           what, r->values, r->exact, r->loss, r->valid, r->test, r->corr, r->label_vec, r->label_abs);
}

/* Two train_log.jsonl files equal but for the epoch lines' "time" objects (wall
 * clock, the one part of the logs two runs never share). The time object must be
 * there, with its seven keys, in both. */
int rc_logs_equal(const char *a, const char *b)
{
    char *t[2] = {(char *)tf_read(a, NULL), (char *)tf_read(b, NULL)};
    int eq = t[0] && t[1], times[2] = {0, 0};
    for (int f = 0; f < 2 && eq; f++) { /* cut ,"time":{...} out in place */
        char *w = t[f], *r = t[f], *k;
        while ((k = strstr(r, ",\"time\":{\"epoch\":")) != NULL) {
            char *end = strchr(k, '}');
            if (!end || !strstr(k, "\"checkpoint\":") || strstr(k, "\"checkpoint\":") > end) {
                eq = 0;
                break;
            }
            memmove(w, r, (size_t)(k - r));
            w += k - r;
            r = end + 1;
            times[f]++;
        }
        memmove(w, r, strlen(r) + 1);
    }
    eq = eq && times[0] > 0 && times[0] == times[1] && strcmp(t[0], t[1]) == 0;
    free(t[0]), free(t[1]);
    return eq;
}
