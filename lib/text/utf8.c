/* utf8.c -- see utf8.h. */
#include "text/utf8.h"

int sm_utf8_decode_one(const unsigned char *s, size_t n, uint32_t *cp, const char **why)
{
    unsigned b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    int len;
    uint32_t min, c;
    if (b0 < 0xC0) {
        *why = "unexpected continuation byte";
        return 0;
    } else if (b0 < 0xE0) {
        len = 2, min = 0x80, c = b0 & 0x1F;
    } else if (b0 < 0xF0) {
        len = 3, min = 0x800, c = b0 & 0x0F;
    } else if (b0 < 0xF8) {
        len = 4, min = 0x10000, c = b0 & 0x07;
    } else {
        *why = "invalid start byte";
        return 0;
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n || (s[i] & 0xC0) != 0x80) {
            *why = (size_t)i >= n ? "truncated sequence at end of input" : "truncated sequence";
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min) {
        *why = "overlong encoding";
        return 0;
    }
    if (c >= 0xD800 && c <= 0xDFFF) {
        *why = "surrogate code point";
        return 0;
    }
    if (c > 0x10FFFF) {
        *why = "code point above U+10FFFF";
        return 0;
    }
    *cp = c;
    return len;
}

size_t sm_utf8_validate(const char *s, size_t n, const char **why)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *reason = "";
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        int len = sm_utf8_decode_one(u + i, n - i, &cp, &reason);
        if (!len) {
            if (why) *why = reason;
            return i;
        }
        i += (size_t)len;
    }
    return n;
}

size_t sm_utf8_decode_valid(const char *s, size_t n, uint32_t *cps)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k = 0;
    const char *why;
    while (i < n) {
        uint32_t cp;
        int len = sm_utf8_decode_one(u + i, n - i, &cp, &why);
        if (!len) break; /* not reached for validated input */
        cps[k++] = cp;
        i += (size_t)len;
    }
    return k;
}

int sm_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}
