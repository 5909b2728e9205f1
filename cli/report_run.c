/* report_run.c -- the report of a `train --out` folder: run.json, config.json,
 * metrics.json (or, for a run still going, seed-<s>/result.json), and per seed the
 * epoch lines of train_log.jsonl and the label vectors of labels.jsonl
 * (seed-<s>/ first, else the folder's concatenated file). Unknown keys are ignored,
 * absent or null values are shown as gaps and dashes. */
#include "report_int.h"

#include "core/file.h"

#include "html.h"
#include "selfmm.h"
#include "svg_chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RP_MAXM 16

/* Metric names in the order they first appear. */
typedef struct name_list {
    int n;
    char name[RP_MAXM][48];
} name_list;

/* The index of name in l, appended when new (*added = 1 then; added may be NULL);
 * -1 when the list is full or the name too long. */
static int name_index(name_list *l, const char *name, int *added)
{
    if (added) *added = 0;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->name[i], name)) return i;
    if (l->n >= RP_MAXM || strlen(name) >= sizeof l->name[0]) return -1;
    strcpy(l->name[l->n], name);
    if (added) *added = 1;
    return l->n++;
}
static const char *const MOD[3] = {"T", "A", "V"};
static const char *const MOD_KEY[3] = {"text", "audio", "vision"};
static const char *const MOD_COL[3] = {RP_COL_T, RP_COL_A, RP_COL_V};
static const char *const MOD_NAME[3] = {"T (text)", "A (audio)", "V (vision)"};

typedef struct ep_rec {
    int epoch, best_epoch;
    double train_loss, valid_loss;
    double valid[RP_MAXM];
    double corr[3]; /* label_corr: generated vs human unimodal labels */
    double dist[3]; /* mean |y_m - y_fusion| over the training samples */
} ep_rec;

typedef struct seed_rep {
    long long seed;
    ep_rec *ep;
    int nep, cap;
    int has_log, has_corr, has_labels;
    int finished, result_bad, best_epoch, epochs;
    double best_valid, test_loss;
} seed_rep;

typedef struct run_rep {
    const char *dir;
    name_list valid;            /* the validation metrics' names */
    int nseeds;
    seed_rep *s;
    int demo, save_labels;
    char data[SELFMM_PATH_MAX], init[SELFMM_PATH_MAX];
    cJSON *config, *metrics;
    int metrics_absent;
} run_rep;


static ep_rec *epoch_rec(seed_rep *s, int epoch)
{
    for (int i = 0; i < s->nep; i++)
        if (s->ep[i].epoch == epoch) return &s->ep[i];
    if (s->nep == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        ep_rec *g = realloc(s->ep, (size_t)cap * sizeof *g);
        if (!g) return NULL;
        s->ep = g, s->cap = cap;
    }
    ep_rec *e = &s->ep[s->nep++];
    e->epoch = epoch;
    e->best_epoch = 0;
    e->train_loss = e->valid_loss = NAN;
    for (int k = 0; k < RP_MAXM; k++) e->valid[k] = NAN;
    for (int k = 0; k < 3; k++) e->corr[k] = e->dist[k] = NAN;
    return e;
}

static int by_epoch(const void *a, const void *b)
{
    return ((const ep_rec *)a)->epoch - ((const ep_rec *)b)->epoch;
}

typedef struct scan_ctx {
    run_rep *r;
    seed_rep *s;
} scan_ctx;

/* A line of the wanted seed with a whole epoch number >= 1, or NULL. */
static ep_rec *line_epoch(const cJSON *line, scan_ctx *c)
{
    double seed = rp_num(line, "seed"), epoch = rp_num(line, "epoch");
    if (isfinite(seed) && (long long)seed != c->s->seed) return NULL;
    if (!isfinite(epoch) || epoch < 1 || epoch > 1e7 || epoch != floor(epoch)) return NULL;
    return epoch_rec(c->s, (int)epoch);
}

static void read_corr(const cJSON *line, ep_rec *e, seed_rep *s)
{
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(line, "label_corr");
    if (!cJSON_IsObject(lc)) return;
    for (int k = 0; k < 3; k++) {
        double v = rp_num(lc, MOD[k]);
        if (isfinite(v) || isnan(e->corr[k])) e->corr[k] = v;
    }
    s->has_corr = 1;
}

static void log_line(const cJSON *line, void *user)
{
    scan_ctx *c = user;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(line, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "epoch")) return;
    ep_rec *e = line_epoch(line, c);
    if (!e) return;
    c->s->has_log = 1;
    e->train_loss = rp_num(line, "train_loss");
    double be = rp_num(line, "best_epoch");
    if (isfinite(be) && be >= 0 && be < 1e7) e->best_epoch = (int)be;
    const cJSON *valid = cJSON_GetObjectItemCaseSensitive(line, "valid"), *v;
    if (cJSON_IsObject(valid)) {
        e->valid_loss = rp_num(valid, "Loss");
        cJSON_ArrayForEach(v, valid)
        {
            if (!v->string || !strcmp(v->string, "Loss") || !(cJSON_IsNumber(v) || cJSON_IsNull(v))) continue;
            int k = name_index(&c->r->valid, v->string, NULL);
            if (k >= 0) e->valid[k] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        }
    }
    read_corr(line, e, c->s);
}

/* mean |a - b| over the common finite entries of two JSON arrays */
static double mean_abs_diff(const cJSON *a, const cJSON *b)
{
    if (!cJSON_IsArray(a) || !cJSON_IsArray(b)) return NAN;
    double sum = 0;
    long n = 0;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next) {
        if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y)) continue;
        double d = fabs(x->valuedouble - y->valuedouble);
        if (isfinite(d)) sum += d, n++;
    }
    return n ? sum / (double)n : NAN;
}

static void labels_line(const cJSON *line, void *user)
{
    scan_ctx *c = user;
    const cJSON *fusion = cJSON_GetObjectItemCaseSensitive(line, "fusion");
    if (!cJSON_IsArray(fusion)) return;
    ep_rec *e = line_epoch(line, c);
    if (!e) return;
    c->s->has_labels = 1;
    for (int k = 0; k < 3; k++) e->dist[k] = mean_abs_diff(cJSON_GetObjectItemCaseSensitive(line, MOD_KEY[k]), fusion);
    if (!c->s->has_corr || isnan(e->corr[0])) read_corr(line, e, c->s);
}

/* seed-<s>/NAME, else DIR/NAME (all seeds, filtered by "seed"). */
static void scan_seed_file(run_rep *r, seed_rep *s, const char *name, void (*fn)(const cJSON *, void *))
{
    char path[SELFMM_PATH_MAX + 96];
    scan_ctx c = {r, s};
    snprintf(path, sizeof path, "%s/seed-%lld/%s", r->dir, s->seed, name);
    if (rp_scan_jsonl(path, fn, &c)) return;
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    rp_scan_jsonl(path, fn, &c);
}

static void read_result(run_rep *r, seed_rep *s)
{
    char path[SELFMM_PATH_MAX + 96];
    snprintf(path, sizeof path, "%s/seed-%lld/result.json", r->dir, s->seed);
    int absent;
    cJSON *o = rp_load_json(path, &absent);
    s->best_valid = s->test_loss = NAN;
    if (!cJSON_IsObject(o)) {
        s->result_bad = !absent;
        cJSON_Delete(o);
        return;
    }
    s->finished = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "test"));
    s->result_bad = !s->finished;
    double v = rp_num(o, "best_epoch");
    if (isfinite(v) && v >= 0 && v < 1e7) s->best_epoch = (int)v;
    v = rp_num(o, "epochs");
    if (isfinite(v) && v >= 0 && v < 1e7) s->epochs = (int)v;
    s->best_valid = rp_num(o, "valid_loss");
    s->test_loss = rp_num(o, "test_loss");
    cJSON_Delete(o);
}

static void run_free(run_rep *r)
{
    for (int i = 0; i < r->nseeds; i++) free(r->s[i].ep);
    free(r->s);
    cJSON_Delete(r->config);
    cJSON_Delete(r->metrics);
}

static int run_load(run_rep *r, const char *dir, rp_err *e)
{
    memset(r, 0, sizeof *r);
    r->dir = dir;
    char path[SELFMM_PATH_MAX + 32];
    sm_path_join(path, sizeof path, dir, "run.json", NULL);
    cJSON *run = rp_load_json(path, NULL);
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(run, "seeds"), *v;
    if (!cJSON_IsObject(run) || !cJSON_IsArray(seeds) || cJSON_GetArraySize(seeds) < 1) {
        cJSON_Delete(run);
        return rp_fail(e, "%s: not JSON or no \"seeds\": is this a `train --out` folder?", path);
    }
    r->s = calloc((size_t)cJSON_GetArraySize(seeds), sizeof *r->s);
    if (!r->s) {
        cJSON_Delete(run);
        return rp_fail(e, "out of memory");
    }
    cJSON_ArrayForEach(v, seeds) if (cJSON_IsNumber(v)) r->s[r->nseeds++].seed = (long long)v->valuedouble;
    r->demo = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "demo"));
    r->save_labels = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "save_labels"));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(run, "data"), *in = cJSON_GetObjectItemCaseSensitive(run, "init");
    if (cJSON_IsString(d)) snprintf(r->data, sizeof r->data, "%s", d->valuestring);
    if (cJSON_IsString(in)) snprintf(r->init, sizeof r->init, "%s", in->valuestring);
    cJSON_Delete(run);

    sm_path_join(path, sizeof path, dir, "config.json", NULL);
    r->config = rp_load_json(path, NULL);
    sm_path_join(path, sizeof path, dir, "metrics.json", NULL);
    r->metrics = rp_load_json(path, &r->metrics_absent);
    for (int i = 0; i < r->nseeds; i++) {
        seed_rep *s = &r->s[i];
        read_result(r, s);
        scan_seed_file(r, s, "train_log.jsonl", log_line);
        scan_seed_file(r, s, "labels.jsonl", labels_line);
        if (s->nep > 1) qsort(s->ep, (size_t)s->nep, sizeof *s->ep, by_epoch);
        if (!s->best_epoch) /* still running: the last epoch line knows */
            for (int k = s->nep - 1; k >= 0 && !s->best_epoch; k--) s->best_epoch = s->ep[k].best_epoch;
        if (!s->epochs && s->nep) s->epochs = s->ep[s->nep - 1].epoch;
    }
    return 0;
}

/* ---- page parts ------------------------------------------------------------------ */

static void fact(FILE *o, const char *name, const char *value)
{
    fprintf(o, "<dt>%s</dt><dd>", name);
    html_esc(o, value);
    fputs("</dd>\n", o);
}

static void config_str(const cJSON *cfg, const char *key, char *buf, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsString(v)) snprintf(buf, cap, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) snprintf(buf, cap, "%.10g", v->valuedouble);
    else if (cJSON_IsBool(v)) snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else snprintf(buf, cap, "\xE2\x80\x93");
}

static void summary_section(FILE *o, const run_rep *r)
{
    char buf[SELFMM_PATH_MAX + 64];
    fputs("<div class=\"card\"><dl class=\"facts\">\n", o);
    if (r->config) {
        config_str(r->config, "dataset", buf, sizeof buf);
        fact(o, "dataset", buf);
    }
    fact(o, "data", r->demo ? "the embedded demo (generated, SIMS-shaped)" : r->data[0] ? r->data : "\xE2\x80\x93");
    if (r->init[0]) fact(o, "initial model", r->init);
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->nseeds && n < sizeof buf - 24; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%lld", i ? ", " : "", r->s[i].seed);
    fact(o, r->nseeds > 1 ? "seeds" : "seed", buf);
    int fin = 0;
    for (int i = 0; i < r->nseeds; i++) fin += r->s[i].finished;
    snprintf(buf, sizeof buf, "%d of %d seed%s finished%s", fin, r->nseeds, r->nseeds > 1 ? "s" : "",
             fin < r->nseeds ? " (the run is unfinished or was interrupted: `train --resume` continues it)" : "");
    fact(o, "status", buf);
    fact(o, "generated labels", r->save_labels ? "saved after each epoch (labels.jsonl)"
                                               : "not saved (trained without --save-labels)");
    fputs("</dl>\n", o);
    if (cJSON_IsObject(r->config)) {
        fputs("<details><summary>configuration (config.json)</summary>\n<div class=\"tw\"><table>\n"
              "<tr><th class=\"l\">key</th><th class=\"l\">value</th><th class=\"l\">key</th>"
              "<th class=\"l\">value</th><th class=\"l\">key</th><th class=\"l\">value</th></tr>\n", o);
        int i = 0, total = cJSON_GetArraySize(r->config);
        const cJSON *v;
        cJSON_ArrayForEach(v, r->config)
        {
            if (i % 3 == 0) fputs("<tr>", o);
            config_str(r->config, v->string, buf, sizeof buf);
            fputs("<td class=\"l\"><code>", o);
            html_esc(o, v->string);
            fputs("</code></td><td class=\"l\">", o);
            html_esc(o, buf);
            fputs("</td>", o);
            if (i % 3 == 2 || i == total - 1) fputs("</tr>\n", o);
            i++;
        }
        fputs("</table></div></details>\n", o);
    }
    fputs("</div>\n", o);
}

/* Test metrics: metrics.json (finished run), else the seeds' result.json. */
typedef struct test_tab {
    name_list m;                /* the metrics' names */
    int nr;
    long long seed[64];
    double v[64][RP_MAXM];
    double mean[RP_MAXM], sd[RP_MAXM];
    int have_summary;
} test_tab;

static int tab_metric(test_tab *t, const char *name)
{
    int added, k = name_index(&t->m, name, &added);
    if (added) {
        for (int i = 0; i < 64; i++) t->v[i][k] = NAN;
        t->mean[k] = t->sd[k] = NAN;
    }
    return k;
}

static void tab_add_run(test_tab *t, long long seed, const cJSON *test)
{
    if (t->nr >= 64) return;
    int r = t->nr++;
    t->seed[r] = seed;
    for (int k = 0; k < RP_MAXM; k++) t->v[r][k] = NAN;
    const cJSON *v;
    cJSON_ArrayForEach(v, test)
    {
        if (!v->string || !(cJSON_IsNumber(v) || cJSON_IsNull(v))) continue; /* "raw" and other objects */
        int k = tab_metric(t, v->string);
        if (k >= 0) t->v[r][k] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
}

static double round2(double x)
{
    char b[64];
    snprintf(b, sizeof b, "%.2f", x);
    return strtod(b, NULL);
}

static void test_section(FILE *o, const run_rep *r)
{
    test_tab *t = calloc(1, sizeof *t);
    if (!t) return;
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(r->metrics, "runs"), *ri;
    if (cJSON_IsArray(runs)) {
        cJSON_ArrayForEach(ri, runs)
        {
            const cJSON *test = cJSON_GetObjectItemCaseSensitive(ri, "test");
            if (cJSON_IsObject(test)) tab_add_run(t, (long long)rp_num(ri, "seed"), test);
        }
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(r->metrics, "summary"), *m;
        cJSON_ArrayForEach(m, sum)
        {
            if (!cJSON_IsObject(m) || !m->string) continue;
            int k = tab_metric(t, m->string);
            if (k < 0) continue;
            t->mean[k] = rp_num(m, "mean"), t->sd[k] = rp_num(m, "std");
            t->have_summary = 1;
        }
    } else {
        for (int i = 0; i < r->nseeds; i++) {
            char path[SELFMM_PATH_MAX + 96];
            snprintf(path, sizeof path, "%s/seed-%lld/result.json", r->dir, r->s[i].seed);
            cJSON *o2 = rp_load_json(path, NULL);
            const cJSON *test = cJSON_GetObjectItemCaseSensitive(o2, "test");
            if (cJSON_IsObject(test)) tab_add_run(t, r->s[i].seed, test);
            cJSON_Delete(o2);
        }
    }
    if (!t->have_summary) /* MMSA: round(mean * 100, 2), round(population std * 100, 2) */
        for (int k = 0; k < t->m.n; k++) {
            double m = 0, v = 0;
            int n = 0;
            for (int i = 0; i < t->nr; i++)
                if (isfinite(t->v[i][k])) m += t->v[i][k], n++;
            if (!n) continue;
            m /= n;
            for (int i = 0; i < t->nr; i++)
                if (isfinite(t->v[i][k])) v += (t->v[i][k] - m) * (t->v[i][k] - m);
            t->mean[k] = round2(m * 100), t->sd[k] = round2(sqrt(v / n) * 100);
        }
    fputs("<h2 id=\"test\">Test metrics</h2>\n", o);
    if (!t->nr) {
        fputs("<p class=\"note\">No seed has finished yet: no test metrics (they are computed with the best "
              "weights once a seed stops).</p>\n", o);
        free(t);
        return;
    }
    fprintf(o, "<p class=\"muted\">The best weights of each seed on the test split; the last column is the mean "
               "&#177; population standard deviation over the seeds, &#215;100 and rounded to 2 decimals as in "
               "results.csv (MMSA)%s.</p>\n",
            t->have_summary ? "" : ", computed here over the finished seeds (metrics.json is not written yet)");
    fputs("<div class=\"tw\"><table>\n<tr><th class=\"l\">metric</th>", o);
    for (int i = 0; i < t->nr; i++) fprintf(o, "<th>seed %lld</th>", t->seed[i]);
    fputs("<th>mean &#177; std (&#215;100)</th></tr>\n", o);
    char a[48], b[48];
    for (int k = 0; k < t->m.n; k++) {
        fputs("<tr><td class=\"l\">", o);
        html_esc(o, t->m.name[k]);
        fputs("</td>", o);
        for (int i = 0; i < t->nr; i++) fprintf(o, "<td>%s</td>", html_num(a, t->v[i][k], 4));
        fprintf(o, "<td>%s &#177; %s</td></tr>\n", html_num(a, t->mean[k], 2), html_num(b, t->sd[k], 2));
    }
    fputs("</table></div>\n", o);
    free(t);
}

static void seeds_table(FILE *o, const run_rep *r)
{
    char a[48], b[48];
    fputs("<div class=\"tw\"><table>\n<tr><th>seed</th><th>epochs</th><th>best epoch</th>"
          "<th>best valid Loss</th><th>test Loss</th><th class=\"l\">status</th></tr>\n", o);
    for (int i = 0; i < r->nseeds; i++) {
        const seed_rep *s = &r->s[i];
        double bv = s->best_valid;
        if (!isfinite(bv))
            for (int k = 0; k < s->nep; k++)
                if (s->ep[k].epoch == s->best_epoch) bv = s->ep[k].valid_loss;
        fprintf(o, "<tr><td><a href=\"#seed-%lld\">%lld</a></td><td>%d</td>", s->seed, s->seed, s->epochs);
        if (s->best_epoch) fprintf(o, "<td>%d</td>", s->best_epoch);
        else fputs("<td>\xE2\x80\x93</td>", o);
        fprintf(o, "<td>%s</td><td>%s</td><td class=\"l\">%s</td></tr>\n", html_num(a, bv, 4),
                html_num(b, s->test_loss, 4),
                s->finished     ? "finished"
                : s->result_bad ? "result.json unreadable"
                : s->has_log    ? "in progress or interrupted"
                                : "no epoch logged");
    }
    fputs("</table></div>\n", o);
}

/* All seeds' validation Loss on one chart (more than one seed). */
static void seeds_chart(FILE *o, const run_rep *r)
{
    int ns = r->nseeds < 16 ? r->nseeds : 16;
    chart_series s[16];
    char names[16][64];
    double *buf[16] = {0};
    for (int i = 0; i < ns; i++) {
        const seed_rep *q = &r->s[i];
        buf[i] = malloc(sizeof(double) * 2 * (size_t)(q->nep ? q->nep : 1));
        if (!buf[i]) goto out;
        for (int k = 0; k < q->nep; k++) buf[i][k] = q->ep[k].epoch, buf[i][q->nep + k] = q->ep[k].valid_loss;
        if (q->best_epoch) snprintf(names[i], sizeof names[i], "seed %lld (best epoch %d)", q->seed, q->best_epoch);
        else snprintf(names[i], sizeof names[i], "seed %lld", q->seed);
        s[i] = (chart_series){names[i], rp_metric_color(i), buf[i], buf[i] + q->nep, q->nep, 0};
    }
    chart_spec c = {.title = "Validation Loss per epoch, all seeds", .xlabel = "epoch", .ylabel = "validation Loss",
                    .width = 1100, .height = 320, .x_integer = 1, .mark_x = NAN};
    fputs("<div class=\"card\">", o);
    chart_line(o, &c, s, ns);
    fputs("</div>\n", o);
out:
    for (int i = 0; i < ns; i++) free(buf[i]);
}

static void chart_cell(FILE *o, const chart_spec *c, const chart_series *s, int ns)
{
    fputs("<div>", o);
    chart_line(o, c, s, ns);
    fputs("</div>\n", o);
}

static void note_cell(FILE *o, const char *title, const char *html_text)
{
    fprintf(o, "<div class=\"nc\"><p><b>%s</b></p><p class=\"note\">%s</p></div>\n", title, html_text);
}

static void seed_section(FILE *o, const run_rep *r, const seed_rep *s)
{
    char title[160], mark[64], a[48];
    fprintf(o, "<h2 id=\"seed-%lld\">Seed %lld</h2>\n<p>", s->seed, s->seed);
    if (!s->nep) {
        fputs("No epoch has finished for this seed (no epoch lines in train_log.jsonl).</p>\n", o);
        return;
    }
    fprintf(o, "%d epoch%s", s->nep, s->nep > 1 ? "s" : "");
    if (s->best_epoch) {
        double bv = NAN;
        for (int k = 0; k < s->nep; k++)
            if (s->ep[k].epoch == s->best_epoch) bv = s->ep[k].valid_loss;
        fprintf(o, "; best epoch <b>%d</b> (validation Loss %s), marked by the dashed line", s->best_epoch,
                html_num(a, bv, 4));
    }
    fputs(s->finished ? "." : "; unfinished.", o);
    if (!s->has_log)
        fputs(" train_log.jsonl has no epoch lines for this seed: no losses or validation metrics.", o);
    fputs("</p>\n<div class=\"grid\">\n", o);

    int n = s->nep;
    double *buf = malloc(sizeof(double) * (size_t)n * (3 + RP_MAXM + 6));
    if (!buf) return;
    double *x = buf, *tl = buf + n, *vl = buf + 2 * n, *vm = buf + 3 * n, *cd = vm + (size_t)n * RP_MAXM;
    for (int i = 0; i < n; i++) {
        x[i] = s->ep[i].epoch, tl[i] = s->ep[i].train_loss, vl[i] = s->ep[i].valid_loss;
        for (int k = 0; k < r->valid.n; k++) vm[(size_t)k * n + i] = s->ep[i].valid[k];
        for (int k = 0; k < 3; k++) cd[(size_t)k * n + i] = s->ep[i].dist[k], cd[(size_t)(3 + k) * n + i] = s->ep[i].corr[k];
    }
    snprintf(mark, sizeof mark, "best epoch %d", s->best_epoch);
    chart_spec c = {.xlabel = "epoch", .width = 560, .height = 300, .x_integer = 1,
                    .mark_x = s->best_epoch ? s->best_epoch : NAN, .mark_label = mark};

    snprintf(title, sizeof title, "Loss per epoch");
    c.title = title, c.ylabel = "loss";
    chart_series loss[2] = {{"train (mean batch loss, all heads)", RP_COL_TRAIN, x, tl, n, 1},
                            {"validation Loss (M head; early stopping)", RP_COL_VALID, x, vl, n, 0}};
    chart_cell(o, &c, loss, 2);

    chart_series ms[RP_MAXM];
    for (int k = 0; k < r->valid.n; k++)
        ms[k] = (chart_series){r->valid.name[k], rp_metric_color(k), x, vm + (size_t)k * n, n, rp_lower_is_better(r->valid.name[k])};
    c.title = "Validation metrics per epoch", c.ylabel = "value";
    chart_cell(o, &c, ms, r->valid.n);

    if (s->has_labels) {
        chart_series ds[3];
        for (int k = 0; k < 3; k++) ds[k] = (chart_series){MOD_NAME[k], MOD_COL[k], x, cd + (size_t)k * n, n, 0};
        c.title = "Generated labels: mean |y_m \xE2\x88\x92 y_fusion|", c.ylabel = "mean absolute difference";
        chart_cell(o, &c, ds, 3);
    } else {
        note_cell(o, "Generated labels: mean |y<sub>m</sub> &#8722; y<sub>fusion</sub>|",
                  r->save_labels ? "labels.jsonl has no lines for this seed yet."
                                 : "This run was trained without <code>--save-labels</code>, so the generated "
                                   "unimodal labels were not kept (labels.jsonl) and their distance to the "
                                   "fusion labels cannot be shown. Train with <code>--save-labels</code> to see "
                                   "it.");
    }
    if (s->has_corr) {
        chart_series cs[3];
        for (int k = 0; k < 3; k++) cs[k] = (chart_series){MOD_NAME[k], MOD_COL[k], x, cd + (size_t)(3 + k) * n, n, 0};
        c.title = "label_corr: generated vs human unimodal labels", c.ylabel = "Pearson r";
        chart_cell(o, &c, cs, 3);
    } else {
        note_cell(o, "label_corr: generated vs human unimodal labels",
                  "The training data has no human unimodal labels (only SIMS has them), so the generated "
                  "labels cannot be compared with them.");
    }
    fputs("</div>\n", o);
    free(buf);
}

int rp_render_run(FILE *o, const char *dir, rp_err *e)
{
    run_rep r;
    if (run_load(&r, dir, e) != 0) {
        run_free(&r);
        return -1;
    }
    rp_page_begin(o, "Self-MM training report", dir);
    summary_section(o, &r);
    test_section(o, &r);
    fputs("<h2 id=\"seeds\">Seeds</h2>\n", o);
    seeds_table(o, &r);
    if (r.nseeds > 1) seeds_chart(o, &r);
    fputs("<p class=\"muted\">Colours: <span class=\"sw\" style=\"background:" RP_COL_TRAIN "\"></span>train "
          "<span class=\"sw\" style=\"background:" RP_COL_VALID "\"></span>validation &#183; "
          "<span class=\"sw\" style=\"background:" RP_COL_T "\"></span>T (text) "
          "<span class=\"sw\" style=\"background:" RP_COL_A "\"></span>A (audio) "
          "<span class=\"sw\" style=\"background:" RP_COL_V "\"></span>V (vision); dashed metric lines are "
          "lower-is-better (Loss, MAE).</p>\n", o);
    for (int i = 0; i < r.nseeds; i++) seed_section(o, &r, &r.s[i]);
    rp_page_end(o);
    run_free(&r);
    return 0;
}
