/* quote.h -- bytes taken from a file, as they appear in a message: every message
 * that echoes file content (a name, a key, a cell, a token) goes through here, so
 * that a hostile or damaged file cannot put control characters, invalid UTF-8 or
 * unbounded text into an error line or a terminal. */
#ifndef SM_CORE_QUOTE_H
#define SM_CORE_QUOTE_H

#include <stddef.h>

/* The buffer SM_Q and SM_QN use: room for about 80 characters of content. */
#define SM_QUOTE_MAX 100

/* bytes[0..n) as a double-quoted string in out (cap >= 16 bytes): printable ASCII
 * and valid, printable UTF-8 as they are; '"' and '\' escaped with a backslash;
 * control characters (C0, DEL, C1), characters that hide or reorder text
 * (zero-width, bidirectional controls, line and paragraph separators, BOM) and
 * bytes that are not UTF-8 as \xNN, one per byte. What does not fit is cut at a
 * character boundary and marked by "..." after the closing quote. Returns out. */
const char *sm_quote(char *out, size_t cap, const void *bytes, size_t n);
/* The same for a NUL-terminated string (NULL quotes as (null)). */
const char *sm_quote_str(char *out, size_t cap, const char *s);
/* The same escaping without the quotes, for a name in a message's prefix or
 * inside other quotes ("file.csv:3: <id>: ..."); a cut value ends in "...". */
const char *sm_escape(char *out, size_t cap, const void *bytes, size_t n);
const char *sm_escape_str(char *out, size_t cap, const char *s);

/* For message arguments: a quoted copy that lives until the end of the enclosing
 * block, e.g. sm_error(err, st, "%s: key %s unknown", path, SM_Q(key)). */
#define SM_Q(s) sm_quote_str((char[SM_QUOTE_MAX]){0}, SM_QUOTE_MAX, (s))
#define SM_QN(p, n) sm_quote((char[SM_QUOTE_MAX]){0}, SM_QUOTE_MAX, (p), (n))
#define SM_E(s) sm_escape_str((char[SM_QUOTE_MAX]){0}, SM_QUOTE_MAX, (s))
#define SM_EN(p, n) sm_escape((char[SM_QUOTE_MAX]){0}, SM_QUOTE_MAX, (p), (n))

#endif
