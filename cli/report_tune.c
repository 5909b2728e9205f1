/* report_tune.c -- the report of a tune folder:
 *   tune.json          the search: {"keys": [tuned keys], "trials": N, "seed": S, ...}
 *                      (optional "key_eval": the metric that ranks trials; default
 *                      Loss when results.csv has it, as the reference's KeyEval)
 *   results.csv        one row per finished trial: Trial, every tuned key (reference
 *                      names), the validation metrics (MMSA names; the reference's
 *                      run_tune stores round(mean * 100, 2) of each)
 *   best_config.json   the best trial's config
 *   trial-<NNN>/       each a `train --out` folder (linked when it has report.html)
 * Other keys of tune.json are listed as they are. */
#include "report_int.h"

#include "core/file.h"

#include "html.h"
#include "selfmm.h"
#include "svg_chart.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_COLS 256
#define TOP_TRIALS 10

typedef struct tune_rep {
    const char *dir;
    cJSON *tune, *best_cfg;
    int best_cfg_absent;
    rp_csv csv;
    int have_csv;
    int trial_col;
    int nkeys, key_col[MAX_COLS];
    const char *key_name[MAX_COLS]; /* tune.json's spelling (or the column's) */
    int nmet, met_col[MAX_COLS];
    int eval;                       /* index into met_col, -1: none */
    int lower;                      /* the eval metric is lower-is-better */
    int *trial;                     /* per row */
    int *order;                     /* rows, best first */
} tune_rep;

static int parse_double(const char *s, double *out)
{
    char *end;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (*end) return 0;
    *out = v;
    return 1;
}

static double cell_num(const tune_rep *t, int row, int col)
{
    double v;
    return parse_double(rp_csv_at(&t->csv, row + 1, col), &v) ? v : NAN;
}

static int find_col(const rp_csv *csv, const char *name)
{
    for (int c = 0; c < csv->cols; c++)
        if (!strcmp(rp_csv_at(csv, 0, c), name)) return c;
    return -1;
}

/* Metric names of MMSA's results (used only when tune.json names no keys). */
static int known_metric(const char *n)
{
    static const char *const pre[] = {"Loss", "Mult_acc_", "Has0_", "Non0_", "F1_score", "MAE", "Corr", "Acc"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (!strncmp(n, pre[i], strlen(pre[i]))) return 1;
    return 0;
}

static const tune_rep *sort_ctx;
static int by_eval(const void *pa, const void *pb)
{
    const tune_rep *t = sort_ctx;
    int a = *(const int *)pa, b = *(const int *)pb;
    double va = t->eval >= 0 ? cell_num(t, a, t->met_col[t->eval]) : NAN;
    double vb = t->eval >= 0 ? cell_num(t, b, t->met_col[t->eval]) : NAN;
    int fa = isfinite(va), fb = isfinite(vb);
    if (fa != fb) return fb - fa; /* absent values last */
    if (fa && va != vb) return (t->lower ? va < vb : va > vb) ? -1 : 1;
    return t->trial[a] - t->trial[b];
}

static void tune_free(tune_rep *t)
{
    cJSON_Delete(t->tune);
    cJSON_Delete(t->best_cfg);
    rp_csv_free(&t->csv);
    free(t->trial);
    free(t->order);
}

static int tune_load(tune_rep *t, const char *dir, rp_err *e)
{
    memset(t, 0, sizeof *t);
    t->dir = dir;
    t->eval = -1;
    t->trial_col = -1;
    char path[SELFMM_PATH_MAX + 32];
    sm_path_join(path, sizeof path, dir, "tune.json", NULL);
    t->tune = rp_load_json(path, NULL);
    if (!cJSON_IsObject(t->tune)) return rp_fail(e, "%s: not a JSON object", path);
    sm_path_join(path, sizeof path, dir, "best_config.json", NULL);
    t->best_cfg = rp_load_json(path, &t->best_cfg_absent);
    sm_path_join(path, sizeof path, dir, "results.csv", NULL);
    if (!sm_exists(path)) return 0; /* no trial finished yet */
    if (rp_csv_load(path, &t->csv, e) != 0) return -1;
    t->have_csv = 1;
    const rp_csv *csv = &t->csv;
    if (csv->cols > MAX_COLS) return rp_fail(e, "%s: more than %d columns", path, MAX_COLS);
    for (int c = 0; c < csv->cols; c++)
        if (!strcasecmp(rp_csv_at(csv, 0, c), "Trial")) t->trial_col = c;
    char used[MAX_COLS] = {0};
    if (t->trial_col >= 0) used[t->trial_col] = 1;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(t->tune, "keys"), *k;
    if (cJSON_IsArray(keys)) {
        cJSON_ArrayForEach(k, keys)
        {
            if (!cJSON_IsString(k) || t->nkeys >= MAX_COLS) continue;
            int c = find_col(csv, k->valuestring);
            if (c < 0 || used[c]) continue;
            used[c] = 1;
            t->key_name[t->nkeys] = k->valuestring;
            t->key_col[t->nkeys++] = c;
        }
    } else {
        for (int c = 0; c < csv->cols; c++)
            if (!used[c] && !known_metric(rp_csv_at(csv, 0, c))) {
                used[c] = 1;
                t->key_name[t->nkeys] = rp_csv_at(csv, 0, c);
                t->key_col[t->nkeys++] = c;
            }
    }
    for (int c = 0; c < csv->cols; c++)
        if (!used[c]) t->met_col[t->nmet++] = c;
    const cJSON *ke = cJSON_GetObjectItemCaseSensitive(t->tune, "key_eval");
    for (int m = 0; m < t->nmet && t->eval < 0; m++)
        if (cJSON_IsString(ke) && !strcmp(rp_csv_at(csv, 0, t->met_col[m]), ke->valuestring)) t->eval = m;
    for (int m = 0; m < t->nmet && t->eval < 0; m++)
        if (!strcmp(rp_csv_at(csv, 0, t->met_col[m]), "Loss")) t->eval = m;
    if (t->eval < 0 && t->nmet > 0) t->eval = 0;
    t->lower = t->eval >= 0 && rp_lower_is_better(rp_csv_at(csv, 0, t->met_col[t->eval]));
    int n = csv->rows;
    t->trial = malloc(sizeof(int) * (size_t)(n ? n : 1));
    t->order = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!t->trial || !t->order) return rp_fail(e, "out of memory");
    for (int r = 0; r < n; r++) {
        double v = t->trial_col >= 0 ? cell_num(t, r, t->trial_col) : NAN;
        t->trial[r] = isfinite(v) && fabs(v) < 1e9 ? (int)v : r + 1;
        t->order[r] = r;
    }
    sort_ctx = t;
    qsort(t->order, (size_t)n, sizeof *t->order, by_eval);
    return 0;
}

/* The distinct values of a column, sorted (as numbers when all are numbers). */
typedef struct cats {
    int n;
    const char **v;
    int numeric;
} cats;

static int numeric_sort;
static int cmp_cat(const void *pa, const void *pb)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    double x, y;
    if (numeric_sort && parse_double(a, &x) && parse_double(b, &y) && x != y) return x < y ? -1 : 1;
    return strcmp(a, b);
}

static int cats_of(const tune_rep *t, int col, cats *c)
{
    int n = t->csv.rows;
    c->n = 0;
    c->v = malloc(sizeof(char *) * (size_t)(n ? n : 1));
    if (!c->v) return -1;
    numeric_sort = 1;
    for (int r = 0; r < n; r++) {
        const char *s = rp_csv_at(&t->csv, r + 1, col);
        double d;
        if (!parse_double(s, &d)) numeric_sort = 0;
        int seen = 0;
        for (int i = 0; i < c->n && !seen; i++) seen = !strcmp(c->v[i], s);
        if (!seen) c->v[c->n++] = s;
    }
    qsort(c->v, (size_t)c->n, sizeof *c->v, cmp_cat);
    c->numeric = numeric_sort;
    return 0;
}

/* v in the exponent form with the fewest digits that keep it: 1e-4, 2.5e-3, 0. */
static void exp_form(char *buf, size_t cap, double v)
{
    if (v == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    for (int p = 0; p <= 6; p++) {
        snprintf(buf, cap, "%.*e", p, v);
        if (fabs(strtod(buf, NULL) - v) <= 1e-9 * fabs(v)) break;
    }
    char *e = strchr(buf, 'e');
    if (!e) return;
    char *d = e + 1, *w = e + 1;
    if (*d == '+') d++;
    else if (*d == '-') *w++ = *d++;
    while (*d == '0' && d[1]) d++;
    memmove(w, d, strlen(d) + 1);
}

/* Axis labels of the categories: numbers as %g, or all in the exponent form when
 * that makes the widest label narrower (learning rates: 1e-4 1e-3 5e-3); other
 * text as it is. buf holds n entries of 32 bytes. */
static void cat_labels(const cats *c, char (*buf)[32], const char **lab)
{
    size_t wg = 0, we = 0;
    for (int i = 0; i < c->n; i++) {
        lab[i] = c->v[i];
        if (!c->numeric) continue;
        double v;
        parse_double(c->v[i], &v);
        char g[32], e[32];
        snprintf(g, sizeof g, "%g", v);
        exp_form(e, sizeof e, v);
        if (strlen(g) > wg) wg = strlen(g);
        if (strlen(e) > we) we = strlen(e);
    }
    if (!c->numeric) return;
    for (int i = 0; i < c->n; i++) {
        double v;
        parse_double(c->v[i], &v);
        if (we < wg) exp_form(buf[i], sizeof buf[i], v);
        else snprintf(buf[i], sizeof buf[i], "%g", v);
        lab[i] = buf[i];
    }
}

static int cat_index(const cats *c, const char *s)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->v[i], s)) return i;
    return -1;
}

static void trial_cell(FILE *o, const tune_rep *t, int trial, int best)
{
    char rel[64], path[SELFMM_PATH_MAX + 96];
    snprintf(rel, sizeof rel, "trial-%03d/report.html", trial);
    snprintf(path, sizeof path, "%s/%s", t->dir, rel);
    const char *td = best ? "<td class=\"b\">" : "<td>";
    if (sm_exists(path)) fprintf(o, "%s<a href=\"%s\">%d</a></td>", td, rel, trial);
    else fprintf(o, "%s%d</td>", td, trial);
}

static void summary(FILE *o, const tune_rep *t)
{
    char a[48];
    fputs("<div class=\"card\"><dl class=\"facts\">\n", o);
    double planned = rp_num(t->tune, "trials");
    fprintf(o, "<dt>trials</dt><dd>%d finished", t->have_csv ? t->csv.rows : 0);
    if (isfinite(planned)) fprintf(o, " of %s planned", html_num(a, planned, 0));
    fputs("</dd>\n", o);
    double seed = rp_num(t->tune, "seed");
    if (isfinite(seed)) fprintf(o, "<dt>search seed</dt><dd>%s</dd>\n", html_num(a, seed, 0));
    if (t->have_csv && t->eval >= 0) {
        fputs("<dt>trials ranked by</dt><dd>", o);
        html_esc(o, rp_csv_at(&t->csv, 0, t->met_col[t->eval]));
        fprintf(o, " (%s is better)</dd>\n", t->lower ? "lower" : "higher");
        if (t->csv.rows) {
            int b = t->order[0];
            fprintf(o, "<dt>best trial</dt><dd>%d (", t->trial[b]);
            html_esc(o, rp_csv_at(&t->csv, 0, t->met_col[t->eval]));
            fputs(" ", o);
            html_esc(o, rp_csv_at(&t->csv, b + 1, t->met_col[t->eval]));
            fputs(")</dd>\n", o);
        }
    }
    fprintf(o, "<dt>tuned keys</dt><dd>%d</dd>\n", t->nkeys);
    /* anything else tune.json says, as it says it */
    const cJSON *v;
    cJSON_ArrayForEach(v, t->tune)
    {
        if (!v->string || !strcmp(v->string, "keys") || !strcmp(v->string, "trials") || !strcmp(v->string, "seed"))
            continue;
        fputs("<dt>", o);
        html_esc(o, v->string);
        fputs("</dt><dd>", o);
        if (cJSON_IsString(v)) html_esc(o, v->valuestring);
        else {
            char *s = cJSON_PrintUnformatted(v);
            if (s && strlen(s) > 400) strcpy(s + 396, " ...");
            html_esc(o, s ? s : "");
            free(s);
        }
        fputs("</dd>\n", o);
    }
    fputs("</dl></div>\n", o);
}

static int varying(const tune_rep *t, int key)
{
    const char *first = rp_csv_at(&t->csv, 1, t->key_col[key]);
    for (int r = 1; r < t->csv.rows; r++)
        if (strcmp(first, rp_csv_at(&t->csv, r + 1, t->key_col[key]))) return 1;
    return 0;
}

/* Transposed: one column per trial (best first), one row per metric, then one per
 * key that varies; a wide search stays within the page. */
static void best_table(FILE *o, const tune_rep *t, const char *vary)
{
    int n = t->csv.rows < TOP_TRIALS ? t->csv.rows : TOP_TRIALS;
    fprintf(o, "<h2 id=\"best\">Best trials</h2>\n<p class=\"muted\">The %d best of %d trials by ", n, t->csv.rows);
    if (t->eval >= 0) html_esc(o, rp_csv_at(&t->csv, 0, t->met_col[t->eval]));
    fputs(", best first: the validation metrics as results.csv holds them (the reference's run_tune: the mean "
          "over the trial's seeds &#215;100, 2 decimals), then the keys that vary in this search. A trial number "
          "links to that trial's own report when it has one.</p>\n<div class=\"tw\"><table class=\"bt\">\n"
          "<tr><th class=\"l\">rank</th>", o);
    for (int i = 0; i < n; i++) fprintf(o, "<th%s>%d</th>", i == 0 ? " class=\"b\"" : "", i + 1);
    fputs("</tr>\n<tr><th class=\"l\">trial</th>", o);
    for (int i = 0; i < n; i++) trial_cell(o, t, t->trial[t->order[i]], i == 0);
    fputs("</tr>\n", o);
    fprintf(o, "<tr class=\"grp\"><td class=\"l\" colspan=\"%d\">validation metrics</td></tr>\n", n + 1);
    for (int m = 0; m < t->nmet; m++) {
        fputs("<tr><td class=\"l\">", o);
        html_esc(o, rp_csv_at(&t->csv, 0, t->met_col[m]));
        fputs(m == t->eval ? " &#9733;</td>" : "</td>", o);
        for (int i = 0; i < n; i++) {
            fputs(i == 0 ? "<td class=\"b\">" : "<td>", o);
            html_esc(o, rp_csv_at(&t->csv, t->order[i] + 1, t->met_col[m]));
            fputs("</td>", o);
        }
        fputs("</tr>\n", o);
    }
    fprintf(o, "<tr class=\"grp\"><td class=\"l\" colspan=\"%d\">tuned keys that vary</td></tr>\n", n + 1);
    for (int k = 0; k < t->nkeys; k++) {
        if (!vary[k]) continue;
        fputs("<tr><td class=\"l\"><code>", o);
        html_esc(o, t->key_name[k]);
        fputs("</code></td>", o);
        for (int i = 0; i < n; i++) {
            fputs(i == 0 ? "<td class=\"b\">" : "<td>", o);
            html_esc(o, rp_csv_at(&t->csv, t->order[i] + 1, t->key_col[k]));
            fputs("</td>", o);
        }
        fputs("</tr>\n", o);
    }
    fputs("</table></div>\n", o);
}

static void matrix(FILE *o, const tune_rep *t, const char *vary)
{
    int nv = 0;
    for (int k = 0; k < t->nkeys; k++) nv += vary[k];
    fputs("<h2 id=\"keys\">Validation metrics against the tuned keys</h2>\n", o);
    if (!nv || !t->nmet) {
        fputs("<p class=\"note\">No tuned key takes more than one value in the finished trials yet: nothing to "
              "compare.</p>\n", o);
        return;
    }
    fputs("<p class=\"muted\">One row per tuned key that varies (x axis: its values), one column per validation "
          "metric (y axis). Each dot is a trial (spread sideways within its value), the bar is the mean of the "
          "trials with that value, the diamond is the best trial.</p>\n", o);
    legend_item li[3] = {{"trial", RP_COL_POINT, LEGEND_DOT},
                         {"best trial", RP_COL_BEST, LEGEND_DIAMOND},
                         {"mean of the trials with that value", "#1d232b", LEGEND_BAR}};
    fputs("<div style=\"max-width:620px\">", o);
    chart_legend(o, li, 3, 620);
    fputs("</div>\n", o);
    int width = t->nmet <= 3 ? 300 : t->nmet <= 5 ? 200 : 150;
    fprintf(o, "<div class=\"mx\" style=\"grid-template-columns:minmax(90px,150px) repeat(%d,minmax(0,1fr))\">\n",
            t->nmet);
    fputs("<div></div>", o);
    for (int m = 0; m < t->nmet; m++) {
        fputs("<div class=\"mh\">", o);
        html_esc(o, rp_csv_at(&t->csv, 0, t->met_col[m]));
        fputs("</div>", o);
    }
    fputc('\n', o);
    int n = t->csv.rows;
    double *x = malloc(sizeof(double) * (size_t)(n ? n : 1) * 2);
    if (!x) return;
    double *y = x + n;
    int best = n ? t->order[0] : -1;
    for (int k = 0; k < t->nkeys; k++) {
        if (!vary[k]) continue;
        cats c;
        if (cats_of(t, t->key_col[k], &c) != 0) break;
        for (int r = 0; r < n; r++) x[r] = cat_index(&c, rp_csv_at(&t->csv, r + 1, t->key_col[k]));
        char(*lbuf)[32] = malloc(sizeof *lbuf * (size_t)(c.n ? c.n : 1));
        const char **lab = malloc(sizeof *lab * (size_t)(c.n ? c.n : 1));
        if (!lbuf || !lab) {
            free(lbuf), free(lab), free(c.v);
            break;
        }
        cat_labels(&c, lbuf, lab);
        fputs("<div class=\"rh\">", o);
        html_esc(o, t->key_name[k]);
        fprintf(o, "<span>%d values</span></div>\n", c.n);
        for (int m = 0; m < t->nmet; m++) {
            for (int r = 0; r < n; r++) y[r] = cell_num(t, r, t->met_col[m]);
            strip_spec s = {.width = width, .height = 150, .ncat = c.n, .cat = lab, .x = x, .y = y,
                            .id = t->trial, .id_label = "trial", .n = n, .highlight = best,
                            .color = RP_COL_POINT, .highlight_color = RP_COL_BEST};
            fputs("<div class=\"cell\">", o);
            chart_strip(o, &s);
            fputs("</div>\n", o);
        }
        free(lbuf), free(lab), free(c.v);
    }
    free(x);
    fputs("</div>\n", o);
}

static void fixed_keys(FILE *o, const tune_rep *t, const char *vary)
{
    int nf = 0;
    for (int k = 0; k < t->nkeys; k++) nf += !vary[k];
    if (!nf) return;
    fputs("<h3>Keys with one value in every trial</h3>\n<p>", o);
    int i = 0;
    for (int k = 0; k < t->nkeys; k++) {
        if (vary[k]) continue;
        fputs(i++ ? ", " : "", o);
        fputs("<code>", o);
        html_esc(o, t->key_name[k]);
        fputs("</code> = ", o);
        html_esc(o, rp_csv_at(&t->csv, 1, t->key_col[k]));
    }
    fputs("</p>\n", o);
}

static void best_config(FILE *o, const tune_rep *t)
{
    fputs("<h2 id=\"best-config\">best_config.json</h2>\n", o);
    if (!cJSON_IsObject(t->best_cfg)) {
        fprintf(o, "<p class=\"note\">%s</p>\n",
                t->best_cfg_absent ? "best_config.json is not written yet."
                                   : "best_config.json is not a JSON object.");
        return;
    }
    fputs("<p class=\"muted\">The config <code>train --config</code> takes to train the best trial again; its "
          "tuned keys (a key the config does not hold shows a dash):</p>\n<div class=\"tw\"><table>\n<tr>", o);
    for (int c = 0; c < 3; c++) fputs("<th class=\"l\">key</th><th class=\"l\">value</th>", o);
    fputs("</tr>\n", o);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(t->tune, "keys"), *k;
    int i = 0;
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k)) continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->best_cfg, k->valuestring);
        fputs(i % 3 == 0 ? "<tr><td class=\"l\"><code>" : "<td class=\"l\"><code>", o);
        html_esc(o, k->valuestring);
        fputs("</code></td><td class=\"l\">", o);
        if (cJSON_IsString(v)) html_esc(o, v->valuestring);
        else if (v) {
            char *str = cJSON_PrintUnformatted(v);
            html_esc(o, str ? str : "");
            free(str);
        } else {
            fputs("\xE2\x80\x93", o);
        }
        fputs(i % 3 == 2 ? "</td></tr>\n" : "</td>", o);
        i++;
    }
    if (i % 3) fputs("</tr>\n", o);
    fputs("</table></div>\n", o);
}

int rp_render_tune(FILE *o, const char *dir, rp_err *e)
{
    tune_rep t;
    if (tune_load(&t, dir, e) != 0) {
        tune_free(&t);
        return -1;
    }
    rp_page_begin(o, "Self-MM hyper-parameter search", dir);
    summary(o, &t);
    if (!t.have_csv || t.csv.rows == 0) {
        fputs("<p class=\"note\">No trial has finished yet (results.csv is absent or empty).</p>\n", o);
    } else {
        char *vary = calloc((size_t)t.nkeys + 1, 1);
        if (!vary) {
            tune_free(&t);
            return rp_fail(e, "out of memory");
        }
        for (int k = 0; k < t.nkeys; k++) vary[k] = (char)varying(&t, k);
        best_table(o, &t, vary);
        matrix(o, &t, vary);
        fixed_keys(o, &t, vary);
        free(vary);
    }
    best_config(o, &t);
    rp_page_end(o);
    tune_free(&t);
    return 0;
}
