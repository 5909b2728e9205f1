/* html.c -- see html.h. */
#include "html.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    /* U+FFFE/U+FFFF and U+FDD0..U+FDEF are not characters in XML either */
    if ((cp & 0xFFFE) == 0xFFFE || (cp >= 0xFDD0 && cp <= 0xFDEF)) return 0;
    return len;
}

void html_esc_n(FILE *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!s) return;
    size_t i = 0;
    while (i < n && s[i]) {
        unsigned char c = s[i];
        switch (c) {
        case '&': fputs("&amp;", out), i++; continue;
        case '<': fputs("&lt;", out), i++; continue;
        case '>': fputs("&gt;", out), i++; continue;
        case '"': fputs("&quot;", out), i++; continue;
        case '\'': fputs("&#39;", out), i++; continue;
        default: break;
        }
        if (c < 0x20 && c != '\t' && c != '\n') {
            fputs("&#65533;", out), i++;
            continue;
        }
        if (c == 0x7F) { /* DEL: allowed by XML, a control character in HTML */
            fputs("&#65533;", out), i++;
            continue;
        }
        size_t len = utf8_len(s + i, n - i);
        if (!len) {
            fputs("&#65533;", out), i++;
            continue;
        }
        /* C1 controls (U+0080..U+009F) are "noncharacters" to HTML validators too */
        if (len == 2 && c == 0xC2 && s[i + 1] < 0xA0) {
            fputs("&#65533;", out), i += 2;
            continue;
        }
        fwrite(s + i, 1, len, out);
        i += len;
    }
}

void html_esc(FILE *out, const char *s)
{
    if (s) html_esc_n(out, s, strlen(s));
}

const char *html_num(char *buf, double v, int decimals)
{
    if (!isfinite(v)) {
        strcpy(buf, "\xE2\x80\x93"); /* en dash */
        return buf;
    }
    if (decimals < 0) decimals = 0;
    if (decimals > 12) decimals = 12;
    snprintf(buf, 48, "%.*f", decimals, v);
    if (!strcmp(buf, "-0") || (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1)))
        memmove(buf, buf + 1, strlen(buf)); /* "-0.00" reads as a sign that is not there */
    return buf;
}
