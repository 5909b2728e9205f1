/* svg_chart.h -- charts written as inline SVG text: a line chart (series against a
 * numeric x such as the epoch), a strip chart (values by category, e.g. a metric by
 * the value of a tuned key), and a stand-alone legend. Axes get "nice" ticks (1, 2,
 * 5 x 10^k), tick labels, axis labels; every text from the caller is escaped.
 * Styling that does not depend on the data (fonts, grid and axis strokes) comes from
 * the page's CSS classes (see report_page_css in report_common.c). */
#ifndef SELFMM_CLI_SVG_CHART_H
#define SELFMM_CLI_SVG_CHART_H

#include <stdio.h>

typedef struct chart_series {
    const char *name;     /* legend text */
    const char *color;    /* a CSS colour (from our palette, never from a file) */
    const double *x, *y;  /* n points; a non-finite y leaves a gap in the line */
    int n;
    int dashed;
} chart_series;

typedef struct chart_spec {
    const char *title, *xlabel, *ylabel;
    int width, height;       /* px; the SVG scales down with the page */
    int x_integer;           /* x ticks at whole numbers only (epochs) */
    double mark_x;           /* a vertical marker (the best epoch); NaN: none */
    const char *mark_label;  /* its text, e.g. "best epoch 9" */
    const char *empty_note;  /* shown when no series has a finite point */
} chart_spec;

/* Line chart of ns series; points are drawn as dots up to 60 points per series. */
void chart_line(FILE *out, const chart_spec *c, const chart_series *s, int ns);

typedef struct strip_spec {
    const char *title;        /* NULL: none (cells of a chart matrix) */
    const char *xlabel, *ylabel;
    int width, height;
    int ncat;                 /* > 0: categorical x with labels cat[0..ncat) */
    const char *const *cat;
    const double *x;          /* per point: category index (ncat > 0) or a value */
    const double *y;          /* per point; non-finite points are left out */
    const int *id;            /* per point: a number for the tooltip ("trial 7") and jitter */
    const char *id_label;     /* "trial" */
    int n;
    int highlight;            /* the index of the point to highlight, -1: none */
    const char *color, *highlight_color;
} strip_spec;

/* Strip chart: the points of each category spread sideways (deterministic jitter),
 * a short bar at each category's mean, the highlighted point as a larger diamond. */
void chart_strip(FILE *out, const strip_spec *s);

typedef enum { LEGEND_LINE, LEGEND_DASHED, LEGEND_DOT, LEGEND_DIAMOND, LEGEND_BAR } legend_kind;
typedef struct legend_item {
    const char *name, *color;
    legend_kind kind;
} legend_item;

/* A legend on its own (for a matrix of charts that share it), width px wide. */
void chart_legend(FILE *out, const legend_item *items, int n, int width);

#endif
