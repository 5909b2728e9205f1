/* html.h -- writing text from files into HTML and SVG safely, and numbers as text.
 * Every string that comes from a file (metric and key names, paths, values) goes
 * through html_esc: the report must stay well-formed whatever the files hold. */
#ifndef SELFMM_CLI_HTML_H
#define SELFMM_CLI_HTML_H

#include <stdio.h>

/* s with & < > " ' as character references, C0 controls other than tab and newline
 * and invalid UTF-8 as U+FFFD; valid for element content and quoted attributes of
 * HTML and XML alike. NULL writes nothing. */
void html_esc(FILE *out, const char *s);
/* The first n bytes of s, as html_esc. */
void html_esc_n(FILE *out, const char *s, size_t n);
/* v with `decimals` decimals into buf ("–" for NaN/Inf: an absent value); buf must
 * hold 48 bytes. Returns buf. A minus sign is ASCII '-'. */
const char *html_num(char *buf, double v, int decimals);

#endif
