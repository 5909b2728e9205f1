/* svg_chart.c -- see svg_chart.h. Layout is computed here in px (an estimate of
 * text widths included); the browser only scales the finished picture. */
#include "svg_chart.h"

#include "html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- axes ---------------------------------------------------------------------- */

typedef struct axis {
    double lo, hi;   /* the domain mapped onto the plot */
    double t0, step; /* ticks t0, t0 + step, ... <= hi */
    int nt;
    int dec;         /* decimals of the tick labels */
} axis;

/* Heckbert's "nice numbers" (Graphics Gems, 1990): 1, 2, 5 x 10^k. */
static double nice_num(double x, int round_it)
{
    double e = floor(log10(x)), f = x / pow(10.0, e), nf;
    if (round_it) nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10.0, e);
}

/* An axis over [mn, mx] with about `target` ticks. tight: the domain is the data's
 * (x axes: epochs start at 1); otherwise it widens to whole ticks (y axes). */
static void axis_make(axis *a, double mn, double mx, int target, int integer, int tight)
{
    if (!isfinite(mn) || !isfinite(mx)) mn = 0, mx = 1;
    if (mn == mx) {
        double pad = integer ? 1 : (mn != 0 ? fabs(mn) * 0.05 : 0.5);
        if (integer && tight) pad = 0.5;
        mn -= pad, mx += pad;
    }
    if (target < 2) target = 2;
    double range = nice_num(mx - mn, 0);
    double step = nice_num(range / (target - 1), 1);
    if (integer && step < 1) step = 1;
    a->step = step;
    if (tight) {
        a->lo = mn, a->hi = mx;
    } else {
        a->lo = floor(mn / step + 1e-9) * step;
        a->hi = ceil(mx / step - 1e-9) * step;
        if (a->hi <= a->lo) a->hi = a->lo + step;
    }
    a->t0 = ceil(a->lo / step - 1e-9) * step;
    a->nt = (int)floor((a->hi - a->t0) / step + 1e-9) + 1;
    if (a->nt < 0) a->nt = 0;
    int dec = (int)-floor(log10(step) + 1e-9);
    a->dec = dec < 0 ? 0 : dec;
}

static double tick(const axis *a, int i)
{
    double t = a->t0 + i * a->step;
    return fabs(t) < a->step * 1e-9 ? 0.0 : t;
}

/* ---- text ---------------------------------------------------------------------- */

/* Characters (not bytes) of a UTF-8 string. */
static size_t nchars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Width of a text in px at a font size, for DejaVu/Liberation Sans (~0.6 em). */
static double text_w(const char *s, double px) { return (double)nchars(s) * px * 0.6; }

static void text(FILE *o, double x, double y, const char *cls, const char *anchor, const char *s)
{
    fprintf(o, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\"", cls, x, y);
    if (anchor) fprintf(o, " text-anchor=\"%s\"", anchor);
    fputc('>', o);
    html_esc(o, s);
    fputs("</text>\n", o);
}

static void svg_open(FILE *o, int w, int h, const char *title)
{
    fprintf(o, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\"", w,
            h, w, h);
    if (title) {
        fputs(" aria-label=\"", o);
        html_esc(o, title);
        fputs("\"><title>", o);
        html_esc(o, title);
        fputs("</title>\n", o);
    } else {
        fputs(">\n", o);
    }
}

/* ---- legend -------------------------------------------------------------------- */

static void legend_swatch(FILE *o, double x, double y, const legend_item *it)
{
    switch (it->kind) {
    case LEGEND_LINE:
    case LEGEND_DASHED:
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.2\"%s/>\n",
                x, y, x + 20, y, it->color, it->kind == LEGEND_DASHED ? " stroke-dasharray=\"5 3\"" : "");
        break;
    case LEGEND_DOT:
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" fill-opacity=\"0.75\"/>\n", x + 10, y,
                it->color);
        break;
    case LEGEND_DIAMOND:
        fprintf(o, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"1\"/>\n",
                x + 10, y - 5, it->color);
        break;
    case LEGEND_BAR:
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/>\n",
                x + 3, y, x + 17, y, it->color);
        break;
    }
}

/* Lay out legend items in rows from (x0, y0) within width; returns the rows used.
 * draw = 0 only measures. */
static int legend_rows(FILE *o, const legend_item *it, int n, double x0, double y0, double width, int draw)
{
    double x = x0, y = y0;
    int rows = n > 0;
    for (int i = 0; i < n; i++) {
        double w = 26 + text_w(it[i].name, 12) + 16;
        if (x > x0 && x + w > x0 + width) x = x0, y += 18, rows++;
        if (draw) {
            legend_swatch(o, x, y, &it[i]);
            text(o, x + 26, y + 4, "lg", NULL, it[i].name);
        }
        x += w;
    }
    return rows;
}

void chart_legend(FILE *o, const legend_item *items, int n, int width)
{
    int rows = legend_rows(NULL, items, n, 8, 14, width - 16, 0);
    int h = rows * 18 + 10;
    svg_open(o, width, h, "legend");
    legend_rows(o, items, n, 8, 14, width - 16, 1);
    fputs("</svg>\n", o);
}

/* ---- frames -------------------------------------------------------------------- */

typedef struct frame {
    double l, t, r, b; /* plot area edges in px */
    int label_rows;    /* rows of x tick labels (staggered categories: 2) */
    axis x, y;
} frame;

static double fx(const frame *f, double v) { return f->l + (v - f->x.lo) / (f->x.hi - f->x.lo) * (f->r - f->l); }
static double fy(const frame *f, double v) { return f->b - (v - f->y.lo) / (f->y.hi - f->y.lo) * (f->b - f->t); }

/* Width of the y tick labels. */
static double ytick_w(const axis *a, double px)
{
    double w = 0;
    char buf[48];
    for (int i = 0; i < a->nt; i++) {
        double tw = text_w(html_num(buf, tick(a, i), a->dec), px);
        if (tw > w) w = tw;
    }
    return w;
}

/* Category labels: on one row, else staggered on two, else every `every`-th. */
static void cat_layout(const char *const *cat, int ncat, double slot, double fs, int *rows, int *every)
{
    double widest = 0;
    for (int c = 0; c < ncat; c++)
        if (text_w(cat[c], fs) > widest) widest = text_w(cat[c], fs);
    *rows = 1, *every = 1;
    if (widest + 4 <= slot) return;
    *rows = 2;
    while (*every < ncat && widest + 4 > 2 * slot * *every) (*every)++;
}

/* Grid, axes, tick labels and axis labels of a frame. xcat: category labels
 * instead of numeric x ticks. */
static void draw_frame(FILE *o, const frame *f, const char *xlabel, const char *ylabel, int ncat,
                       const char *const *cat, double fs)
{
    char buf[48];
    fprintf(o, "<rect class=\"pa\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", f->l, f->t,
            f->r - f->l, f->b - f->t);
    for (int i = 0; i < f->y.nt; i++) {
        double y = fy(f, tick(&f->y, i));
        fprintf(o, "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->l, y, f->r, y);
        fprintf(o, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->l - 4, y, f->l, y);
        fprintf(o, "<text class=\"tk\" style=\"font-size:%.0fpx\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                fs, f->l - 6, y + fs * 0.35, html_num(buf, tick(&f->y, i), f->y.dec));
    }
    if (ncat > 0) {
        int rows, every;
        cat_layout(cat, ncat, (f->r - f->l) / ncat, fs, &rows, &every);
        double slot = (f->r - f->l) / ncat;
        for (int c = 0; c < ncat; c++) {
            double x = f->l + slot * (c + 0.5);
            fprintf(o, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, f->b, x, f->b + 4);
            if (c % every == 0) {
                fprintf(o, "<text class=\"tk\" style=\"font-size:%.0fpx\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", fs,
                        x, f->b + 6 + fs + (rows > 1 && (c / every) % 2 ? fs + 2 : 0));
                html_esc(o, cat[c]);
                fputs("</text>\n", o);
            }
        }
    } else {
        for (int i = 0; i < f->x.nt; i++) {
            double x = fx(f, tick(&f->x, i));
            fprintf(o, "<line class=\"gr gv\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, f->t, x, f->b);
            fprintf(o, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, f->b, x, f->b + 4);
            fprintf(o, "<text class=\"tk\" style=\"font-size:%.0fpx\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    fs, x, f->b + 6 + fs, html_num(buf, tick(&f->x, i), f->x.dec));
        }
    }
    fprintf(o, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->l, f->b, f->r, f->b);
    fprintf(o, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->l, f->t, f->l, f->b);
    if (xlabel) {
        fprintf(o, "<text class=\"al\" style=\"font-size:%.0fpx\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", fs + 1,
                (f->l + f->r) / 2, f->b + 10 + 2 * fs + 3 + (f->label_rows > 1 ? fs + 2 : 0));
        html_esc(o, xlabel);
        fputs("</text>\n", o);
    }
    if (ylabel) {
        double x = f->l - 10 - ytick_w(&f->y, fs) - 4, y = (f->t + f->b) / 2;
        fprintf(o, "<text class=\"al\" style=\"font-size:%.0fpx\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                   "transform=\"rotate(-90 %.1f %.1f)\">", fs + 1, x, y, x, y);
        html_esc(o, ylabel);
        fputs("</text>\n", o);
    }
}

static void note_in_plot(FILE *o, const frame *f, const char *note)
{
    text(o, (f->l + f->r) / 2, (f->t + f->b) / 2, "nd", "middle", note);
}

/* ---- line chart ---------------------------------------------------------------- */

void chart_line(FILE *o, const chart_spec *c, const chart_series *s, int ns)
{
    const int W = c->width, H = c->height;
    double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
    int maxn = 0, any = 0;
    for (int k = 0; k < ns; k++) {
        if (s[k].n > maxn) maxn = s[k].n;
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i])) continue;
            if (s[k].x[i] < xmn) xmn = s[k].x[i];
            if (s[k].x[i] > xmx) xmx = s[k].x[i];
            if (!isfinite(s[k].y[i])) continue;
            any = 1;
            if (s[k].y[i] < ymn) ymn = s[k].y[i];
            if (s[k].y[i] > ymx) ymx = s[k].y[i];
        }
    }
    if (isfinite(c->mark_x)) {
        if (c->mark_x < xmn) xmn = c->mark_x;
        if (c->mark_x > xmx) xmx = c->mark_x;
    }
    legend_item items[32];
    int ni = 0;
    for (int k = 0; k < ns && ni < 32; k++)
        items[ni++] = (legend_item){s[k].name, s[k].color, s[k].dashed ? LEGEND_DASHED : LEGEND_LINE};
    frame f;
    f.t = 0;
    int rows = legend_rows(NULL, items, ni, 0, 0, W - 24, 0);
    double top = (c->title ? 30 : 8) + rows * 18 + 8;
    if (isfinite(c->mark_x) && c->mark_label) top += 12; /* the marker's label sits above the plot */
    axis_make(&f.y, ymn, ymx, (int)((H - top - 48) / 40) + 1, 0, 0);
    double left = 14 + (c->ylabel ? 16 : 0) + ytick_w(&f.y, 11) + 8;
    axis_make(&f.x, xmn, xmx, (int)((W - left - 20) / 70) + 1, c->x_integer, 1);
    if (c->x_integer && isfinite(xmn) && f.x.lo == xmn && f.x.hi == xmx && xmx > xmn) {
        /* half a step of room at both ends, so the first and last dots stay inside */
        double pad = (xmx - xmn) / 40 < 0.5 ? (xmx - xmn) / 40 : 0.5;
        f.x.lo -= pad, f.x.hi += pad;
    }
    f.l = left, f.r = W - 20, f.t = top, f.b = H - 46, f.label_rows = 1;

    svg_open(o, W, H, c->title);
    if (c->title) text(o, 12, 20, "ct", NULL, c->title);
    legend_rows(o, items, ni, 14, (c->title ? 30 : 8) + 8, W - 24, 1);
    draw_frame(o, &f, c->xlabel, c->ylabel, 0, NULL, 11);
    if (!any) {
        note_in_plot(o, &f, c->empty_note ? c->empty_note : "no data");
        fputs("</svg>\n", o);
        return;
    }
    if (isfinite(c->mark_x)) {
        double x = fx(&f, c->mark_x);
        fprintf(o, "<line class=\"bm\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, f.t, x, f.b);
        if (c->mark_label) {
            /* centred over the line, kept inside the picture */
            double half = text_w(c->mark_label, 11) / 2, tx = x;
            if (tx + half > W - 4) tx = W - 4 - half;
            if (tx - half < f.l) tx = f.l + half;
            text(o, tx, f.t - 5, "bl", "middle", c->mark_label);
        }
    }
    const int dots = maxn <= 60;
    for (int k = 0; k < ns; k++) {
        const chart_series *q = &s[k];
        fprintf(o, "<g stroke=\"%s\" fill=\"%s\">\n", q->color, q->color);
        int i = 0;
        while (i < q->n) {
            while (i < q->n && !(isfinite(q->y[i]) && isfinite(q->x[i]))) i++;
            int j = i;
            while (j < q->n && isfinite(q->y[j]) && isfinite(q->x[j])) j++;
            if (j - i >= 2) {
                fprintf(o, "<polyline class=\"ln\"%s points=\"", q->dashed ? " stroke-dasharray=\"6 3\"" : "");
                for (int p = i; p < j; p++) fprintf(o, "%s%.1f,%.1f", p > i ? " " : "", fx(&f, q->x[p]), fy(&f, q->y[p]));
                fputs("\"/>\n", o);
            }
            for (int p = i; p < j; p++) {
                if (dots || j - i == 1)
                    fprintf(o, "<circle class=\"dt\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\"/>\n", fx(&f, q->x[p]),
                            fy(&f, q->y[p]));
                if (isfinite(c->mark_x) && q->x[p] == c->mark_x)
                    fprintf(o, "<circle class=\"bp\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/>\n", fx(&f, q->x[p]),
                            fy(&f, q->y[p]));
            }
            i = j;
        }
        fputs("</g>\n", o);
    }
    fputs("</svg>\n", o);
}

/* ---- strip chart --------------------------------------------------------------- */

/* A fixed spread in [-1, 1] from a point's id: the same picture every time. */
static double jitter(int id)
{
    unsigned h = (unsigned)id * 2654435761u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return ((h & 0xFFFF) / 65535.0) * 2 - 1;
}

void chart_strip(FILE *o, const strip_spec *s)
{
    const int W = s->width, H = s->height;
    const double fs = 10;
    double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
    int any = 0;
    for (int i = 0; i < s->n; i++) {
        if (!isfinite(s->y[i]) || !isfinite(s->x[i])) continue;
        any = 1;
        if (s->y[i] < ymn) ymn = s->y[i];
        if (s->y[i] > ymx) ymx = s->y[i];
        if (s->x[i] < xmn) xmn = s->x[i];
        if (s->x[i] > xmx) xmx = s->x[i];
    }
    frame f;
    double top = s->title ? 28 : 8;
    axis_make(&f.y, ymn, ymx, (int)((H - top - 40) / 28) + 1, 0, 0);
    double left = 8 + (s->ylabel ? 14 : 0) + ytick_w(&f.y, fs) + 8;
    if (s->ncat > 0) {
        f.x.lo = 0, f.x.hi = s->ncat, f.x.nt = 0;
    } else {
        axis_make(&f.x, xmn, xmx, (int)((W - left - 12) / 60) + 1, 0, 0);
    }
    f.l = left, f.r = W - 10, f.t = top, f.label_rows = 1;
    if (s->ncat > 0) {
        int every;
        cat_layout(s->cat, s->ncat, (f.r - f.l) / s->ncat, fs, &f.label_rows, &every);
    }
    f.b = H - (s->xlabel ? 36 : 22) - (f.label_rows > 1 ? fs + 2 : 0);

    svg_open(o, W, H, s->title);
    if (s->title) text(o, 10, 18, "ct", NULL, s->title);
    draw_frame(o, &f, s->xlabel, s->ylabel, s->ncat, s->cat, fs);
    if (!any) {
        note_in_plot(o, &f, "no data");
        fputs("</svg>\n", o);
        return;
    }
    char buf[48];
    double slot = s->ncat > 0 ? (f.r - f.l) / s->ncat : 0;
    /* category means */
    for (int c = 0; c < s->ncat; c++) {
        double sum = 0;
        int cnt = 0;
        for (int i = 0; i < s->n; i++)
            if (isfinite(s->y[i]) && s->x[i] == c) sum += s->y[i], cnt++;
        if (!cnt) continue;
        double x = f.l + slot * (c + 0.5), y = fy(&f, sum / cnt);
        fprintf(o, "<line class=\"mb\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x - slot * 0.36, y,
                x + slot * 0.36, y);
    }
    fprintf(o, "<g fill=\"%s\">\n", s->color);
    for (int pass = 0; pass < 2; pass++) { /* the highlighted point last, on top */
        for (int i = 0; i < s->n; i++) {
            if (!isfinite(s->y[i]) || !isfinite(s->x[i]) || (i == s->highlight) != pass) continue;
            double x = s->ncat > 0 ? f.l + slot * (s->x[i] + 0.5) + jitter(s->id ? s->id[i] : i) * slot * 0.22
                                   : fx(&f, s->x[i]);
            double y = fy(&f, s->y[i]);
            if (pass)
                fprintf(o, "<path class=\"hp\" d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\" fill=\"%s\">", x, y - 6,
                        s->highlight_color);
            else
                fprintf(o, "<circle class=\"sp\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\">", x, y);
            fputs("<title>", o);
            if (s->id) {
                html_esc(o, s->id_label ? s->id_label : "");
                fprintf(o, " %d: ", s->id[i]);
            }
            if (s->ncat > 0) html_esc(o, s->cat[(int)s->x[i]]);
            else fputs(html_num(buf, s->x[i], 6), o);
            fprintf(o, " &#8594; %s</title>", html_num(buf, s->y[i], 4));
            fputs(pass ? "</path>\n" : "</circle>\n", o);
        }
    }
    fputs("</g>\n</svg>\n", o);
}
