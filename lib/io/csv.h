/* csv.h -- an RFC 4180 record reader for the text files users bring: MMSA's
 * label.csv and per-clip feature tables.
 *
 * What it accepts, and why:
 * - a UTF-8 byte order mark at the start (skipped: spreadsheet programs write it);
 * - records ending in CRLF, LF or a lone CR (pandas and Python's csv accept all three);
 * - quoted fields ("..."), with "" for a quote and with commas, CR and LF inside;
 *   whitespace between a closing quote and the next comma is tolerated;
 * - a quote inside an unquoted field is kept as a character (pandas does that);
 * - blank lines (empty or only spaces/tabs) are skipped, as pandas' skip_blank_lines.
 * What it refuses, record by record (the reader goes on with the next record so a
 * caller can list every bad row): text after a closing quote, a NUL byte, a quoted
 * field that is never closed (that one swallows the rest of the file).
 *
 * Lines are physical lines (1-based), counted across line breaks inside quotes, so
 * that a message points where an editor shows the record. */
#ifndef SM_IO_CSV_H
#define SM_IO_CSV_H

#include "core/number.h"

#include <locale.h>
#include <stddef.h>

typedef struct sm_csv {
    const char *p, *end;   /* unread input */
    int line;              /* physical line of p */
    int rec_line;          /* line on which the last record (or bad record) starts */
    int n;                 /* fields of the last record */
    char *buf;             /* (buf_cap) their text, each NUL-terminated */
    size_t buf_len, buf_cap;
    size_t *off;           /* (off_cap) start of field i in buf */
    int off_cap;
    char problem[160];     /* why the last record was bad */
} sm_csv;

enum { SM_CSV_END = 0, SM_CSV_RECORD = 1, SM_CSV_BAD = -1, SM_CSV_NOMEM = -2 };

/* Read data[0..size) (not copied: it must outlive the reader). */
void sm_csv_init(sm_csv *c, const char *data, size_t size);
/* The next record: SM_CSV_RECORD (fields 0..n), SM_CSV_END, SM_CSV_BAD (problem and
 * rec_line say what and where; the bad record has been skipped) or SM_CSV_NOMEM. */
int sm_csv_next(sm_csv *c);
/* Field i (0 <= i < n) of the last record, NUL-terminated. */
static inline const char *sm_csv_field(const sm_csv *c, int i) { return c->buf + c->off[i]; }
void sm_csv_free(sm_csv *c);

/* s without leading and trailing spaces and tabs, as [*start, *start + *len). */
void sm_csv_trim(const char *s, const char **start, size_t *len);

/* What a cell holds as a number (core/number.h). */
typedef sm_num sm_csv_num;
/* A cell as a finite float32 (*out set only for SM_NUM_OK): a decimal number as
 * sm_parse_decimal reads it (no hex), spaces and tabs around it allowed; the
 * float64 value rounded to float32 as pandas + NumPy do; SM_NUM_RANGE for a finite
 * value beyond float32. Read in the C locale whatever LC_NUMERIC the program set
 * (loc is unused, kept for the callers). */
sm_csv_num sm_csv_float(const char *cell, locale_t loc, float *out);
/* "NaN", "infinite" or "beyond float32's range" (SM_NUM_NAN, _INF, _RANGE). */
const char *sm_csv_nonfinite_name(sm_csv_num k);

#endif
