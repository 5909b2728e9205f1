/* report_common.c -- report_write (report.h) and the helpers of report_int.h. */
#include "report.h"
#include "report_int.h"

#include "core/atomic_file.h"
#include "core/json.h"
#include "core/file.h"

#include "html.h"
#include "selfmm.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rp_fail(rp_err *e, const char *fmt, ...)
{
    if (e && !e->set && e->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, e->cap, fmt, ap);
        va_end(ap);
        e->set = 1;
    }
    return -1;
}

const char *rp_metric_color(int i)
{
    static const char *const pal[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                      "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#393b79",
                                      "#ad494a", "#637939", "#843c39", "#7b4173", "#3182bd", "#e6550d"};
    return pal[(unsigned)i % (sizeof pal / sizeof pal[0])];
}

int rp_lower_is_better(const char *name)
{
    return name && (strstr(name, "Loss") || strstr(name, "loss") || strstr(name, "MAE"));
}

/* The report's inputs are small JSON and CSV files; this bounds a wrong path. */
#define RP_MAX_FILE ((size_t)1 << 30)

cJSON *rp_load_json(const char *path, int *absent)
{
    if (absent) *absent = !sm_exists(path);
    char *text = NULL;
    size_t len = 0;
    if (sm_read_file(path, RP_MAX_FILE, &text, &len, NULL) != SELFMM_OK) return NULL;
    cJSON *root = NULL; /* one JSON rule everywhere: a repeated key takes its last value */
    if (sm_json_parse_n(text, len, path, &root, NULL) != SELFMM_OK) root = NULL;
    free(text);
    return root;
}

double rp_num(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int rp_scan_jsonl(const char *path, void (*fn)(const cJSON *line, void *user), void *user)
{
    int fd; /* a FIFO or device in place of a log must not block the report */
    if (sm_open_input(path, &fd, NULL, NULL) != SELFMM_OK) return 0;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, fp)) > 0) {
        /* our own batch/step lines start so; anything else is parsed and judged */
        if (!strncmp(line, "{\"type\":\"batch\"", 15) || !strncmp(line, "{\"type\":\"step\"", 14)) continue;
        cJSON *o = NULL;
        if (sm_json_parse_n(line, (size_t)n, path, &o, NULL) != SELFMM_OK) o = NULL;
        if (cJSON_IsObject(o)) fn(o, user);
        cJSON_Delete(o);
    }
    free(line);
    fclose(fp);
    return 1;
}

/* ---- CSV ----------------------------------------------------------------------- */

int rp_csv_load(const char *path, rp_csv *csv, rp_err *e)
{
    memset(csv, 0, sizeof *csv);
    size_t len = 0;
    char *text = NULL;
    if (sm_read_file(path, RP_MAX_FILE, &text, &len, NULL) != SELFMM_OK)
        return rp_fail(e, "%s: %s", path, sm_exists(path) ? "unreadable" : "missing");
    /* fields are unquoted in place into store; cells point into it */
    csv->store = malloc(len + 1);
    size_t ncell = 0, capcell = 64;
    char **cells = malloc(capcell * sizeof *cells);
    int *rowlen = NULL;
    int nrows = 0, caprows = 0;
    if (!csv->store || !cells) {
        free(text), free(cells);
        return rp_fail(e, "out of memory");
    }
    char *w = csv->store;
    size_t i = 0;
    int fields_in_row = 0;
    while (i < len) {
        /* one field */
        char *start = w;
        if (text[i] == '"') {
            i++;
            while (i < len) {
                if (text[i] == '"') {
                    if (i + 1 < len && text[i + 1] == '"') *w++ = '"', i += 2;
                    else {
                        i++;
                        break;
                    }
                } else {
                    *w++ = text[i++];
                }
            }
        }
        while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') *w++ = text[i++];
        *w++ = '\0';
        if (ncell == capcell) {
            capcell *= 2;
            char **g = realloc(cells, capcell * sizeof *cells);
            if (!g) {
                free(text), free(cells), free(rowlen);
                return rp_fail(e, "out of memory");
            }
            cells = g;
        }
        cells[ncell++] = start;
        fields_in_row++;
        int end_row = i >= len || text[i] != ',';
        if (i < len && text[i] == ',') i++;
        if (end_row) {
            if (i < len && text[i] == '\r') i++;
            if (i < len && text[i] == '\n') i++;
            if (nrows == caprows) {
                caprows = caprows ? caprows * 2 : 32;
                int *g = realloc(rowlen, (size_t)caprows * sizeof *g);
                if (!g) {
                    free(text), free(cells), free(rowlen);
                    return rp_fail(e, "out of memory");
                }
                rowlen = g;
            }
            rowlen[nrows++] = fields_in_row;
            fields_in_row = 0;
        }
    }
    free(text);
    /* drop blank lines (a single empty field) */
    int cols = nrows ? rowlen[0] : 0;
    csv->cols = cols;
    csv->cell = calloc((size_t)(nrows ? nrows : 1) * (size_t)(cols ? cols : 1), sizeof *csv->cell);
    if (!csv->cell) {
        free(cells), free(rowlen);
        return rp_fail(e, "out of memory");
    }
    size_t at = 0;
    int r = 0;
    for (int k = 0; k < nrows; k++) {
        int n = rowlen[k];
        if (!(n == 1 && cells[at][0] == '\0')) {
            for (int c = 0; c < cols; c++) csv->cell[(size_t)r * cols + c] = c < n ? cells[at + c] : "";
            r++;
        }
        at += (size_t)n;
    }
    free(cells), free(rowlen);
    csv->rows = r > 0 ? r - 1 : 0;
    if (cols == 0 || r == 0) return rp_fail(e, "%s: no header row", path);
    return 0;
}

void rp_csv_free(rp_csv *csv)
{
    free(csv->cell), free(csv->store);
    memset(csv, 0, sizeof *csv);
}

const char *rp_csv_at(const rp_csv *csv, int row, int col)
{
    if (row < 0 || row > csv->rows || col < 0 || col >= csv->cols) return "";
    return csv->cell[(size_t)row * csv->cols + col];
}

/* ---- page ---------------------------------------------------------------------- */

static const char page_css[] =
    ":root{color-scheme:light}\n"
    "body{margin:0;background:#f3f4f6;color:#1d232b;"
    "font:14px/1.45 \"DejaVu Sans\",\"Liberation Sans\",Arial,Helvetica,sans-serif}\n"
    "main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}\n"
    "h1{font-size:24px;margin:0 0 2px}\n"
    "h2{font-size:18px;margin:30px 0 10px;padding-bottom:4px;border-bottom:2px solid #d5d9df}\n"
    "h3{font-size:15px;margin:18px 0 8px}\n"
    "p{margin:6px 0}\n"
    ".sub{color:#5b6573;margin:0 0 14px;overflow-wrap:anywhere}\n"
    ".card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;margin:10px 0}\n"
    ".grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}\n"
    ".grid>div,.cell{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:4px}\n"
    ".chart{display:block;width:100%;height:auto}\n"
    ".grid>div.nc{padding:4px 12px}\n"
    "text{fill:#1d232b}\n"
    ".ct{font-size:14px;font-weight:bold}\n"
    ".lg{font-size:12px}\n"
    ".tk{fill:#4a5360}\n"
    ".al{font-weight:bold;fill:#39424e}\n"
    ".pa{fill:#fff}\n"
    ".gr{stroke:#e4e7eb;stroke-width:1}\n"
    ".gv{stroke:#f0f2f4}\n"
    ".ax{stroke:#69727e;stroke-width:1}\n"
    ".ln{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}\n"
    ".dt{stroke:none}\n"
    ".bp{fill:none;stroke-width:1.6}\n"
    ".bm{stroke:#111;stroke-width:1.3;stroke-dasharray:4 3}\n"
    ".bl{font-size:11px;font-weight:bold;fill:#111;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}\n"
    ".nd{font-size:13px;fill:#7a828c;font-style:italic}\n"
    ".sp{fill-opacity:.6}\n"
    ".hp{stroke:#fff;stroke-width:1}\n"
    ".mb{stroke:#1d232b;stroke-width:2}\n"
    ".tw{overflow-x:auto;margin:8px 0}\n"
    "table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums;"
    "border:1px solid #dde1e6}\n"
    "th,td{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}\n"
    "th{background:#eceff3;font-weight:bold}\n"
    "th.l,td.l{text-align:left}\n"
    ".bt td.b,.bt th.b{background:#fdf1f2;font-weight:bold}\n"
    ".bt tr.grp td{background:#f6f7f9;color:#5b6573;font-style:italic;text-align:left}\n"
    ".note{background:#fff8e5;border:1px solid #efd894;border-radius:6px;padding:8px 12px;margin:10px 0;"
    "color:#4d3f12}\n"
    ".muted{color:#6b7480}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:0}\n"
    "dl.facts dt{color:#5b6573}\n"
    "dl.facts dd{margin:0;overflow-wrap:anywhere}\n"
    "code{font-family:\"DejaVu Sans Mono\",monospace;font-size:13px}\n"
    "details>summary{cursor:pointer;color:#2b6cb0}\n"
    ".mx{display:grid;gap:6px;align-items:stretch}\n"
    ".mh{font-weight:bold;text-align:center;align-self:end;padding:2px;overflow-wrap:anywhere}\n"
    ".rh{font-weight:bold;align-self:center;overflow-wrap:anywhere;font-size:13px}\n"
    ".rh span{display:block;font-weight:normal;color:#6b7480;font-size:12px}\n"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:4px}\n"
    "footer{margin-top:36px;color:#7a828c;font-size:12px}\n"
    "@media (max-width:800px){.grid{grid-template-columns:minmax(0,1fr)}}\n";

void rp_page_begin(FILE *o, const char *heading, const char *dir)
{
    char title[SELFMM_PATH_MAX + 64];
    snprintf(title, sizeof title, "%s: %s", heading, dir);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
          "<meta name=\"generator\" content=\"selfmm-cli ", o);
    fputs(selfmm_version_string(), o);
    fputs("\"/>\n<title>", o);
    html_esc(o, title);
    fputs("</title>\n<style>\n", o);
    fputs(page_css, o);
    fputs("</style>\n</head>\n<body>\n<main>\n", o);
    fputs("<h1>", o);
    html_esc(o, heading);
    fputs("</h1>\n<p class=\"sub\">", o);
    char *abs = realpath(dir, NULL);
    html_esc(o, abs ? abs : dir);
    free(abs);
    fputs("</p>\n", o);
}

void rp_page_end(FILE *o)
{
    fprintf(o, "<footer>Written by selfmm-cli %s (libselfmm). One file: no scripts, no network.</footer>\n",
            selfmm_version_string());
    fputs("</main>\n</body>\n</html>\n", o);
}

/* ---- writing ------------------------------------------------------------------- */

int report_write(const char *dir, const char *out, char *msg, size_t cap)
{
    rp_err e = {msg, cap, 0};
    if (msg && cap) msg[0] = '\0';
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return rp_fail(&e, "%s: %s", dir, errno == ENOENT ? "no such directory" : "not a directory");
    char tune_json[SELFMM_PATH_MAX + 32], run_json[SELFMM_PATH_MAX + 32], dflt[SELFMM_PATH_MAX + 32];
    if (sm_path_join(tune_json, sizeof tune_json, dir, "tune.json", NULL) != SELFMM_OK ||
        sm_path_join(run_json, sizeof run_json, dir, "run.json", NULL) != SELFMM_OK ||
        sm_path_join(dflt, sizeof dflt, dir, "report.html", NULL) != SELFMM_OK)
        return rp_fail(&e, "%s: path too long", dir);
    int is_tune = sm_exists(tune_json);
    if (!is_tune && !sm_exists(run_json))
        return rp_fail(&e, "%s: neither run.json (a `train --out` folder) nor tune.json (a tune folder)", dir);
    char *html = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&html, &len);
    if (!o) return rp_fail(&e, "out of memory");
    int rc = is_tune ? rp_render_tune(o, dir, &e) : rp_render_run(o, dir, &e);
    if (fclose(o) != 0 && rc == 0) rc = rp_fail(&e, "out of memory");
    selfmm_error werr = {0};
    if (rc == 0 && sm_atomic_write(out ? out : dflt, html, len, &werr) != SELFMM_OK)
        rc = rp_fail(&e, "%s", werr.message);
    free(html);
    return rc;
}
