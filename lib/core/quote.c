/* quote.c -- see quote.h. */
#include "core/quote.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes) and its code point;
 * 0 when the bytes there are not UTF-8 (overlong, surrogate, beyond U+10FFFF). */
static size_t utf8_at(const unsigned char *p, size_t n, uint32_t *cp)
{
    uint32_t c = p[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n) return 0;
    if (len > 1) c &= 0x7Fu >> len;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* Shown escaped although valid: controls, and what hides or reorders text. */
static int hidden(uint32_t c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x200B && c <= 0x200F) ||
           (c >= 0x2028 && c <= 0x202E) || (c >= 0x2060 && c <= 0x2069) || c == 0xFEFF;
}

/* Both forms: with the quotes ("...") or without (an identifier in a prefix). */
static const char *render(char *out, size_t cap, const unsigned char *p, size_t n, int quotes)
{
    /* room for the closing quote, "...", and the NUL */
    const size_t limit = cap - 5;
    size_t o = 0, i = 0;
    if (quotes) out[o++] = '"';
    while (i < n) {
        char piece[20];
        size_t plen, used;
        uint32_t c = 0;
        size_t len = utf8_at(p + i, n - i, &c);
        if (len && !hidden(c) && c != '"' && c != '\\') {
            memcpy(piece, p + i, len);
            plen = len, used = len;
        } else if (len && (c == '"' || c == '\\')) {
            piece[0] = '\\', piece[1] = (char)c;
            plen = 2, used = 1;
        } else { /* every byte of a hidden character, or one byte that is not UTF-8 */
            used = len ? len : 1;
            plen = 0;
            for (size_t k = 0; k < used; k++)
                plen += (size_t)snprintf(piece + plen, sizeof piece - plen, "\\x%02X", p[i + k]);
        }
        if (o + plen > limit) break;
        memcpy(out + o, piece, plen);
        o += plen, i += used;
    }
    if (quotes) out[o++] = '"';
    if (i < n) memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
    return out;
}

const char *sm_quote(char *out, size_t cap, const void *bytes, size_t n)
{
    return render(out, cap, bytes, n, 1);
}

const char *sm_escape(char *out, size_t cap, const void *bytes, size_t n)
{
    return render(out, cap, bytes, n, 0);
}

const char *sm_quote_str(char *out, size_t cap, const char *s)
{
    if (!s) {
        snprintf(out, cap, "(null)");
        return out;
    }
    return sm_quote(out, cap, s, strlen(s));
}

const char *sm_escape_str(char *out, size_t cap, const char *s)
{
    if (!s) {
        snprintf(out, cap, "(null)");
        return out;
    }
    return sm_escape(out, cap, s, strlen(s));
}
