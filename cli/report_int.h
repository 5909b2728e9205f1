/* report_int.h -- what the report's pieces share: reading the folder's files, the
 * page frame and its CSS, the colours. report_run.c renders a train folder,
 * report_tune.c a tune folder, report_common.c the rest. */
#ifndef SELFMM_CLI_REPORT_INT_H
#define SELFMM_CLI_REPORT_INT_H

#include <cJSON.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* An error message being built: the first failure wins. */
typedef struct rp_err {
    char *msg;
    size_t cap;
    int set;
} rp_err;
/* Record a failure (printf-style); returns -1. */
int rp_fail(rp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Colours: one per modality and one per split, the same in every chart. */
#define RP_COL_M "#3b3b3b"
#define RP_COL_T "#0072b2"
#define RP_COL_A "#e69f00"
#define RP_COL_V "#009e73"
#define RP_COL_TRAIN "#8e63b5"
#define RP_COL_VALID "#d1495b"
#define RP_COL_POINT "#2b6cb0"
#define RP_COL_BEST "#d1495b"
/* The i-th metric colour (validation metrics; by position in the run's list). */
const char *rp_metric_color(int i);
/* 1 for metrics where lower is better (Loss, MAE). */
int rp_lower_is_better(const char *name);

/* Parsed JSON file; NULL when absent or not JSON (*absent tells which; may be NULL).
 * (Files, paths and existence otherwise come from lib/core's file.h.) */
cJSON *rp_load_json(const char *path, int *absent);
/* A number member; NaN when absent, null or not a number. */
double rp_num(const cJSON *obj, const char *key);

/* Call fn on each line of a JSON-lines file that is not a "batch" or "step" log line
 * (those are skipped unparsed: they are most of a training log). 1 read, 0 absent. */
int rp_scan_jsonl(const char *path, void (*fn)(const cJSON *line, void *user), void *user);

/* The page frame: doctype, head with the CSS (title "heading: dir"), body and main,
 * then the page's heading and the folder's absolute path; the end closes them. */
void rp_page_begin(FILE *o, const char *heading, const char *dir);
void rp_page_end(FILE *o);

/* The page bodies (between rp_page_begin and rp_page_end, which they call). */
int rp_render_run(FILE *o, const char *dir, rp_err *e);
int rp_render_tune(FILE *o, const char *dir, rp_err *e);

/* A CSV file (RFC 4180: quoted fields, "" inside quotes, \n or \r\n). */
typedef struct rp_csv {
    int rows, cols;  /* rows after the header */
    char **cell;     /* (rows + 1) x cols, row 0 the header; missing cells are "" */
    char *store;
} rp_csv;
int rp_csv_load(const char *path, rp_csv *csv, rp_err *e);
void rp_csv_free(rp_csv *csv);
const char *rp_csv_at(const rp_csv *csv, int row, int col); /* row 0 = header */

#endif
