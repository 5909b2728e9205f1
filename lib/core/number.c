/* number.c -- see number.h. */
#include "core/number.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static locale_t c_locale;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static int digit(char c) { return c >= '0' && c <= '9'; }

sm_num sm_parse_decimal(const char *s, size_t n, double *out)
{
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (!n) return SM_NUM_EMPTY;
    size_t i = 0;
    const int neg = s[0] == '-';
    if (s[0] == '+' || s[0] == '-') i++;
    const size_t w = n - i;
    if ((w == 3 && !strncasecmp(s + i, "nan", 3))) {
        *out = neg ? -NAN : NAN;
        return SM_NUM_NAN;
    }
    if ((w == 3 && !strncasecmp(s + i, "inf", 3)) || (w == 8 && !strncasecmp(s + i, "infinity", 8))) {
        *out = neg ? -INFINITY : INFINITY;
        return SM_NUM_INF;
    }
    size_t digits = 0;
    while (i < n && digit(s[i])) i++, digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && digit(s[i]); i++) digits++;
    if (!digits) return SM_NUM_TEXT;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i == n || !digit(s[i])) return SM_NUM_TEXT;
        while (i < n && digit(s[i])) i++;
    }
    if (i != n) return SM_NUM_TEXT;
    /* strtod on exactly these characters, in the C locale (decimal point '.') */
    char small[128], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return SM_NUM_TEXT;
    memcpy(buf, s, n);
    buf[n] = '\0';
    pthread_once(&c_once, make_c_locale);
    double v = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
    if (buf != small) free(buf);
    *out = v;
    return isinf(v) ? SM_NUM_INF : SM_NUM_OK; /* 1e999 is inf, as float("1e999") */
}

int sm_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !digit(*s)) return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (!digit(*s) || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}
