/* csv.c -- see csv.h. */
#include "io/csv.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sm_csv_init(sm_csv *c, const char *data, size_t size)
{
    memset(c, 0, sizeof *c);
    c->p = data;
    c->end = data + size;
    c->line = 1;
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) c->p += 3;
}

void sm_csv_free(sm_csv *c)
{
    free(c->buf);
    free(c->off);
    c->buf = NULL, c->off = NULL;
    c->buf_cap = 0, c->off_cap = 0;
}

void sm_csv_trim(const char *s, const char **start, size_t *len)
{
    size_t n = strlen(s);
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *start = s;
    *len = n;
}

sm_csv_num sm_csv_float(const char *cell, locale_t loc, float *out)
{
    (void)loc;
    double v = 0;
    sm_num k = sm_parse_decimal(cell, strlen(cell), &v);
    if (k != SM_NUM_OK) return k;
    float f = (float)v;
    if (isinf(f)) return SM_NUM_RANGE;
    *out = f;
    return SM_NUM_OK;
}

const char *sm_csv_nonfinite_name(sm_csv_num k)
{
    return k == SM_NUM_NAN ? "NaN" : k == SM_NUM_INF ? "infinite" : "beyond float32's range";
}

static int push(sm_csv *c, char ch)
{
    if (c->buf_len == c->buf_cap) {
        size_t cap = c->buf_cap ? 2 * c->buf_cap : 256;
        char *b = realloc(c->buf, cap);
        if (!b) return 0;
        c->buf = b, c->buf_cap = cap;
    }
    c->buf[c->buf_len++] = ch;
    return 1;
}

static int end_field(sm_csv *c, size_t start)
{
    if (!push(c, '\0')) return 0;
    if (c->n == c->off_cap) {
        if (c->off_cap > INT_MAX / 2) return 0; /* n is an int: a billion fields is "no memory" */
        int cap = c->off_cap ? 2 * c->off_cap : 16;
        size_t *o = realloc(c->off, (size_t)cap * sizeof *o);
        if (!o) return 0;
        c->off = o, c->off_cap = cap;
    }
    c->off[c->n++] = start;
    return 1;
}

/* Consume a line break at p (CRLF, LF or CR) if there is one. */
static const char *eat_eol(sm_csv *c, const char *p)
{
    if (p < c->end && (*p == '\r' || *p == '\n')) {
        if (*p == '\r' && p + 1 < c->end && p[1] == '\n') p++;
        p++;
        c->line++;
    }
    return p;
}

/* A bad record: skip to the end of the physical line and report it. */
static int bad(sm_csv *c, const char *p, const char *fmt, int arg)
{
    snprintf(c->problem, sizeof c->problem, fmt, arg);
    while (p < c->end && *p != '\n' && *p != '\r') p++;
    c->p = eat_eol(c, p);
    return SM_CSV_BAD;
}

int sm_csv_next(sm_csv *c)
{
    c->n = 0;
    c->buf_len = 0;
    c->problem[0] = '\0';
    const char *p = c->p, *end = c->end;
    for (;;) { /* blank lines */
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t')) q++;
        if (q == end) {
            c->p = end;
            return SM_CSV_END;
        }
        if (*q != '\n' && *q != '\r') break;
        p = eat_eol(c, q);
    }
    c->rec_line = c->line;
    for (int field = 1;; field++) {
        size_t start = c->buf_len;
        if (p < end && *p == '"') {
            const int open_line = c->line;
            p++;
            for (;;) {
                if (p == end) {
                    snprintf(c->problem, sizeof c->problem,
                             "the quoted field opened on line %d is never closed", open_line);
                    c->p = end;
                    return SM_CSV_BAD;
                }
                char ch = *p;
                if (ch == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        if (!push(c, '"')) return SM_CSV_NOMEM;
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (ch == '\0') return bad(c, p, "NUL byte in field %d", field);
                if (ch == '\n' || (ch == '\r' && !(p + 1 < end && p[1] == '\n'))) c->line++;
                if (!push(c, ch)) return SM_CSV_NOMEM;
                p++;
            }
            while (p < end && (*p == ' ' || *p == '\t')) p++;
            if (p < end && *p != ',' && *p != '\n' && *p != '\r')
                return bad(c, p, "text after the closing quote of field %d", field);
        } else {
            while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                if (*p == '\0') return bad(c, p, "NUL byte in field %d", field);
                if (!push(c, *p)) return SM_CSV_NOMEM;
                p++;
            }
        }
        if (!end_field(c, start)) return SM_CSV_NOMEM;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        c->p = eat_eol(c, p);
        return SM_CSV_RECORD;
    }
}
